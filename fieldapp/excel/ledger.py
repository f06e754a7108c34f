"""Ledgers (台账): tasks, findings or checks as an .xlsx a 督查处 would print.

Each ledger has a title row and a subtitle (when, which filter), a frozen header row with
filters, column widths that fit Chinese text, dates as real dates, borders, landscape pages
that repeat the header, and a summary sheet 汇总 by responsible unit (findings total,
rectified, overdue, rectification rate). The findings ledger embeds photo thumbnails (the
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from openpyxl.utils import get_column_letter
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XLImage
from openpyxl.worksheet.filters import AutoFilter

from fieldapp.domain import CheckResult, DeadlineKind, FindingStatus, Labeled, PhotoKind, Severity, TaskStatus
from fieldapp.excel import sheetstyle as st
from fieldapp.excel.units import join as join_units
from fieldapp.task_list import region_prefix
from fieldapp.store import Store

log = logging.getLogger(__name__)

KINDS = ("tasks", "findings", "checks")
TITLES = {"tasks": "督查任务台账", "findings": "发现问题台账", "checks": "整改核查台账"}
THUMB_PX = 96  # thumbnail height in the findings ledger
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


def _task_rows(con, flt: LedgerFilter, today: dt.date) -> tuple[list[str], list[list[Any]], list[str]]:
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
    rows = []
    units_of = []
    for r in con.execute(sql, params):
        (tid, code, title, category, resp, lead, coop, region, address, deadline, kind, dtext, targets,
         assignees, status, n_findings, n_closed) = r
        resp_l, coop_l = _loads(resp), _loads(coop)
        if not _unit_matches(flt, resp_l, lead, coop_l):
            continue
        due = dt.date.fromisoformat(deadline) if deadline else None
        overdue = kind == DeadlineKind.DATE and due is not None and due < today and status != TaskStatus.COMPLETED
        if flt.overdue_only and not overdue:
            continue
        if kind == DeadlineKind.DATE and due is not None:
            shown: Any = due
        else:
            shown = dtext or ""
        rows.append([len(rows) + 1, code or "", title, category, join_units(resp_l), lead, join_units(coop_l), region,
                     address, shown, targets, join_units(_loads(assignees)), _label(TaskStatus, status),
                     n_findings, n_closed, "是" if overdue else "", tid])
        units_of.append(tid)
    return headers, rows, units_of


def _finding_rows(con, flt: LedgerFilter, today: dt.date):
    clauses, params = _where(flt, "f.created_at", FindingStatus, "f.status", "f.category", ('f.description', 't.title', 't.code'))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        "SELECT f.id, t.code, t.title, f.description, f.category, f.severity, f.responsible_unit, t.responsible_units, "
        # 发现时间: the visit the finding was found on; its record's own time only without one.
        "f.requirement, f.due_date, f.status, COALESCE((SELECT v.visited_at FROM visits v WHERE v.id = f.visit_id), "
        "f.created_at), "
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
        (fid, code, title, desc, category, severity, unit, task_units, req, due, status, created, last_check,
         first_photo, after_photo, n_photos) = r
        unit = unit or (_loads(task_units)[:1] or [""])[0]
        if not _unit_matches(flt, unit):
            continue
        due_d = dt.date.fromisoformat(due) if due else None
        overdue = due_d is not None and due_d < today and status != FindingStatus.CLOSED
        if flt.overdue_only and not overdue:
            continue
        rows.append([len(rows) + 1, code or "", title, desc, category, _label(Severity, severity), unit, req, due_d,
                     _label(FindingStatus, status), "是" if overdue else "", _datetime(created),
                     _label(CheckResult, last_check) if last_check else "", n_photos, "", ""])
        photos.append((first_photo, after_photo))
    return headers, rows, photos


def _check_rows(con, flt: LedgerFilter, today: dt.date):
    clauses, params = _where(flt, "c.checked_at", CheckResult, "c.result", "f.category", ('f.description', 't.title', 't.code', 'c.note'))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        "SELECT t.code, t.title, f.description, f.responsible_unit, t.responsible_units, f.due_date, f.status, "
        "c.checked_at, c.result, c.inspector, c.note, (SELECT COUNT(*) FROM photos p WHERE p.check_id = c.id) "
        f"FROM checks c JOIN findings f ON f.id = c.finding_id JOIN tasks t ON t.id = f.task_id{where} "
        "ORDER BY c.checked_at, c.rowid"
    )
    headers = ["序号", "任务编号", "任务名称", "问题描述", "责任单位", "整改时限", "核查时间", "核查结果", "核查人",
               "核查说明", "照片数", "问题当前状态"]
    rows = []
    for r in con.execute(sql, params):
        code, title, desc, unit, task_units, due, status, checked, result, inspector, note, n = r
        unit = unit or (_loads(task_units)[:1] or [""])[0]
        if not _unit_matches(flt, unit):
            continue
        due_d = dt.date.fromisoformat(due) if due else None
        if flt.overdue_only and not (due_d and due_d < today and status != FindingStatus.CLOSED):
            continue
        rows.append([len(rows) + 1, code or "", title, desc, unit, due_d, _datetime(checked),
                     _label(CheckResult, result), inspector, note, n, _label(FindingStatus, status)])
    return headers, rows


def _datetime(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(microsecond=0)
    except ValueError:
        return None


def summary_by_unit(con, today: dt.date) -> list[list[Any]]:
    """Per responsible unit: findings total, rectified (销号), open, overdue, rate."""
    stats: dict[str, list[int]] = {}
    sql = ("SELECT f.responsible_unit, t.responsible_units, t.lead_unit, f.status, f.due_date "
           "FROM findings f JOIN tasks t ON t.id = f.task_id")
    for unit, task_units, lead, status, due in con.execute(sql):
        name = unit or lead or (_loads(task_units)[:1] or ["（未指定）"])[0]
        s = stats.setdefault(name, [0, 0, 0])
        s[0] += 1
        if status == FindingStatus.CLOSED:
            s[1] += 1
        elif due and dt.date.fromisoformat(due) < today:
            s[2] += 1
    rows = []
    for name, (total, closed, overdue) in sorted(stats.items(), key=lambda kv: (-kv[1][0], kv[0])):
        rows.append([name, total, closed, total - closed, overdue, closed / total if total else 0.0])
    return rows


# ---------------------------------------------------------------- writing


def _title_rows(ws, title: str, subtitle: str, width: int) -> None:
    ws.merged_cells.add(f"A1:{get_column_letter(width)}1")
    ws.merged_cells.add(f"A2:{get_column_letter(width)}2")
    ws.row_dimensions[1].height = 30
    ws.append([st.cell(ws, title, font=st.TITLE_FONT, alignment=st.CENTER, border=False)])
    ws.append([st.cell(ws, subtitle, font=st.SUBTITLE_FONT, alignment=st.LEFT, border=False)])


_WRAPPED = {"任务名称", "问题描述", "工作目标", "整改要求", "核查说明", "地址", "责任单位", "配合单位"}
_CENTERED = {"序号", "督查类别", "问题类别", "严重程度", "整改状态", "任务状态", "是否逾期", "问题数", "已销号数",
             "照片数", "核查结果", "最近核查结果", "所属区县", "问题当前状态"}


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
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
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


def _summary_sheet(wb: Workbook, con, today: dt.date) -> int:
    ws = wb.create_sheet("汇总")
    headers = ["责任单位", "问题总数", "已整改（销号）", "未销号", "逾期", "整改率"]
    rows = summary_by_unit(con, today)
    total = [sum(r[i] for r in rows) for i in range(1, 5)]
    widths = st.fit_widths(rows[:500], headers, minimum=10)
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = w
    ws.freeze_panes = "A4"
    ws.auto_filter = AutoFilter(ref=f"A3:{get_column_letter(len(headers))}{3 + max(len(rows), 1)}")
    _title_rows(ws, "发现问题整改情况汇总（按责任单位）", f"统计日期：{today.isoformat()}", len(headers))
    ws.append([st.cell(ws, h, font=st.HEADER_FONT, alignment=st.CENTER, fill=st.HEADER_FILL) for h in headers])
    for r in rows:
        ws.append([st.cell(ws, v, alignment=st.LEFT if i == 0 else st.CENTER,
                           number_format=st.PERCENT_FORMAT if i == 5 else None) for i, v in enumerate(r)])
    rate = total[1] / total[0] if total[0] else 0.0
    ws.append([st.cell(ws, v, font=st.HEADER_FONT, alignment=st.LEFT if i == 0 else st.CENTER,
                       number_format=st.PERCENT_FORMAT if i == 5 else None)
               for i, v in enumerate(["合计", *total, rate])])
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
    try:
        subtitle = f"导出时间：{now:%Y-%m-%d %H:%M}　　筛选：{flt.describe()}"
        if kind == "tasks":
            headers, rows, _ids = _task_rows(con, flt, today)
            _table(ws, TITLES[kind], subtitle, headers, rows, hidden={"记录ID"}, progress=progress)
        elif kind == "findings":
            headers, rows, shas = _finding_rows(con, flt, today)
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
            headers, rows = _check_rows(con, flt, today)
            _table(ws, TITLES[kind], subtitle, headers, rows, progress=progress)
        units = _summary_sheet(wb, con, today)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)  # a reader of `out` never sees half a file
    if progress:
        progress(len(rows), len(rows))
    return {"file": str(out), "kind": kind, "rows": len(rows), "units": units}
