"""Importing a supervisor's Excel task list: a preview of every row, then one transaction.

    p = preview(store, path)                     # read (isolated), find headers, compare
    p = remap(store, p, "Sheet1", {"deadline": 7})   # a person moved a column; no re-read
    result = apply(store, p)                     # all or nothing

`preview` reads the file in a limited child process (`fieldapp.excel.reader`), reads each
sheet as a task list (`fieldapp.excel.tasklist`) and compares every data row with the store:
new, changed (which fields), unchanged — or skipped / error with the reason, by sheet and
Excel row number. `apply` compares again inside its transaction (the store may have changed
since the preview), refuses while errors remain (unless told to skip them), and writes the
new and changed tasks with their change-log entries in one transaction: a cancel, an error
or a killed process leaves the database exactly as it was.

Matching (upsert): by FieldApp's own record id when the sheet is a ledger FieldApp wrote,
then by task code, then — for rows without a code — by a content key (title + region,
normalised; `Task.import_key`). Only the columns the sheet has are compared and written.
A deadline that names the same date is unchanged however it is written. Tasks absent from
this file that came from the same list (the files its matched tasks were first imported
from, `Task.import_source`) are reported as `missing`, never deleted.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gc
import hashlib
import json
import logging
import threading
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from sqlalchemy.orm import Session

from fieldapp import changelog
from fieldapp.domain import CATEGORIES, DeadlineKind, TaskStatus
from fieldapp.errors import Text
from fieldapp.excel import header as hdr, normalize
from fieldapp.excel.errors import ImportRefused, NothingToImport
from fieldapp.excel.reader import Limits, WorkbookData, read_workbook
from fieldapp.excel.tasklist import SheetResult, code_key, column_letter, deadline_json, parse_sheet
from fieldapp.ids import new_ids
from fieldapp.services import Changes, Progress, check_cancel
from fieldapp.store import Store

log = logging.getLogger(__name__)

NEW, CHANGED, UNCHANGED, SKIPPED, ERROR = "new", "changed", "unchanged", "skipped", "error"

# Task columns an import may write, and the defaults of a new task for columns the sheet lacks.
DEFAULTS: dict[str, Any] = {
    "code": None, "title": "", "category": CATEGORIES[-1], "responsible_units": [], "lead_unit": "",
    "cooperating_units": [], "region_code": "", "region_name": "", "address": "", "deadline": None,
    "deadline_kind": str(DeadlineKind.NONE), "deadline_text": "", "targets": "", "assignees": [],
}
LIST_FIELDS = ("responsible_units", "cooperating_units", "assignees")
# How a person names a change: the deadline's three columns are one field, the region's two.
SHOWN_FIELD = {"deadline_kind": "deadline", "deadline_text": "deadline", "region_code": "region",
               "region_name": "region"}


@dataclass
class ColumnInfo:
    index: int  # 0-based
    letter: str  # "A", "B", … as Excel shows it
    header: str  # the header text (two header rows joined by " / ")
    hidden: bool
    field: str | None  # the Task field it feeds, None when not imported


@dataclass
class SheetPreview:
    name: str
    index: int
    visible: bool
    loaded: bool
    header_rows: tuple[int, ...]  # Excel row numbers of the header (one or two rows)
    columns: list[ColumnInfo]
    mapping: dict[str, int]  # field → column index; change with `remap`
    title: str  # the title rows above the header
    year: int | None  # the year deadlines such as "6月底前" belong to
    problem: Text | None  # why this sheet gives no tasks (empty, no header, hidden…)
    head: list[list[str]]  # the first rows as shown, for a preview grid

    @property
    def importable(self) -> bool:
        return self.problem is None

    @property
    def fields_not_found(self) -> list[str]:
        """The fields a task list is expected to have that no column feeds (title aside)."""
        if not self.header_rows:
            return []
        wanted = [("deadline",), ("responsible_units", "lead_unit")]
        return [names[0] for names in wanted if not any(f in self.mapping for f in names)]


_NO_CHANGES: dict[str, tuple[Any, Any]] = {}


@dataclass(slots=True)
class RowResult:
    sheet: str
    row: int  # Excel's row number
    status: str  # new | changed | unchanged | skipped | error
    reason: Text | None = None  # for skipped and error
    values: dict[str, Any] = field(default_factory=dict)  # the row's fields (mapped columns only)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=lambda: _NO_CHANGES)  # column → (before, after)
    read_warnings: tuple[Text, ...] = ()  # from reading the row (a deadline kept as written…)
    match_warnings: tuple[Text, ...] = ()  # from comparing it with the store (a code another task has…)
    task_id: str | None = None  # the task it updates or matches
    key: str = ""  # content key (Task.import_key)
    record_id: str = ""
    base: dict[str, Any] | None = None  # the stored task it was compared with (shared, read-only)

    @property
    def warnings(self) -> tuple[Text, ...]:
        return self.read_warnings + self.match_warnings if self.match_warnings else self.read_warnings

    @property
    def effective(self) -> dict[str, Any]:
        """The task's fields after the import (the sheet's, over what is stored, over defaults)."""
        if self.base is None:
            return {**DEFAULTS, **self.values}
        if self.changes:
            return {**self.base, **{f: new for f, (_old, new) in self.changes.items()}}
        return self.base

    @property
    def changed_fields(self) -> list[str]:
        """Changed fields as a person names them (deadline, region — not their columns)."""
        return list(dict.fromkeys(SHOWN_FIELD.get(f, f) for f in self.changes if f != "import_key"))

    @property
    def is_record(self) -> bool:
        return self.status in (NEW, CHANGED, UNCHANGED)


@dataclass
class MissingTask:
    """A task imported earlier that this file no longer lists (reported, never deleted)."""

    id: str
    code: str | None
    title: str
    source: str


@dataclass
class ImportPreview:
    path: Path
    format: str
    sha256: str
    sheets: list[SheetPreview]
    rows: list[RowResult]
    missing: list[MissingTask]
    workbook: WorkbookData | None  # kept, so `remap` needs no second read (None from the memo)
    parsed: dict[str, SheetResult] = field(default_factory=dict)
    store_seq: int = -1  # the change log's last entry when compared: apply re-compares only if it moved
    options: tuple[str | None, dict[str, int | None] | None] | None = None  # (sheet, mapping) of `preview`
    from_memo: bool = False  # the reading of an identical file imported before was reused
    reader_peak_mib: float | None = None  # the reading child's peak memory, where the OS tells

    @property
    def file_name(self) -> str:
        return self.path.name

    @property
    def records(self) -> list[RowResult]:
        return [r for r in self.rows if r.is_record]

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == ERROR]

    @property
    def has_errors(self) -> bool:
        return any(r.status == ERROR for r in self.rows)

    def counts(self) -> dict[str, int]:
        return _counts(self.rows)

    def sheet(self, name: str) -> SheetPreview:
        return next(s for s in self.sheets if s.name == name)

    def to_json(self, lang: str = "zh_CN", rows: list[RowResult] | None = None,
                missing: list[MissingTask] | None = None) -> dict[str, Any]:
        """The object `fieldapp import-tasks --json` prints; after `apply`, pass its rows and
        missing tasks (compared inside the transaction, with the new tasks' ids)."""
        rows = self.rows if rows is None else rows
        missing = self.missing if missing is None else missing
        records, skipped, errors = [], [], []
        for s in self.sheets:
            if s.problem is not None:
                skipped.append({"sheet": s.name, "row": None, "reason": s.problem(lang)})
        for r in rows:
            if r.is_record:
                records.append(record_json(r, lang))
            elif r.status == SKIPPED:
                skipped.append({"sheet": r.sheet, "row": r.row, "reason": r.reason(lang) if r.reason else ""})
            else:
                errors.append({"sheet": r.sheet, "row": r.row, "reason": r.reason(lang) if r.reason else ""})
        return {
            "file": self.file_name, "format": self.format, "records": records, "skipped": skipped,
            "errors": errors, "counts": _counts(rows),
            "missing": [{"id": m.id, "code": m.code, "title": m.title, "source": m.source} for m in missing],
            "sheets": [{"name": s.name, "header_rows": list(s.header_rows), "year": s.year,
                        "mapping": {f: column_letter(c) for f, c in s.mapping.items()},
                        "hidden_columns_used": [column_letter(c) for f, c in s.mapping.items()  # a ledger's
                                                if f != "id" and c < len(s.columns) and s.columns[c].hidden],  # ID is hidden
                        "not_imported": [{"column": c.letter, "header": c.header} for c in s.columns
                                         if c.field is None and c.header],
                        "not_found": s.fields_not_found,
                        "problem": s.problem(lang) if s.problem else None} for s in self.sheets],
        }


def _counts(rows: list[RowResult]) -> dict[str, int]:
    out = {s: 0 for s in (NEW, CHANGED, UNCHANGED, SKIPPED, ERROR)}
    for r in rows:
        out[r.status] += 1
    return out


def record_json(r: RowResult, lang: str) -> dict[str, Any]:
    e = r.effective
    return {
        "sheet": r.sheet, "row": r.row, "code": e.get("code"), "title": e.get("title", ""),
        "category": e.get("category", ""), "responsible_units": list(e.get("responsible_units") or []),
        "lead_unit": e.get("lead_unit", ""), "cooperating_units": list(e.get("cooperating_units") or []),
        "region": e.get("region_name", ""), "region_code": e.get("region_code", ""),
        "deadline": deadline_json(e), "deadline_text": e.get("deadline_text", ""),
        "status": r.status, "changed_fields": r.changed_fields, "task_id": r.task_id,
        "changes": {f: {"from": old, "to": new} for f, (old, new) in change_texts(r).items()},
        "warnings": [w(lang) for w in r.warnings],
    }


def _shown(f: str, record: dict[str, Any]) -> str:
    """A field of a task as a person reads it: a date, units joined by 、, a deadline as written
    when it is not a date."""
    if f == "deadline":
        d = record.get("deadline")
        return d.isoformat() if d and record.get("deadline_kind") == DeadlineKind.DATE else record.get("deadline_text") or ""
    if f == "region":
        return record.get("region_name") or ""
    v = record.get(f)
    if isinstance(v, (list, tuple)):
        return "、".join(v)
    return "" if v is None else str(v)


def change_texts(r: RowResult) -> dict[str, tuple[str, str]]:
    """A changed row's changes, one per field as a person names it: field → (before, after)."""
    if r.base is None or not r.changes:
        return {}
    after = r.effective
    out = {}
    for f in r.changed_fields:
        old, new = _shown(f, r.base), _shown(f, after)
        if f == "region" and old == new:  # the same name, another code
            old, new = f"{old}（{r.base.get('region_code') or ''}）", f"{new}（{after.get('region_code') or ''}）"
        out[f] = (old, new)
    return out


@dataclass
class ImportResult:
    changes: Changes
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors_skipped: int = 0
    missing: list[MissingTask] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)  # as compared inside the transaction
    log_seq: int = -1  # the change log's last entry when the import committed


# ---------------------------------------------------------------- preview


@contextmanager
def _no_gc() -> Iterator[None]:
    """Bulk work makes hundreds of thousands of objects and no cycles; the cyclic collector
    would walk them all again and again (a third of the time of a 50,000-row import)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def preview(
    store: Store, path: Path | str, sheet: str | None = None, mapping: dict[str, int | None] | None = None, *,
    progress: Progress | None = None, cancel: threading.Event | None = None, limits: Limits | None = None,
    strict: bool = True,
) -> ImportPreview:
    """Read `path` and say what importing it would do, row by row. Writes nothing.

    `sheet`: only this sheet (default: every visible sheet that holds a task list).
    `mapping`: field → column index overriding the detected columns (of `sheet`, or of every
    sheet). Raises a `WorkbookRejected` for a file that cannot be read or, when `strict`, holds
    no task list (not strict: a preview whose sheets say why they give no tasks, for a person
    to map the columns by hand with `remap`); `Interrupted` on cancel."""
    path = Path(path)
    with _no_gc():
        memo = _memo_load(store, path, sheet, mapping)
        if memo is not None:
            return memo
        p = _preview(store, path, sheet, mapping, progress, cancel, limits, strict=strict)
        p.options = (sheet, mapping)
        return p


KEEP_CELLS = 20_000  # a preview of more rows than this lets its cells go; a remap reads again


def _preview(store: Store, path: Path, sheet: str | None, mapping: dict[str, int | None] | None,
             progress: Progress | None, cancel: threading.Event | None, limits: Limits | None,
             keep_cells: bool = False, strict: bool = True) -> ImportPreview:
    known: list[tuple[int, _Index]] = []

    def load_index() -> None:  # while the child reads the file
        with store.session() as session:
            known.append((_log_seq(session), _Index.load(session)))

    book = read_workbook(path, sheets=[sheet] if sheet else None, limits=limits, progress=progress, cancel=cancel,
                         meanwhile=load_index)
    check_cancel(cancel)
    parsed: dict[str, SheetResult] = {}
    # A mapping for every sheet does not make a headerless one a task list (a lookup sheet beside
    # the tasks): only a sheet chosen, or the only one, gets a header guessed from the mapping.
    guess = sheet is not None or sum(1 for s in book.sheets if s.loaded) == 1
    for s in book.sheets:
        if (sheet is not None and s.name != sheet) or (not s.loaded and s.visible):
            continue  # not chosen: another sheet was asked for
        parsed[s.name] = parse_sheet(s, mapping=mapping if (sheet is None or s.name == sheet) else None,
                                     file_name=path.name, progress=progress, guess_header=guess)
        check_cancel(cancel)
    p = _build(store, book, parsed, strict=strict, progress=progress, cancel=cancel,
               known=known[0] if known else None)
    p.reader_peak_mib = book.reader_peak_mib
    if not keep_cells and sum(len(s.rows) for s in book.sheets) > KEEP_CELLS:
        p.workbook, p.parsed = None, {}
    return p


def remap(store: Store, before: ImportPreview, sheet: str, mapping: dict[str, int | None]) -> ImportPreview:
    """The preview again with `sheet`'s columns mapped by hand (field → column index, None
    to leave a field out); a column given to a field is taken from the field that had it. The
    file is read again only when the preview kept no cells (a big one, or one from the memo)."""
    if before.workbook is None:
        sheet_opt, mapping_opt = before.options or (None, None)
        again = _preview(store, before.path, sheet_opt, mapping_opt, None, None, None, keep_cells=True, strict=False)
        return remap(store, again, sheet, mapping)
    parsed = dict(before.parsed)
    claimed = {c for c in mapping.values() if c is not None}
    wanted = {f: c for f, c in before.sheet(sheet).mapping.items() if f not in mapping and c not in claimed}
    wanted.update({f: c for f, c in mapping.items() if c is not None})
    full: dict[str, int | None] = {f: None for f in hdr.MAPPABLE}
    full.update(wanted)
    parsed[sheet] = parse_sheet(before.workbook.sheet(sheet), mapping=full, file_name=before.file_name)
    return _build(store, before.workbook, parsed, strict=False)


def _sheet_preview(s: SheetResult) -> SheetPreview:
    header = s.header
    width = max(s.width, len(header.texts) if header else 0)
    fields = {c: f for f, c in header.mapping.items()} if header else {}
    columns = [ColumnInfo(index=c, letter=column_letter(c), header=header.texts[c] if header and c < len(header.texts) else "",
                          hidden=c in s.hidden_cols, field=fields.get(c)) for c in range(width)]
    return SheetPreview(
        name=s.name, index=s.index, visible=s.visible, loaded=s.loaded,
        header_rows=tuple(r + 1 for r in header.rows) if header else (), columns=columns,
        mapping=dict(header.mapping) if header else {}, title=s.title, year=s.year, problem=s.problem, head=s.head,
    )


def _build(store: Store, book: WorkbookData, parsed: dict[str, SheetResult], *, strict: bool = True,
           progress: Progress | None = None, cancel: threading.Event | None = None,
           known: tuple[int, "_Index"] | None = None) -> ImportPreview:
    sheets = [_sheet_preview(s) for s in parsed.values()]
    if strict:
        check_importable(sheets, book.path.name)
    rows = _rows_of(parsed)
    with store.session() as session:
        seq = _log_seq(session)
        if known is not None and known[0] == seq:  # loaded while the file was read, still current
            index = known[1]
        else:
            index = _Index.load(session)
    missing = _compare(index, rows, cancel=cancel, progress=progress)
    return ImportPreview(path=book.path, format=book.format, sha256=book.sha256, sheets=sheets, rows=rows,
                         missing=missing, workbook=book, parsed=parsed, store_seq=seq)


def check_importable(sheets: list[SheetPreview], file_name: str) -> None:
    """Raise `NothingToImport`, with each sheet's reason, when no sheet gives tasks."""
    if not any(s.importable for s in sheets):
        reasons = "；".join(f"{s.name}：{s.problem.zh}" for s in sheets if s.problem) or "没有工作表"
        reasons_en = "; ".join(f"{s.name}: {s.problem.en}" for s in sheets if s.problem) or "no sheets"
        raise NothingToImport(reasons_en, name=file_name, reason=Text(reasons, reasons_en))


def _log_seq(session: Session) -> int:
    """The change log's last entry: every write to a task appends there, so while it stays put
    the tasks are as they were."""
    return session.connection().exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM change_log").scalar() or 0


def _rows_of(parsed: dict[str, SheetResult]) -> list[RowResult]:
    out: list[RowResult] = []
    codes: dict[str, RowResult] = {}
    keys: dict[str, list[RowResult]] = {}
    for s in parsed.values():
        if s.problem is not None and not s.rows:
            continue
        for t in s.rows:
            r = RowResult(sheet=t.sheet, row=t.row, status=SKIPPED if t.kind == "skipped" else ERROR if t.kind == "error" else NEW,
                          reason=t.reason, values=t.values, read_warnings=tuple(t.warnings), key=t.key,
                          record_id=t.record_id)
            out.append(r)
            if r.status != NEW:
                continue
            code = t.values.get("code")
            if code:
                first = codes.get(code_key(code))
                if first is not None:
                    r.status, r.reason = ERROR, Text(
                        f"任务编号“{code}”与{_where_zh(first)}重复", f"the code “{code}” repeats {_where_en(first)}")
                    continue
                codes[code_key(code)] = r
            if r.key:
                same = keys.setdefault(r.key, [])
                same.append(r)
                n = len(same)
                if n > 1:  # the same title and region twice: kept apart by their order
                    r.key = f"{r.key[:21]}#{n}" if n < 10 else f"{r.key[:20]}#{n}"
                    if not code:
                        r.read_warnings += (Text(
                            f"任务名称和所属区县与{_where_zh(same[0])}相同，将作为另一个任务导入；若是重复行请删除",
                            f"the same title and region as {_where_en(same[0])}: imported as another task; "
                            "delete the row if it is a repeat"),)
    return out


def _where_zh(r: RowResult) -> str:
    return f"“{r.sheet}”第 {r.row} 行"


def _where_en(r: RowResult) -> str:
    return f"row {r.row} of “{r.sheet}”"


# ---------------------------------------------------------------- comparing with the store

_COLUMNS = ("id", "code", "import_key", "title", "category", "responsible_units", "lead_unit", "cooperating_units",
            "region_code", "region_name", "address", "deadline", "deadline_kind", "deadline_text", "targets",
            "assignees", "status", "import_source")


class _Index:
    """The store's tasks, by id, code and content key — what rows are matched against."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_code: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, dict[str, Any]] = {}

    @classmethod
    def load(cls, session: Session) -> "_Index":
        idx = cls()
        lists: dict[str, list[str]] = {}  # unit lists repeat: each distinct JSON text is read once
        dates: dict[str, dt.date] = {}
        loads = json.loads
        cursor = session.connection().exec_driver_sql(f"SELECT {', '.join(_COLUMNS)} FROM tasks")
        for row in cursor.fetchall():
            t = dict(zip(_COLUMNS, row))
            for f in LIST_FIELDS:
                raw = t[f]
                if not raw:
                    t[f] = []
                else:
                    parsed = lists.get(raw)
                    if parsed is None:
                        parsed = lists[raw] = loads(raw)
                    t[f] = parsed
            d = t["deadline"]
            if d:
                t["deadline"] = dates.get(d) or dates.setdefault(d, dt.date.fromisoformat(d))
            idx.by_id[t["id"]] = t
            if t["code"]:
                idx.by_code[code_key(t["code"])] = t
            if t["import_key"]:
                idx.by_key[t["import_key"]] = t
        return idx


def _same(f: str, old: Any, new: Any) -> bool:
    if f in LIST_FIELDS:
        old = old or []
        return old == new or [normalize.text(x) for x in old] == list(new)
    if f == "code":
        return code_key(old or "") == code_key(new or "")
    if f == "deadline":
        return old == new
    if isinstance(old, str) and isinstance(new, str):
        return old == new or normalize.text(old, multiline=f == "targets") == new
    return old == new


_DEADLINE_FIELDS = ("deadline", "deadline_kind", "deadline_text")


def _diff(existing: dict[str, Any], values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for f, new in values.items():
        old = existing.get(f)
        if old == new or f in _DEADLINE_FIELDS:
            continue
        if not _same(f, old, new):
            changes[f] = (old, new)
    if "deadline_kind" in values:
        kind, date, text = values["deadline_kind"], values["deadline"], values["deadline_text"]
        okind, odate, otext = existing["deadline_kind"], existing["deadline"], existing["deadline_text"]
        if kind == DeadlineKind.DATE and okind == DeadlineKind.DATE:
            same = date == odate  # the same day, however it is written
        else:
            same = kind == okind and date == odate and (
                otext == text or normalize.text(otext) == text or kind == DeadlineKind.NONE)
        if not same:
            for f, old, new in (("deadline", odate, date), ("deadline_kind", okind, kind), ("deadline_text", otext, text)):
                if old != new:
                    changes[f] = (old, new)
    return changes


def _unrelated(old: str, new: str) -> bool:
    """Two titles that share almost nothing: not one task reworded, but two tasks under one code."""
    return difflib.SequenceMatcher(None, old, new, autojunk=False).ratio() < 0.4


def _compare(index: _Index, rows: list[RowResult], *, cancel: threading.Event | None = None,
             progress: Progress | None = None) -> list[MissingTask]:
    """Give every data row its status against `index`; return the imported tasks not seen."""
    seen: dict[str, RowResult] = {}
    total = len(rows)
    for i, r in enumerate(rows):
        if i % 5000 == 0:
            check_cancel(cancel)
            if progress:
                progress(i, total)
        if r.status not in (NEW, CHANGED, UNCHANGED):
            continue
        r.changes = _NO_CHANGES
        r.task_id = None
        r.base = None
        r.match_warnings = ()
        existing = None
        by = ""
        if r.record_id:
            existing, by = index.by_id.get(r.record_id), "id"
        code = r.values.get("code")
        ckey = code_key(code) if code else ""
        if existing is None and code:
            existing, by = index.by_code.get(ckey), "code"
        candidate = index.by_key.get(r.key) if r.key else None
        if existing is None and candidate is not None:
            if not (code and candidate["code"] and code_key(candidate["code"]) != ckey):
                existing, by = candidate, "key"
        if existing is not None and code and existing["code"] and code_key(existing["code"]) != ckey:
            other = index.by_code.get(ckey)
            if other is not None:  # the id says one task, the code another
                r.status, r.reason = ERROR, Text(
                    f"记录ID与任务编号“{code}”分别对应不同的任务", f"the record id and the code “{code}” name different tasks")
                continue
        if existing is None:
            r.status = NEW
            if candidate is not None:  # same title and region, another code: a renumbered list?
                r.match_warnings = (Text(
                    f"任务名称和所属区县与已有任务相同（编号“{candidate['code']}”），但编号不同：将作为新任务导入",
                    f"the same title and region as the task coded “{candidate['code']}”, but another code: "
                    "imported as a new task"),)
            continue
        first = seen.get(existing["id"])
        if first is not None:
            r.status, r.reason = ERROR, Text(
                f"与{_where_zh(first)}对应同一个任务", f"names the same task as {_where_en(first)}")
            continue
        seen[existing["id"]] = r
        r.task_id = existing["id"]
        changes = _diff(existing, r.values)
        if by == "code" and "title" in changes and _unrelated(existing["title"], r.values["title"]):
            source = existing["import_source"] or ("手工录入", "entered by hand")
            src_zh, src_en = (source, source) if isinstance(source, str) else source
            r.match_warnings = (Text(
                f"任务编号“{code}”已属于任务“{existing['title']}”（{src_zh}），名称完全不同：导入将改写该任务。"
                "若这一列只是序号，请把它设为“不导入”",
                f"the code “{code}” belongs to the task “{existing['title']}” ({src_en}), whose title is "
                "quite different: importing rewrites that task. If this column only numbers the rows, "
                "do not import it"),)
        r.base = existing
        r.status = CHANGED if changes else UNCHANGED
        if changes and r.key and existing["import_key"] != r.key:
            changes["import_key"] = (existing["import_key"], r.key)  # follows the new title
        r.changes = changes or _NO_CHANGES
    if progress:
        progress(total, total)
    # "Missing" means missing from the list this file is a version of: the tasks that came from
    # the same files as the tasks this file names. An unrelated list reports none.
    sources = {index.by_id[i]["import_source"] for i in seen} - {""}
    return [MissingTask(id=t["id"], code=t["code"], title=t["title"], source=t["import_source"] or "")
            for t in index.by_id.values()
            if t["import_key"] and t["id"] not in seen and t["import_source"] in sources]


# ---------------------------------------------------------------- apply

def apply(
    store: Store, preview: ImportPreview, *, progress: Progress | None = None,
    cancel: threading.Event | None = None, skip_errors: bool = False,
) -> ImportResult:
    """Write the previewed import in one transaction: all of it, or — on error, cancel or a
    killed process — nothing. Rows are compared again inside the transaction. Refuses with
    `ImportRefused` while rows have errors, unless `skip_errors`."""
    errors = [r for r in preview.rows if r.status == ERROR]
    if errors and not skip_errors:
        raise _refused(errors)
    with _no_gc():
        try:
            result = _apply(store, preview, progress, cancel, skip_errors)
        except BaseException:
            for r in preview.rows:  # ids of tasks that were never committed
                if r.status == NEW:
                    r.task_id = None
            raise
    if preview.options is not None and not preview.from_memo and not result.errors_skipped:
        _memo_save_later(store, preview, result)
    return result


def _apply(store: Store, preview: ImportPreview, progress: Progress | None, cancel: threading.Event | None,
           skip_errors: bool) -> ImportResult:
    started = time.monotonic()
    source = f"{preview.file_name}"
    result = ImportResult(changes=Changes())
    with store.transaction() as session:
        check_cancel(cancel)
        if _log_seq(session) == preview.store_seq:  # nothing written since the preview compared
            rows = preview.rows
            result.missing = list(preview.missing)
        else:
            rows = [RowResult(sheet=r.sheet, row=r.row, status=r.status if r.status in (SKIPPED, ERROR) else NEW,
                              reason=r.reason, values=r.values, read_warnings=r.read_warnings, key=r.key,
                              record_id=r.record_id) for r in preview.rows]
            result.missing = _compare(_Index.load(session), rows, cancel=cancel)
        errors = [r for r in rows if r.status == ERROR]
        if errors and not skip_errors:  # the store changed since the preview
            raise _refused(errors)
        todo = [r for r in rows if r.status in (NEW, CHANGED)]
        total = len(todo)
        if todo:
            writer = _Writer(session)
            done = 0
            for batch_start in range(0, total, 2000):
                check_cancel(cancel)
                batch = todo[batch_start:batch_start + 2000]
                writer.write(batch, source)
                done += len(batch)
                if progress:
                    progress(done, total)
            writer.finish()
            if total >= 1000:
                store.checkpoint_later(session)
        check_cancel(cancel)
        result.log_seq = _log_seq(session)
        result.rows = rows
    for r in rows:
        if r.status == NEW:
            result.created += 1
            result.changes.tasks.add(r.task_id or "")
        elif r.status == CHANGED:
            result.updated += 1
            result.changes.tasks.add(r.task_id or "")
        elif r.status == UNCHANGED:
            result.unchanged += 1
        elif r.status == SKIPPED:
            result.skipped += 1
        else:
            result.errors_skipped += 1
    result.changes.tasks.discard("")
    result.rows = rows
    log.info("imported %s: %d new, %d changed, %d unchanged, %d skipped, %d errors skipped in %.2fs",
             preview.file_name, result.created, result.updated, result.unchanged, result.skipped,
             result.errors_skipped, time.monotonic() - started)
    return result


def _refused(errors: list[RowResult]) -> ImportRefused:
    first = errors[0]
    return ImportRefused(
        f"{len(errors)} rows", count=len(errors),
        first=Text(f"{_where_zh(first)}：{first.reason.zh if first.reason else ''}",
                   f"{_where_en(first)}: {first.reason.en if first.reason else ''}"))


class _Writer:
    """Bulk INSERT / UPDATE of tasks, their change-log entries written by `changelog.LogWriter`.

    The ORM would spend seconds on 50,000 objects; this writes the same rows and the same
    log entries (`changelog` verifies them like any other) with executemany. A new task's
    logged record is assembled from its values' JSON (`_record_json`), which is what
    `changelog.canonical` gives for the same dict, character for character."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        self.log = changelog.LogWriter(session)
        self.author = self.log.author
        dialect = self.conn.dialect
        # Unit lists as readable UTF-8 JSON (what the JSON type reads back either way): half the
        # bytes of ASCII escapes, and a LIKE '%省财政厅%' search finds them.
        self.dumps = getattr(dialect, "_json_serializer", None) or json.JSONEncoder(ensure_ascii=False).encode
        # Seven indexes on tasks, three on the log: keep their pages in memory while writing.
        self.conn.exec_driver_sql("PRAGMA cache_size = -65536")
        self.canon = changelog.canonical
        self.list_texts: dict[tuple[str, ...], tuple[str, str]] = {}  # stored JSON, canonical JSON
        self.now_text = self.log.at_text
        self.now_iso = self.log.at_iso
        self.at_json = self.canon(self.now_iso)
        self.author_json = self.canon(self.author)

    def _versions(self, task_ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(task_ids), 500):
            part = task_ids[i:i + 500]
            out.update(self.conn.exec_driver_sql(
                f"SELECT id, version FROM tasks WHERE id IN ({', '.join('?' * len(part))})", tuple(part)).all())
        return out

    def _lists(self, value: list[str]) -> tuple[str, str]:
        key = tuple(value)
        texts = self.list_texts.get(key)
        if texts is None:
            texts = self.list_texts[key] = (self.dumps(value), self.canon(value))
        return texts

    def _record_json(self, values: dict[str, Any], lists: dict[str, str], task_id: str, deadline: str | None,
                     key: str | None, source: str) -> str:
        """The canonical JSON of a new task's record: its columns in sorted order, compact, as
        `changelog.entry_hash` encodes a dict (`test_logged_records_are_the_tasks_as_stored`)."""
        enc = _encode_str
        code, deadline_json = values["code"], "null" if deadline is None else f'"{deadline}"'
        return (f'{{"address":{enc(values["address"])},"assignees":{lists["assignees"]},'
                f'"author":{self.author_json},"category":{enc(values["category"])},'
                f'"code":{"null" if code is None else enc(code)},"cooperating_units":{lists["cooperating_units"]},'
                f'"created_at":{self.at_json},"deadline":{deadline_json},'
                f'"deadline_kind":{enc(values["deadline_kind"])},"deadline_text":{enc(values["deadline_text"])},'
                f'"id":"{task_id}","import_key":{"null" if key is None else enc(key)},'
                f'"import_source":{enc(source)},"lead_unit":{enc(values["lead_unit"])},'
                f'"region_code":{enc(values["region_code"])},"region_name":{enc(values["region_name"])},'
                f'"responsible_units":{lists["responsible_units"]},"status":"{_ASSIGNED}",'
                f'"targets":{enc(values["targets"])},"title":{enc(values["title"])},"updated_at":{self.at_json}}}')

    def write(self, rows: list[RowResult], source: str) -> None:
        inserts = []
        updates: dict[tuple[str, ...], list[tuple]] = {}
        texts = self._lists
        log_entry = self.log.add
        ids = iter(new_ids(2 * len(rows)))  # in order: a task's id, then its log entry's
        versions = self._versions([r.task_id for r in rows if r.status == CHANGED and r.task_id])
        status = _ASSIGNED
        for r in rows:
            if r.status == NEW:
                values = {**DEFAULTS, **r.values}
                task_id = r.task_id = next(ids)
                deadline = values["deadline"]
                deadline = deadline.isoformat() if deadline else None
                key = r.key or None
                stored, canonical = {}, {}
                for f in LIST_FIELDS:
                    stored[f], canonical[f] = texts(values[f])
                try:
                    if len(values) != len(DEFAULTS):
                        raise TypeError("a field the record JSON does not name")
                    after = self._record_json(values, canonical, task_id, deadline, key, source)
                except TypeError:  # a value that is not text: let the encoder write it as the ORM's log would
                    after = self.canon({**values, "deadline": deadline, "status": status, "import_key": key,
                                        "import_source": source, "id": task_id, "created_at": self.now_iso,
                                        "updated_at": self.now_iso, "author": self.author})
                inserts.append((
                    task_id, values["code"], values["title"], values["category"], stored["responsible_units"],
                    values["lead_unit"], stored["cooperating_units"], values["region_code"],
                    values["region_name"], values["address"], deadline, values["deadline_kind"],
                    values["deadline_text"], values["targets"], stored["assignees"], status,
                    key, source, self.now_text, self.now_text, self.author,
                ))
                log_entry("tasks", task_id, "create", "null", after, 0, next(ids))
            elif r.status == CHANGED:
                changes = r.changes
                cols = tuple(sorted(changes))
                params = [texts(changes[c][1])[0] if c in LIST_FIELDS else
                          changes[c][1].isoformat() if isinstance(changes[c][1], dt.date) else changes[c][1]
                          for c in cols]
                updates.setdefault(cols, []).append((*params, self.now_text, r.task_id))
                before = self.canon({c: _jsonable(changes[c][0]) for c in cols})
                after = self.canon({c: _jsonable(changes[c][1]) for c in cols})
                log_entry("tasks", r.task_id or "", "update", before, after, versions[r.task_id or ""], next(ids))
        job: list[tuple[str, list[tuple]]] = []
        if inserts:
            job.append((
                "INSERT INTO tasks (id, code, title, category, responsible_units, lead_unit, cooperating_units, "
                "region_code, region_name, address, deadline, deadline_kind, deadline_text, targets, assignees, "
                "status, import_key, import_source, created_at, updated_at, author) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts))
        for cols, params in updates.items():
            assignments = ", ".join(f"{c} = ?" for c in cols)
            job.append((f"UPDATE tasks SET {assignments}, updated_at = ?, version = version + 1 WHERE id = ?",
                        params))
        for sql, params in job:
            self.conn.exec_driver_sql(sql, params)
        self.log.flush()

    def finish(self) -> None:
        self.log.flush()  # later ORM writes in this transaction continue the chain from here


_ASSIGNED = str(TaskStatus.ASSIGNED)  # what a new task's status is, in its row and its log record
# A str as JSON with ensure_ascii=False (the C encoder's own); TypeError for anything else.
_encode_str = json.encoder.encode_basestring


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value



# ---------------------------------------------------------------- the memo of imported files
#
# Importing a file FieldApp imported before, byte for byte, with the same options, into a store
# nobody has written to since (its change log ends where that import left it), can only find
# every row unchanged. The reading of that file is kept as a small JSON "memo" in the data
# dir's cache, keyed by the file's SHA-256, so such a re-import answers without reading the
# workbook again. Any doubt — another FieldApp version, other options, a newer change log, a
# damaged memo — means the file is read as usual. Deleting the cache only costs time.

MEMO_VERSION = 2
MEMO_KEEP = 8  # memos kept; the oldest go


def _memo_dir(store: Store) -> Path:
    return Path(store.data_dir) / "cache" / "imports"


def _memo_path(store: Store, sha256: str, sheet: str | None, mapping: dict[str, int | None] | None) -> Path:
    from fieldapp import __version__

    opts = json.dumps([MEMO_VERSION, __version__, sheet, sorted((mapping or {}).items())], ensure_ascii=False)
    return _memo_dir(store) / f"{sha256[:32]}-{hashlib.sha1(opts.encode()).hexdigest()[:12]}.json"


def _text_json(t: Text | None) -> list[str] | None:
    return None if t is None else [t.zh, t.en]


def _text_of(v: list[str] | None) -> Text | None:
    return None if v is None else Text(v[0], v[1])


class _Packer:
    """A row's values as a field-set number and a list of values, the field names listed once
    per memo: a third less JSON than a dict per row, read back into dicts by C code (`zip`)."""

    def __init__(self) -> None:
        self.sets: dict[tuple[str, ...], int] = {}

    def pack(self, values: dict[str, Any]) -> tuple[int, list[Any]]:
        keys = tuple(values)
        n = self.sets.get(keys)
        if n is None:
            n = self.sets[keys] = len(self.sets)
        d = values.get("deadline")
        if isinstance(d, dt.date):
            values = {**values, "deadline": d.isoformat()}
        return n, list(values.values())


class _Unpacker:
    def __init__(self, sets: list[list[str]]) -> None:
        self.sets = [tuple(keys) for keys in sets]
        if len(set(self.sets)) != len(self.sets) or any(
                len(set(keys)) != len(keys) or not set(keys) <= DEFAULTS.keys() for keys in self.sets):
            raise ValueError("the memo's field sets are damaged")
        self.dates: dict[str, dt.date] = {}

    def unpack(self, n: int, values: list[Any]) -> dict[str, Any]:
        keys = self.sets[n]
        if len(keys) != len(values):
            raise ValueError("a memo row does not match its field set")
        out = dict(zip(keys, values))
        d = out.get("deadline")
        if d.__class__ is str:
            out["deadline"] = self.dates.get(d) or self.dates.setdefault(d, dt.date.fromisoformat(d))
        return out


_memo_thread: threading.Thread | None = None


def _memo_save_later(store: Store, preview: ImportPreview, result: ImportResult) -> None:
    """Write the memo of a committed import in a thread: the import is done, the memo only saves
    time later (the store waits for it before it closes)."""
    global _memo_thread
    _memo_wait()
    _memo_thread = store.after(lambda: _memo_save(store, preview, result), name="task-import-memo")


def _memo_wait() -> None:
    if _memo_thread is not None:
        _memo_thread.join()


def _memo_save(store: Store, preview: ImportPreview, result: ImportResult) -> None:
    final = _memo_path(store, preview.sha256, *preview.options)  # type: ignore[misc]
    tmp = final.with_suffix(f".{threading.get_ident()}.part")
    _memo_write(store, preview, result, tmp)
    try:
        if tmp.exists():
            os.replace(tmp, final)
    except OSError as exc:
        log.warning("import memo not kept: %s", exc)


def _memo_write(store: Store, preview: ImportPreview, result: ImportResult, tmp: Path) -> None:
    try:
        sheets = [{**{k: v for k, v in vars(s).items() if k not in ("columns", "problem")},
                   "problem": _text_json(s.problem), "columns": [vars(c) for c in s.columns]} for s in preview.sheets]
        head = {"version": MEMO_VERSION, "sha256": preview.sha256, "log_seq": result.log_seq, "format": preview.format,
                "sheets": sheets, "missing": [[m.id, m.code, m.title, m.source] for m in result.missing]}
        folder = _memo_dir(store)
        folder.mkdir(parents=True, exist_ok=True)
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        packer = _Packer()
        pack = packer.pack
        with open(tmp, "w", encoding="utf-8") as fh:  # a batch at a time: no second copy of the import in memory
            fh.write(dumps(head)[:-1] + ',"rows":[')
            batch: list[list[Any]] = []
            first = True
            for r in result.rows:
                status = UNCHANGED if r.is_record else r.status  # the store now holds what the file says
                rest = {f: v for f, v in r.effective.items() if f not in r.values and f in DEFAULTS} if r.is_record else {}
                batch.append([r.sheet, r.row, status, _text_json(r.reason), *pack(r.values), *pack(rest),
                              [[w.zh, w.en] for w in r.read_warnings], r.task_id, r.key, r.record_id])
                if len(batch) == 2000:
                    fh.write(("" if first else ",") + dumps(batch)[1:-1])
                    batch, first = [], False
            if batch:
                fh.write(("" if first else ",") + dumps(batch)[1:-1])
            fh.write('],"field_sets":' + dumps([list(keys) for keys in packer.sets]) + "}")
        for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-MEMO_KEEP]:
            old.unlink(missing_ok=True)
        for part in folder.glob("*.part"):  # left by a process that died while writing (one per data dir)
            if part != tmp:
                part.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError) as exc:  # a cache: failing to write it loses only time
        log.warning("import memo not written: %s", exc)
        tmp.unlink(missing_ok=True)


def _memo_load(store: Store, path: Path, sheet: str | None, mapping: dict[str, int | None] | None) -> ImportPreview | None:
    _memo_wait()
    folder = _memo_dir(store)
    try:
        if not folder.is_dir() or not any(folder.iterdir()):
            return None
        from fieldapp.excel.reader import _sha256

        sha = _sha256(path)
        memo_file = _memo_path(store, sha, sheet, mapping)
        if not memo_file.exists():
            return None
        memo = json.loads(memo_file.read_bytes())
        with store.session() as session:
            if memo.get("version") != MEMO_VERSION or memo.get("sha256") != sha or memo["log_seq"] != _log_seq(session):
                return None
        rows = []
        unpack = _Unpacker(memo["field_sets"]).unpack
        no_rest = memo["field_sets"].index([]) if [] in memo["field_sets"] else -1
        for (sheet_name, row, status, reason, values_set, values, rest_set, rest, warnings, task_id, key,
             record_id) in memo["rows"]:
            if status not in (UNCHANGED, SKIPPED, ERROR):  # a memo only ever says "as stored"
                return None
            r = RowResult(sheet=sheet_name, row=row, status=status, reason=_text_of(reason),
                          values=unpack(values_set, values), task_id=task_id, key=key, record_id=record_id,
                          read_warnings=tuple(Text(*w) for w in warnings) if warnings else ())
            if status == UNCHANGED:
                r.base = r.values if rest_set == no_rest else {**unpack(rest_set, rest), **r.values}
            rows.append(r)
        sheets = []
        for s in memo["sheets"]:
            columns = [ColumnInfo(**c) for c in s.pop("columns")]
            problem = _text_of(s.pop("problem"))
            sheets.append(SheetPreview(**{**s, "header_rows": tuple(s["header_rows"]), "columns": columns,
                                          "problem": problem}))
        missing = [MissingTask(*m) for m in memo["missing"]]
    except Exception as exc:  # noqa: BLE001 - a cache: whatever is wrong with it, the file is read instead
        log.warning("import memo not used: %s", exc)
        return None
    log.info("%s was imported before and nothing changed since: its reading is reused", path.name)
    return ImportPreview(path=path, format=memo["format"], sha256=sha, sheets=sheets, rows=rows, missing=missing,
                         workbook=None, store_seq=memo["log_seq"], options=(sheet, mapping), from_memo=True)
