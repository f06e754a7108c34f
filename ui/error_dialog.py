"""The two error paths: expected errors in the user's language, everything else as a crash.

Expected errors (`FieldAppError`) say what happened and what to do, with a button that copies
the technical details. Unexpected exceptions reach `sys.excepthook`, are logged, and show a
crash dialog with version and OS so a report to IT is useful.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from fieldapp import __version__
from fieldapp.errors import FieldAppError
from ui.i18n import current_lang

log = logging.getLogger(__name__)


def _details(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return (f"FieldApp {__version__} · Python {platform.python_version()} · "
            f"{platform.platform()}\n\n" + "".join(lines))


class ErrorBox(QMessageBox):
    """A message with a button that copies the technical details for IT.

    Slots are methods, not lambdas: the check dialog crashed at exit ("shared QObject was
    deleted directly") until its lambda slot became a method."""

    def __init__(self, parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
                 details: str = "") -> None:
        super().__init__(icon, title, text, QMessageBox.StandardButton.Ok, parent)
        self.details = details
        self.setEscapeButton(QMessageBox.StandardButton.Ok)
        self.setObjectName("errorBox")
        if details:  # only for the unexpected: an expected refusal says all a person needs
            copy = self.addButton(QCoreApplication.translate("ErrorDialog", "Copy details"),
                                  QMessageBox.ButtonRole.ActionRole)
            copy.clicked.disconnect()  # keep the box open after copying
            copy.clicked.connect(self.copy_details)
            self.setDetailedText(details)

    def copy_details(self) -> None:
        QApplication.clipboard().setText(self.details)

    def release(self) -> None:
        _unparented.discard(self)
        self.deleteLater()



def show_error(parent: QWidget | None, exc: BaseException | list[FieldAppError]) -> QMessageBox:
    """Show `exc` (or several expected errors) without blocking; returns the dialog."""
    if isinstance(exc, list):
        text = "\n".join(e.message(current_lang()) for e in exc)
        box = ErrorBox(parent, QMessageBox.Icon.Warning, QCoreApplication.translate("ErrorDialog", "FieldApp"), text)
    elif isinstance(exc, FieldAppError):
        box = ErrorBox(parent, QMessageBox.Icon.Warning, QCoreApplication.translate("ErrorDialog", "FieldApp"),
                       exc.message(current_lang()))
    else:
        box = ErrorBox(parent, QMessageBox.Icon.Critical, QCoreApplication.translate("ErrorDialog", "FieldApp: unexpected error"),
                   QCoreApplication.translate("ErrorDialog", "Something went wrong that FieldApp did not expect. "
                                              "Your saved data is safe. Please send the details to your IT staff."), _details(exc))
    if parent is None:  # nothing else holds a parentless box: keep it until it closes
        _unparented.add(box)
        box.finished.connect(box.release)
    box.open()
    return box


_unparented: set[QMessageBox] = set()


def install_excepthook() -> None:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.critical("unhandled exception", exc_info=(kind, exc, tb))
        if QApplication.instance() is not None and not isinstance(exc, KeyboardInterrupt):
            show_error(QApplication.activeWindow(), exc)
        else:
            sys.__excepthook__(kind, exc, tb)

    sys.excepthook = hook
