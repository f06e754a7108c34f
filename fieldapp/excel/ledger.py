"""Ledgers (台账): tasks, findings or checks as an .xlsx a 督查处 would print.

Each ledger has a title row and a subtitle (when, which filter), a frozen header row with
filters, column widths that fit Chinese text, dates as real dates, borders, landscape pages
that repeat the header, and a summary sheet 汇总 by responsible unit of exactly what the ledger
lists, filters included: findings total, rectified, overdue, rectification rate, and for a tasks
ledger the tasks too (total, 已办结, overdue). The findings ledger embeds photo thumbnails (the
first site photo and the latest 整改后 photo). Text that Excel could read as a formula is
written as text. A tasks ledger imports back into FieldApp with nothing changed: its hidden
记录ID column and its headers are ones the importer recognises.

Written with openpyxl in write-only mode, so a 50,000-row ledger does not hold 50,000 rows of
cell objects in memory.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from openpyxl.utils import get_column_letter
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XLImage
from openpyxl.worksheet.filters import AutoFilter

from fieldapp import instants
from fieldapp.domain import (
    CheckResult, DeadlineKind, FindingStatus, Labeled, PhotoKind, Severity, TaskStatus, is_overdue,
)
from fieldapp.excel import sheetstyle as st
from fieldapp.excel.units import join as join_units
from fieldapp.task_list import region_prefix
from fieldapp.store import Store

log = logging.getLogger(__name__)

KINDS = ("tasks", "findings", "checks")
TITLES = {"tasks": "督查任务台账", "findings": "发现问题台账", "checks": "整改核查台账"}
THUMB_PX = 96  # thumbnail height in the findings ledger
NO_UNIT = "（未指定）"  # the summary's row for records without a responsible unit
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LedgerFilter:
    """Which records a ledger lists. Statuses and categories accept codes or Chinese labels."""

    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    region_prefix: str = ""
    unit: str = ""  # a responsible unit's name contains this
    search: str = ""
    overdue_only: bool = False
    since: dt.date | None = None  # created on or after
    until: dt.date | None = None  # created on or before
    today: dt.date | None = None

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("状态：" + "、".join(self.statuses))
        if self.categories:
            parts.append("类别：" + "、".join(self.categories))
        if self.region_prefix:
            parts.append("区划：" + self.region_prefix)
        if self.unit:
            parts.append("责任单位含：" + self.unit)
        if self.search:
            parts.append("关键词：" + self.search)
        if self.overdue_only:
            parts.append("仅逾期")
        if self.since or self.until:
            parts.append(f"创建日期：{self.since or ''}～{self.until or ''}")
        return "；".join(parts) or "全部"


def _codes(values: tuple[str, ...], enum: type[Labeled]) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(str(enum.from_label(v)))
        except ValueError:
            out.append(v)
    return out


def _label(enum: type[Labeled], code: str) -> str:
    try:
        return enum(code).label("zh_CN")
    except ValueError:
        return code


def _loads(text: str | None) -> list[str]:
    return json.loads(text) if text else []


def _finding_state(due: str | None, status: str, today: dt.date) -> tuple[dt.date | None, bool, bool]:
    """A finding's 整改时限 as a date, whether it is closed (销号), and whether it is overdue."""
    due_d = dt.date.fromisoformat(due) if due else None
    closed = status == FindingStatus.CLOSED
    return due_d, closed, is_overdue(due_d, closed, today)


def _finding_unit(unit: str | None, task_units: str | None) -> str:
    """The 责任单位 a ledger shows for a finding: its own, else its task's first one."""
    return unit or (_loads(task_units)[:1] or [""])[0]


def _unit_matches(flt: LedgerFilter, *names: Any) -> bool:
    if not flt.unit:
        return True
    for n in names:
        if isinstance(n, list):
            if any(flt.unit in u for u in n):
                return True
        elif n and flt.unit in n:
            return True
    return False


def _created_range(flt: LedgerFilter, column: str) -> tuple[list[str], dict[str, Any]]:
    clauses, params = [], {}
    if flt.since:
        clauses.append(f"{column} >= :since")
        params["since"] = flt.since.isoformat()
    if flt.until:
        clauses.append(f"{column} < :until")
        params["until"] = (flt.until + dt.timedelta(days=1)).isoformat()
    return clauses, params


# ---------------------------------------------------------------- queries


def _where(flt: LedgerFilter, created: str, statuses: type[Labeled], status_col: str, category_col: str,
           search_cols: tuple[str, ...]) -> tuple[list[str], dict[str, Any]]:
    """The SQL conditions a ledger filter puts on one kind of record."""
    clauses, params = _created_range(flt, created)
    if flt.statuses:
        codes = _codes(flt.statuses, statuses)
        clauses.append(f"{status_col} IN (%s)" % ",".join(f":s{i}" for i in range(len(codes))))
        params.update({f"s{i}": c for i, c in enumerate(codes)})
    if flt.categories:
        clauses.append(f"{category_col} IN (%s)" % ",".join(f":c{i}" for i in range(len(flt.categories))))
        params.update({f"c{i}": c for i, c in enumerate(flt.categories)})
    if flt.region_prefix:
        clauses.append("t.region_code LIKE :region")
        params["region"] = region_prefix(flt.region_prefix) + "%"  # 330110 is 余杭区 only, not 33011x
    if flt.search:
        clauses.append("(" + " OR ".join(f"{c} LIKE :q" for c in search_cols) + ")")
        params["q"] = f"%{flt.search}%"
    return clauses, params


def _task_rows(con, flt: LedgerFilter, today: dt.date, summary: UnitSummary) -> tuple[list[str], list[list[Any]], list[str]]:
    """Headers, rows and the ids of the tasks listed; each listed task is counted in `summary`."""
    clauses, params = _where(flt, "t.created_at", TaskStatus, "t.status", "t.category", ('t.title', 't.code', 't.address'))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        "SELECT t.id, t.code, t.title, t.category, t.responsible_units, t.lead_unit, t.cooperating_units, "
        "t.region_name, t.address, t.deadline, t.deadline_kind, t.deadline_text, t.targets, t.assignees, t.status, "
        "(SELECT COUNT(*) FROM findings f WHERE f.task_id = t.id), "
        "(SELECT COUNT(*) FROM findings f WHERE f.task_id = t.id AND f.status = :closed) "
        f"FROM tasks t{where} ORDER BY t.code IS NULL, t.code, t.created_at, t.rowid"
    )
    params["closed"] = str(FindingStatus.CLOSED)
    headers = ["序号", "任务编号", "任务名称", "督查类别", "责任单位", "牵头单位", "配合单位", "所属区县", "地址",
               "完成时限", "工作目标", "督查人员", "任务状态", "问题数", "已销号数", "是否逾期", "记录ID"]
    rows, ids = [], []
    for r in con.execute(sql, params):
        (tid, code, title, category, resp, lead, coop, region, address, deadline, kind, dtext, targets,
         assignees, status, n_findings, n_closed) = r
        resp_l, coop_l = _loads(resp), _loads(coop)
        if not _unit_matches(flt, resp_l, lead, coop_l):
            continue
        due = dt.date.fromisoformat(deadline) if deadline else None
        done = status == TaskStatus.COMPLETED
        overdue = is_overdue(due if kind == DeadlineKind.DATE else None, done, today)
        if flt.overdue_only and not overdue:
            continue
        if kind == DeadlineKind.DATE and due is not None:
            shown: Any = due
        else:
            shown = dtext or ""
        rows.append([len(rows) + 1, code or "", title, category, join_units(resp_l), lead, join_units(coop_l), region,
                     address, shown, targets, join_units(_loads(assignees)), _label(TaskStatus, status),
                     n_findings, n_closed, "是" if overdue else "", tid])
        ids.append(tid)
        summary.add_task(resp_l, done=done, overdue=overdue)
    return headers, rows, ids


def _count_findings_of_tasks(con, task_ids: list[str], today: dt.date, summary: UnitSummary) -> None:
    """Count in `summary` every finding of the listed tasks: what the 问题数 column adds up to."""
    con.execute("CREATE TEMP TABLE ledger_tasks (id TEXT PRIMARY KEY)")  # the temp schema is writable on a ro connection
    try:
        con.executemany("INSERT OR IGNORE INTO ledger_tasks VALUES (?)", ((i,) for i in task_ids))
        sql = ("SELECT f.responsible_unit, t.responsible_units, f.status, f.due_date FROM ledger_tasks l "
               "JOIN findings f ON f.task_id = l.id JOIN tasks t ON t.id = f.task_id")
        for unit, task_units, status, due in con.execute(sql):
            _due, closed, overdue = _finding_state(due, status, today)
            summary.add_finding(_finding_unit(unit, task_units), closed=closed, overdue=overdue)
    finally:
        con.execute("DROP TABLE temp.ledger_tasks")


def _finding_rows(con, flt: LedgerFilter, today: dt.date, summary: UnitSummary):
    clauses, params = _where(flt, "f.created_at", FindingStatus, "f.status", "f.category", ('f.description', 't.title', 't.code'))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        "SELECT f.id, t.code, t.title, f.description, f.category, f.severity, f.responsible_unit, t.responsible_units, "
        # 发现时间: the visit the finding was found on; its record's own time only without one.
        "f.requirement, f.due_date, f.status, COALESCE((SELECT v.visited_at FROM visits v WHERE v.id = f.visit_id), "
        "f.created_at), (SELECT v.visited_offset FROM visits v WHERE v.id = f.visit_id), "
        "(SELECT c.result FROM checks c WHERE c.finding_id = f.id ORDER BY c.checked_at DESC LIMIT 1), "
        "(SELECT p.sha256 FROM photos p WHERE p.finding_id = f.id AND p.check_id IS NULL ORDER BY p.created_at LIMIT 1), "
        "(SELECT p.sha256 FROM photos p WHERE p.finding_id = f.id AND p.kind = :after ORDER BY p.created_at DESC LIMIT 1), "
        "(SELECT COUNT(*) FROM photos p WHERE p.finding_id = f.id) "
        f"FROM findings f JOIN tasks t ON t.id = f.task_id{where} ORDER BY f.created_at, f.rowid"
    )
    params["after"] = str(PhotoKind.AFTER)
    headers = ["序号", "任务编号", "任务名称", "问题描述", "问题类别", "严重程度", "责任单位", "整改要求", "整改时限",
               "整改状态", "是否逾期", "发现时间", "最近核查结果", "照片数", "现场照片", "整改后照片"]
    rows, photos = [], []
    for r in con.execute(sql, params):
        (fid, code, title, desc, category, severity, unit, task_units, req, due, status, created, offset,
         last_check, first_photo, after_photo, n_photos) = r
        unit = _finding_unit(unit, task_units)
        if not _unit_matches(flt, unit):
            continue
        due_d, closed, overdue = _finding_state(due, status, today)
        if flt.overdue_only and not overdue:
            continue
        summary.add_finding(unit, closed=closed, overdue=overdue)
        rows.append([len(rows) + 1, code or "", title, desc, category, _label(Severity, severity), unit, req, due_d,
                     _label(FindingStatus, status), "是" if overdue else "", _datetime(created, offset),
                     _label(CheckResult, last_check) if last_check else "", n_photos, "", ""])
        photos.append((first_photo, after_photo))
    return headers, rows, photos


def _check_rows(con, flt: LedgerFilter, today: dt.date, summary: UnitSummary):
    """Headers and rows; `summary` counts each finding the listed checks verified, once, as it stands now."""
    clauses, params = _where(flt, "c.checked_at", CheckResult, "c.result", "f.category", ('f.description', 't.title', 't.code', 'c.note'))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        "SELECT f.id, t.code, t.title, f.description, f.responsible_unit, t.responsible_units, f.due_date, f.status, "
        "c.checked_at, c.checked_offset, c.result, c.inspector, c.note, (SELECT COUNT(*) FROM photos p WHERE p.check_id = c.id) "
        f"FROM checks c JOIN findings f ON f.id = c.finding_id JOIN tasks t ON t.id = f.task_id{where} "
        "ORDER BY c.checked_at, c.rowid"
    )
    headers = ["序号", "任务编号", "任务名称", "问题描述", "责任单位", "整改时限", "核查时间", "核查结果", "核查人",
               "核查说明", "照片数", "问题当前状态"]
    rows = []
    findings: dict[str, tuple[str, bool, bool]] = {}
    for r in con.execute(sql, params):
        fid, code, title, desc, unit, task_units, due, status, checked, offset, result, inspector, note, n = r
        unit = _finding_unit(unit, task_units)
        if not _unit_matches(flt, unit):
            continue
        due_d, closed, overdue = _finding_state(due, status, today)
        if flt.overdue_only and not overdue:
            continue
        findings[fid] = (unit, closed, overdue)
        rows.append([len(rows) + 1, code or "", title, desc, unit, due_d, _datetime(checked, offset),
                     _label(CheckResult, result), inspector, note, n, _label(FindingStatus, status)])
    for unit, closed, overdue in findings.values():
        summary.add_finding(unit, closed=closed, overdue=overdue)
    return headers, rows


def _datetime(text: str | None, offset: int | None) -> dt.datetime | None:
    """A stored UTC time as the recorder's clock showed it (`offset`), or, for a record's own
    time, as this machine's clock does."""
    if not text:
        return None
    try:
        utc = dt.datetime.fromisoformat(text).replace(microsecond=0)
    except ValueError:
        return None
    if offset is None:
        return utc.replace(tzinfo=dt.timezone.utc).astimezone().replace(tzinfo=None)
    return instants.wall(utc, offset)


@dataclass
class Tally:
    """One row of the summary: a unit's tasks and findings."""

    tasks: int = 0
    tasks_completed: int = 0
    tasks_overdue: int = 0
    findings: int = 0
    closed: int = 0  # 已整改（销号）
    findings_overdue: int = 0

    @property
    def rate(self) -> float | None:
        """Rectification rate; None for a unit without findings (nothing to rectify is not 0 %)."""
        return self.closed / self.findings if self.findings else None


@dataclass
class UnitSummary:
    """What a ledger's 汇总 sheet counts, filled by the code that writes the ledger's rows so
    that it counts exactly those. A task counts for each of its responsible units, and once
    in the total; a finding counts for its one responsible unit."""

    units: dict[str, Tally] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)

    def _unit(self, name: str) -> Tally:
        return self.units.setdefault(name or NO_UNIT, Tally())

    def add_task(self, units: list[str], *, done: bool, overdue: bool) -> None:
        for t in [self.total, *(self._unit(u) for u in dict.fromkeys(units or [NO_UNIT]))]:
            t.tasks += 1
            t.tasks_completed += done
            t.tasks_overdue += overdue

    def add_finding(self, unit: str, *, closed: bool, overdue: bool) -> None:
        for t in (self.total, self._unit(unit)):
            t.findings += 1
            t.closed += closed
            t.findings_overdue += overdue

    def shared_tasks(self) -> bool:
        """Some task has more than one responsible unit: the unit rows add up to more than the total."""
        return sum(t.tasks for t in self.units.values()) != self.total.tasks

    def rows(self, with_tasks: bool) -> list[tuple[str, Tally]]:
        """Units by size: most tasks (tasks ledger) or most findings first, then by name."""
        def key(kv: tuple[str, Tally]) -> tuple:
            return (-kv[1].tasks, -kv[1].findings, kv[0]) if with_tasks else (-kv[1].findings, kv[0])
        return sorted(self.units.items(), key=key)


# ---------------------------------------------------------------- writing


def _title_rows(ws, title: str, subtitle: str, width: int, *, wrap_at: float | None = None) -> None:
    """Title and subtitle rows merged across the table; a subtitle wider than `wrap_at`
    (the table's width) wraps onto more lines instead of being cut off at the merge."""
    ws.merged_cells.add(f"A1:{get_column_letter(width)}1")
    ws.merged_cells.add(f"A2:{get_column_letter(width)}2")
    ws.row_dimensions[1].height = 30
    lines = -(-st.display_width(subtitle) // wrap_at) if wrap_at else 1
    if lines > 1:
        ws.row_dimensions[2].height = 14 * lines
    ws.append([st.cell(ws, title, font=st.TITLE_FONT, alignment=st.CENTER, border=False)])
    ws.append([st.cell(ws, subtitle, font=st.SUBTITLE_FONT, alignment=st.WRAP if lines > 1 else st.LEFT, border=False)])


_WRAPPED = {"任务名称", "问题描述", "工作目标", "整改要求", "核查说明", "地址", "责任单位", "配合单位"}
_CENTERED = {"序号", "督查类别", "问题类别", "严重程度", "整改状态", "任务状态", "是否逾期", "问题数", "已销号数",
             "照片数", "核查结果", "最近核查结果", "所属区县", "问题当前状态"}


def _page_setup(ws, first_header_row: int, last_header_row: int, orientation: str) -> None:
    """Frozen and repeated header rows, A4 one page wide, page numbers in the footer."""
    ws.freeze_panes = f"A{last_header_row + 1}"
    ws.print_title_rows = f"{first_header_row}:{last_header_row}"
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _table(ws, title: str, subtitle: str, headers: list[str], rows: list[list[Any]], *, hidden: set[str] = frozenset(),
           image_cols: dict[str, float] | None = None, row_height: float | None = None,
           progress: Progress | None = None) -> None:
    """Title, subtitle, header and rows. A write-only sheet writes its views and columns with
    its first row, so everything about the sheet is set before anything is appended."""
    widths = st.fit_widths(rows[:500], headers)
    for i, h in enumerate(headers):
        dim = ws.column_dimensions[get_column_letter(i + 1)]
        dim.width = (image_cols or {}).get(h, widths[i])
        if h in hidden:
            dim.hidden = True
    header_row = 3
    _page_setup(ws, header_row, header_row, "landscape")
    ws.auto_filter = AutoFilter(ref=f"A{header_row}:{get_column_letter(len(headers))}{header_row + max(len(rows), 1)}")
    if row_height:
        for i in range(len(rows)):
            ws.row_dimensions[header_row + 1 + i].height = row_height
    _title_rows(ws, title, subtitle, len(headers))
    ws.append([st.cell(ws, h, font=st.HEADER_FONT, alignment=st.CENTER, fill=st.HEADER_FILL) for h in headers])
    aligns = [st.CENTER if h in _CENTERED else st.WRAP if h in _WRAPPED else st.LEFT for h in headers]
    total = len(rows)
    for n, row in enumerate(rows):
        ws.append([st.cell(ws, st.safe_text(v), alignment=aligns[i]) for i, v in enumerate(row)])
        if progress and n % 2000 == 0:
            progress(n, total)


_TASK_COLUMNS = ["任务总数", "已办结", "逾期"]
_FINDING_COLUMNS = ["问题总数", "已整改（销号）", "未销号", "逾期", "整改率"]


def _summary_values(t: Tally, with_tasks: bool) -> list[Any]:
    tasks = [t.tasks, t.tasks_completed, t.tasks_overdue] if with_tasks else []
    rate = t.rate
    return [*tasks, t.findings, t.closed, t.findings - t.closed, t.findings_overdue, "—" if rate is None else rate]


def _summary_sheet(wb: Workbook, summary: UnitSummary, kind: str, scope: str, today: dt.date) -> int:
    """The 汇总 sheet: one row per responsible unit and a 合计 row. A tasks ledger's has a
    two-row header, 任务办理情况 and 问题整改情况 over their columns, as a printed 台账 has.
    No title or header here may name a task's title column (督查任务 would, even inside a longer
    text): the importer then takes this sheet for no task list, and a tasks ledger imports back
    with nothing changed."""
    ws = wb.create_sheet("汇总")
    with_tasks = kind == "tasks"
    headers = ["责任单位", *(_TASK_COLUMNS if with_tasks else []), *_FINDING_COLUMNS]
    rate_col = len(headers) - 1
    units = summary.rows(with_tasks)
    rows = [[name, *_summary_values(t, with_tasks)] for name, t in units]
    widths = st.fit_widths(rows[:500], headers, minimum=10)
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = w
    first_header = 3
    last_header = 4 if with_tasks else 3
    last = get_column_letter(len(headers))
    _page_setup(ws, first_header, last_header, "landscape" if with_tasks else "portrait")
    ws.auto_filter = AutoFilter(ref=f"A{last_header}:{last}{last_header + max(len(rows), 1)}")
    title = "任务办理及问题整改情况汇总（按责任单位）" if with_tasks else "发现问题整改情况汇总（按责任单位）"
    _title_rows(ws, title, f"统计范围：{scope}　　统计日期：{today.isoformat()}", len(headers), wrap_at=sum(widths))

    def header(values: list[Any]) -> list[Any]:
        return [st.cell(ws, v, font=st.HEADER_FONT, alignment=st.CENTER, fill=st.HEADER_FILL) for v in values]

    if with_tasks:
        n_tasks = len(_TASK_COLUMNS)
        task_end = get_column_letter(1 + n_tasks)
        for rng in ("A3:A4", f"B3:{task_end}3", f"{get_column_letter(2 + n_tasks)}3:{last}3"):
            ws.merged_cells.add(rng)
        # the cells a merge covers are written too, so that the merged header keeps its border
        ws.append(header(["责任单位", "任务办理情况", *[None] * (n_tasks - 1),
                          "问题整改情况", *[None] * (len(_FINDING_COLUMNS) - 1)]))
        ws.append(header([None, *headers[1:]]))
    else:
        ws.append(header(headers))

    def body(values: list[Any], font=st.BODY_FONT) -> list[Any]:
        return [st.cell(ws, v, font=font, alignment=st.WRAP if i == 0 else st.CENTER,
                        number_format=st.PERCENT_FORMAT if i == rate_col and not isinstance(v, str) else None)
                for i, v in enumerate(values)]

    for r in rows:
        ws.append(body(r))
    ws.append(body(["合计", *_summary_values(summary.total, with_tasks)], font=st.HEADER_FONT))
    if with_tasks and summary.shared_tasks():
        row = last_header + len(rows) + 2
        ws.merged_cells.add(f"A{row}:{last}{row}")
        ws.append([st.cell(ws, "注：一项任务有多个责任单位的，分别计入各责任单位；合计栏按任务计，不重复计算。",
                           font=st.NOTE_FONT, alignment=st.LEFT, border=False)])
    return len(rows)


def _thumbnail(store: Store, sha: str) -> XLImage | None:
    """A small JPEG of a photo for a cell; None when the file is gone (the ledger still prints)."""
    from PIL import Image

    try:
        path = store.photos.thumbnail(sha)
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((THUMB_PX * 2, THUMB_PX))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=80)
            size = img.size
    except Exception as exc:  # noqa: BLE001 - a missing or damaged photo must not stop the ledger
        log.warning("no thumbnail for %s in the ledger: %s", sha, exc)
        return None
    buf.seek(0)
    pic = XLImage(buf)
    pic.width, pic.height = size
    return pic


def export_ledger(store: Store, out: Path | str, *, kind: str = "tasks", flt: LedgerFilter | None = None,
                  photos: bool = True, progress: Progress | None = None) -> dict[str, Any]:
    """Write the ledger of `kind` (tasks | findings | checks) to `out`; return a summary."""
    if kind not in KINDS:
        raise ValueError(kind)
    flt = flt or LedgerFilter()
    today = flt.today or dt.date.today()
    out = Path(out)
    now = dt.datetime.now().replace(microsecond=0)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(TITLES[kind])
    con = sqlite3.connect(f"file:{store.db_path}?mode=ro", uri=True)  # a reader beside the store's writer
    summary = UnitSummary()
    try:
        subtitle = f"导出时间：{now:%Y-%m-%d %H:%M}　　筛选：{flt.describe()}"
        if kind == "tasks":
            headers, rows, ids = _task_rows(con, flt, today, summary)
            _count_findings_of_tasks(con, ids, today, summary)
            scope = f"本台账所列 {len(rows)} 项任务及其 {summary.total.findings} 个问题"
            _table(ws, TITLES[kind], subtitle, headers, rows, hidden={"记录ID"}, progress=progress)
        elif kind == "findings":
            headers, rows, shas = _finding_rows(con, flt, today, summary)
            scope = f"本台账所列 {len(rows)} 个问题"
            with_photos = photos and any(a or b for a, b in shas)
            image_cols = {"现场照片": 26, "整改后照片": 26} if with_photos else None
            _table(ws, TITLES[kind], subtitle, headers, rows, image_cols=image_cols, row_height=THUMB_PX * 0.78 if with_photos else None,
                   progress=progress)
            if with_photos:
                cols = {h: get_column_letter(headers.index(h) + 1) for h in ("现场照片", "整改后照片")}
                for i, (first, after) in enumerate(shas):
                    for sha, col in ((first, cols["现场照片"]), (after, cols["整改后照片"])):
                        if sha:
                            pic = _thumbnail(store, sha)
                            if pic is not None:
                                ws.add_image(pic, f"{col}{4 + i}")
        else:
            headers, rows = _check_rows(con, flt, today, summary)
            scope = f"本台账所列 {len(rows)} 条核查记录涉及的 {summary.total.findings} 个问题（按其当前状态）"
            _table(ws, TITLES[kind], subtitle, headers, rows, progress=progress)
        units = _summary_sheet(wb, summary, kind, f"{scope}；筛选：{flt.describe()}", today)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)  # a reader of `out` never sees half a file
    if progress:
        progress(len(rows), len(rows))
    return {"file": str(out), "kind": kind, "rows": len(rows), "units": units}
