"""The platform's own database: SQLAlchemy 2 models and the one way to open a transaction.

Portable SQL only: SQLite by default, PostgreSQL given a URL (`postgresql+psycopg://…`).
Times are naive UTC in the database (both backends store them alike) and get their offset
back on the wire. The schema belongs to the Alembic migrations in `sync.server.migrations`;
`Database()` brings it to head before anything else touches it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
    false,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Any fixed number: the key of the PostgreSQL advisory lock that orders feed appends.
FEED_LOCK_KEY = 0x46_41_46_45_45_44  # "FAFEED"
# SQLite's INTEGER PRIMARY KEY is its rowid (autoincrementing) only when spelled INTEGER.
SeqType = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def aware(value: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) time as the wire wants it: with its offset."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON, Any: JSON}


class User(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Token(Base):
    """A sign-in. Only the token's SHA-256 is kept: a copy of the database signs no one in."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Device(Base):
    """A device's chain head and what it still holds unsent (for a health view)."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(128), default="")
    head_seq: Mapped[int | None] = mapped_column(BigInteger)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    pending_changes: Mapped[int] = mapped_column(Integer, default=0)
    pending_photos: Mapped[int] = mapped_column(Integer, default=0)
    oldest_pending_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RecordRow(Base):
    """The platform's current state of one record (or its tombstone)."""

    __tablename__ = "records"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The task the record belongs to (its own id for a task): what visibility is decided on.
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_unit: Mapped[str] = mapped_column(String(128), index=True)
    author: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A photo record's file, as a column: who may download a photo is looked up by it.
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A finding that has been submitted for checking at any time (see records.SUBMITTED_STATUSES):
    # until then it is its author's alone.
    submitted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChangeRow(Base):
    """Every accepted change (pushed, or made by the platform itself): deduplication by
    change id, and the fields each version touched, for the field-level merge."""

    __tablename__ = "changes"

    change_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), default="")
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(36))
    payload_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)  # the record's version once the change was applied
    base_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as the device sent it
    # The platform's version the change was really made on (see records.seen_version).
    seen_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fields_changed: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_changes_record", "entity", "entity_id", "version"),)


class FeedRow(Base):
    """What pull cursors point into: one row per record (or assignment) that changed."""

    __tablename__ = "feed"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(36))
    task_id: Mapped[str] = mapped_column(String(36))
    # Set: only this user receives the row (a task re-sent to a new assignee, an assignment).
    user: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_feed_stream_seq", "stream", "seq"),)


class AssignmentRow(Base):
    __tablename__ = "assignments"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    assigned: Mapped[bool] = mapped_column(Boolean, default=True)


class ConflictRow(Base):
    __tablename__ = "conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(36))
    change_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(128))
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    base_version: Mapped[int] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class PhotoRow(Base):
    """A photo file that is stored, its hash checked. The file is renamed into place first."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    uploader: Mapped[str] = mapped_column(String(64), default="")


class UploadRow(Base):
    """An upload under way; its chunks are files (see sync.server.photos)."""

    __tablename__ = "uploads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_bytes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # pulls read while a push writes
    cur.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives power loss
    cur.execute("PRAGMA busy_timeout=30000")  # several processes take turns at writing
    cur.close()
    # pysqlite begins transactions lazily and on its own terms; take them over (see `write`).
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE for a write: the write lock is taken up front, so two processes that both read
    # then write wait for each other (busy_timeout) instead of one failing "database is locked"
    # when its read lock cannot be upgraded. Reads begin deferred and never block.
    mode = "IMMEDIATE" if conn.get_execution_options().get("fieldapp_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, json_serializer=_json_dumps,
                               connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, json_serializer=_json_dumps, pool_pre_ping=True)


class Database:
    """The server's database at schema head; sessions for reading and for writing."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        from sync.server import migrations

        self.url = url
        if migrate:
            migrations.upgrade_to_head(url)
        self.engine = make_engine(url)
        self.postgres = self.engine.dialect.name == "postgresql"
        self._writer = self.engine.execution_options(fieldapp_write=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    @contextmanager
    def write(self, *, feed: bool = True) -> Iterator[Session]:
        """One write transaction: everything or nothing.

        The feed's seq is what pull cursors point into. With concurrent writers on PostgreSQL a
        transaction holding seq 7 can commit after one holding seq 8 is already visible; a
        client that pulled up to 8 would never see 7. So a write transaction that may append
        to the feed (`feed`) first takes one advisory lock, held to its commit: feed rows
        become visible in seq order. The lock also makes a record's read-check-write (its
        version) safe without row locks. Writes that touch neither (sign-in, tokens, uploads)
        pass `feed=False` and do not queue behind it. On SQLite `BEGIN IMMEDIATE` serializes
        every writer anyway."""
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            if feed and self.postgres:
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY})
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
