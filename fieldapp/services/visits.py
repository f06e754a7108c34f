"""实地督查: record an inspector's visit to a task's site."""

from __future__ import annotations

import datetime as dt

from fieldapp import instants
from fieldapp.domain import TaskStatus
from fieldapp.errors import InvalidInput, NotFound, Text
from fieldapp.models import Task, Visit
from fieldapp.services import Changes
from fieldapp.store import Store


def record_visit(
    store: Store, task_id: str, *, visited_at: dt.datetime, place: str = "", summary: str = "",
    latitude: float | None = None, longitude: float | None = None, inspector: str = "",
) -> Changes:
    """`visited_at`: aware, or naive as this machine's local time (see `fieldapp.instants`)."""
    if (latitude is None) != (longitude is None):
        raise InvalidInput(field=Text("坐标", "Coordinates"),
                           reason=Text("纬度和经度需同时填写", "give both latitude and longitude"))
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # type: ignore[operator]
        raise InvalidInput(field=Text("坐标", "Coordinates"),
                           reason=Text("超出范围", "out of range"))
    with store.transaction() as s:
        task = s.get(Task, task_id)
        if task is None:
            raise NotFound(what=Text("督查任务", "Task"), ident=task_id)
        utc, offset = instants.split(visited_at)
        visit = Visit(
            task_id=task_id, visited_at=utc, visited_offset=offset, place=place.strip(), summary=summary.strip(),
            latitude=latitude, longitude=longitude, inspector=inspector or store.author,
        )
        s.add(visit)
        if task.status == TaskStatus.ASSIGNED:
            task.status = TaskStatus.IN_PROGRESS
        s.flush()
        return Changes(tasks={task_id}, visits={visit.id})
