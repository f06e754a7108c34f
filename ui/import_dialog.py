"""Import an Excel task list (督查任务清单): preview, fix the column mapping, then import.

The file is read and compared with the store in the background; the dialog shows every
sheet, the detected header rows, which column feeds which field (changeable), and what each
row would do — new, changed (which fields), unchanged, skipped or error, by sheet and row
number as Excel shows them. Nothing is written until "Import", and then all or nothing.

A sheet whose header is not recognised still opens: it says so and asks for the columns to
be chosen by hand; columns left out and important fields without a column are named, and so
are the tasks of the same list that this file no longer has (kept, never deleted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
    QSplitter, QTableView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from fieldapp.excel.header import FIELDS, MAPPABLE
from fieldapp.excel.header import match as header_match
from fieldapp.services import task_import
from fieldapp.services.task_import import (
    CHANGED, ERROR, NEW, SKIPPED, UNCHANGED, ImportPreview, ImportResult, MissingTask, RowResult, SheetPreview,
)
from fieldapp.store import Store
from ui.i18n import current_lang
from ui.ops import Runner
from ui.settings import Settings

WARNING_COLOUR = "#ffd8a8"
STATUS_COLOURS = {NEW: "#e6f4ea", CHANGED: "#fff4ce", ERROR: "#fde2e1", SKIPPED: "#f1f3f4"}
PROBLEM_STYLE = "background: #fde2e1; border: 1px solid #e0a09c; border-radius: 3px; padding: 6px;"
NOTICE_COLOUR = "#a14d00"  # fields without a column: read, but easy to overlook
MISSING_NAMED = 5  # tasks missing from the file named in the dialog; all of them (to a limit) in its tooltip
MISSING_TOOLTIP = 40


def field_label(name: str) -> str:
    return FIELDS[name][0](current_lang()) if name in FIELDS else name


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def _elided(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def header_signature(sheet: SheetPreview) -> str:
    """A sheet's header texts: the same list next month has the same ones."""
    return "|".join(c.header for c in sheet.columns)


def mappable(sheet: SheetPreview) -> bool:
    """A sheet that gives no tasks until a person chooses its columns (at least the title)."""
    return sheet.problem is not None and sheet.loaded and bool(sheet.columns) and "title" not in sheet.mapping


def column_sample(sheet: SheetPreview, index: int, limit: int = 3) -> str:
    """The first texts of a column, for a sheet without a header to choose its columns by."""
    seen = [row[index] for row in sheet.head if index < len(row) and row[index].strip()]
    return "、".join(_elided(t, 12) for t in list(dict.fromkeys(seen))[:limit])


def _with_mappings(store: Store, preview: ImportPreview,
                   remembered: dict[str, dict[str, int | None]]) -> ImportPreview:
    """Apply the mappings a person set by hand last time to sheets with the same header, so a
    re-import does not undo them (e.g. wipe the lead units that column was mapped to)."""
    for sheet in preview.sheets:
        if not any(c.header for c in sheet.columns):
            continue  # no header texts: nothing tells this sheet from any other of its width
        change = remembered.get(header_signature(sheet))
        if change and any(sheet.mapping.get(f) != c for f, c in change.items()):
            preview = task_import.remap(store, preview, sheet.name, change)
    return preview


class RowModel(QAbstractTableModel):
    """The preview's rows; 50k rows stay cheap because cells are made on demand."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[RowResult] = []

    def set_rows(self, rows: list[RowResult]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else 6

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Sheet"), self.tr("Row"), self.tr("Outcome"), self.tr("Code"), self.tr("Title"),
                    self.tr("Details"))[section]
        return None

    def status_label(self, status: str) -> str:
        return {NEW: self.tr("New"), CHANGED: self.tr("Changed"), UNCHANGED: self.tr("Unchanged"),
                SKIPPED: self.tr("Skipped"), ERROR: self.tr("Error")}[status]

    def details(self, r: RowResult) -> str:
        lang = current_lang()
        parts: list[str] = []
        if r.reason is not None:
            parts.append(r.reason(lang))
        for name, (old, new) in task_import.change_texts(r).items():
            parts.append(self.tr("%1: %2 → %3").replace("%1", field_label(name)).replace("%2", old or "—")
                         .replace("%3", new or "—"))
        if r.status == NEW:  # what was read, so a wrong parse shows before it is imported
            v = r.values
            if v.get("responsible_units"):
                parts.append(self.tr("units: %s") % _text(v["responsible_units"]))
            if v.get("region_name"):
                parts.append(self.tr("region: %s") % v["region_name"])
            if v.get("deadline"):
                parts.append(self.tr("deadline: %s") % f"{v['deadline']}（{v.get('deadline_text', '')}）")
            elif v.get("deadline_text"):
                parts.append(self.tr("deadline as written: %s") % v["deadline_text"])
        parts.extend(w(lang) for w in r.warnings)
        return "；".join(parts)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (r.sheet, r.row, self.status_label(r.status), _text(r.values.get("code")),
                    _text(r.values.get("title")), self.details(r))[col]
        if role == Qt.ItemDataRole.BackgroundRole:
            if r.warnings and r.status in (NEW, CHANGED):  # read, but not exactly: look at it
                return QBrush(QColor(WARNING_COLOUR))
            if r.status in STATUS_COLOURS:
                return QBrush(QColor(STATUS_COLOURS[r.status]))
        if role == Qt.ItemDataRole.UserRole:
            return r.status
        return None


class StatusFilter(QSortFilterProxyModel):
    """The rows of one outcome, matched exactly ("changed" is inside "unchanged"), or all."""

    def __init__(self, rows: RowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(rows)
        self._rows = rows
        self.status = ""

    def set_status(self, status: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.status = status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.status = status
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not self.status or self._rows.rows[source_row].status == self.status


class ImportDialog(QDialog):
    def __init__(self, store: Store, runner: Runner, path: Path, parent: QWidget | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.store, self.runner, self.path = store, runner, Path(path)
        self.preview: ImportPreview | None = None
        self.result: ImportResult | None = None
        self.setWindowTitle(self.tr("Import task list — %s") % self.path.name)

        self.sheet = QComboBox(objectName="sheetCombo")
        self.sheet.currentIndexChanged.connect(self._show_sheet)
        self.sheet_info = QLabel(objectName="sheetInfo", wordWrap=True)
        self.column_notes = QLabel(objectName="columnNotes", wordWrap=True)
        self.column_notes.setTextFormat(Qt.TextFormat.RichText)
        self.problem_banner = QLabel(objectName="sheetProblem", wordWrap=True)
        self.problem_banner.setTextFormat(Qt.TextFormat.RichText)
        self.problem_banner.setStyleSheet(PROBLEM_STYLE)
        self.problem_banner.hide()
        self.columns = QTableWidget(0, 3, objectName="columnTable")
        self.columns.setHorizontalHeaderLabels([self.tr("Column"), self.tr("Header in the sheet"), self.tr("Imported as")])
        self.columns.verticalHeader().hide()
        self.columns.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.columns.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        self.rows = RowModel(self)
        self.proxy = StatusFilter(self.rows, self)
        self.row_view = QTableView(objectName="rowTable")
        self.row_view.setModel(self.proxy)
        self.row_view.verticalHeader().hide()
        self.row_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.row_view.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((96, 44, 64, 96, 200)):
            self.row_view.setColumnWidth(col, width)
        self.show_only = QComboBox(objectName="statusFilter")
        self.show_only.addItem(self.tr("All rows"), "")
        for status in (NEW, CHANGED, UNCHANGED, SKIPPED, ERROR):
            self.show_only.addItem(self.rows.status_label(status), status)
        self.show_only.currentIndexChanged.connect(self._filter_rows)
        self.summary = QLabel(objectName="importSummary", wordWrap=True)
        self.missing_label = QLabel(objectName="missingTasks", wordWrap=True)
        self.missing_label.hide()
        self.skip_errors = QCheckBox(self.tr("Import the other rows and leave the rows with errors out"),
                                     objectName="skipErrors")
        self.skip_errors.toggled.connect(self._update_buttons)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(self.tr("Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("importButton")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._import)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Sheet")))
        top.addWidget(self.sheet, 1)
        mapping_box = QWidget()
        mapping_layout = QVBoxLayout(mapping_box)
        mapping_layout.setContentsMargins(0, 0, 0, 0)
        mapping_layout.addLayout(top)
        mapping_layout.addWidget(self.sheet_info)
        mapping_layout.addWidget(self.column_notes)
        mapping_layout.addWidget(self.columns)
        rows_box = QWidget()
        rows_layout = QVBoxLayout(rows_box)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.summary, 1)
        filter_row.addWidget(QLabel(self.tr("Show")))
        filter_row.addWidget(self.show_only)
        rows_layout.addLayout(filter_row)
        rows_layout.addWidget(self.missing_label)
        rows_layout.addWidget(self.row_view)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(mapping_box)
        split.addWidget(rows_box)
        split.setSizes([380, 820])
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem_banner)
        layout.addWidget(split, 1)
        layout.addWidget(self.skip_errors)
        layout.addWidget(self.buttons)
        self.resize(1240, 720)

        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings = settings
        # Columns chosen on a sheet whose header is not found yet: the sheet is read only once its
        # title column is chosen, so the other choices wait here (shown in the table) until then.
        self._pending: dict[str, dict[str, int]] = {}
        remembered = self._remembered()
        self._reading = self.runner.run(self.tr("Reading %s") % self.path.name,
                        # not strict: a sheet without a recognisable header opens for a person to map;
                        # a file that cannot be read at all is still refused (with its message)
                        lambda p, c: _with_mappings(store, task_import.preview(store, self.path, progress=p, cancel=c,
                                                                               strict=False), remembered),
                        on_success=self._set_preview, on_failure=lambda _e: self.reject(),
                        parent=parent)  # a refusal outlives this dialog, which closes on it

    # --- mappings a person set by hand, remembered by the sheet's header -------------------
    def _remembered(self) -> dict[str, dict[str, int | None]]:
        if self.settings is None:
            return {}
        try:
            return json.loads(self.settings.get("import/mappings")) or {}
        except ValueError:
            return {}

    def _remember(self, signature: str, change: dict[str, int | None]) -> None:
        if self.settings is None:
            return
        known = self._remembered()
        known[signature] = {**known.get(signature, {}), **change}
        self.settings.set("import/mappings", json.dumps(known, ensure_ascii=False))

    def reject(self) -> None:
        self._reading.cancel.set()  # a preview still reading must not hold up the writer queue
        super().reject()

    # --- showing ---------------------------------------------------------------------------
    def _filter_rows(self) -> None:
        self.proxy.set_status(self.show_only.currentData() or "")

    def _set_preview(self, preview: ImportPreview) -> None:
        keep = self.sheet.currentData()
        self.preview = preview
        for name in list(self._pending):
            if preview.sheet(name).header_rows:  # read now, with the columns chosen: they are its mapping
                del self._pending[name]
        self.sheet.blockSignals(True)
        self.sheet.clear()
        lang = current_lang()
        for s in preview.sheets:
            label = s.name if s.problem is None else f"{s.name} — {s.problem(lang)}"
            self.sheet.addItem(label, s.name)
        first = next((i for i, s in enumerate(preview.sheets) if s.problem is None),  # one to import,
                     next((i for i, s in enumerate(preview.sheets) if mappable(s)), 0))  # else one to map
        self.sheet.setCurrentIndex(max(self.sheet.findData(keep), first))
        self.sheet.blockSignals(False)
        self._show_sheet()
        self.rows.set_rows(preview.rows)
        counts = preview.counts()
        parts = [f"{self.rows.status_label(k)} {counts[k]}" for k in (NEW, CHANGED, UNCHANGED, SKIPPED, ERROR)]
        warned = sum(1 for r in preview.rows if r.warnings and r.status in (NEW, CHANGED))
        if warned:
            parts.append(self.tr("%1 with warnings (orange): check them").replace("%1", str(warned)))
        self.summary.setText(" · ".join(parts))
        self._show_missing(preview.missing)
        self.skip_errors.setVisible(counts[ERROR] > 0)
        self._update_buttons()

    def _show_sheet(self) -> None:
        if self.preview is None or self.sheet.currentData() is None:
            return
        s = self.preview.sheet(self.sheet.currentData())
        rows = s.header_rows
        if rows:
            info = self.tr("Header: row %s") % (f"{rows[0]}–{rows[-1]}" if len(rows) > 1 else rows[0])
        else:
            info = self.tr("No header row found")
        if s.year:
            info += " · " + self.tr("year of the list: %d") % s.year
        self.sheet_info.setText(info)
        self._show_problem(s)
        self._show_column_notes(s)
        self.columns.setRowCount(len(s.columns))
        for i, c in enumerate(s.columns):
            letter = QTableWidgetItem(c.letter + (" " + self.tr("(hidden)") if c.hidden else ""))
            self.columns.setItem(i, 0, letter)
            header = QTableWidgetItem(c.header)
            if not c.header and not s.header_rows:  # no header: what the column holds, to choose by
                sample = column_sample(s, c.index)
                if sample:
                    header.setText(self.tr("e.g. %1").replace("%1", sample))
                    header.setForeground(QBrush(QColor("#666666")))
                    header.setToolTip(sample)
            self.columns.setItem(i, 1, header)
            combo = QComboBox()
            combo.addItem(self.tr("— not imported —"), None)
            for name in MAPPABLE:
                combo.addItem(field_label(name), name)
            pending = next((f for f, col in self._pending.get(s.name, {}).items() if col == c.index), None)
            combo.setCurrentIndex(max(combo.findData(c.field or pending), 0))
            combo.setProperty("column", c.index)
            combo.currentIndexChanged.connect(self._column_changed)
            self.columns.setCellWidget(i, 2, combo)
        self.columns.resizeColumnToContents(0)

    def _show_problem(self, s: SheetPreview) -> None:
        """Why the sheet gives no tasks, above everything; and, if choosing columns helps, how."""
        if s.problem is None:
            self.problem_banner.hide()
            return
        text = "<b>" + _html(s.problem(current_lang())) + "</b>"
        if mappable(s):
            text += "<br>" + _html(self.tr(
                "To import this sheet, choose on the left, under “Imported as”, which column holds each field: "
                "at least “%1”, and also “%2”, “%3” where the sheet has them. The preview follows each choice.")
                .replace("%1", field_label("title")).replace("%2", field_label("responsible_units"))
                .replace("%3", field_label("deadline")))
        self.problem_banner.setText(text)
        self.problem_banner.show()

    def _show_column_notes(self, s: SheetPreview) -> None:
        """The columns left out and the expected fields without a column: easy to miss in the table."""
        notes: list[str] = []
        if s.header_rows:
            left_out = [self.tr("%1 (%2)").replace("%1", c.header).replace("%2", c.letter) for c in s.columns
                        if c.field is None and c.header and not _is_running_number(c.header)]
            if left_out:
                notes.append(_html(self.tr("Columns not imported: %1").replace("%1", _joined(left_out))))
            if "title" in s.mapping:  # without a title the banner above says what to do
                absent = [field_label(f) for f in s.fields_not_found]
                if absent:
                    notes.append(f'<span style="color:{NOTICE_COLOUR}">' + _html(
                        self.tr("Not found: %1. If the sheet has them, choose their columns below.")
                        .replace("%1", _joined(absent))) + "</span>")
        self.column_notes.setText("<br>".join(notes))
        self.column_notes.setVisible(bool(notes))

    def _show_missing(self, missing: list[MissingTask]) -> None:
        """Name the tasks of the same list this file no longer has: reported, never deleted."""
        if not missing:
            self.missing_label.hide()
            return

        def name(m: MissingTask) -> str:
            return f"{m.code} {m.title}" if m.code else m.title

        named = _joined([_elided(name(m)) for m in missing[:MISSING_NAMED]])
        if len(missing) > MISSING_NAMED:
            more = self.tr("%1 and %2 more", "%1 the first names, %2 how many more, %3 how many in all")
            named = (more.replace("%1", named).replace("%2", str(len(missing) - MISSING_NAMED))
                     .replace("%3", str(len(missing))))
        self.missing_label.setText(self.tr(
            "The following %n task(s) imported earlier from the same list are not in this file; "
            "they are kept, not deleted: %1", "", len(missing)).replace("%1", named))
        tip = [name(m) for m in missing[:MISSING_TOOLTIP]]
        if len(missing) > MISSING_TOOLTIP:
            tip.append("…")
        self.missing_label.setToolTip("\n".join(tip))
        self.missing_label.show()

    def _update_buttons(self) -> None:
        counts = self.preview.counts() if self.preview else {}
        writes = counts.get(NEW, 0) + counts.get(CHANGED, 0)
        blocked = counts.get(ERROR, 0) > 0 and not self.skip_errors.isChecked()
        self.import_button.setEnabled(writes > 0 and not blocked)

    # --- actions ---------------------------------------------------------------------------
    def _column_changed(self) -> None:
        combo = self.sender()
        self._remap(int(combo.property("column")), combo.currentData())

    def _remap(self, column: int, field: str | None) -> None:
        if self.preview is None:
            return
        sheet = self.sheet.currentData()
        preview = self.preview
        s = preview.sheet(sheet)
        current = {**self._pending.get(sheet, {}), **s.mapping}
        change: dict[str, int | None] = {f: None for f, c in current.items() if c == column}
        if field:
            change[field] = column
        if not s.header_rows:  # not read yet: every choice so far goes along, the title among them
            pending = {f: c for f, c in {**current, **change}.items() if c is not None}
            self._pending[sheet] = pending
            change = {**{f: None for f in current}, **pending}
        if any(c.header for c in s.columns):  # a sheet without header texts has no name to keep it by
            self._remember(header_signature(s), change)
        self.import_button.setEnabled(False)
        self.runner.run(self.tr("Applying the column mapping"),
                        lambda _p, _c: task_import.remap(self.store, preview, sheet, change),
                        on_success=self._set_preview, parent=self)

    def _import(self) -> None:
        if self.preview is None:
            return
        preview, skip = self.preview, self.skip_errors.isChecked()
        self.import_button.setEnabled(False)
        self.runner.run(self.tr("Importing %s") % self.path.name,
                        lambda p, c: task_import.apply(self.store, preview, progress=p, cancel=c, skip_errors=skip),
                        on_success=self._imported, on_failure=lambda _e: self._update_buttons(), parent=self)

    def _imported(self, result: ImportResult) -> None:
        self.result = result
        self.runner.changed.emit(result.changes)
        self.accept()

    def result_text(self) -> str:
        r = self.result
        if r is None:
            return ""
        return (self.tr("Imported %1: %2 new, %3 changed, %4 unchanged, %5 rows skipped.")
                .replace("%1", self.path.name).replace("%2", str(r.created)).replace("%3", str(r.updated))
                .replace("%4", str(r.unchanged)).replace("%5", str(r.skipped + r.errors_skipped)))


def _joined(items: list[str]) -> str:
    """A list in a sentence of the UI's language."""
    return ("、" if current_lang() == "zh_CN" else ", ").join(items)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_running_number(header: str) -> bool:
    """序号 and the like: a column no one misses when it is not imported."""
    m = header_match(header)
    return m is not None and m.field == "seq"
