"""The sign-in token: in the OS keyring, never in the database, logs or settings.

Where the OS has no keyring (a headless Linux box, a CI runner), the token goes to a file in
the data dir readable only by its user (0600), and the caller is told once so it can say so.
`FIELDAPP_KEYRING=file` forces the file (tests, kiosks); `FIELDAPP_KEYRING=keyring` the keyring.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SERVICE = "fieldapp-platform"
TOKEN_FILE = "token"


class TokenStore:
    """The token of one data dir (the keyring entry is named by the data dir's device id)."""

    def __init__(self, data_dir: Path, device_id: str) -> None:
        self.file = Path(data_dir) / TOKEN_FILE
        self.account = device_id
        self.fallback_reason = ""  # why the file is used, when it is

    def _keyring(self):  # -> keyring backend module, or None when there is no usable keyring
        mode = os.environ.get("FIELDAPP_KEYRING", "")
        if mode == "file":
            self.fallback_reason = "FIELDAPP_KEYRING=file"
            return None
        try:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or "fail" in type(backend).__module__ or "null" in type(backend).__module__:
                self.fallback_reason = "no OS keyring"
                return None
            return keyring
        except Exception as exc:  # noqa: BLE001 - any keyring failure means: use the file
            self.fallback_reason = f"keyring: {exc}"
            return None

    def save(self, token: str) -> None:
        kr = self._keyring()
        if kr is not None:
            try:
                kr.set_password(SERVICE, self.account, token)
                self.file.unlink(missing_ok=True)
                return
            except Exception as exc:  # noqa: BLE001 - e.g. a locked keyring with no prompt
                self.fallback_reason = f"keyring: {exc}"
        log.warning("keeping the sign-in token in %s (%s)", self.file, self.fallback_reason)
        tmp = self.file.with_suffix(".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.file)

    def load(self) -> str | None:
        kr = self._keyring()
        if kr is not None:
            try:
                token = kr.get_password(SERVICE, self.account)
                if token:
                    return token
            except Exception as exc:  # noqa: BLE001
                log.warning("keyring read failed: %s", exc)
        try:
            return self.file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def clear(self) -> None:
        kr = self._keyring()
        if kr is not None:
            try:
                kr.delete_password(SERVICE, self.account)
            except Exception:  # noqa: BLE001 - nothing stored there
                pass
        self.file.unlink(missing_ok=True)
