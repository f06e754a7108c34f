"""The server's settings: one dataclass, filled from arguments or FIELDAPP_PLATFORM_* variables.

Several worker processes must agree on them, and uvicorn starts its workers from an import
string, so everything a worker needs can come from the environment (`Settings.from_env`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "FIELDAPP_PLATFORM_"
DEFAULT_DB = "platform.db"  # a SQLite file in the working directory
DEFAULT_PHOTOS = "platform-photos"


def db_url(value: str) -> str:
    """A database URL, or a plain path taken as a SQLite file."""
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    photos: Path = field(default_factory=lambda: Path(DEFAULT_PHOTOS))
    token_ttl: float = 30 * 24 * 3600  # seconds a sign-in lasts
    chunk_bytes: int = 1024 * 1024
    max_photo_bytes: int = 50 * 1024 * 1024
    max_push_bytes: int = 8 * 1024 * 1024  # MAX_BATCH changes of a few KB each, with room
    max_body_bytes: int = 1024 * 1024  # any other request
    lock_after: int = 5  # consecutive wrong passwords before the account waits
    platform_name: str = "FieldApp reference platform"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then FIELDAPP_PLATFORM_<NAME> variables, then `overrides` (None ignored)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("db", DEFAULT_DB)  # made absolute: worker processes may start elsewhere
        values.setdefault("photos", Path(DEFAULT_PHOTOS).resolve())
        return cls().with_values(**values)

    def with_values(self, **values: Any) -> Settings:
        typed: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in values:
                continue
            v = values[f.name]
            if f.name == "photos":
                v = Path(v).resolve()
            elif f.name == "db":
                v = db_url(str(v))
            elif f.type in ("int", int):
                v = int(v)
            elif f.type in ("float", float):
                v = float(v)
            typed[f.name] = v
        return replace(self, **typed)

    def to_env(self) -> dict[str, str]:
        """The variables that make `from_env` give these settings (for worker processes)."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}
