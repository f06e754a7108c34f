"""One task opened: its fields, visits, findings, each finding's photos and checks, and the
actions an inspector takes on them. Every action is a service call run by `ui.ops.Runner`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from fieldapp.domain import (
    CheckResult, DeadlineKind, FindingStatus, PhotoKind, Severity, TaskStatus, category_label, is_overdue,
)
from fieldapp import sync_state
from fieldapp.models import Finding, Task
from fieldapp.services import findings as finding_service
from fieldapp.services import tasks as task_service
from fieldapp.services import visits as visit_service
from fieldapp.store import Store
from ui.error_dialog import show_error
from ui.i18n import current_lang
from ui.ops import Runner
from ui.photos import PhotoStrip, PhotoViewer
from ui.record_dialogs import CheckDialog, FindingDialog, VisitDialog, image_filter

NEXT_STEP = {
    FindingStatus.OPEN: "start", FindingStatus.RECTIFYING: "submit", FindingStatus.PENDING_CHECK: "check",
}


def _item(text: str, data: Any = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


def _table(object_name: str, columns: int) -> QTableWidget:
    t = QTableWidget(0, columns, objectName=object_name)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().hide()
    t.horizontalHeader().setStretchLastSection(True)
    t.setWordWrap(False)
    return t


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]]) -> None:
    table.setRowCount(len(rows))
    for r, items in enumerate(rows):
        for c, item in enumerate(items):
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class TaskDetail(QWidget):
    def __init__(self, store: Store, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskDetail")
        self.store = store
        self.runner = runner
        self.task_id: str | None = None
        self.finding_id: str | None = None
        self._task: Task | None = None

        self.title = QLabel(objectName="taskTitle", wordWrap=True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(objectName="taskSubtitle", wordWrap=True)
        self.fields = QFormLayout()
        self.fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._field_labels: dict[str, QLabel] = {}
        self._field_values: dict[str, QLabel] = {}
        for key in ("responsible", "lead", "cooperating", "region", "address", "deadline", "targets", "assignees"):
            label, value = QLabel(), QLabel(wordWrap=True, objectName=f"field_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._field_labels[key], self._field_values[key] = label, value
            self.fields.addRow(label, value)

        self.visit_button = QPushButton(objectName="recordVisit")
        self.finding_button = QPushButton(objectName="recordFinding")
        self.complete_button = QPushButton(objectName="completeTask")
        self.visit_button.clicked.connect(self.record_visit)
        self.finding_button.clicked.connect(self.record_finding)
        self.complete_button.clicked.connect(self.complete_task)
        task_buttons = QHBoxLayout()
        for b in (self.visit_button, self.finding_button, self.complete_button):
            task_buttons.addWidget(b)
        task_buttons.addStretch(1)

        self.visits = _table("visitsTable", 5)
        self.findings = _table("findingsTable", 7)
        self.findings.itemSelectionChanged.connect(self._finding_selected)

        # The selected finding
        self.finding_box = QGroupBox(objectName="findingBox")
        self.finding_text = QLabel(wordWrap=True, objectName="findingText")
        self.finding_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton(objectName="startRectification")
        self.submit_button = QPushButton(objectName="submitForCheck")
        self.check_button = QPushButton(objectName="recordCheck")
        self.photo_button = QPushButton(objectName="addPhotos")
        self.photo_kind = QComboBox(objectName="photoKind")
        self.start_button.clicked.connect(self.start_rectification)
        self.submit_button.clicked.connect(self.submit_for_check)
        self.check_button.clicked.connect(self.record_check)
        self.photo_button.clicked.connect(self.choose_photos)
        finding_buttons = QHBoxLayout()
        for b in (self.start_button, self.submit_button, self.check_button):
            finding_buttons.addWidget(b)
        finding_buttons.addStretch(1)
        self.photo_kind_label = QLabel()
        finding_buttons.addWidget(self.photo_kind_label)
        finding_buttons.addWidget(self.photo_kind)
        finding_buttons.addWidget(self.photo_button)
        self.photos = PhotoStrip(store.photos)
        self.photos.files_dropped.connect(self.add_photos)
        self.photos.photo_opened.connect(self.open_photo)
        self.checks = _table("checksTable", 5)
        box_layout = QVBoxLayout(self.finding_box)
        box_layout.addWidget(self.finding_text)
        box_layout.addLayout(finding_buttons)
        self.checks.setMinimumHeight(110)
        box_layout.addWidget(self.photos, 3)
        box_layout.addWidget(self.checks, 2)

        self.findings.setMinimumHeight(130)  # four findings in view
        findings_page = QSplitter(Qt.Orientation.Vertical)
        findings_page.addWidget(self.findings)
        findings_page.addWidget(self.finding_box)
        findings_page.setStretchFactor(0, 1)
        findings_page.setStretchFactor(1, 3)
        self.tabs = QTabWidget(objectName="detailTabs")
        self.tabs.addTab(findings_page, "")
        self.tabs.addTab(self.visits, "")

        self.placeholder = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, objectName="detailPlaceholder")
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.title)
        body.addWidget(self.subtitle)
        body.addLayout(self.fields)
        body.addLayout(task_buttons)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.body)
        self.retranslate()
        self.show_task(None)

    # --- texts -----------------------------------------------------------------------------
    def retranslate(self) -> None:
        names = {
            "responsible": self.tr("Responsible units"), "lead": self.tr("Lead unit"),
            "cooperating": self.tr("Cooperating units"), "region": self.tr("Region"),
            "address": self.tr("Address"), "deadline": self.tr("Deadline"),
            "targets": self.tr("Targets"), "assignees": self.tr("Inspectors"),
        }
        for key, label in self._field_labels.items():
            label.setText(names[key])
        self.visit_button.setText(self.tr("Record visit…"))
        self.finding_button.setText(self.tr("Record finding…"))
        self.complete_button.setText(self.tr("Complete task"))
        self.start_button.setText(self.tr("Start rectification"))
        self.submit_button.setText(self.tr("Submit for check"))
        self.check_button.setText(self.tr("Rectification check…"))
        self.photo_button.setText(self.tr("Add photos…"))
        self.photo_kind_label.setText(self.tr("Photo kind"))
        self.photos.set_empty_text(self.tr("No photos yet. Drop image files here or use “Add photos…”."))
        self.placeholder.setText(self.tr("Select a task on the left to open it."))
        kind = self.photo_kind.currentData() or PhotoKind.SITE.value
        self.photo_kind.clear()
        for k in PhotoKind:
            self.photo_kind.addItem(k.label(current_lang()), k.value)
        self.photo_kind.setCurrentIndex(max(self.photo_kind.findData(kind), 0))
        self.visits.setHorizontalHeaderLabels([self.tr("When"), self.tr("Where"), self.tr("Coordinates"),
                                               self.tr("Inspector"), self.tr("Summary")])
        self.findings.setHorizontalHeaderLabels([self.tr("Finding"), self.tr("Severity"), self.tr("Status"),
                                                 self.tr("Responsible unit"), self.tr("Rectify by"), self.tr("Photos"),
                                                 self.tr("Sync")])
        self.checks.setHorizontalHeaderLabels([self.tr("Checked at"), self.tr("Result"), self.tr("Inspector"),
                                               self.tr("Photos"), self.tr("Note")])
        if self.task_id:
            self.reload()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- showing ---------------------------------------------------------------------------
    def show_task(self, task_id: str | None) -> None:
        if task_id != self.task_id:
            self.finding_id = None
        self.task_id = task_id
        self.placeholder.setVisible(task_id is None)
        self.body.setVisible(task_id is not None)
        if task_id:
            self.reload()

    def reload(self) -> None:
        if not self.task_id:
            return
        with self.store.session() as s:
            task = task_service.load_task(s, self.task_id)
        if task is None:
            self.show_task(None)
            return
        before = self._task if self._task is not None and self._task.id == task.id else None
        self._task = task
        lang = current_lang()
        self.title.setText(task.title)
        status = TaskStatus.label_of(task.status, lang)
        self.subtitle.setText(" · ".join(x for x in (task.code or "", category_label(task.category, lang), status) if x))
        today = dt.date.today()
        if task.deadline_kind == DeadlineKind.DATE and task.deadline:
            deadline = task.deadline.isoformat()
            if is_overdue(task.deadline, task.status == TaskStatus.COMPLETED, today):
                deadline += "  " + self.tr("(overdue)")
        else:
            deadline = task.deadline_text or DeadlineKind.label_of(task.deadline_kind, lang)
        values = {
            "responsible": "、".join(task.responsible_units), "lead": task.lead_unit,
            "cooperating": "、".join(task.cooperating_units),
            "region": f"{task.region_name} ({task.region_code})" if task.region_code else task.region_name,
            "address": task.address, "deadline": deadline, "targets": task.targets,
            "assignees": "、".join(task.assignees),
        }
        for key, value in values.items():
            self._field_values[key].setText(value or "—")
        _fill(self.visits, [[
            _item(v.visited_local.strftime("%Y-%m-%d %H:%M")), _item(v.place),
            _item(f"{v.latitude:.5f}, {v.longitude:.5f}" if v.latitude is not None else ""),
            _item(v.inspector), _item(v.summary),
        ] for v in task.visits])
        rows = []
        with self.store.reading() as con:  # what is still only on this computer
            unsynced = sync_state.unsynced_findings(con, [f.id for f in task.findings])
        for f in task.findings:
            due = f.due_date.isoformat() if f.due_date else ""
            if is_overdue(f.due_date, f.status == FindingStatus.CLOSED, today):
                due += " " + self.tr("(overdue)")
            n_photos = len(f.photos) + sum(len(c.photos) for c in f.checks)
            rows.append([_item(f.description, f.id), _item(Severity.label_of(f.severity, lang)),
                         _item(FindingStatus.label_of(f.status, lang)), _item(f.responsible_unit),
                         _item(due), _item(str(n_photos)),
                         _item(self.tr("to send") if f.id in unsynced else self.tr("sent"))])
        _fill(self.findings, rows)
        self.findings.setColumnWidth(0, min(self.findings.columnWidth(0), 360))
        self.tabs.setTabText(0, self.tr("Findings (%d)") % len(task.findings))
        self.tabs.setTabText(1, self.tr("Visits (%d)") % len(task.visits))
        ids = [f.id for f in task.findings]
        if before is not None:  # show what the person just added
            added = [i for i in ids if i not in {f.id for f in before.findings}]
            if added:
                self.finding_id = added[-1]
                self.tabs.setCurrentIndex(0)
            elif len(task.visits) > len(before.visits):
                self.tabs.setCurrentIndex(1)
        if self.finding_id not in ids:
            self.finding_id = ids[0] if ids else None
        if self.finding_id:
            self.findings.blockSignals(True)  # one _show_finding below, not a second one here
            self.findings.selectRow(ids.index(self.finding_id))
            self.findings.blockSignals(False)
        self._show_finding()

    def _finding(self) -> Finding | None:
        if self._task is None:
            return None
        return next((f for f in self._task.findings if f.id == self.finding_id), None)

    def _finding_selected(self) -> None:
        items = self.findings.selectedItems()
        if items:
            self.finding_id = self.findings.item(items[0].row(), 0).data(Qt.ItemDataRole.UserRole)
            self._show_finding()

    def _show_finding(self) -> None:
        f = self._finding()
        self.finding_box.setVisible(f is not None)
        if f is None:
            return
        lang = current_lang()
        self.finding_box.setTitle(self.tr("Finding · %s") % FindingStatus.label_of(f.status, lang))
        parts = [f"<b>{_esc(f.description)}</b>"]
        if f.return_reason:
            parts.append('<span style="color:#c0392b">' + self.tr("Returned by the platform: %s")
                         % _esc(f.return_reason) + "</span>")
        if f.requirement:
            parts.append(self.tr("Requirement: %s") % _esc(f.requirement))
        meta = [category_label(f.category, lang), Severity.label_of(f.severity, lang), f.responsible_unit]
        if f.due_date:
            meta.append(self.tr("rectify by %s") % f.due_date.isoformat())
        parts.append(" · ".join(_esc(m) for m in meta if m))
        self.finding_text.setText("<br>".join(parts))
        step = NEXT_STEP.get(f.status)
        for name, button in (("start", self.start_button), ("submit", self.submit_button), ("check", self.check_button)):
            button.setDefault(name == step)
            font = button.font()
            font.setBold(name == step)
            button.setFont(font)
        photos = list(f.photos) + [p for c in f.checks for p in c.photos]
        shown = self.photos.count()
        self.photos.set_photos(photos)
        if self.photos.count() > shown > 0:
            self.photos.scrollToBottom()  # the new ones
        _fill(self.checks, [[
            _item(c.checked_local.strftime("%Y-%m-%d %H:%M")), _item(CheckResult.label_of(c.result, lang)),
            _item(c.inspector), _item(str(len(c.photos))), _item(c.note),
        ] for c in f.checks])

    # --- actions ---------------------------------------------------------------------------
    def _run(self, label: str, fn: Callable[..., Any], progress: bool = False) -> None:
        self.runner.run(label, fn, parent=self.window(), progress=progress)

    def record_visit(self) -> None:
        if not self._task:
            return
        values, task_id = _ask(VisitDialog(self, place=self._task.address or self._task.region_name)), self.task_id
        if values is not None:
            self._run(self.tr("Recording visit"), lambda _p, _c: visit_service.record_visit(self.store, task_id, **values))

    def _refused(self, refusal: Exception | None) -> bool:
        """Say why an action cannot start, before the person fills in its form."""
        if refusal is not None:
            show_error(self.window(), refusal)
            return True
        return False

    def record_finding(self) -> None:
        if not self._task or self._refused(finding_service.finding_refusal(self._task)):
            return
        units = [*self._task.responsible_units, self._task.lead_unit, *self._task.cooperating_units]
        values, task_id = _ask(FindingDialog([u for u in units if u], self._task.category, self)), self.task_id
        if values is not None:
            # A finding belongs to today's visit, if there is one; an old visit is not its source.
            today = [v for v in self._task.visits if v.visited_local.date() == dt.date.today()]
            visit_id = today[-1].id if today else None
            self._run(self.tr("Recording finding"),
                      lambda _p, _c: finding_service.record_finding(self.store, task_id, visit_id=visit_id, **values))

    def complete_task(self) -> None:
        task_id = self.task_id
        if not task_id or not self._task or self._refused(task_service.completion_refusal(self._task)):
            return
        answer = QMessageBox.question(self.window(), self.tr("Complete task"), self.tr(
            "Mark “%s” as completed (办结)? This cannot be undone in FieldApp.") % self._task.title)
        if answer == QMessageBox.StandardButton.Yes:
            self._run(self.tr("Completing task"), lambda _p, _c: task_service.complete_task(self.store, task_id))

    def start_rectification(self) -> None:
        self._move(finding_service.start_rectification)

    def submit_for_check(self) -> None:
        self._move(finding_service.submit_for_check)

    def _move(self, action: Callable[[Store, str], Any]) -> None:
        finding_id = self.finding_id
        if finding_id:
            self._run(self.tr("Updating finding"), lambda _p, _c: action(self.store, finding_id))

    def record_check(self) -> None:
        finding, finding_id = self._finding(), self.finding_id
        if finding is None or finding_id is None or self._refused(finding_service.check_refusal(finding)):
            return
        values = _ask(CheckDialog(self, evidence=finding_service.fresh_after_photos(finding)))
        if values is not None:
            self.runner.run(self.tr("Recording check"), lambda p, c: finding_service.record_check(
                self.store, finding_id, progress=p, cancel=c, **values), parent=self.window())

    def choose_photos(self) -> None:
        finding = self._finding()
        if finding is None or self._refused(finding_service.photos_refusal(finding)):
            return
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Add photos"), "", image_filter())
        if files:
            self.add_photos([Path(f) for f in files])

    def add_photos(self, paths: list[Path]) -> None:
        finding, finding_id = self._finding(), self.finding_id
        if finding is None or finding_id is None or self._refused(finding_service.photos_refusal(finding)):
            return
        kind = self.photo_kind.currentData()
        self.runner.run(self.tr("Adding photos"), lambda p, c: finding_service.add_photos(
            self.store, finding_id, paths, kind, progress=p, cancel=c), parent=self.window())

    def open_photo(self, photo: Any) -> None:
        viewer = PhotoViewer(photo, self.store.photos, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.open()


def _ask(dialog: Any) -> dict[str, Any] | None:  # one of ui.record_dialogs' forms
    """Run a form; its values if accepted. The dialog is gone afterwards either way."""
    values = dialog.values() if dialog.exec() else None
    dialog.deleteLater()
    return values


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
