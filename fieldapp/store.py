"""The local store: one SQLite file in the data dir, opened safely.

Opening a store takes the data-dir lock, checks that the file really is SQLite, brings the
schema to head through Alembic (after a backup copy when an existing database must change),
and turns on WAL, foreign keys and full sync. `Store.transaction()` is the one way to write:
one user action, one transaction, its change-log entries included.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fieldapp import changelog, migrations
from fieldapp.errors import DataDirUnwritable, NotADatabase, StorageFull
from fieldapp.lock import DataDirLock
from fieldapp.photos import PhotoStore

log = logging.getLogger(__name__)

DB_NAME = "fieldapp.db"
SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreSession(Session):
    """Sessions of the store; the change log listens to their flushes."""


changelog.install(StoreSession)


def _set_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # FULL: a committed action survives power loss, not only a crash of the app.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def check_is_sqlite(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise NotADatabase(path=path)


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(engine, "connect", _set_pragmas)
    return engine


def translate_db_error(exc: Exception, path: Path) -> Exception:
    """Map SQLite's failures to the errors a person can act on."""
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o error" in text and "full" in text:
        return StorageFull(str(exc))
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return DataDirUnwritable(str(exc), path=path.parent, reason="只读 / read-only")
    if "not a database" in text or "malformed" in text:
        return NotADatabase(str(exc), path=path)
    return exc


class Store:
    """An open data dir: database, photo files, lock."""

    def __init__(self, data_dir: Path, author: str = "") -> None:
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / DB_NAME
        self.author = author or default_author()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirUnwritable(str(exc), path=self.data_dir, reason=exc.strerror or exc) from exc
        self._lock = DataDirLock(self.data_dir)
        self._lock.acquire()
        try:
            check_is_sqlite(self.db_path)
            migrations.upgrade_to_head(self.db_path, self.data_dir / "backups")
            self.engine = make_engine(self.db_path)
            self._sessions = sessionmaker(self.engine, class_=StoreSession, expire_on_commit=False)
            self.photos = PhotoStore(self.data_dir / "photos")
        except BaseException:
            self._lock.release()
            raise

    def session(self) -> Session:
        """A session for reading; writes belong in `transaction()`."""
        s = self._sessions()
        s.info["author"] = self.author
        return s

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One user action: commit everything or nothing."""
        session = self.session()
        try:
            with session.begin():
                yield session
        except (OperationalError, DatabaseError) as exc:
            raise translate_db_error(exc.orig or exc, self.db_path) from exc
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
        self._lock.release()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_author() -> str:
    for var in ("FIELDAPP_AUTHOR", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "inspector"
