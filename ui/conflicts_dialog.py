"""Conflicts: a value of mine that lost to another writer's on the platform, side by side with
theirs, and the user chooses which one stays (fieldapp.services.conflicts)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from fieldapp.domain import field_label, value_label
from fieldapp.services import conflicts as conflict_service

if TYPE_CHECKING:
    from fieldapp.store import Store
    from ui.ops import Runner

ENTITY_LABELS = {"tasks": ("督查任务", "Task"), "visits": ("实地督查", "Visit"), "findings": ("发现问题", "Finding"),
                 "checks": ("整改核查", "Check"), "photos": ("照片", "Photo")}


class ConflictsDialog(QDialog):
    def __init__(self, store: "Store", runner: "Runner", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictsDialog")
        self.store, self.runner = store, runner
        self.setWindowTitle(self.tr("Conflicts"))
        self.intro = QLabel(self.tr(
            "Someone else changed these fields on the platform before your change arrived. Their value is in "
            "the record now; yours is kept here. Choose which one stays."), wordWrap=True)
        self.table = QTableWidget(0, 5, objectName="conflictsTable")
        self.table.setHorizontalHeaderLabels([self.tr("Record"), self.tr("Field"), self.tr("Platform's value"),
                                              self.tr("My value"), self.tr("Found")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.keep_mine = QPushButton(self.tr("Keep mine"), objectName="keepMine")
        self.keep_theirs = QPushButton(self.tr("Keep the platform's"), objectName="keepTheirs")
        self.keep_mine.clicked.connect(self._keep_mine)
        self.keep_theirs.clicked.connect(self._keep_theirs)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.keep_mine)
        row.addWidget(self.keep_theirs)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self.resize(860, 420)
        self.reload()

    def reload(self) -> None:
        from ui.i18n import current_lang

        en = current_lang().startswith("en")
        self.items = conflict_service.open_conflicts(self.store)
        self.table.setRowCount(len(self.items))
        for i, k in enumerate(self.items):
            kind = ENTITY_LABELS.get(k.entity, (k.entity, k.entity))[1 if en else 0]
            lang = current_lang()
            cells = [f"{kind}: {k.record_label}" if en else f"{kind}：{k.record_label}", field_label(k.field, lang),
                     value_label(k.entity, k.field, k.theirs, lang), value_label(k.entity, k.field, k.mine, lang),
                     k.created_at.replace(tzinfo=dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # long values are cut in the cell
                item.setData(Qt.ItemDataRole.UserRole, k.id)
                self.table.setItem(i, j, item)
        has = bool(self.items)
        self.keep_mine.setEnabled(has)
        self.keep_theirs.setEnabled(has)
        if has and self.table.currentRow() < 0:
            self.table.selectRow(0)

    def _chosen(self) -> str | None:
        row = self.table.currentRow()
        return self.items[row].id if 0 <= row < len(self.items) else None

    def _keep_mine(self) -> None:
        self._resolve(conflict_service.MINE)

    def _keep_theirs(self) -> None:
        self._resolve(conflict_service.THEIRS)

    def _resolve(self, keep: str) -> None:
        conflict_id = self._chosen()
        if conflict_id is None:
            return
        store = self.store
        self.runner.run(self.tr("Resolving the conflict"),
                        lambda _p, _c: conflict_service.resolve(store, conflict_id, keep),
                        on_success=self._resolved, parent=self, progress=False)

    def _resolved(self, _changes: Any) -> None:
        self.reload()
