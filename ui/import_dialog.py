"""Import an Excel task list (督查任务清单): preview, fix the column mapping, then import.

The file is read and compared with the store in the background; the dialog shows every
sheet, the detected header rows, which column feeds which field (changeable), and what each
row would do — new, changed (which fields), unchanged, skipped or error, by sheet and row
number as Excel shows them. Nothing is written until "Import", and then all or nothing.
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
from fieldapp.services import task_import
from fieldapp.services.task_import import (
    CHANGED, ERROR, NEW, SKIPPED, UNCHANGED, ImportPreview, ImportResult, RowResult, SheetPreview,
)
from fieldapp.store import Store
from ui.i18n import current_lang
from ui.ops import Runner
from ui.settings import Settings

WARNING_COLOUR = "#ffd8a8"
STATUS_COLOURS = {NEW: "#e6f4ea", CHANGED: "#fff4ce", ERROR: "#fde2e1", SKIPPED: "#f1f3f4"}


def field_label(name: str) -> str:
    return FIELDS[name][0](current_lang()) if name in FIELDS else name


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def header_signature(sheet: SheetPreview) -> str:
    """A sheet's header texts: the same list next month has the same ones."""
    return "|".join(c.header for c in sheet.columns)


def _with_mappings(store: Store, preview: ImportPreview,
                   remembered: dict[str, dict[str, int | None]]) -> ImportPreview:
    """Apply the mappings a person set by hand last time to sheets with the same header, so a
    re-import does not undo them (e.g. wipe the lead units that column was mapped to)."""
    for sheet in preview.sheets:
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
        for name, (old, new) in r.changes.items():
            parts.append(f"{field_label(name)}: {_text(old) or '—'} → {_text(new) or '—'}")
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
        self.columns = QTableWidget(0, 3, objectName="columnTable")
        self.columns.setHorizontalHeaderLabels([self.tr("Column"), self.tr("Header in the sheet"), self.tr("Imported as")])
        self.columns.verticalHeader().hide()
        self.columns.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.columns.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        self.rows = RowModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.rows)
        self.proxy.setFilterRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterKeyColumn(0)
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
        mapping_layout.addWidget(self.columns)
        rows_box = QWidget()
        rows_layout = QVBoxLayout(rows_box)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.summary, 1)
        filter_row.addWidget(QLabel(self.tr("Show")))
        filter_row.addWidget(self.show_only)
        rows_layout.addLayout(filter_row)
        rows_layout.addWidget(self.row_view)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(mapping_box)
        split.addWidget(rows_box)
        split.setSizes([380, 820])
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.skip_errors)
        layout.addWidget(self.buttons)
        self.resize(1240, 720)

        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings = settings
        remembered = self._remembered()
        self._reading = self.runner.run(self.tr("Reading %s") % self.path.name,
                        lambda p, c: _with_mappings(store, task_import.preview(store, self.path, progress=p, cancel=c),
                                                    remembered),
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
        self.proxy.setFilterFixedString(self.show_only.currentData() or "")

    def _set_preview(self, preview: ImportPreview) -> None:
        keep = self.sheet.currentData()
        self.preview = preview
        self.sheet.blockSignals(True)
        self.sheet.clear()
        lang = current_lang()
        for s in preview.sheets:
            label = s.name if s.problem is None else f"{s.name} — {s.problem(lang)}"
            self.sheet.addItem(label, s.name)
        self.sheet.setCurrentIndex(max(self.sheet.findData(keep), next(
            (i for i, s in enumerate(preview.sheets) if s.problem is None), 0)))
        self.sheet.blockSignals(False)
        self._show_sheet()
        self.rows.set_rows(preview.rows)
        counts = preview.counts()
        parts = [f"{self.rows.status_label(k)} {counts[k]}" for k in (NEW, CHANGED, UNCHANGED, SKIPPED, ERROR)]
        warned = sum(1 for r in preview.rows if r.warnings and r.status in (NEW, CHANGED))
        if warned:
            parts.append(self.tr("%1 with warnings (orange): check them").replace("%1", str(warned)))
        text = " · ".join(parts)
        if preview.missing:
            text += "<br>" + self.tr("%n task(s) from earlier imports are not in this file; they are kept, not deleted.",
                                     "", len(preview.missing))
        self.summary.setText(text)
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
        if s.problem is not None:
            info += " · " + s.problem(current_lang())
        self.sheet_info.setText(info)
        self.columns.setRowCount(len(s.columns))
        for i, c in enumerate(s.columns):
            letter = QTableWidgetItem(c.letter + (" " + self.tr("(hidden)") if c.hidden else ""))
            self.columns.setItem(i, 0, letter)
            self.columns.setItem(i, 1, QTableWidgetItem(c.header))
            combo = QComboBox()
            combo.addItem(self.tr("— not imported —"), None)
            for name in MAPPABLE:
                combo.addItem(field_label(name), name)
            combo.setCurrentIndex(max(combo.findData(c.field), 0))
            combo.setProperty("column", c.index)
            combo.currentIndexChanged.connect(self._column_changed)
            self.columns.setCellWidget(i, 2, combo)
        self.columns.resizeColumnToContents(0)

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
        current = self.preview.sheet(sheet).mapping
        change: dict[str, int | None] = {f: None for f, c in current.items() if c == column}
        if field:
            change[field] = column
        preview = self.preview
        self._remember(header_signature(preview.sheet(sheet)), change)
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
