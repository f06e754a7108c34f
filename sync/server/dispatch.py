"""What the platform does on its own account: import task lists, assign tasks, return findings.

Each goes through the same record write path as a pushed change (`sync.server.records`), so
it enters the feed and the devices pull it. Assigning a task also re-sends the task and
everything under it to the new assignee (feed rows meant for them alone): their cursor is
past those rows, and they had not been allowed to see them before.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.contract import ENTITIES, Role, Stream
from sync.server import records
from sync.server.db import AssignmentRow, Database, FeedRow, RecordRow, User


class DispatchError(ValueError):
    """A platform action that cannot be done, with its reason in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def find_task(s: Session, code: str) -> RecordRow:
    """The live task whose code (任务编号) is `code`."""
    found = [r for r in s.scalars(select(RecordRow).where(RecordRow.entity == "tasks", RecordRow.deleted.is_(False)))
             if r.fields.get("code") == code]
    if not found:
        raise DispatchError(f"没有编号为 {code} 的任务", f"no task with code {code}")
    if len(found) > 1:
        units = ", ".join(sorted(r.owner_unit for r in found))
        raise DispatchError(f"编号 {code} 对应多个单位的任务：{units}", f"several units have a task {code}: {units}")
    return found[0]


def _user(s: Session, name: str) -> User:
    user = s.get(User, name)
    if user is None:
        raise DispatchError(f"没有用户 {name}", f"no user {name}")
    return user


def _assignment_row(s: Session, task: RecordRow, user: str) -> None:
    s.add(FeedRow(stream=Stream.ASSIGNMENTS.value, entity="tasks", entity_id=task.id, task_id=task.id, user=user))


def assign(db: Database, task_code: str, user_name: str) -> bool:
    """Assign the task to the user; False when it already was."""
    with db.write() as s:
        task = find_task(s, task_code)
        _user(s, user_name)
        row = s.get(AssignmentRow, (task.id, user_name))
        if row is not None and row.assigned:
            return False
        if row is None:
            s.add(AssignmentRow(task_id=task.id, user=user_name, assigned=True))
        else:
            row.assigned = True
        _assignment_row(s, task, user_name)
        # Parents before children, as a batch applies them; tombstones too (they may hold an old copy).
        under = sorted(s.scalars(select(RecordRow).where(RecordRow.task_id == task.id)),
                       key=lambda r: (ENTITIES.index(r.entity), r.updated_at, r.id))
        for rec in under:
            records.append_feed(s, rec, user=user_name)
        return True


def unassign(db: Database, task_code: str, user_name: str) -> bool:
    """Take the task off the user's list (they pull an assignment tombstone); False when it was not on it."""
    with db.write() as s:
        task = find_task(s, task_code)
        row = s.get(AssignmentRow, (task.id, user_name))
        if row is None or not row.assigned:
            return False
        row.assigned = False
        _assignment_row(s, task, user_name)
        return True


def return_finding(db: Database, finding_id: str, reason: str, by: str | None = None) -> int:
    """退回: the finding goes back to 整改中 with the reason; returns its new version."""
    if not reason.strip():
        raise DispatchError("请写明退回理由", "give the reason for returning the finding")
    with db.write() as s:
        rec = s.get(RecordRow, ("findings", finding_id))
        if rec is None or rec.deleted:
            raise DispatchError(f"没有问题 {finding_id}", f"no finding {finding_id}")
        if by is not None:
            user = _user(s, by)
            if not (user.role == Role.ADMIN or (user.role == Role.SUPERVISOR and user.unit == rec.owner_unit)):
                raise DispatchError(f"{by} 不是该问题所属单位的督查组长", f"{by} is not a supervisor of the finding's unit")
        returned_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        records.platform_update(s, rec, {"status": "rectifying", "return_reason": reason.strip(),
                                         "returned_at": returned_at}, user=by or "platform")
        return rec.version


# ---------------------------------------------------------------- importing a task list


# The task fields an import writes on the platform; status only on a new task (it is the
# inspector's after that), assignees never (assignments are the platform's own).
IMPORT_FIELDS = ("code", "title", "category", "responsible_units", "lead_unit", "cooperating_units", "region_code",
                 "region_name", "address", "deadline", "deadline_kind", "deadline_text", "targets", "import_key")


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_rows: int = 0
    errors: list[str] = field(default_factory=list)


def read_task_list(path: Path, *, skip_errors: bool = False) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The tasks of a workbook as FieldApp's own importer reads them (into a scratch store):
    their fields, the number of rows skipped and the rows in error (`ImportRefused` unless
    `skip_errors`)."""
    from fieldapp.models import Task
    from fieldapp.services.task_import import (
        ERROR,
        SKIPPED,
        apply,
        check_importable,
        preview,
    )
    from fieldapp.store import Store

    with tempfile.TemporaryDirectory(prefix="fieldapp-platform-import-") as tmp:
        store = Store(Path(tmp) / "data", author="platform")
        try:
            p = preview(store, path)
            check_importable(p.sheets, path.name)
            apply(store, p, skip_errors=skip_errors)
            errors = [f"{r.sheet}!{r.row}: {r.reason.en if r.reason else ''}" for r in p.rows if r.status == ERROR]
            skipped = sum(1 for r in p.rows if r.status == SKIPPED)
            with store.session() as s:
                tasks = [dict(t.to_dict()) for t in s.scalars(select(Task).order_by(Task.created_at, Task.id))]
        finally:
            store.close()
    return tasks, skipped, errors


def import_tasks(db: Database, path: Path, unit: str, *, skip_errors: bool = False) -> ImportSummary:
    """Create the workbook's tasks for `unit`, or update the fields that changed of those it
    has already (matched by code, else by the importer's content key). Never deletes."""
    tasks, skipped, errors = read_task_list(Path(path), skip_errors=skip_errors)
    summary = ImportSummary(skipped_rows=skipped, errors=errors)
    with db.write() as s:
        by_code: dict[str, RecordRow] = {}
        by_key: dict[str, RecordRow] = {}
        for rec in s.scalars(select(RecordRow).where(RecordRow.entity == "tasks", RecordRow.owner_unit == unit,
                                                    RecordRow.deleted.is_(False))):
            if rec.fields.get("code"):
                by_code[rec.fields["code"]] = rec
            elif rec.fields.get("import_key"):
                by_key[rec.fields["import_key"]] = rec
        for task in tasks:
            values = {k: task.get(k) for k in IMPORT_FIELDS}
            rec = by_code.get(values["code"]) if values["code"] else by_key.get(values["import_key"] or "")
            if rec is None:
                values["status"] = task.get("status") or "assigned"
                records.platform_create(s, "tasks", task["id"], values, task_id=task["id"], owner_unit=unit)
                summary.created += 1
                continue
            changed = {k: v for k, v in values.items() if rec.fields.get(k) != v}
            if changed:
                records.platform_update(s, rec, changed)
                summary.updated += 1
            else:
                summary.unchanged += 1
    return summary
