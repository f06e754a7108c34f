"""Opening a data dir: lock it, check the database file, bring its schema to head.

This is all a window needs to show the task list, and it costs only the sqlite3 module:
SQLAlchemy, Pillow and the services load afterwards (see `fieldapp.store.Store`), so the first
window paints without waiting for them.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from fieldapp import migrations
from fieldapp.errors import DatabaseBusy, DataDirUnwritable, InvalidInput, NotADatabase, StorageFull, Text
from fieldapp.lock import DataDirLock

DB_NAME = "fieldapp.db"
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_is_sqlite(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise NotADatabase(path=path)


def translate_db_error(exc: Exception, path: Path) -> Exception:
    """Map SQLite's failures to the errors a person can act on."""
    text = str(exc).lower()
    if "disk is full" in text or "database or disk is full" in text:
        return StorageFull(str(exc))
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return DataDirUnwritable(str(exc), path=path.parent, reason=Text("只读", "read-only"))
    if "locked" in text or "busy" in text:
        return DatabaseBusy(str(exc), path=path)
    if "not a database" in text or "malformed" in text:
        return NotADatabase(str(exc), path=path)
    unique = re.search(r"unique constraint failed: (\w+)\.(\w+)", text)
    if unique:
        return InvalidInput(str(exc), field=unique[2], reason=Text("与已有记录重复", "duplicates an existing record"))
    return exc


class DataDir:
    """A locked data dir whose database is at schema head."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirUnwritable(str(exc), path=self.path, reason=exc.strerror or exc) from exc
        self._lock = DataDirLock(self.path)
        self._lock.acquire()
        try:
            check_is_sqlite(self.db_path)
            migrations.upgrade_to_head(self.db_path, self.path / "backups")
            con = sqlite3.connect(self.db_path)
            try:
                con.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block the writer
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            self._lock.release()
            raise translate_db_error(exc, self.db_path) from exc
        except BaseException:
            self._lock.release()
            raise

    def reader(self) -> sqlite3.Connection:
        """A read-only connection for the thread that calls this (the views' queries)."""
        con = sqlite3.connect(self.db_path, timeout=10)
        con.execute("PRAGMA query_only=1")
        return con

    def close(self) -> None:
        self._lock.release()
