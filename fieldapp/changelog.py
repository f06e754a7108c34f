"""The append-only, hash-chained change log: the audit trail and the sync outbox.

Every insert, update and delete of a record is written, in the same transaction, as one entry
(who, when, what, before/after, on which version, from where). Each entry's hash covers its
content and the previous entry's hash, so editing or deleting any row breaks the chain from
that point on; `verify_chain` says where. SQLite triggers refuse UPDATE and DELETE on the table
as a first line of defence.

`LogWriter` is the one writer of entries: the ORM hook below (every service's writes) and the
bulk import both go through it, so a field added to an entry is added in one place. An entry's
`origin` says whether it was made here ("local", the outbox of sync) or pulled from the
platform ("pulled", never pushed back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from fieldapp.models import ChangeLogEntry, Record, new_id, utcnow

GENESIS = "0" * 64
LOCAL = "local"
PULLED = "pulled"

# Fields whose change says nothing on its own (every update moves them); `version` is
# carried by the entry's base_version instead.
_QUIET = {"updated_at", "version"}
_DATETIME_FMT = "%Y-%m-%d %H:%M:%S.%f"  # as SQLAlchemy stores a DateTime in SQLite

# The canonical JSON of a hashed payload: sorted keys, compact, UTF-8 as it is.
canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


@dataclass(frozen=True)
class Identity:
    """Who writes: given to the store when it opens (the signed-in user, or the local
    inspector's name before any sign-in) and the device (this data dir's id)."""

    user: str
    device: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


def _hashed_fields(e: ChangeLogEntry) -> dict[str, Any]:
    fields = {
        "id": e.id, "at": _jsonable(e.at), "author": e.author, "entity": e.entity,
        "entity_id": e.entity_id, "action": e.action, "before": e.before, "after": e.after,
    }
    if e.origin is not None:  # written since migration 0005
        fields.update(origin=e.origin, device=e.device, op_id=e.op_id, base_version=e.base_version)
    return fields


def chain_head(conn: Connection) -> str:
    row = conn.exec_driver_sql("SELECT hash FROM change_log ORDER BY seq DESC LIMIT 1").first()
    return row[0] if row else GENESIS


_INSERT = ("INSERT INTO change_log (id, at, author, entity, entity_id, action, before, after, prev_hash, hash, "
           "origin, device, op_id, base_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class LogWriter:
    """Appends entries to the change log within one transaction, continuing its chain.

    `add` takes the before/after records as canonical JSON text (`canonical`), so a bulk writer
    that assembles a record's JSON itself encodes it once; the hashed payload is spliced around
    it in the canonical key order, which is what `entry_hash` computes from the stored entry."""

    def __init__(self, session: Session, origin: str = LOCAL) -> None:
        self.session = session
        self.conn = session.connection()
        identity: Identity = session.info["identity"]
        self.author = identity.user
        self.origin = origin
        self.device = identity.device
        self.op_id = session.info.setdefault("op_id", new_id())
        head = session.info.get("chain_head")
        self.head = head if head is not None else chain_head(self.conn)
        self.rows: list[tuple] = []
        self.now = utcnow()
        self._now_text = self.now.strftime(_DATETIME_FMT)
        # The parts of every payload that do not change within this writer.
        self._tail = (f'"author":{canonical(self.author)},"base_version":%s,"before":%s,'
                      f'"device":{canonical(self.device)},"entity":%s,"entity_id":%s,"id":"%s",'
                      f'"op_id":"{self.op_id}","origin":"{origin}"}}')
        self._at = canonical(self.now.isoformat())

    @property
    def at_iso(self) -> str:
        """The time every entry of this writer carries, as records' created/updated times."""
        return self.now.isoformat()

    @property
    def at_text(self) -> str:
        return self._now_text

    def add(self, entity: str, entity_id: str, action: str, before_json: str, after_json: str,
            base_version: int, entry_id: str | None = None) -> None:
        entry_id = entry_id or new_id()
        payload = (f'{{"action":"{action}","after":{after_json},"at":{self._at},'
                   + self._tail % (base_version, before_json, canonical(entity), canonical(entity_id), entry_id))
        digest = hashlib.sha256((self.head + payload).encode("utf-8")).hexdigest()
        self.rows.append((
            entry_id, self._now_text, self.author, entity, entity_id, action,
            None if before_json == "null" else before_json, None if after_json == "null" else after_json,
            self.head, digest, self.origin, self.device, self.op_id, base_version,
        ))
        self.head = digest

    def flush(self) -> None:
        """Write the entries added so far; later writers of this transaction continue the chain."""
        if self.rows:
            self.conn.exec_driver_sql(_INSERT, self.rows)
            self.rows = []
        self.session.info["chain_head"] = self.head


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
    origin = session.info.get("origin", LOCAL)
    writer: LogWriter | None = None
    now = utcnow()

    def log(obj: Record, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
            base_version: int) -> None:
        nonlocal writer
        writer = writer or LogWriter(session, origin)
        if origin == PULLED and after is not None:  # the platform's version, not one more than ours
            after = {**after, "version": obj.version}
        writer.add(obj.__tablename__, obj.id, action, canonical(before), canonical(after), base_version)

    for obj in list(session.new):
        if isinstance(obj, Record):
            if not obj.id:
                obj.id = new_id()
            obj.author = obj.author or session.info["identity"].user
            obj.created_at = obj.created_at or now
            obj.updated_at = obj.updated_at or obj.created_at
            _apply_defaults(obj)
            log(obj, "create", None, obj.to_dict(), 0)
    for obj in list(session.dirty):
        if isinstance(obj, Record) and session.is_modified(obj, include_collections=False):
            before, after = _diff(obj)
            history = inspect(obj).attrs["version"].history
            version_set = history.has_changes() and bool(history.deleted)  # by a pull: the platform's
            if not after and not version_set:
                continue
            if version_set:
                base = history.deleted[0]
            else:
                base = obj.version
                obj.version = base + 1
            obj.updated_at = now
            log(obj, "update", before, after, base)
    for obj in list(session.deleted):
        if isinstance(obj, Record):
            log(obj, "delete", obj.to_dict(), None, obj.version)
    if writer is not None:
        writer.flush()


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
