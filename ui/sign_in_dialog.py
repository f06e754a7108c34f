"""Sign in to the provincial platform: its address, the user name and the password.

Signing in talks to the network, so it runs on the sync thread; the dialog stays responsive,
and a refusal (wrong password, no network, a certificate problem) is shown in the dialog in
the user's language, which stays open to try again. The password is never stored; the token
the platform returns goes to the OS keyring (see sync.credentials).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from fieldapp import sync_state
from fieldapp.errors import FieldAppError
from sync.cli import sign_in
from ui.i18n import current_lang

if TYPE_CHECKING:
    from fieldapp.store import Store
    from ui.sync_panel import SyncController


class SignInDialog(QDialog):
    def __init__(self, store: "Store", controller: "SyncController", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.store, self.controller = store, controller
        self.signed_in: dict[str, Any] | None = None  # sign_in's answer, once accepted
        self.setWindowTitle(self.tr("Sign in to the platform"))
        settings = sync_state.connection_settings(store)
        user = sync_state.read(store, sync_state.USER) or {}
        self.url = QLineEdit(settings.server_url, objectName="platformUrl")
        self.url.setPlaceholderText("https://dc.example.gov.cn")
        self.user = QLineEdit(user.get("name", ""), objectName="platformUser")
        self.password = QLineEdit(objectName="platformPassword", echoMode=QLineEdit.EchoMode.Password)
        self.message = QLabel(objectName="signInMessage", wordWrap=True)
        self.message.setStyleSheet("color: #c0392b")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(self.tr("Your FieldApp sends what you record to the platform and receives the tasks "
                                   "assigned to you. Ask your supervisor's office for the address and your "
                                   "account."), wordWrap=True))
        form.addRow(self.tr("Platform address"), self.url)
        form.addRow(self.tr("User name"), self.user)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.message)
        form.addRow(self.buttons)
        self.setMinimumWidth(480)
        (self.password if self.url.text() and self.user.text() else self.url).setFocus()

    def try_sign_in(self) -> None:
        url, user, password = self.url.text().strip(), self.user.text().strip(), self.password.text()
        if not (url and user and password):
            self.message.setText(self.tr("Fill in the address, the user name and the password."))
            return
        if not url.startswith(("https://", "http://")):
            url = "https://" + url
        self.buttons.setEnabled(False)
        self.message.setStyleSheet("color: #555")
        self.message.setText(self.tr("Signing in…"))
        store = self.store
        self.controller.submit(lambda: sign_in(store, url, user, password), self._signed_in)

    def _signed_in(self, result: Any, error: BaseException | None) -> None:
        self.buttons.setEnabled(True)
        if error is None:
            self.password.clear()
            self.signed_in = result
            self.accept()
            return
        self.message.setStyleSheet("color: #c0392b")
        if isinstance(error, FieldAppError):
            self.message.setText(error.message(current_lang()))
        else:
            self.message.setText(self.tr("Signing in failed: %1").replace("%1", str(error)))
            raise error
