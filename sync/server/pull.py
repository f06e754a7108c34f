"""GET /v1/pull/{stream}: what changed since a cursor, for the caller's eyes only, oldest first.

The cursor is a position in the feed (`FeedRow.seq`). A page holds the feed rows after it
that the caller may see, each given as its record's current state (a record written several
times in the page comes once, at its last position). The page's cursor is the largest
position it holds — never beyond — so a client that stores it after applying the page misses
nothing: rows it could not see are simply passed over again next time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, true

from sync.contract import Assignment, PulledRecord, PullResponse, Role, Stream
from sync.server.auth import Caller, user_info
from sync.server.db import AssignmentRow, Database, FeedRow, RecordRow, User
from sync.server.records import feed_visible_clause


def _records(s: Any, caller: Caller, stream: Stream, after: int, limit: int) -> PullResponse:
    rows = s.execute(
        select(FeedRow.seq, RecordRow)
        .join(RecordRow, and_(RecordRow.entity == FeedRow.entity, RecordRow.id == FeedRow.entity_id))
        .where(FeedRow.stream == stream.value, FeedRow.seq > after, feed_visible_clause(caller))
        .order_by(FeedRow.seq).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, str], tuple[int, RecordRow]] = {}
    for seq, rec in rows:
        latest[(rec.entity, rec.id)] = (seq, rec)  # later rows overwrite: the last position wins
    items = sorted(latest.values(), key=lambda item: item[0])
    return PullResponse(
        stream=stream, cursor=rows[-1][0] if rows else after, more=more,
        records=[PulledRecord(entity=rec.entity, id=rec.id, version=rec.version, deleted=rec.deleted,
                              fields={} if rec.deleted else rec.fields, feed_seq=seq) for seq, rec in items])


def _assignments(s: Any, caller: Caller, after: int, limit: int) -> PullResponse:
    if caller.role == Role.INSPECTOR:
        # Their own, whether the task is still visible or not: a tombstone must reach them.
        visible = FeedRow.user == caller.name
    elif caller.role == Role.SUPERVISOR:
        visible = RecordRow.owner_unit == caller.unit
    else:
        visible = true()
    rows = s.execute(
        select(FeedRow.seq, FeedRow.task_id, FeedRow.user, AssignmentRow.assigned)
        .join(AssignmentRow, and_(AssignmentRow.task_id == FeedRow.task_id, AssignmentRow.user == FeedRow.user))
        .join(RecordRow, and_(RecordRow.entity == "tasks", RecordRow.id == FeedRow.task_id))
        .where(FeedRow.stream == Stream.ASSIGNMENTS.value, FeedRow.seq > after, visible)
        .order_by(FeedRow.seq).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, str], Assignment] = {}
    for seq, task_id, user, assigned in rows:
        latest.pop((task_id, user), None)  # re-inserted: dicts keep insertion order, so the last position wins
        latest[(task_id, user)] = Assignment(task_id=task_id, user=user, assigned=assigned, feed_seq=seq)
    return PullResponse(stream=Stream.ASSIGNMENTS, cursor=rows[-1][0] if rows else after, more=more,
                        assignments=list(latest.values()))


def _reference(s: Any, caller: Caller, after: int) -> PullResponse:
    """The users of the caller's unit (all users for an admin), whole every time: a short list."""
    q = select(User).where(User.disabled.is_(False)).order_by(User.name)
    if caller.role != Role.ADMIN:
        q = q.where(User.unit == caller.unit)
    head = s.scalar(select(func.max(FeedRow.seq))) or 0
    return PullResponse(stream=Stream.REFERENCE, cursor=max(head, after), more=False,
                        users=[user_info(u) for u in s.scalars(q)])


def pull(db: Database, caller: Caller, stream: Stream, after: int, limit: int) -> PullResponse:
    with db.read() as s:
        if stream == Stream.ASSIGNMENTS:
            return _assignments(s, caller, after, limit)
        if stream == Stream.REFERENCE:
            return _reference(s, caller, after)
        return _records(s, caller, stream, after, limit)
