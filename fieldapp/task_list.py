"""The task list behind the table: filter, order, page of rows, counts — on plain sqlite3.

The table never loads everything: `task_ids` returns the ordered rowids for a filter (one
query), and `task_rows` loads the handful of rows a view shows, with their finding counts.
Overdue is computed here from the deadline and today, never read from a column. Plain sqlite3
(no SQLAlchemy) keeps the first paint of the window cheap; the SQL is ours either way.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import sqlite3
from array import array

from fieldapp import regions
from fieldapp.domain import DeadlineKind, FindingStatus, TaskStatus, is_overdue

SORTABLE = {
    "code": "code", "title": "title", "category": "category",
    "responsible": "json_extract(responsible_units, '$[0]')", "region": "region_code",
    "deadline": "deadline", "status": "status",
}


@dataclass(frozen=True)
class TaskFilter:
    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    region_prefix: str = ""  # "3301" = every county of 杭州市
    overdue_only: bool = False
    search: str = ""
    today: dt.date | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.statuses:
            names = [f"s{i}" for i in range(len(self.statuses))]
            clauses.append(f"status IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, self.statuses))
        if self.categories:
            names = [f"c{i}" for i in range(len(self.categories))]
            clauses.append(f"category IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, self.categories))
        if self.region_prefix:
            clauses.append("region_code LIKE :region")
            params["region"] = region_prefix(self.region_prefix) + "%"
        if self.overdue_only:
            clauses.append(f"{_OVERDUE_SQL} = 1")
            params["today"] = (self.today or dt.date.today()).isoformat()
        if self.search.strip():
            # Units are JSON arrays (older rows escaped as \\uXXXX): match their decoded values.
            clauses.append("(title LIKE :q OR code LIKE :q OR address LIKE :q OR lead_unit LIKE :q OR "
                           "EXISTS (SELECT 1 FROM json_each(tasks.responsible_units) WHERE value LIKE :q))")
            params["q"] = f"%{self.search.strip()}%"
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def region_prefix(code: str) -> str:
    """The code prefix shared by a division and everything under it (GB/T 2260 levels)."""
    code = code.strip()
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


_OVERDUE_SQL = (
    f"(deadline_kind = '{DeadlineKind.DATE}' AND deadline < :today "
    f"AND status != '{TaskStatus.COMPLETED}')"
)


def task_ids(con: sqlite3.Connection, flt: TaskFilter, sort: str = "deadline", descending: bool = False) -> array:
    """Rowids of the tasks matching `flt`, in display order."""
    where, params = flt.where()
    order = SORTABLE.get(sort, "deadline")
    direction = "DESC" if descending else "ASC"
    # (column, rowid) in one direction is the order of the column's index: no sort step (status
    # has none of its own since migration 0004: sorting 100k tasks by it takes ~40 ms, not ~23).
    order_by = f" ORDER BY {order} {direction}, rowid {direction}"
    if sort != "deadline":
        return array("q", [r for (r,) in con.execute(f"SELECT rowid FROM tasks{where}{order_by}", params)])
    # Dated tasks first, open-ended ones last in either direction; two index-ordered queries
    # instead of one ORDER BY (deadline IS NULL), which would sort all rows.
    joiner = " AND " if where else " WHERE "
    dated = con.execute(f"SELECT rowid FROM tasks{where}{joiner}deadline IS NOT NULL{order_by}", params)
    ids = array("q", [r for (r,) in dated])
    undated = con.execute(f"SELECT rowid FROM tasks{where}{joiner}deadline IS NULL ORDER BY rowid", params)
    ids.extend([r for (r,) in undated])
    return ids


@dataclass
class TaskRow:
    rowid: int
    id: str
    code: str
    title: str
    category: str
    responsible_units: list[str]
    region_name: str
    deadline: dt.date | None
    deadline_kind: str
    deadline_text: str
    status: str
    findings_open: int = 0
    findings_closed: int = 0

    def overdue(self, today: dt.date | None = None) -> bool:
        if self.deadline_kind != DeadlineKind.DATE:
            return False
        return is_overdue(self.deadline, self.status == TaskStatus.COMPLETED, today)


def task_rows(con: sqlite3.Connection, rowids: Sequence[int]) -> dict[int, TaskRow]:
    """Rows for `rowids` (any order), with open/closed finding counts."""
    if not rowids:
        return {}
    marks = ",".join(str(int(r)) for r in rowids)
    rows = con.execute(
        "SELECT rowid, id, code, title, category, responsible_units, region_name, deadline, "
        f"deadline_kind, deadline_text, status FROM tasks WHERE rowid IN ({marks})"
    ).fetchall()
    out: dict[int, TaskRow] = {}
    by_id: dict[str, TaskRow] = {}
    for r in rows:
        row = TaskRow(
            rowid=r[0], id=r[1], code=r[2] or "", title=r[3], category=r[4],
            responsible_units=json.loads(r[5] or "[]"), region_name=r[6],
            deadline=dt.date.fromisoformat(r[7]) if r[7] else None,
            deadline_kind=r[8], deadline_text=r[9], status=r[10],
        )
        out[row.rowid] = row
        by_id[row.id] = row
    for task_id, status, count in con.execute(
        f"SELECT task_id, status = '{FindingStatus.CLOSED}', COUNT(*) FROM findings "
        f"WHERE task_id IN (SELECT value FROM json_each(?)) GROUP BY task_id, status = '{FindingStatus.CLOSED}'",
        (json.dumps(list(by_id)),),
    ):
        if status:
            by_id[task_id].findings_closed = count
        else:
            by_id[task_id].findings_open = count
    return out


@dataclass
class TaskCounts:
    total: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def task_counts(con: sqlite3.Connection, flt: TaskFilter) -> TaskCounts:
    where, params = flt.where()
    params.setdefault("today", (flt.today or dt.date.today()).isoformat())
    counts = TaskCounts()
    for status, n, overdue in con.execute(
        f"SELECT status, COUNT(*), SUM({_OVERDUE_SQL}) FROM tasks{where} GROUP BY status", params
    ):
        counts.by_status[status] = n
        counts.total += n
        counts.overdue += overdue or 0
    return counts


def categories_in_use(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT category FROM tasks WHERE category != '' ORDER BY category")]


def regions_in_use(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """(code, name) of the divisions tasks are in, by code; names from GB/T 2260 when known."""
    out = []
    for (code,) in con.execute("SELECT DISTINCT region_code FROM tasks WHERE region_code != '' ORDER BY 1"):
        known = regions.lookup(code)
        name = known.name if known else con.execute(
            "SELECT region_name FROM tasks WHERE region_code = ? LIMIT 1", (code,)).fetchone()[0]
        out.append((code, name))
    return out
