"""SQLAlchemy ORM of the local store: tasks, visits, findings, checks, photos, change log.

Every record has a client-generated, time-ordered UUID (`fieldapp.ids`), created/updated
times (UTC), its author and its version (how many changes made it what it is; the change log
writes it). Every stored time is UTC; where the recorder's clock matters (a visit, a check) its
offset from UTC is kept beside it, in minutes (`fieldapp.instants`).
List-valued fields (units, assignees) are JSON arrays. Overdue is not a column: it is derived
from the deadline (see `fieldapp.domain.is_overdue` and `fieldapp.queries`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fieldapp import instants
from fieldapp.ids import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Record:
    """Columns every synced record carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(64), default="")
    # Not in the logged record: each log entry names the version it was made on instead.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    def to_dict(self) -> dict[str, Any]:
        """The record as the change log holds it (without `version`)."""
        out: dict[str, Any] = {}
        for col in self.__table__.columns:  # type: ignore[attr-defined]
            if col.key == "version":
                continue
            value = getattr(self, col.key)
            if isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            out[col.key] = value
        return out


class Task(Record, Base):
    __tablename__ = "tasks"

    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), default="其他", index=True)
    responsible_units: Mapped[list[str]] = mapped_column(default=list)
    lead_unit: Mapped[str] = mapped_column(String(128), default="")
    cooperating_units: Mapped[list[str]] = mapped_column(default=list)
    region_code: Mapped[str] = mapped_column(String(6), default="", index=True)
    region_name: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    deadline_kind: Mapped[str] = mapped_column(String(16), default="none")
    deadline_text: Mapped[str] = mapped_column(String(64), default="")
    targets: Mapped[str] = mapped_column(Text, default="")
    assignees: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="assigned")  # indexed by ix_tasks_status_deadline
    # Set by the Excel import: the content key that matches a row without a code on
    # re-import, and the file / sheet the task last came from.
    import_key: Mapped[str | None] = mapped_column(String(24), index=True)
    import_source: Mapped[str] = mapped_column(Text, default="", server_default="")

    visits: Mapped[list["Visit"]] = relationship(back_populates="task", order_by="Visit.visited_at")
    findings: Mapped[list["Finding"]] = relationship(back_populates="task", order_by="Finding.created_at")

    # Covers the table's counts per status and overdue (fieldapp.task_list) without the rows.
    __table_args__ = (Index("ix_tasks_status_deadline", "status", "deadline_kind", "deadline"),)


class Visit(Record, Base):
    __tablename__ = "visits"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    visited_offset: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # recorder's, minutes
    place: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    inspector: Mapped[str] = mapped_column(String(64), default="")

    task: Mapped[Task] = relationship(back_populates="visits")

    @property
    def visited_local(self) -> dt.datetime:
        """The time as the recorder's clock showed it."""
        return instants.wall(self.visited_at, self.visited_offset)


class Finding(Record, Base):
    __tablename__ = "findings"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), default="其他")
    severity: Mapped[str] = mapped_column(String(16), default="general")
    responsible_unit: Mapped[str] = mapped_column(String(128), default="")
    requirement: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    return_reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # 退回 by the platform

    task: Mapped[Task] = relationship(back_populates="findings")
    checks: Mapped[list["Check"]] = relationship(back_populates="finding", order_by="Check.checked_at")
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="finding", order_by="Photo.created_at",
        primaryjoin="and_(Photo.finding_id == Finding.id, Photo.check_id.is_(None))",
        viewonly=True,
    )


class Check(Record, Base):
    """A rectification check (整改核查); append-only."""

    __tablename__ = "checks"

    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    checked_offset: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # recorder's, minutes
    result: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    inspector: Mapped[str] = mapped_column(String(64), default="")

    finding: Mapped[Finding] = relationship(back_populates="checks")

    @property
    def checked_local(self) -> dt.datetime:
        """The time as the recorder's clock showed it."""
        return instants.wall(self.checked_at, self.checked_offset)
    photos: Mapped[list["Photo"]] = relationship(order_by="Photo.created_at", viewonly=True)


class Photo(Record, Base):
    """Evidence: points at an immutable file named by its SHA-256; append-only."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    check_id: Mapped[str | None] = mapped_column(ForeignKey("checks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32), default="")
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the camera's clock (EXIF), no zone
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    orientation: Mapped[int] = mapped_column(Integer, default=1)

    finding: Mapped[Finding] = relationship(back_populates="photos", viewonly=True)


class ChangeLogEntry(Base):
    """Append-only, hash-chained: the audit trail and the sync outbox."""

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Since migration 0005 (empty before): "local" or "pulled", the device, the user action
    # (one op id per transaction) and the record's version the change was made on.
    origin: Mapped[str | None] = mapped_column(String(8))
    device: Mapped[str | None] = mapped_column(String(36))
    op_id: Mapped[str | None] = mapped_column(String(36))
    base_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_change_log_entity", "entity", "entity_id"),
                      Index("ix_change_log_origin", "origin", "seq"))


class SyncState(Base):
    """The core's sync settings and progress, one key per row (see `fieldapp.sync_state`)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Conflict(Base):
    """A value that lost to another writer's on the platform, kept until the user chooses."""

    __tablename__ = "conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(64))
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    change_id: Mapped[str] = mapped_column(String(36))
    server_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str] = mapped_column(String(8), default="", server_default="")  # mine / theirs

    __table_args__ = (Index("ix_conflicts_entity", "entity", "entity_id"),)


# The records that travel, by the entity name the change log and the wire use.
RECORD_MODELS: dict[str, type[Record]] = {"tasks": Task, "visits": Visit, "findings": Finding, "checks": Check,
                                          "photos": Photo}
