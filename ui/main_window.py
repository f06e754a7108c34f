"""The main window: the filter bar and task table on the left, the opened task on the right."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHeaderView, QLabel, QMainWindow, QMessageBox, QPushButton, QSplitter,
    QStackedWidget, QTableView, QVBoxLayout, QWidget,
)

from fieldapp import __version__
from fieldapp.datadir import DataDir
from fieldapp.task_list import TaskFilter, categories_in_use, regions_in_use, task_counts
from fieldapp.services import Changes
from ui import i18n
from ui.error_dialog import show_error
from ui.files import SPREADSHEET_SUFFIXES, dropped_files, file_filter
from ui.filter_bar import FilterBar
from ui.ops import Runner
from ui.settings import Settings
from ui.settings_dialog import SettingsDialog
from ui.task_model import COLUMNS, TaskTableModel

if TYPE_CHECKING:
    from fieldapp.store import Store
    from ui.sync_panel import SyncController
    from ui.task_detail import TaskDetail


class MainWindow(QMainWindow):
    """Built on an opened `DataDir` so the task list paints at once; the store (SQLAlchemy,
    Pillow, services) and the task panel that needs it are attached right after."""

    def __init__(self, source: "Store | DataDir", settings: Settings) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.datadir = source if isinstance(source, DataDir) else source.datadir
        self.reader = self.datadir.reader()
        self.store: Store | None = None
        self.detail: TaskDetail | None = None
        self.sync: SyncController | None = None
        self.settings = settings
        self.runner = Runner(self)
        self.runner.changed.connect(self.on_changed)
        self.runner.failed.connect(show_error)

        self.filter_bar = FilterBar()
        self.model = TaskTableModel(self.reader, self.datadir.reader, self)
        self.model.loaded.connect(self._on_loaded)
        self._reselect: str | None = None
        self.table = QTableView(objectName="taskTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSortIndicator(COLUMNS.index("deadline"), Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # sorts by the indicator: the model's one load
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {"code": 116, "title": 210, "category": 88, "responsible": 128, "region": 88,
                  "deadline": 82, "status": 52, "open": 46, "closed": 46, "overdue": 40}
        for i, key in enumerate(COLUMNS):
            self.table.setColumnWidth(i, widths[key])
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.loading = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.welcome = QWidget(objectName="welcome")
        self.welcome_text = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.demo_button = QPushButton(objectName="loadDemo")
        self.demo_button.clicked.connect(self.load_demo)
        self.import_button = QPushButton(objectName="importTasks")
        self.import_button.clicked.connect(self.choose_import)
        welcome_layout = QVBoxLayout(self.welcome)
        welcome_layout.addStretch(1)
        welcome_layout.addWidget(self.welcome_text)
        welcome_layout.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignHCenter)
        welcome_layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignHCenter)
        welcome_layout.addStretch(2)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.welcome)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter_bar)
        left_layout.addWidget(self.pages, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.loading)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.filter_bar.filter_changed.connect(self.apply_filter)

        self._actions()
        self.retranslate()
        if self.model.rowCount() == 0:
            self.pages.setCurrentWidget(self.welcome)
        geometry = settings.get("window/geometry")
        if not (geometry and self.restoreGeometry(geometry)) or self.width() < 800 or self.height() < 500:
            self.resize(1440, 880)
        if settings.get("window/splitter"):
            self.splitter.restoreState(settings.get("window/splitter"))
        else:
            self.splitter.setSizes([950, 490])
        if not isinstance(source, DataDir):
            self.attach_store(source)

    def attach_store(self, store: "Store") -> None:
        """Plug in the store and the task panel; until then the list is read-only."""
        from ui.task_detail import TaskDetail  # loads the services, SQLAlchemy and Pillow

        self.store = store
        self.detail = TaskDetail(store, self.runner)
        sizes = self.splitter.sizes()
        self.splitter.replaceWidget(1, self.detail)
        self.loading.deleteLater()
        self.splitter.setSizes(sizes)
        for control in (self.demo_action, self.demo_button, self.import_action, self.import_button,
                        self.template_action, *self.export_actions.values(), *self.sync_actions):
            control.setEnabled(True)
        self._attach_sync(store)
        # Filter choices and counts scan the whole table: done after the first paint.
        self._load_choices()
        self._update_counts()
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            self._row_changed(current, current)

    def _attach_sync(self, store: "Store") -> None:
        from ui.sync_panel import SyncController  # loads the sync client (requests, pydantic)

        self.sync = SyncController(store, self)
        self.statusBar().insertPermanentWidget(0, self.sync.area)
        self.sync.pulled.connect(self.refresh)
        self.sync.synced.connect(self._synced)
        self.sync.failed.connect(show_error)
        self.sync.area.sign_in_requested.connect(self.sign_in)
        self.sync.start()

    def _synced(self) -> None:
        if self.detail is not None and self.detail.task_id:
            self.detail.reload()  # its findings' sync column

    def sync_now(self) -> None:
        if self.sync is not None:
            self.sync.sync_now()

    def sign_in(self) -> None:
        from ui.sign_in_dialog import SignInDialog

        if self.store is None or self.sync is None:
            return
        dialog = SignInDialog(self.store, self.sync, self)
        dialog.accepted.connect(self._signed_in)
        dialog.open()

    def _signed_in(self) -> None:
        from sync.errors import KeyringUnavailable

        answer = getattr(self.sender(), "signed_in", None) or {}
        if answer.get("fallback_reason"):  # said once, here, when it happens
            self.statusBar().showMessage(KeyringUnavailable(answer["fallback_reason"]).message(i18n.current_lang()),
                                         60000)
        if self.sync is not None:
            self.sync.sync_now(auto=True)  # the first pull: the tasks assigned to this inspector

    def sign_out(self) -> None:
        from sync.cli import sign_out

        store, controller = self.store, self.sync
        if store is None or controller is None:
            return
        if QMessageBox.question(self, self.tr("Sign out"), self.tr(
                "Sign out of the platform? What you recorded stays on this computer and is sent at the next "
                "sign-in.")) != QMessageBox.StandardButton.Yes:
            return
        controller.submit(lambda: sign_out(store), self._signed_out)

    def _signed_out(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            show_error(self, error)

    def show_conflicts(self) -> None:
        from ui.conflicts_dialog import ConflictsDialog

        if self.store is None:
            return
        dialog = ConflictsDialog(self.store, self.runner, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    # --- menus -----------------------------------------------------------------------------
    def _actions(self) -> None:
        self.file_menu = self.menuBar().addMenu("")
        self.view_menu = self.menuBar().addMenu("")
        self.sync_menu = self.menuBar().addMenu("")
        self.settings_menu = self.menuBar().addMenu("")
        self.help_menu = self.menuBar().addMenu("")
        self.quit_action = QAction(self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        self.refresh_action = QAction(self, shortcut=QKeySequence.StandardKey.Refresh, triggered=self.refresh)
        self.settings_action = QAction(self, triggered=self.edit_settings)
        self.about_action = QAction(self, triggered=self.about)
        self.logs_action = QAction(self, triggered=self.open_data_dir)
        self.demo_action = QAction(self, triggered=self.load_demo, enabled=False)
        self.import_action = QAction(self, triggered=self.choose_import, enabled=False,
                                     shortcut=QKeySequence("Ctrl+I"))
        self.demo_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.file_menu.addAction(self.import_action)
        self.export_menu = self.file_menu.addMenu("")
        self.export_actions = {}
        for kind in ("tasks", "findings", "checks"):
            action = QAction(self, triggered=lambda _=False, k=kind: self.export_ledger(k), enabled=False)
            self.export_actions[kind] = action
            self.export_menu.addAction(action)
        self.template_action = QAction(self, triggered=self.save_template, enabled=False)
        self.file_menu.addAction(self.template_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.demo_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.view_menu.addAction(self.refresh_action)
        self.sync_action = QAction(self, triggered=self.sync_now, enabled=False, shortcut=QKeySequence("F9"))
        self.sign_in_action = QAction(self, triggered=self.sign_in, enabled=False)
        self.conflicts_action = QAction(self, triggered=self.show_conflicts, enabled=False)
        self.sign_out_action = QAction(self, triggered=self.sign_out, enabled=False)
        self.sync_actions = (self.sync_action, self.sign_in_action, self.conflicts_action, self.sign_out_action)
        for action in self.sync_actions:
            self.sync_menu.addAction(action)
        self.settings_menu.addAction(self.settings_action)
        self.help_menu.addAction(self.logs_action)
        self.help_menu.addAction(self.about_action)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("FieldApp — Supervision inspection"))
        self.file_menu.setTitle(self.tr("&File"))
        self.view_menu.setTitle(self.tr("&View"))
        self.settings_menu.setTitle(self.tr("&Settings"))
        self.sync_menu.setTitle(self.tr("S&ync"))
        self.sync_action.setText(self.tr("&Sync now"))
        self.sign_in_action.setText(self.tr("Sign &in to the platform…"))
        self.conflicts_action.setText(self.tr("&Conflicts…"))
        self.sign_out_action.setText(self.tr("Sign &out"))
        if self.sync is not None:
            self.sync.area.retranslate()
        self.help_menu.setTitle(self.tr("&Help"))
        self.quit_action.setText(self.tr("&Quit"))
        self.refresh_action.setText(self.tr("&Refresh"))
        self.settings_action.setText(self.tr("&Preferences…"))
        self.about_action.setText(self.tr("&About FieldApp"))
        self.logs_action.setText(self.tr("Open &data folder (logs, backups)"))
        self.demo_action.setText(self.tr("Load &demo data"))
        self.import_action.setText(self.tr("&Import task list (Excel)…"))
        self.import_button.setText(self.tr("Import an Excel task list…"))
        self.export_menu.setTitle(self.tr("&Export ledger (Excel)"))
        self.export_actions["tasks"].setText(self.tr("&Task ledger…"))
        self.export_actions["findings"].setText(self.tr("&Findings ledger (with photos)…"))
        self.export_actions["checks"].setText(self.tr("&Checks ledger…"))
        self.template_action.setText(self.tr("Save a blank import &template…"))
        self.welcome_text.setText(self.tr(
            "<h3>No inspection tasks yet</h3><p>Tasks arrive from the provincial platform or from an "
            "Excel task list. To look around first, load a demo set of a few hundred tasks in Zhejiang.</p>"))
        self.demo_button.setText(self.tr("Load demo data"))
        if self.store is None:
            self.loading.setText(self.tr("Loading…"))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        if self.store is not None:
            self._update_counts()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.model.refresh_all()  # status labels are translated in data()
        super().changeEvent(event)

    # --- behaviour -------------------------------------------------------------------------
    def _current_task(self) -> str | None:
        row = self.model.task_row(self.table.selectionModel().currentIndex().row())
        return row.id if row else None

    def apply_filter(self, flt) -> None:  # noqa: ANN001
        self._reselect = self._current_task()
        self.filter_bar.counts.setText(self.tr("Searching…"))
        self.model.set_filter(flt)  # answers on `loaded`

    def _on_loaded(self, counts) -> None:  # noqa: ANN001 - TaskCounts
        self._show_counts(counts)
        reselect, self._reselect = self._reselect, None
        if reselect is not None and not self.select_task(reselect) and self.detail is not None:
            self.detail.show_task(None)  # the open task is filtered out: don't keep showing it

    def _update_counts(self) -> None:
        self._show_counts(task_counts(self.reader, self.model.filter))

    def _show_counts(self, counts) -> None:  # noqa: ANN001 - TaskCounts
        self.filter_bar.show_counts(counts, self.model.rowCount())
        empty = counts.total == 0 and self.model.filter == TaskFilter()
        self.pages.setCurrentWidget(self.welcome if empty else self.table)
        self.filter_bar.setEnabled(not empty)
        self.status_label.setText(self.tr("Data folder: %s") % self.datadir.path)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.task_row(current.row()) if current.isValid() else None
        if self.detail is not None:
            self.detail.show_task(row.id if row else None)

    def select_task(self, task_id: str) -> bool:
        row = self.model.row_of_task(task_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def on_changed(self, changes: Changes) -> None:
        if changes.tasks:
            self.model.refresh_tasks(changes.tasks)  # counts follow on `loaded`
        if self.detail and self.detail.task_id and (self.detail.task_id in changes.tasks or changes.findings):
            self.detail.reload()

    def _load_choices(self) -> None:
        self.filter_bar.set_choices(regions_in_use(self.reader), categories_in_use(self.reader))

    def refresh(self) -> None:
        current = self._current_task()
        self._load_choices()
        self.model.reload()
        self._update_counts()
        if current:
            self.select_task(current)

    def ask_name(self) -> None:
        """First start: whoever records visits and checks is their author; ask who that is."""
        if not self.settings.get("inspector_name"):
            self.edit_settings(intro=self.tr(
                "Welcome to FieldApp. Please enter your name: it is recorded as the author of the "
                "visits, findings and checks you record. You can change it later under Settings."))

    def edit_settings(self, _checked: bool = False, intro: str = "") -> None:
        dialog = SettingsDialog(i18n.current_lang(), self.settings.get("inspector_name"), self, intro=intro)
        accepted = dialog.exec()
        dialog.deleteLater()
        if not accepted:
            return
        name = dialog.inspector.text().strip()
        self.settings.set("inspector_name", name)
        if name and self.store is not None:  # on the writer's queue: a running write keeps its author
            store = self.store
            self.runner.run(self.tr("Saving settings"), lambda _p, _c: store.sign_in(name), progress=False)
        lang = dialog.language.currentData()
        if lang != i18n.current_lang():
            self.settings.set("language", lang)
            i18n.install(lang)  # widgets retranslate on LanguageChange

    def load_demo(self) -> None:
        from fieldapp.demo import make_demo  # only needed on this path

        store = self.store
        if store is None:
            return

        def done(_summary: object) -> None:
            self.refresh()  # reloads the filter choices too
            if self.model.rowCount():
                self.select_task(self.model.task_row(0).id)

        self.runner.run(self.tr("Loading demo data"),
                        lambda p, c: make_demo(store, progress=p, cancel=c), on_success=done, parent=self)

    def choose_import(self) -> None:
        self.import_tasks()

    def import_tasks(self, path: Path | None = None) -> None:
        """Preview and import an Excel task list; the dialog does the work in the background."""
        from ui.import_dialog import ImportDialog

        if self.store is None:
            return
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, self.tr("Import task list"), "",
                                                    file_filter(self.tr("Spreadsheets"), SPREADSHEET_SUFFIXES))
            if not chosen:
                return
            path = Path(chosen)
        dialog = ImportDialog(self.store, self.runner, path, self, settings=self.settings)
        dialog.accepted.connect(self._import_done)
        dialog.open()

    def _import_done(self) -> None:
        self._load_choices()  # new regions and categories to filter by
        self.statusBar().showMessage(self.sender().result_text(), 30000)

    def _save_path(self, title: str, name: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / name),
                                                file_filter(self.tr("Excel workbook"), {".xlsx"}))
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == ".xlsx" else path.with_suffix(".xlsx")

    def export_ledger(self, kind: str) -> None:
        """Write the ledger of what the table shows now (its filter) to an .xlsx."""
        from fieldapp.excel.ledger import LedgerFilter, export_ledger

        store = self.store
        if store is None:
            return
        names = {"tasks": self.tr("Task ledger"), "findings": self.tr("Findings ledger"),
                 "checks": self.tr("Checks ledger")}
        path = self._save_path(names[kind], f"{names[kind]}-{dt.date.today():%Y%m%d}.xlsx")
        if path is None:
            return
        f = self.model.filter
        flt = LedgerFilter(statuses=f.statuses if kind == "tasks" else (), categories=f.categories,
                           region_prefix=f.region_prefix, overdue_only=f.overdue_only and kind == "tasks",
                           search=f.search)
        self.runner.run(self.tr("Exporting %s") % names[kind],
                        lambda p, _c: export_ledger(store, path, kind=kind, flt=flt, progress=p),
                        on_success=lambda _r: self.statusBar().showMessage(self.tr("Saved %s") % path, 30000),
                        parent=self)

    def save_template(self) -> None:
        from fieldapp.excel.template import write_template

        path = self._save_path(self.tr("Import template"), self.tr("task-list-template.xlsx"))
        if path is not None:
            self.runner.run(self.tr("Saving the template"), lambda _p, _c: write_template(path),
                            on_success=lambda _r: self.statusBar().showMessage(self.tr("Saved %s") % path, 30000),
                            parent=self, progress=False)

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001 - a spreadsheet dropped on the window
        if self.store is not None and dropped_files(event, SPREADSHEET_SUFFIXES):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        files = dropped_files(event, SPREADSHEET_SUFFIXES)
        if files:
            event.acceptProposedAction()
            self.import_tasks(files[0])

    def about(self) -> None:
        QMessageBox.about(self, self.tr("About FieldApp"), self.tr(
            "<b>FieldApp %1</b><br>Offline-first supervision inspection for inspectors in the field."
            "<br><br>Data folder: %2<br>Python %3 · %4"
        ).replace("%1", __version__).replace("%2", str(self.datadir.path))
         .replace("%3", platform.python_version()).replace("%4", platform.platform()))

    def open_data_dir(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.datadir.path)))

    remember_layout = True  # off for --screenshot, whose offscreen geometry means nothing

    def closeEvent(self, event) -> None:  # noqa: ANN001
        if not self.runner.idle():
            answer = QMessageBox.question(self, self.tr("Work in progress"), self.tr(
                "FieldApp is still working. Quit anyway? The running action is cancelled and "
                "nothing of it is saved; everything saved before stays."))
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.runner.cancel_all()
        if self.sync is not None:
            self.sync.shutdown()  # a running sync stops at its next request; what it committed stays
        if self.remember_layout:
            self.settings.set("window/geometry", bytes(self.saveGeometry()))
            self.settings.set("window/splitter", bytes(self.splitter.saveState()))
        super().closeEvent(event)

