"""The one place that runs work off the GUI thread.

`Runner.run(fn, ...)` calls `fn(progress, cancel)` on a single background writer thread (so
SQLite sees one writer), shows a busy cursor after ~300 ms and a progress dialog with Cancel
after ~600 ms, and delivers the outcome on the GUI thread: a `Changes` result is announced on
`Runner.changed` so every view refreshes what it shows; `Interrupted` is a quiet stop;
expected errors get a dialog in the user's language; anything else is logged and shown as a
crash. Threads are never killed: Cancel sets an event the service checks.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from fieldapp.errors import FieldAppError, Interrupted
from fieldapp.services import Changes

log = logging.getLogger(__name__)

Work = Callable[[Callable[[int, int], None], threading.Event], Any]


@dataclass
class Op:
    """One piece of work, as the GUI thread sees it. Only `key`, `fn` and `cancel` cross to
    the worker; widgets stay here, so Qt objects are never released on the worker thread."""

    key: int
    label: str
    fn: Work | None
    on_success: Callable[[Any], None] | None
    on_failure: Callable[[BaseException], None] | None
    parent: QWidget | None
    cancel: threading.Event = field(default_factory=threading.Event)
    dialog: QProgressDialog | None = None
    busy: bool = False


class Runner(QObject):
    changed = Signal(object)        # Changes, on the GUI thread
    failed = Signal(object, object)  # (parent widget, exception or list of them) for the error dialogs
    _finished = Signal(int, object, object)
    _progressed = Signal(int, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-writer")
        self._ops: dict[int, Op] = {}
        self._keys = itertools.count(1)
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    def idle(self) -> bool:
        return not self._ops

    def run(self, label: str, fn: Work, *, on_success: Callable[[Any], None] | None = None,
            on_failure: Callable[[BaseException], None] | None = None,
            parent: QWidget | None = None, progress: bool = True) -> Op:
        op = Op(next(self._keys), label, fn, on_success, on_failure, parent)
        if progress:
            op.dialog = self._dialog(op)
        self._ops[op.key] = op
        self._pool.submit(self._work, op.key, fn, op.cancel)
        QTimer.singleShot(300, lambda key=op.key: self._busy(key))  # a busy cursor, if it takes a while
        return op

    def _busy(self, key: int) -> None:
        op = self._ops.get(key)
        if op is not None and not op.busy:
            op.busy = True
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)

    def _dialog(self, op: Op) -> QProgressDialog:
        dialog = QProgressDialog(op.label, self.tr("Cancel"), 0, 0, op.parent)
        dialog.setWindowTitle(op.label)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(600)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(op.cancel.set)
        dialog.setValue(0)
        return dialog

    def _work(self, key: int, fn: Work, cancel: threading.Event) -> None:
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if (total and done >= total) or now - last > 0.1:  # ~10 signals a second at most
                last = now
                self._progressed.emit(key, done, total)

        try:
            result, error = fn(progress, cancel), None
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread, not swallowed
            result, error = None, exc
        del fn  # the GUI thread's Op still holds it: the last reference goes there
        self._finished.emit(key, result, error)

    def _on_progress(self, key: int, done: int, total: int) -> None:
        op = self._ops.get(key)
        if op is not None and op.dialog is not None:
            op.dialog.setMaximum(max(total, 1))
            op.dialog.setValue(min(done, total))

    def _on_finished(self, key: int, result: Any, error: BaseException | None) -> None:
        op = self._ops.pop(key)
        op.fn = None
        if op.busy:
            QApplication.restoreOverrideCursor()
        if op.dialog is not None:
            op.dialog.reset()
            op.dialog.deleteLater()
            op.dialog = None
        if error is None:
            if isinstance(result, Changes):
                self.changed.emit(result)
                if result.refused:  # some items were not taken: say which and why
                    self.failed.emit(op.parent, result.refused)
            if op.on_success:
                op.on_success(result)
            return
        if isinstance(error, Interrupted):
            log.info("%s: cancelled", op.label)
            return
        if not isinstance(error, FieldAppError):
            log.error("%s failed", op.label, exc_info=(type(error), error, error.__traceback__))
        else:
            log.warning("%s refused: %s", op.label, error)
        if op.on_failure:
            op.on_failure(error)
        self.failed.emit(op.parent, error)

    def cancel_all(self) -> None:
        """Ask every queued and running operation to stop; services roll back, nothing half-saved."""
        for op in self._ops.values():
            op.cancel.set()

    def shutdown(self) -> None:
        self.cancel_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
