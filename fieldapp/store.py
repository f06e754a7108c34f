"""The local store: the SQLAlchemy side of one data dir's SQLite file.

A store sits on an opened `DataDir` (locked, checked, schema at head — see fieldapp.datadir)
and turns on WAL, foreign keys and full sync for its connections. `Store.transaction()` is
the one way to write: one user action, one transaction, its change-log entries included.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fieldapp import changelog
from fieldapp.ids import new_id
from fieldapp.datadir import DB_NAME, DataDir, check_is_sqlite, translate_db_error  # noqa: F401 - re-exported
from fieldapp.photos import PhotoStore

log = logging.getLogger(__name__)



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


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{db_path}",
        json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False),  # 住建局, not \u4f4f…
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(engine, "connect", _set_pragmas)
    event.listen(engine, "checkin", _restore_autocheckpoint)
    return engine


_AUTOCHECKPOINT_OFF = "fieldapp.autocheckpoint_off"


def _restore_autocheckpoint(dbapi_conn: sqlite3.Connection, record: Any) -> None:
    """A connection `checkpoint_later` changed goes back to the pool as it was."""
    if dbapi_conn is not None and record is not None and record.info.pop(_AUTOCHECKPOINT_OFF, False):
        dbapi_conn.execute("PRAGMA wal_autocheckpoint = 1000")


class Store:
    """An open data dir: database, photo files, lock."""

    def __init__(self, data_dir: Path | DataDir, author: str = "") -> None:
        """Open `data_dir` for `author`: the signed-in user, or the local inspector's name
        before any sign-in (default: the OS user). See `identity`."""
        # Writers of this process take turns: pysqlite begins a transaction only at the first
        # write, so the change log's read of the chain head is not isolated otherwise (other
        # processes are kept out by the data-dir lock).
        self._write_lock = threading.RLock()
        self._background: list[threading.Thread] = []
        self.datadir = data_dir if isinstance(data_dir, DataDir) else DataDir(Path(data_dir))
        self.data_dir = self.datadir.path
        self.db_path = self.datadir.db_path
        try:
            self.engine = make_engine(self.db_path)
            self._sessions = sessionmaker(self.engine, class_=StoreSession, expire_on_commit=False)
            self.photos = PhotoStore(self.data_dir / "photos")
            self._identity = self._opening_identity(author)
        except BaseException:
            self.datadir.close()
            raise

    @property
    def identity(self) -> changelog.Identity:
        """Who writes, and from which device: every record and log entry says so."""
        return self._identity

    @property
    def author(self) -> str:
        return self._identity.user

    def sign_in(self, user: str) -> None:
        """From now on `user` writes. Waits for a running write, so no action is written half
        by one name and half by another."""
        with self._write_lock:
            self._identity = changelog.Identity(user or default_author(), self._identity.device)

    def _opening_identity(self, author: str) -> changelog.Identity:
        """The platform user signed in on this data dir writes, if there is one (else `author`),
        from this data dir's device (its id made by migration 0005); one read of `sync_state`."""
        with self.engine.connect() as conn:
            state = {k: json.loads(v) for k, v in conn.exec_driver_sql(
                "SELECT key, value FROM sync_state WHERE key IN ('user', 'device_id')").all()}
        user = (state.get("user") or {}).get("name", "")
        return changelog.Identity(user or author or default_author(), state["device_id"])

    def session(self) -> Session:
        """A session for reading; writes belong in `transaction()`."""
        s = self._sessions()
        s.info["identity"] = self._identity
        return s

    @contextmanager
    def transaction(self, origin: str = changelog.LOCAL) -> Iterator[Session]:
        """One user action: commit everything or nothing. Its log entries share one op id;
        `origin` is PULLED only for what a sync brings from the platform."""
        with self._write_lock:
            session = self.session()
            session.info["origin"] = origin
            session.info["op_id"] = new_id()
            try:
                with session.begin():
                    yield session
            except (OperationalError, DatabaseError) as exc:
                raise translate_db_error(exc.orig or exc, self.db_path) from exc
            finally:
                session.close()
            if session.info.pop(_AUTOCHECKPOINT_OFF, False):
                self.after(self._checkpoint, name="wal-checkpoint")

    def checkpoint_later(self, session: Session) -> None:
        """For a bulk write in `session`'s transaction: its commit leaves the write-ahead log for
        a background thread to copy into the database, instead of doing it then (SQLite's
        automatic checkpoint: a tenth of a 50,000-task import). Durability is the same: the
        committed log is on disk either way."""
        conn = session.connection()
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
        conn.connection.info[_AUTOCHECKPOINT_OFF] = True
        session.info[_AUTOCHECKPOINT_OFF] = True

    def _checkpoint(self) -> None:
        try:
            con = sqlite3.connect(self.db_path, timeout=30)
            try:
                con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                con.close()
        except sqlite3.Error as exc:  # the next commit's automatic checkpoint does it then
            log.warning("background checkpoint: %s", exc)

    def reader(self) -> sqlite3.Connection:
        """A read-only plain sqlite3 connection (see `DataDir.reader`)."""
        return self.datadir.reader()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """`reader()` for one block, closed after it."""
        con = self.datadir.reader()
        try:
            yield con
        finally:
            con.close()

    def after(self, work: Callable[[], Any], name: str) -> threading.Thread | None:
        """Run `work` (a cache to write, say) in a thread that `close` waits for, so nothing is
        left writing in the data dir once its lock is let go. None when no thread can start."""
        self._background = [t for t in self._background if t.is_alive()]
        thread = threading.Thread(target=work, name=name)
        try:
            thread.start()
        except RuntimeError as exc:  # at interpreter shutdown, or out of threads: the work is optional
            log.warning("%s not started: %s", name, exc)
            return None
        self._background.append(thread)
        return thread

    def close(self) -> None:
        for thread in self._background:
            thread.join()
        self.engine.dispose()
        self.datadir.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_author() -> str:
    for var in ("FIELDAPP_AUTHOR", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "inspector"
