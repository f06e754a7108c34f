"""Conflicts: changes the platform kept but did not apply over another writer's value.

Each is the caller's own (raised by their push) until they resolve it: resolving only closes
it; taking their own value after all is a new change on the current version, pushed as usual.
"""

from __future__ import annotations

from sqlalchemy import select

from sync.contract import Conflict, ConflictList
from sync.server.auth import Caller
from sync.server.db import ConflictRow, Database, aware
from sync.server.errors import forbidden, not_found


def conflict_model(c: ConflictRow) -> Conflict:
    return Conflict(id=c.id, entity=c.entity, entity_id=c.entity_id, change_id=c.change_id, field=c.field,  # type: ignore[arg-type]
                    theirs=c.theirs, mine=c.mine, base_version=c.base_version, created_at=aware(c.created_at),
                    resolved=c.resolved)


def open_conflicts(db: Database, caller: Caller) -> ConflictList:
    with db.read() as s:
        rows = s.scalars(select(ConflictRow).where(ConflictRow.user == caller.name, ConflictRow.resolved.is_(False))
                         .order_by(ConflictRow.created_at, ConflictRow.id))
        return ConflictList(conflicts=[conflict_model(c) for c in rows])


def resolve(db: Database, caller: Caller, conflict_id: str) -> None:
    with db.write(feed=False) as s:
        row = s.get(ConflictRow, conflict_id)
        if row is None:
            raise not_found("冲突", "conflict")
        if row.user != caller.name and not caller.admin:
            raise forbidden("这不是你的冲突", "this conflict is another user's")
        row.resolved = True
