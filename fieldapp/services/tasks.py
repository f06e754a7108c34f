"""Task actions: create (local tasks, demo, later import/sync) and complete (办结)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, selectinload

from fieldapp.domain import CATEGORIES, DeadlineKind, FindingStatus, TaskStatus
from fieldapp.errors import InvalidInput, NotFound, Text, TransitionRefused
from fieldapp.models import Check, Finding, Task
from fieldapp.services import Changes
from fieldapp.store import Store

TASK = Text("督查任务", "Task")
COMPLETE = Text("办结", "complete the task")
TASK_FIELDS = {
    "code", "title", "category", "responsible_units", "lead_unit", "cooperating_units",
    "region_code", "region_name", "address", "deadline", "deadline_kind", "deadline_text",
    "targets", "assignees",
}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - TASK_FIELDS
    if unknown:
        raise InvalidInput(field="task", reason=f"unknown fields {sorted(unknown)}")  # a bug, not input
    title = str(fields.get("title", "")).strip()
    if not title:
        raise InvalidInput(field=Text("任务名称", "Title"), reason=Text("不能为空", "must not be empty"))
    out = dict(fields, title=title)
    if out.get("category") is None or not str(out["category"]).strip():
        out["category"] = CATEGORIES[-1]
    deadline = out.get("deadline")
    if "deadline_kind" not in out:
        out["deadline_kind"] = DeadlineKind.DATE if deadline else DeadlineKind.NONE
    if out["deadline_kind"] != DeadlineKind.DATE:
        out["deadline"] = None
    elif not isinstance(deadline, dt.date):
        raise InvalidInput(field=Text("完成时限", "Deadline"), reason=Text("需要日期", "a date is required"))
    return out


def create_task(store: Store, **fields: Any) -> Changes:
    data = _clean(fields)
    with store.transaction() as s:
        task = Task(**data)
        s.add(task)
        s.flush()
        return Changes(tasks={task.id})


def completion_refusal(task: Task) -> TransitionRefused | None:
    """Why the task cannot be completed (办结) now, or None: every finding must be closed."""
    if task.status == TaskStatus.COMPLETED:
        return TransitionRefused(action=COMPLETE, reason=Text("任务已办结", "the task is already completed"))
    open_count = sum(1 for f in task.findings if f.status != FindingStatus.CLOSED)
    if open_count:
        return TransitionRefused(action=COMPLETE, reason=Text(
            f"还有 {open_count} 个问题未销号", f"{open_count} findings are not closed yet"))
    return None


def complete_task(store: Store, task_id: str) -> Changes:
    """办结: only when every finding of the task is closed."""
    with store.transaction() as s:
        task = s.get(Task, task_id)
        if task is None:
            raise NotFound(what=TASK, ident=task_id)
        refusal = completion_refusal(task)
        if refusal:
            raise refusal
        task.status = TaskStatus.COMPLETED
        return Changes(tasks={task_id})


def load_task(session: Session, task_id: str) -> Task | None:
    """One task with its visits, findings, their photos and checks, loaded eagerly."""
    return session.get(
        Task, task_id,
        options=[
            selectinload(Task.visits),
            selectinload(Task.findings).selectinload(Finding.photos),
            selectinload(Task.findings).selectinload(Finding.checks).selectinload(Check.photos),
        ],
    )
