"""POST /v1/push: one device's batch of changes, applied in one transaction, change by change.

A change id seen before is a `duplicate` when its content (the SHA-256 of its canonical JSON)
is the same, and fails the whole batch with 409 `change_id_reused` when not — nothing of the
batch is applied. A change the caller may not make (`forbidden`: among others any update or
delete of the append-only checks and photos, and another user's write of a finding not yet
submitted), or that cannot be made yet (a photo whose file has not arrived), is `rejected` with
a code and is not kept: FieldApp sends only `upload_incomplete` again, under the same id. The
rest is applied, or kept as a conflict where it is stale: a field another writer changed since,
or a delete of a record changed since (see `sync.server.records` for the merge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from sync.contract import (
    ChainHead,
    Change,
    ChangeOutcome,
    ChangeResult,
    ErrorCode,
    Message,
    PushRequest,
    PushResponse,
    Role,
)
from sync.server import records
from sync.server.auth import Caller
from sync.server.conflicts import conflict_model
from sync.server.db import (
    ChangeRow,
    ConflictRow,
    Database,
    Device,
    PhotoRow,
    RecordRow,
    naive_utc,
    utcnow,
)
from sync.server.errors import ApiError, bad_request, forbidden

MAX_SQL_INT = 2**63 - 1  # what a BIGINT holds
MAX_VERSION = 2**31 - 1  # versions are INTEGER
SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass
class Outcome:
    outcome: ChangeOutcome
    rec: RecordRow | None = None
    fields_changed: list[str] = field(default_factory=list)
    conflicts: list[ConflictRow] = field(default_factory=list)
    code: ErrorCode | None = None
    message: Message | None = None
    seen: int | None = None  # an update's base as the platform's version (records.seen_version)


def _rejected(code: ErrorCode, zh: str, en: str) -> Outcome:
    return Outcome(ChangeOutcome.REJECTED, code=code, message=Message(zh=zh, en=en))


def _forbidden() -> Outcome:
    return _rejected(ErrorCode.FORBIDDEN, "无权修改此记录", "not allowed to write this record")


def _append_only() -> Outcome:
    return _rejected(ErrorCode.FORBIDDEN, "检查记录和照片是只增不改的证据，不能修改或删除",
                     "checks and photos are append-only evidence: they cannot be changed or deleted")


def _authors_only() -> Outcome:
    return _rejected(ErrorCode.FORBIDDEN, "问题提交核查前只有记录人可以修改或删除",
                     "until a finding is submitted for checking, only its author may change or delete it")


def _not_found() -> Outcome:
    return _rejected(ErrorCode.NOT_FOUND, "平台上没有此记录（或已删除）", "the platform has no such record (or it was deleted)")


def _check_batch(req: PushRequest) -> None:
    """What the contract's types let through but the database cannot hold: refused whole."""
    for ch in req.changes:
        if ch.seq > MAX_SQL_INT or ch.base_version > MAX_VERSION:
            raise bad_request("序号或版本号超出范围", "seq or base_version out of range", change_id=ch.change_id)
        if not records.finite_json(ch.fields):
            raise bad_request("字段值不是有效的 JSON 数值", "a field holds NaN or infinity", change_id=ch.change_id)


def _create(s: Session, caller: Caller, ch: Change, _device_id: str) -> Outcome:
    rec = s.get(RecordRow, (ch.entity, ch.entity_id))
    if rec is not None:
        if not rec.deleted and rec.fields == ch.fields and records.can_see(s, caller, rec):
            return Outcome(ChangeOutcome.DUPLICATE, rec)
        return _rejected(ErrorCode.BAD_REQUEST, "平台上已有此编号的记录", "the platform already has a record with this id")
    if ch.entity == "tasks":
        if caller.role == Role.INSPECTOR:
            return _rejected(ErrorCode.FORBIDDEN, "督查员不能创建督查任务", "an inspector cannot create tasks")
        rec = records.create(s, "tasks", ch.entity_id, ch.fields, task_id=ch.entity_id, owner_unit=caller.unit,
                             author=caller.name)
        return Outcome(ChangeOutcome.APPLIED, rec, sorted(ch.fields))
    key = records.PARENT_FIELD[ch.entity]
    parent_id = ch.fields.get(key)
    if not isinstance(parent_id, str) or not parent_id:
        return _rejected(ErrorCode.BAD_REQUEST, f"缺少 {key}", f"{key} is missing")
    parent = s.get(RecordRow, ("tasks" if key == "task_id" else "findings", parent_id))
    if parent is None or parent.deleted:
        return _rejected(ErrorCode.NOT_FOUND, f"{key} 指向的记录在平台上不存在", f"the record {key} names is not on the platform")
    if not records.can_see(s, caller, parent):
        return _forbidden()
    if ch.entity == "photos":
        sha = ch.fields.get("sha256")
        if not isinstance(sha, str) or not SHA256_RE.fullmatch(sha):
            return _rejected(ErrorCode.BAD_REQUEST, "照片缺少有效的 sha256", "the photo has no valid sha256")
        if s.get(PhotoRow, sha) is None:
            return _rejected(ErrorCode.UPLOAD_INCOMPLETE, "照片文件尚未上传完成", "the photo's file has not been uploaded yet")
    rec = records.create(s, ch.entity, ch.entity_id, ch.fields, task_id=parent.task_id,
                         owner_unit=parent.owner_unit, author=caller.name)
    return Outcome(ChangeOutcome.APPLIED, rec, sorted(ch.fields))


def _existing(s: Session, caller: Caller, ch: Change) -> RecordRow | Outcome:
    if ch.entity in records.APPEND_ONLY:  # whoever asks, whatever the record
        return _append_only()
    rec = s.get(RecordRow, (ch.entity, ch.entity_id))
    if rec is None:
        return _not_found()
    if not records.can_see(s, caller, rec):
        return _forbidden()
    if records.authors_only(rec) and rec.author != caller.name:
        return _authors_only()
    if not records.can_write(s, caller, rec, ch.fields if ch.action == "update" else None):
        return _forbidden()
    return rec


def _update(s: Session, caller: Caller, ch: Change, device_id: str) -> Outcome:
    rec = _existing(s, caller, ch)
    if isinstance(rec, Outcome):
        return rec
    if rec.deleted:
        return _not_found()
    fixed = [records.PARENT_FIELD.get(ch.entity)] + (["sha256"] if ch.entity == "photos" else [])
    for key in fixed:
        if key and key in ch.fields and ch.fields[key] != rec.fields.get(key):
            return _rejected(ErrorCode.BAD_REQUEST, f"{key} 不能修改", f"{key} cannot be changed")
    seen = records.seen_version(s, rec, device_id, ch.base_version)
    applied, conflicts = records.update(s, rec, ch.fields, ch.base_version, change_id=ch.change_id,
                                        user=caller.name, device_id=device_id, seen=seen)
    return Outcome(ChangeOutcome.CONFLICT if conflicts else ChangeOutcome.APPLIED, rec, applied, conflicts, seen=seen)


def _delete(s: Session, caller: Caller, ch: Change, device_id: str) -> Outcome:
    rec = _existing(s, caller, ch)
    if isinstance(rec, Outcome):
        return rec
    if rec.deleted:
        return Outcome(ChangeOutcome.APPLIED, rec)
    seen = records.seen_version(s, rec, device_id, ch.base_version)
    conflict = records.delete(s, rec, ch.base_version, change_id=ch.change_id, user=caller.name,
                              device_id=device_id, seen=seen)
    if conflict is not None:  # stale: the record stays, the delete is kept as a conflict
        return Outcome(ChangeOutcome.CONFLICT, rec, conflicts=[conflict], seen=seen)
    return Outcome(ChangeOutcome.APPLIED, rec, seen=seen)


_ACTIONS = {"create": _create, "update": _update, "delete": _delete}


def push(db: Database, caller: Caller, req: PushRequest) -> PushResponse:
    _check_batch(req)
    if caller.device_id and req.device_id != caller.device_id:
        raise forbidden("此登录凭据属于另一台设备", "this token was issued to another device")
    results: list[ChangeResult] = []
    raised: list[ConflictRow] = []
    with db.write() as s:
        device = s.get(Device, req.device_id)
        if device is None:
            device = Device(device_id=req.device_id, user=caller.name, name="", pending_changes=0, pending_photos=0)
            s.add(device)
        for ch in req.changes:
            payload_hash = records.canonical_hash(ch.model_dump(mode="json"))
            stored = s.get(ChangeRow, ch.change_id)
            if stored is not None:
                if stored.payload_hash != payload_hash:
                    raise ApiError(409, ErrorCode.CHANGE_ID_REUSED, "同一变更编号的内容不同，整批未处理",
                                   "another change was accepted under this change id; nothing of the batch was applied",
                                   detail={"change_id": ch.change_id})
                results.append(ChangeResult(change_id=ch.change_id, outcome=ChangeOutcome.DUPLICATE,
                                            version=stored.version))
                continue
            out = _ACTIONS[ch.action](s, caller, ch, req.device_id)
            if out.outcome == ChangeOutcome.REJECTED or out.rec is None:
                results.append(ChangeResult(change_id=ch.change_id, outcome=ChangeOutcome.REJECTED,
                                            code=out.code, message=out.message))
                continue
            records.keep_change(s, out.rec, change_id=ch.change_id, payload_hash=payload_hash,
                                outcome=str(out.outcome), fields_changed=out.fields_changed,
                                device_id=req.device_id, seq=ch.seq, hash=ch.hash, base_version=ch.base_version,
                                seen_version=ch.base_version if out.seen is None else out.seen)
            if device.head_seq is None or ch.seq > device.head_seq:
                device.head_seq, device.head_hash = ch.seq, ch.hash
            raised.extend(out.conflicts)
            results.append(ChangeResult(change_id=ch.change_id, outcome=out.outcome, version=out.rec.version,
                                        conflict_id=out.conflicts[0].id if out.conflicts else None))
        device.pending_changes = req.pending_changes
        device.pending_photos = req.pending_photos
        device.oldest_pending_at = naive_utc(req.oldest_pending_at) if req.oldest_pending_at else None
        device.last_sync_at = utcnow()
        head = (ChainHead(seq=device.head_seq, hash=device.head_hash or "")
                if device.head_seq is not None else None)
    return PushResponse(results=results, conflicts=[conflict_model(c) for c in raised], head=head)
