"""Opening a data dir: lock it, check the database file, bring its schema to head.

This is all a window needs to show the task list, and it costs only the sqlite3 module:
SQLAlchemy, Pillow and the services load afterwards (see `fieldapp.store.Store`), so the first
window paints without waiting for them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fieldapp import migrations
from fieldapp.errors import DataDirUnwritable, NotADatabase
from fieldapp.lock import DataDirLock

DB_NAME = "fieldapp.db"
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_is_sqlite(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise NotADatabase(path=path)


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
            raise NotADatabase(str(exc), path=self.db_path) from exc
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
