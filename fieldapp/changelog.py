"""The append-only, hash-chained change log.

Every insert, update and delete of a record is written, in the same transaction, as one entry
(who, when, what, before/after). Each entry's hash covers its content and the previous entry's
hash, so editing or deleting any row breaks the chain from that point on; `verify_chain` says
where. SQLite triggers refuse UPDATE and DELETE on the table as a first line of defence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from fieldapp.models import ChangeLogEntry, Record, new_id, utcnow

GENESIS = "0" * 64

# Fields whose change says nothing on its own (every update moves them).
_QUIET = {"updated_at"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def _hashed_fields(e: ChangeLogEntry) -> dict[str, Any]:
    return {
        "id": e.id, "at": _jsonable(e.at), "author": e.author, "entity": e.entity,
        "entity_id": e.entity_id, "action": e.action, "before": e.before, "after": e.after,
    }


def _last_hash(session: Session) -> str:
    cached = session.info.get("chain_head")
    if cached is not None:
        return cached
    row = session.connection().execute(
        select(ChangeLogEntry.hash).order_by(ChangeLogEntry.seq.desc()).limit(1)
    ).first()
    return row[0] if row else GENESIS


def _append(session: Session, entity: str, entity_id: str, action: str,
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    entry = ChangeLogEntry(
        id=new_id(), at=utcnow(), author=session.info.get("author", ""),
        entity=entity, entity_id=entity_id, action=action, before=before, after=after,
    )
    entry.prev_hash = _last_hash(session)
    entry.hash = entry_hash(entry.prev_hash, _hashed_fields(entry))
    session.info["chain_head"] = entry.hash
    session.add(entry)


def _diff(obj: Record) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if not hist.has_changes() or attr.key in _QUIET:
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        before[attr.key] = _jsonable(old)
        after[attr.key] = _jsonable(new)
    return before, after


def _apply_defaults(obj: Record) -> None:
    """Fill Python-side column defaults now, so the logged "after" is what the row will hold
    (SQLAlchemy would otherwise apply them only at INSERT, after the entry is written)."""
    for col in obj.__table__.columns:  # type: ignore[attr-defined]
        default = col.default
        if default is None or getattr(obj, col.key) is not None:
            continue
        if default.is_scalar:
            setattr(obj, col.key, default.arg)
        elif default.is_callable:
            setattr(obj, col.key, default.arg(None))


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    author = session.info.get("author", "")
    now = utcnow()
    for obj in list(session.new):
        if isinstance(obj, Record):
            if not obj.id:
                obj.id = new_id()
            obj.author = obj.author or author
            obj.created_at = obj.created_at or now
            obj.updated_at = obj.updated_at or obj.created_at
            _apply_defaults(obj)
            _append(session, obj.__tablename__, obj.id, "create", None, obj.to_dict())
    for obj in list(session.dirty):
        if isinstance(obj, Record) and session.is_modified(obj, include_collections=False):
            before, after = _diff(obj)
            if after:
                obj.updated_at = now
                _append(session, obj.__tablename__, obj.id, "update", before, after)
    for obj in list(session.deleted):
        if isinstance(obj, Record):
            _append(session, obj.__tablename__, obj.id, "delete", obj.to_dict(), None)


def _forget_head(session: Session, *_: Any) -> None:
    session.info.pop("chain_head", None)


def install(session_class: type[Session]) -> None:
    """Hook the log into every flush of sessions made by `session_class`."""
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_rollback", _forget_head)
    event.listen(session_class, "after_commit", _forget_head)


@dataclass
class ChainReport:
    entries: int
    broken_at: int | None = None  # seq of the first entry that does not verify
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(entries: Iterable[ChangeLogEntry]) -> ChainReport:
    prev = GENESIS
    count = 0
    expected_seq = None
    for e in entries:
        count += 1
        if expected_seq is not None and e.seq != expected_seq:
            return ChainReport(count, e.seq, f"entries {expected_seq}..{e.seq - 1} are missing")
        expected_seq = e.seq + 1
        if e.prev_hash != prev:
            return ChainReport(count, e.seq, "does not follow the entry before it")
        if entry_hash(prev, _hashed_fields(e)) != e.hash:
            return ChainReport(count, e.seq, "content does not match its hash (edited)")
        prev = e.hash
    return ChainReport(count)
