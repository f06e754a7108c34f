"""The platform's records: who sees and writes what, and the one path every write takes.

Every change to a record — pushed by a device or made by the platform itself (an import, a
returned finding) — goes through `create`, `update` or `delete` here: the record's version
moves, the change is kept with the fields it touched (what the field-level merge of a later
stale update looks at), and the record enters the feed that clients pull.

Visibility hangs on the task: an inspector sees the tasks assigned to them and everything
under those tasks; a supervisor their unit's tasks (`owner_unit`) and everything under them;
an admin everything.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from sync.contract import Role
from sync.server.auth import Caller
from sync.server.db import (
    AssignmentRow,
    ChangeRow,
    ConflictRow,
    FeedRow,
    RecordRow,
    utcnow,
)

PLATFORM_DEVICE = "platform"  # device id of the changes the platform makes itself
TASK_STATUS_FIELD = "status"  # the one task field an assigned inspector may write
PARENT_FIELD = {"visits": "task_id", "findings": "task_id", "checks": "finding_id", "photos": "finding_id"}
# Evidence: created, never updated or deleted, by anyone (DESIGN.md, "Sync principles").
APPEND_ONLY = frozenset({"checks", "photos"})
# A finding is "submitted" (提交核查) once its status has been one of these at any time: its
# status is set to pending_check by its author's submission, closed only after a check. The
# record keeps that as `RecordRow.submitted` (set by `create` and `update`, the only writers of
# a record's fields; migration 0003 for findings kept before). A return (退回) sends a submitted
# finding back to rectifying: it stays submitted. Until submitted, a finding is its author's
# alone (`authors_only`).
SUBMITTED_STATUSES = frozenset({"pending_check", "closed"})


def stream_of(entity: str) -> str:
    return "tasks" if entity == "tasks" else "records"


def canonical_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, compact, UTF-8)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finite_json(value: Any) -> bool:
    """False for NaN or infinity anywhere: JSON has no such numbers and PostgreSQL refuses them."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    return True


# ---------------------------------------------------------------- visibility


def assigned(s: Session, task_id: str, user: str) -> bool:
    row = s.get(AssignmentRow, (task_id, user))
    return row is not None and row.assigned


def can_see(s: Session, caller: Caller, rec: RecordRow) -> bool:
    """Whether `caller` may see `rec` (any entity: decided by its task)."""
    if caller.role == Role.ADMIN:
        return True
    if caller.role == Role.SUPERVISOR:
        return rec.owner_unit == caller.unit
    return assigned(s, rec.task_id, caller.name)


def visible_clause(caller: Caller) -> ColumnElement[bool]:
    """The same rule as `can_see`, as a condition on RecordRow for queries."""
    if caller.role == Role.ADMIN:
        return true()
    if caller.role == Role.SUPERVISOR:
        return RecordRow.owner_unit == caller.unit
    return exists().where(AssignmentRow.task_id == RecordRow.task_id, AssignmentRow.user == caller.name,
                          AssignmentRow.assigned.is_(True))


def feed_visible_clause(caller: Caller) -> ColumnElement[bool]:
    """A feed row is for everyone who sees its record, unless it names one user."""
    return and_(visible_clause(caller), or_(FeedRow.user.is_(None), FeedRow.user == caller.name))


def authors_only(rec: RecordRow) -> bool:
    """A finding never submitted for checking: only its author may change or delete it (any
    role; the platform's own return, `platform_update`, is not a write of a user)."""
    return rec.entity == "findings" and not rec.submitted


def can_write(s: Session, caller: Caller, rec: RecordRow, fields: dict[str, Any] | None) -> bool:
    """Whether `caller` may update (`fields`) or delete (None) the existing `rec`.

    Checks and photos are append-only: no one updates or deletes them. A finding not yet
    submitted is its author's alone. Beyond that, inspectors write only their own records, and
    of a task only its status (when it is assigned to them): every other task field is the
    platform's (dispatch fields)."""
    if rec.entity in APPEND_ONLY:
        return False
    if authors_only(rec) and rec.author != caller.name:
        return False
    if caller.role == Role.ADMIN:
        return True
    if caller.role == Role.SUPERVISOR:
        return rec.owner_unit == caller.unit
    if not assigned(s, rec.task_id, caller.name):
        return False
    if rec.entity == "tasks":
        return fields is not None and set(fields) <= {TASK_STATUS_FIELD}
    return rec.author == caller.name


# ---------------------------------------------------------------- the write path


def append_feed(s: Session, rec: RecordRow, user: str | None = None) -> None:
    s.add(FeedRow(stream=stream_of(rec.entity), entity=rec.entity, entity_id=rec.id, task_id=rec.task_id, user=user))


def keep_change(s: Session, rec: RecordRow, *, change_id: str, payload_hash: str, outcome: str,
                fields_changed: list[str], device_id: str = PLATFORM_DEVICE, seq: int = 0, hash: str = "",
                base_version: int | None = None, seen_version: int | None = None) -> None:
    base = rec.version - 1 if base_version is None else base_version
    s.add(ChangeRow(change_id=change_id, device_id=device_id, seq=seq, hash=hash, entity=rec.entity,
                    entity_id=rec.id, payload_hash=payload_hash, outcome=outcome, version=rec.version,
                    base_version=base, seen_version=base if seen_version is None else seen_version,
                    fields_changed=fields_changed, received_at=utcnow()))


def seen_version(s: Session, rec: RecordRow, device_id: str, base_version: int) -> int:
    """The platform's version of `rec` that a device's change was really made on.

    A device counts versions itself: its second offline edit of a record says base_version 2
    though the platform may have given its first edit version 5 (others wrote in between). A
    change made on top of the device's own previous change (base one more than that one's) was
    made on what that one was made on; so were changes whose base the platform never reached
    (the device counted changes the platform refused). Otherwise the device had pulled the
    version it names."""
    prev = s.scalars(select(ChangeRow).where(
        ChangeRow.entity == rec.entity, ChangeRow.entity_id == rec.id, ChangeRow.device_id == device_id)
        .order_by(ChangeRow.version.desc(), ChangeRow.received_at.desc()).limit(1)).first()
    if prev is not None and (base_version == prev.base_version + 1 or base_version > rec.version):
        return min(prev.seen_version, base_version)
    return min(base_version, rec.version)


def create(s: Session, entity: str, record_id: str, fields: dict[str, Any], *, task_id: str,
           owner_unit: str, author: str) -> RecordRow:
    rec = RecordRow(entity=entity, id=record_id, task_id=task_id, owner_unit=owner_unit, author=author,
                    version=1, deleted=False, fields=dict(fields), updated_at=utcnow(),
                    sha256=fields.get("sha256") if entity == "photos" else None,
                    submitted=entity == "findings" and fields.get("status") in SUBMITTED_STATUSES)
    s.add(rec)
    append_feed(s, rec)
    return rec


def touched_since(s: Session, rec: RecordRow, seen: int, own_device: str | None = None) -> set[str]:
    """The fields that accepted changes after version `seen` wrote, but for those of
    `own_device` (the changes a device's change was built on are no news to it)."""
    q = select(ChangeRow.fields_changed).where(
        ChangeRow.entity == rec.entity, ChangeRow.entity_id == rec.id, ChangeRow.version > seen)
    if own_device is not None:
        q = q.where(ChangeRow.device_id != own_device)
    return {f for changed in s.scalars(q) for f in (changed or [])}


def update(s: Session, rec: RecordRow, fields: dict[str, Any], base_version: int, *, change_id: str,
           user: str, device_id: str = PLATFORM_DEVICE, seen: int | None = None) -> tuple[list[str], list[ConflictRow]]:
    """Apply `fields`, made on `base_version` (the platform's version `seen`, see
    `seen_version`), field by field. A field that another writer changed since, to another
    value, is not applied: it becomes a Conflict (theirs: the value kept, mine: the change's).
    Returns the applied fields and the conflicts; the version moves when something was applied."""
    seen = base_version if seen is None else seen
    # Read as made on an earlier version than it names: it was built on the device's own
    # changes in between. A device that names a stale version of its own making is treated as
    # any other writer (its earlier change is then news to it).
    own = device_id if seen < base_version else None
    stale = touched_since(s, rec, seen, own) if rec.version != seen else set()
    applied: list[str] = []
    conflicts: list[ConflictRow] = []
    new_fields = dict(rec.fields)
    for name, value in fields.items():
        if name in stale and new_fields.get(name) != value:
            conflicts.append(ConflictRow(
                id=str(uuid.uuid4()), entity=rec.entity, entity_id=rec.id, change_id=change_id, field=name,
                theirs=new_fields.get(name), mine=value, base_version=base_version, user=user,
                created_at=utcnow(), resolved=False))
            continue
        new_fields[name] = value
        applied.append(name)
    if applied:
        rec.fields = new_fields  # a new dict: SQLAlchemy sees a JSON column change only on assignment
        if rec.entity == "findings" and new_fields.get("status") in SUBMITTED_STATUSES:
            rec.submitted = True
        rec.version += 1
        rec.updated_at = utcnow()
        append_feed(s, rec)
    s.add_all(conflicts)
    return applied, conflicts


DELETED_FIELD = "deleted"  # the `field` of a conflict raised by a stale delete


def delete(s: Session, rec: RecordRow, base_version: int | None = None, *, change_id: str = "", user: str = "",
           device_id: str = PLATFORM_DEVICE, seen: int | None = None) -> ConflictRow | None:
    """A tombstone: the record stays, marked deleted, so the deletion travels.

    A delete made on `base_version` (the platform's version `seen`, read as for `update`) after
    which another writer changed the record is stale: it is not applied but kept as a conflict
    on the field "deleted" (theirs: the record's current fields, mine: true), which is returned.
    `base_version` None: the platform's own delete, on the current version."""
    if rec.deleted:
        return None
    if base_version is not None:
        seen = base_version if seen is None else seen
        own = device_id if seen < base_version else None
        if rec.version != seen and touched_since(s, rec, seen, own):
            conflict = ConflictRow(id=str(uuid.uuid4()), entity=rec.entity, entity_id=rec.id, change_id=change_id,
                                   field=DELETED_FIELD, theirs=dict(rec.fields), mine=True,
                                   base_version=base_version, user=user, created_at=utcnow(), resolved=False)
            s.add(conflict)
            return conflict
    rec.deleted = True
    rec.version += 1
    rec.updated_at = utcnow()
    append_feed(s, rec)
    return None


def platform_update(s: Session, rec: RecordRow, fields: dict[str, Any], *, user: str = "platform") -> list[str]:
    """A change the platform makes itself (import, return): made on the current version, so
    it always applies, and kept like a pushed change so a device's stale edit of the same
    fields becomes a conflict instead of silently undoing it."""
    change_id = str(uuid.uuid4())
    base = rec.version
    applied, _ = update(s, rec, fields, base, change_id=change_id, user=user)
    if applied:
        keep_change(s, rec, change_id=change_id, payload_hash=canonical_hash(fields),
                    outcome="applied", fields_changed=applied, base_version=base)
    return applied


def platform_create(s: Session, entity: str, record_id: str, fields: dict[str, Any], *, task_id: str,
                    owner_unit: str, author: str = "platform") -> RecordRow:
    rec = create(s, entity, record_id, fields, task_id=task_id, owner_unit=owner_unit, author=author)
    keep_change(s, rec, change_id=str(uuid.uuid4()), payload_hash=canonical_hash(fields), outcome="applied",
                fields_changed=sorted(fields), base_version=0)
    return rec
