"""Conflicts: where another writer changed the same field first, the user chooses.

A sync keeps every value that lost on the platform as a `Conflict` (the platform's value is
already in the record). Keeping mine writes my value again as a new local change, made on the
record's current version, so it goes up like any other edit; keeping theirs only closes the
conflict. Nothing is dropped without the user having seen it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, DateTime, select

from fieldapp.errors import InvalidInput, NotFound, Text
from fieldapp.models import RECORD_MODELS, Conflict, Finding, Record, Task, Visit, utcnow
from fieldapp.services import Changes
from fieldapp.store import Store

MINE, THEIRS = "mine", "theirs"
DELETED = "deleted"  # the field of a conflict where my delete met another writer's change


@dataclass(frozen=True)
class OpenConflict:
    id: str
    entity: str
    entity_id: str
    field: str
    theirs: Any
    mine: Any
    current: Any  # what the record holds now
    record_label: str  # the task's code and title, or the finding's description
    created_at: dt.datetime


def _label(record: Record | None) -> str:
    if isinstance(record, Task):
        return f"{record.code or ''} {record.title}".strip()
    if isinstance(record, Finding):
        return record.description
    if isinstance(record, Visit):
        return record.place or record.summary
    return ""


def open_conflicts(store: Store) -> list[OpenConflict]:
    with store.session() as s:
        rows = s.scalars(select(Conflict).where(Conflict.resolved_at.is_(None)).order_by(Conflict.created_at)).all()
        out = []
        for k in rows:
            model = RECORD_MODELS.get(k.entity)
            record = s.get(model, k.entity_id) if model else None
            out.append(OpenConflict(k.id, k.entity, k.entity_id, k.field, k.theirs, k.mine,
                                    getattr(record, k.field, None) if record is not None else None,
                                    _label(record), k.created_at))
        return out


def _local_value(model: type[Record], field: str, value: Any) -> Any:
    """A value as the wire carried it → what the column holds."""
    column = model.__table__.columns.get(field)  # type: ignore[attr-defined]
    if column is None:
        raise InvalidInput(field=Text("字段", "Field"), reason=Text(f"未知字段 {field}", f"unknown field {field}"))
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        when = dt.datetime.fromisoformat(value)
        return when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    return value


def resolve(store: Store, conflict_id: str, keep: str) -> Changes:
    """Close a conflict keeping `mine` (my value is written again, as a new change) or `theirs`."""
    if keep not in (MINE, THEIRS):
        raise InvalidInput(field=Text("处理方式", "Choice"), reason=Text("须为保留我的或采用平台的", "mine or theirs"))
    with store.transaction() as s:
        k = s.get(Conflict, conflict_id)
        if k is None or k.resolved_at is not None:
            raise NotFound(what=Text("冲突", "Conflict"), ident=conflict_id)
        changes = Changes()
        model = RECORD_MODELS[k.entity]
        record = s.get(model, k.entity_id)
        if keep == MINE and record is not None and k.field == DELETED:
            s.delete(record)  # my delete, again: a new change on the version the platform holds
            s.flush()
        elif keep == MINE and record is not None:
            setattr(record, k.field, _local_value(model, k.field, k.mine))
            task_id = getattr(record, "task_id", None) or (record.id if isinstance(record, Task) else None)
            if task_id:
                changes.tasks.add(task_id)
            if isinstance(record, Finding):
                changes.findings.add(record.id)
        k.resolved_at = utcnow()
        k.resolution = keep
        return changes
