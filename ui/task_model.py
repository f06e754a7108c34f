"""The task table's model: fast at 100k tasks.

One SQL query yields the ordered rowids for the current filter and sort; row data is loaded
a page at a time for what the view asks for, kept in a bounded cache, and only changed rows
are invalidated. A new filter or sort resets the model. Filter, sort and refresh queries (a
search scans every row: ~0.25 s at 100k) run on a reader thread; the newest request wins.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any
from collections.abc import Sequence

import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from fieldapp.domain import TaskStatus, category_label
from fieldapp.task_list import TaskCounts, TaskFilter, TaskRow, task_counts, task_ids, task_rows
from ui.i18n import current_lang

PAGE = 200
MAX_PAGES = 40

COLUMNS = ("code", "title", "category", "responsible", "region", "deadline", "status",
           "open", "closed", "overdue")
SORT_KEYS = {"code", "title", "category", "responsible", "region", "deadline", "status"}
OVERDUE_BG = QColor("#fde2e1")
OVERDUE_FG = QColor("#b3261e")


log = logging.getLogger(__name__)


class TaskQuery(QObject):
    """Filter/sort/count queries on one reader thread with its own connection."""

    finished = Signal(int, object, object)  # generation, ids (or None on error), counts

    def __init__(self, connect: Callable[[], sqlite3.Connection], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._connect = connect
        self._con: sqlite3.Connection | None = None  # used on the reader thread only
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-reader")
        self.generation = 0

    def request(self, flt: TaskFilter, sort: str, descending: bool) -> None:
        self.generation += 1
        self._pool.submit(self._run, self.generation, flt, sort, descending)

    def _run(self, generation: int, flt: TaskFilter, sort: str, descending: bool) -> None:
        if generation != self.generation:
            return  # a newer request is queued: this one is already stale
        try:
            if self._con is None:
                self._con = self._connect()
            self.finished.emit(generation, task_ids(self._con, flt, sort, descending), task_counts(self._con, flt))
        except Exception:  # noqa: BLE001 - reported, and the table keeps what it shows
            log.exception("task list query failed")
            self.finished.emit(generation, None, None)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class TaskTableModel(QAbstractTableModel):
    loaded = Signal(object)  # TaskCounts of the rows now shown, after each background query

    def __init__(self, con: sqlite3.Connection, connect: Callable[[], sqlite3.Connection],
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._con = con
        self.query = TaskQuery(connect, self)
        self.query.finished.connect(self._on_result)
        self._pending_reset = False
        self._pending_changed: set[str] = set()
        self.loading = False
        self._filter = TaskFilter()
        self._sort = ("deadline", False)
        self._ids: Sequence[int] = ()
        self._pages: OrderedDict[int, dict[int, TaskRow]] = OrderedDict()
        self._loaded = False
        self.today = dt.date.today()

    # --- loading ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {
            "code": self.tr("Code"), "title": self.tr("Title"), "category": self.tr("Category"),
            "responsible": self.tr("Responsible unit"), "region": self.tr("Region"),
            "deadline": self.tr("Deadline"), "status": self.tr("Status"),
            "open": self.tr("Open findings"), "closed": self.tr("Closed findings"),
            "overdue": self.tr("Overdue"),
        }

    def set_filter(self, flt: TaskFilter) -> None:
        self._filter = flt
        self._request(reset=True)

    @property
    def filter(self) -> TaskFilter:
        return self._filter

    def _request(self, reset: bool = False, changed: set[str] | None = None) -> None:
        self._pending_reset |= reset
        self._pending_changed |= changed or set()
        self.loading = True
        self.query.request(self._filter, *self._sort)

    def _on_result(self, generation: int, ids: Sequence[int] | None, counts: TaskCounts | None) -> None:
        if generation != self.query.generation:
            return  # superseded: the newer result carries the pending work
        self.loading = False
        reset, changed = self._pending_reset, self._pending_changed
        self._pending_reset, self._pending_changed = False, set()
        if ids is None:
            return
        self.today = dt.date.today()
        if reset:
            self.beginResetModel()
            self._ids = ids
            self._pages.clear()
            self.endResetModel()
        else:
            self._apply_ids(ids, changed)
        self.loaded.emit(counts)

    def reload(self) -> None:
        """Load at once, on this thread: at start, before the first paint, and on Refresh."""
        self.beginResetModel()
        self.today = dt.date.today()
        self._ids = task_ids(self._con, self._filter, *self._sort)
        self._pages.clear()
        self._loaded = True
        self.endResetModel()

    def refresh_tasks(self, task_uuids: set[str]) -> None:
        """Rows of these tasks changed: reload their pages, keep everything else."""
        self._request(changed=task_uuids)

    def _apply_ids(self, ids: Sequence[int], changed: set[str]) -> None:
        if ids != self._ids:  # rows came, went or moved: keep the selection on its task
            self.layoutAboutToBeChanged.emit()
            new = {rid: i for i, rid in enumerate(ids)}
            moved_from, moved_to = [], []
            for idx in self.persistentIndexList():
                rid = self._ids[idx.row()] if idx.row() < len(self._ids) else None
                moved_from.append(idx)
                row = new.get(rid, -1) if rid is not None else -1
                moved_to.append(self.index(row, idx.column()) if row >= 0 else QModelIndex())
            self._ids = ids
            self._pages.clear()
            self.changePersistentIndexList(moved_from, moved_to)
            self.layoutChanged.emit()
            return
        for page, rows in list(self._pages.items()):
            if any(r.id in changed for r in rows.values()):
                del self._pages[page]
                first = page * PAGE
                last = min(first + PAGE, len(self._ids)) - 1
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def refresh_all(self) -> None:
        """Every cell may read differently (language, date): repaint, keep rows and selection."""
        self.today = dt.date.today()
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def _row(self, row: int) -> TaskRow | None:
        page = row // PAGE
        rows = self._pages.get(page)
        if rows is None:
            rows = task_rows(self._con, self._ids[page * PAGE:(page + 1) * PAGE])
            self._pages[page] = rows
            if len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        return rows.get(self._ids[row])

    def task_row(self, row: int) -> TaskRow | None:
        return self._row(row) if 0 <= row < len(self._ids) else None

    def row_of_task(self, task_uuid: str) -> int:
        """The row showing this task, or -1; looks only at loaded pages, then asks SQL."""
        for rows in self._pages.values():
            for rid, r in rows.items():
                if r.id == task_uuid:
                    return self._ids.index(rid)
        found = self._con.execute("SELECT rowid FROM tasks WHERE id = ?", (task_uuid,)).fetchone()
        if found and found[0] in self._ids:
            return self._ids.index(found[0])
        return -1

    # --- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers()[COLUMNS[section]]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._row(index.row())
        if r is None:
            return None
        col = COLUMNS[index.column()]
        overdue = r.overdue(self.today)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col, overdue)
        if role == Qt.ItemDataRole.ToolTipRole and col in ("title", "responsible"):
            return self._display(r, col, overdue)
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return QBrush(OVERDUE_BG)
        if role == Qt.ItemDataRole.ForegroundRole and overdue and col in ("deadline", "overdue"):
            return QBrush(OVERDUE_FG)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("open", "closed"):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None

    def _display(self, r: TaskRow, col: str, overdue: bool) -> str:
        lang = current_lang()
        if col == "code":
            return r.code
        if col == "title":
            return r.title
        if col == "category":
            return category_label(r.category, lang)
        if col == "responsible":
            return "、".join(r.responsible_units)
        if col == "region":
            return r.region_name
        if col == "deadline":
            if r.deadline is not None:
                return r.deadline.isoformat()
            return r.deadline_text or ("" if r.deadline_kind == "none" else self.tr("Open-ended"))
        if col == "status":
            return TaskStatus.label_of(r.status, lang)
        if col == "open":
            return str(r.findings_open) if r.findings_open else ""
        if col == "closed":
            return str(r.findings_closed) if r.findings_closed else ""
        if col == "overdue":
            return self.tr("Overdue") if overdue else ""
        return ""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column]
        if key not in SORT_KEYS:
            return
        wanted = (key, order == Qt.SortOrder.DescendingOrder)
        if wanted == self._sort and self._loaded:
            return
        self._sort = wanted
        if self._loaded:
            self._request(reset=True)
        else:
            self.reload()
