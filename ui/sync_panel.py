"""Sync in the window: a status area, sync now, automatic sync when the platform is reachable.

A sync is long and mostly waits on the network, so it runs on its own thread (the network
pool), never on the writer that user actions queue on; its writes take the store's write lock
one page at a time, so recording a finding during a sync waits a moment at most. Progress and
the outcome appear in the status bar's sync area, not in a modal dialog; Cancel stops it at the
next request (what was committed stays, and the next sync goes on from there).

Automatic sync: every `PROBE_SECONDS` the platform is asked for its info (short timeout); when
it answers and there is something to send, or the last sync is older than `PULL_EVERY`, a sync
starts. Failures of an automatic sync are shown in the status area only; a sync the user asked
for also says what went wrong in a dialog.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from fieldapp import sync_state
from fieldapp.errors import FieldAppError, Interrupted
from sync import errors
from sync.cli import client_for
from sync.engine import SyncReport, Syncer

if TYPE_CHECKING:
    from fieldapp.store import Store

log = logging.getLogger(__name__)

PROBE_SECONDS = 60
PULL_EVERY = dt.timedelta(minutes=10)
PROBE_TIMEOUT = (3.0, 5.0)


class SyncController(QObject):
    """Runs syncs off the GUI thread and keeps the status area current."""

    pulled = Signal()  # a sync brought something: views reload what they show
    synced = Signal()  # a sync ended well: what is still to send changed
    failed = Signal(object, object)  # (parent, error) for a sync the user asked for
    _progressed = Signal(str, int, int)
    _done = Signal(object, object, object)  # (callback, result, error) of `submit`
    _finished = Signal(object, object, bool)  # (report, error, asked by the user)
    _probed = Signal(bool, object)  # reachable, error

    def __init__(self, store: "Store", parent: QWidget) -> None:
        super().__init__(parent)
        self.store = store
        self.parent_widget = parent
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-sync")
        self._cancel: threading.Event | None = None
        self._last_progress = 0.0
        self.online: bool | None = None  # unknown until the first probe
        self.last_error: FieldAppError | None = None
        self.area = SyncArea()
        self.area.sync_button.clicked.connect(self.sync_now)
        self.area.cancel_button.clicked.connect(self.cancel)
        self._progressed.connect(self.area.show_progress, Qt.ConnectionType.QueuedConnection)
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._probed.connect(self._on_probed, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self.timer = QTimer(self, interval=PROBE_SECONDS * 1000)
        self.timer.timeout.connect(self.probe)
        self.refresh_status()

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def signed_in(self) -> bool:
        with self.store.reading() as con:
            state = sync_state.status(con)
        return bool(state.get(sync_state.SERVER_URL) and state.get(sync_state.USER))

    def refresh_status(self) -> None:
        with self.store.reading() as con:
            state = sync_state.status(con)
        self.area.show_state(state, self.online, self.last_error, self.running)

    def start(self) -> None:
        """Begin probing (and syncing automatically); the first probe right away."""
        self.timer.start()
        QTimer.singleShot(0, self.probe)

    # ------------------------------------------------------------------ sync

    def sync_now(self, _checked: bool = False, *, auto: bool = False) -> None:
        if self.running:
            return
        if not self.signed_in():
            if not auto:
                self.area.sign_in_requested.emit()
            return
        self._cancel = threading.Event()
        self.last_error = None
        self.area.show_running()
        self._pool.submit(self._work, self._cancel, auto)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _work(self, cancel: threading.Event, auto: bool) -> None:
        report: SyncReport | None = None
        error: BaseException | None = None
        try:
            client = client_for(self.store)
            try:
                report = Syncer(self.store, client, progress=self._progress, cancel=cancel).run()
            finally:
                client.close()
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            error = exc
        self._finished.emit(report, error, not auto)

    def _progress(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_progress > 0.1 or (total and done >= total):  # ~10 a second at most
            self._last_progress = now
            self._progressed.emit(stage, done, total)

    def _on_finished(self, report: SyncReport | None, error: BaseException | None, asked: bool) -> None:
        self._cancel = None
        if error is None and report is not None:
            self.online = True
            if any(report.pulled.values()) or report.photos_downloaded:
                self.pulled.emit()
            self.synced.emit()
            if report.refused and asked:
                self.failed.emit(self.parent_widget, [errors.Forbidden(str(r.get("code")), what=_refusal(r))
                                                      for r in report.refused])
        elif isinstance(error, Interrupted):
            log.info("sync cancelled")
        elif isinstance(error, FieldAppError):
            self.last_error = error
            if isinstance(error, errors.NoNetwork):
                self.online = False
            log.warning("sync failed: %s", error)
            if asked:
                self.failed.emit(self.parent_widget, error)
        elif error is not None:
            log.error("sync failed", exc_info=(type(error), error, error.__traceback__))
            self.failed.emit(self.parent_widget, error)
        self.refresh_status()

    def submit(self, fn: Callable[[], Any], callback: Callable[[Any, BaseException | None], None]) -> None:
        """Other network work (signing in and out) on the same thread; `callback(result, error)`
        runs on the GUI thread."""
        def work() -> None:
            try:
                result, error = fn(), None
            except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
                result, error = None, exc
            self._done.emit(callback, result, error)
        self._pool.submit(work)

    def _on_done(self, callback: Callable[[Any, BaseException | None], None], result: Any,
                 error: BaseException | None) -> None:
        callback(result, error)
        self.refresh_status()

    # ------------------------------------------------------------------ reachability

    def probe(self) -> None:
        if self.running or not self.signed_in():
            self.refresh_status()
            return
        self._pool.submit(self._probe_work)

    def _probe_work(self) -> None:
        try:
            client = client_for(self.store, retries=0, timeout=PROBE_TIMEOUT)
            try:
                client.info()
            finally:
                client.close()
            self._probed.emit(True, None)
        except FieldAppError as exc:
            self._probed.emit(False, exc)
        except Exception as exc:  # noqa: BLE001 - a probe never crashes the window
            log.warning("probe failed: %s", exc)
            self._probed.emit(False, None)

    def _on_probed(self, reachable: bool, error: Any) -> None:
        was = self.online
        self.online = reachable
        if not reachable:
            self.last_error = error if isinstance(error, FieldAppError) and not isinstance(error, errors.NoNetwork) \
                else self.last_error
            self.refresh_status()
            return
        with self.store.reading() as con:
            state = sync_state.status(con)
        last = (state.get(sync_state.LAST_SYNC) or {}).get("at")
        stale = last is None or dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(last) > PULL_EVERY
        if was is False or state["pending"].changes or stale:
            self.sync_now(auto=True)
        else:
            self.refresh_status()

    def shutdown(self) -> None:
        self.timer.stop()
        self.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _refusal(r: dict[str, Any]) -> Any:
    from fieldapp.errors import Text

    msg = r.get("message") or {}
    return Text(f"{r.get('entity')} {r.get('entity_id')}：{msg.get('zh') or r.get('code')}",
                f"{r.get('entity')} {r.get('entity_id')}: {msg.get('en') or r.get('code')}")


class SyncArea(QWidget):
    """The status bar's sync area: online state, last sync, what is pending, Sync now / Cancel."""

    sign_in_requested = Signal()

    def __init__(self) -> None:
        super().__init__(objectName="syncArea")
        self.dot = QLabel(objectName="syncDot")
        self.text = QLabel(objectName="syncText")
        self.bar = QProgressBar(objectName="syncProgress", maximumWidth=140, textVisible=False)
        self.bar.hide()
        self.sync_button = QPushButton(objectName="syncNow")
        self.cancel_button = QPushButton(objectName="syncCancel")
        self.cancel_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.dot, self.text, self.bar, self.sync_button, self.cancel_button):
            layout.addWidget(w)
        self._state: tuple[dict[str, Any], bool | None, FieldAppError | None, bool] = ({}, None, None, False)
        self.retranslate()

    def retranslate(self) -> None:
        self.sync_button.setText(self.tr("Sync now"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.show_state(*self._state)

    def show_running(self) -> None:
        self.bar.setRange(0, 0)
        self.bar.show()
        self.cancel_button.show()
        self.sync_button.hide()
        self.text.setText(self.tr("Syncing…"))

    def show_progress(self, stage: str, done: int, total: int) -> None:
        names = {"photos": self.tr("uploading photos"), "push": self.tr("sending changes")}
        name = names.get(stage) or (self.tr("receiving") + " " + stage.split(":", 1)[-1]
                                    if stage.startswith("pull:") else stage)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, total))
        self.text.setText(self.tr("Syncing: %1 %2/%3").replace("%1", name).replace("%2", str(done))
                          .replace("%3", str(total)))

    def show_state(self, state: dict[str, Any], online: bool | None, error: FieldAppError | None,
                   running: bool) -> None:
        from ui.i18n import current_lang

        self._state = (state, online, error, running)
        if running:
            return
        self.bar.hide()
        self.cancel_button.hide()
        self.sync_button.show()
        user = state.get(sync_state.USER)
        if not user:
            self.dot.setText("○")
            self.dot.setStyleSheet("color: #888")
            self.text.setText(self.tr("Not signed in to the platform"))
            self.sync_button.setText(self.tr("Sign in…"))
            return
        self.sync_button.setText(self.tr("Sync now"))
        pending = state["pending"]
        parts = []
        if error is not None:
            color, head = "#c0392b", error.message(current_lang())
        elif online is False:
            color, head = "#888", self.tr("Offline — everything is saved on this computer")
        else:
            color, head = "#27ae60", self.tr("Online") if online else self.tr("Signed in as %1").replace(
                "%1", user.get("name", ""))
        parts.append(head)
        last = state.get(sync_state.LAST_SYNC)
        if last and last.get("at"):
            when = dt.datetime.fromisoformat(last["at"]).astimezone().strftime("%m-%d %H:%M")
            parts.append(self.tr("last sync %1").replace("%1", when))
        else:
            parts.append(self.tr("never synced"))
        if pending.changes or pending.photos:
            parts.append(self.tr("to send: %1 changes, %2 photos").replace("%1", str(pending.changes))
                         .replace("%2", str(pending.photos)))
        else:
            parts.append(self.tr("nothing to send"))
        self.dot.setText("●")
        self.dot.setStyleSheet(f"color: {color}")
        self.text.setText(" · ".join(parts))
        self.text.setToolTip(error.message(current_lang()) if error else "")
