"""The user's settings, declared once: each option with its type and default, over QSettings (INI).

Bump `VERSION` and add a step to `_UPGRADES` when an option changes meaning or name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QSettings

VERSION = 1

OPTIONS: dict[str, tuple[type, Any]] = {
    "language": (str, "zh_CN"),
    "inspector_name": (str, ""),
    "window/geometry": (bytes, b""),
    "window/splitter": (bytes, b""),
    "import/mappings": (str, "{}"),  # JSON: sheet header signature → {field: column} set by hand
}

_UPGRADES: dict[int, Callable[[QSettings], None]] = {}


class Settings:
    def __init__(self, data_dir: Path) -> None:
        self._q = QSettings(str(data_dir / "settings.ini"), QSettings.Format.IniFormat)
        stored = int(self._q.value("settings_version", 0) or 0)
        for version in range(stored + 1, VERSION + 1):
            if version in _UPGRADES:
                _UPGRADES[version](self._q)
        self._q.setValue("settings_version", VERSION)

    def get(self, key: str) -> Any:
        kind, default = OPTIONS[key]
        value = self._q.value(key, default)
        if kind is bytes:
            return bytes(value) if value else b""
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        kind, _default = OPTIONS[key]
        self._q.setValue(key, value if kind is not bytes else bytes(value))
        self._q.sync()
