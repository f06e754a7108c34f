"""发现问题 and its lifecycle: 待整改 → 整改中 → 待核查 → 已销号, 退回 on a failed check.

Photos are written to disk (durably) before the transaction that points at them begins, so a
refused photo or a crash never leaves a row without its file.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from collections.abc import Iterable

from fieldapp import instants, sync_state
from fieldapp.domain import FINDING_MOVES, CheckResult, FindingStatus, PhotoKind, Severity, TaskStatus
from fieldapp.errors import FieldAppError, InvalidInput, NotFound, PhotoRejected, Text, TransitionRefused
from fieldapp.models import Check, Finding, Photo, Task
from fieldapp.photos import MAX_FILE_BYTES, PhotoInfo, size_refusal
from fieldapp.services import Changes, Progress, check_cancel
from fieldapp.store import Store

FINDING = Text("发现问题", "Finding")


def _choice(enum, value: str, field: Text):  # noqa: ANN001, ANN202 - one of our Labeled enums
    try:
        return enum(value)
    except ValueError:
        allowed = [m.label("zh_CN") for m in enum], [m.label("en") for m in enum]
        raise InvalidInput(field=field, reason=Text("应为 " + "/".join(allowed[0]),
                                                    "must be one of " + "/".join(allowed[1]))) from None


def photos_refusal(finding: Finding) -> TransitionRefused | None:
    """Why photos cannot be added to this finding now, or None: a closed one's record is final."""
    if finding.status == FindingStatus.CLOSED:
        return TransitionRefused(action=Text("添加照片", "add photos"), reason=Text(
            "问题已销号，其证据已定稿，不能再添加照片", "the finding is closed and its evidence is final"))
    return None


CHECK = Text("整改核查", "check the rectification")


def check_refusal(finding: Finding, action: Text = CHECK) -> TransitionRefused | None:
    """Why the finding cannot be checked now, or None (the window asks before opening the form)."""
    if finding.status == FindingStatus.PENDING_CHECK:
        return None
    current = FindingStatus(finding.status)
    return TransitionRefused(action=action, reason=Text(
        f"问题当前为“{current.label('zh_CN')}”，只有“待核查”的问题可以核查",
        f"the finding is “{current.label('en')}”; only findings awaiting check can be checked"))


def fresh_after_photos(finding: Finding) -> int:
    """整改后 photos put on the finding itself since its last check: evidence for the next one."""
    last = max((c.created_at for c in finding.checks), default=None)
    return sum(1 for p in finding.photos if p.kind == PhotoKind.AFTER and (last is None or p.created_at > last))


def _raise(refusal: TransitionRefused | None) -> None:
    if refusal is not None:
        raise refusal


def _open_finding(finding: Finding | None, finding_id: str) -> Finding:
    if finding is None:
        raise NotFound(what=FINDING, ident=finding_id)
    _raise(photos_refusal(finding))
    return finding


def finding_refusal(task: Task) -> TransitionRefused | None:
    """Why no finding can be added to this task now, or None."""
    if task.status == TaskStatus.COMPLETED:
        return TransitionRefused(action=Text("新增问题", "add a finding"),
                                 reason=Text("任务已办结", "the task is completed"))
    return None


def record_finding(
    store: Store, task_id: str, *, description: str, category: str = "其他",
    severity: str = Severity.GENERAL, responsible_unit: str = "", requirement: str = "",
    due_date: dt.date | None = None, visit_id: str | None = None,
) -> Changes:
    if not description.strip():
        raise InvalidInput(field=Text("问题描述", "Description"), reason=Text("不能为空", "must not be empty"))
    severity = _choice(Severity, severity, Text("严重程度", "Severity"))
    with store.transaction() as s:
        task = s.get(Task, task_id)
        if task is None:
            raise NotFound(what=Text("督查任务", "Task"), ident=task_id)
        _raise(finding_refusal(task))
        finding = Finding(
            task_id=task_id, visit_id=visit_id, description=description.strip(),
            category=category.strip() or "其他", severity=severity,
            responsible_unit=responsible_unit.strip(), requirement=requirement.strip(),
            due_date=due_date, status=FindingStatus.OPEN,
        )
        s.add(finding)
        if task.status == TaskStatus.ASSIGNED:
            task.status = TaskStatus.IN_PROGRESS
        s.flush()
        return Changes(tasks={task_id}, findings={finding.id})


def _move(store: Store, finding_id: str, target: FindingStatus) -> Changes:
    with store.transaction() as s:
        finding = s.get(Finding, finding_id)
        if finding is None:
            raise NotFound(what=FINDING, ident=finding_id)
        current = FindingStatus(finding.status)
        move = FINDING_MOVES.get((current, target))
        if move is None:
            action = next((Text(*m) for (src, dst), m in FINDING_MOVES.items() if dst == target),
                          Text("变更状态", "change the status"))
            raise TransitionRefused(action=action, reason=Text(
                f"问题当前为“{current.label('zh_CN')}”，只有“{_source(target).label('zh_CN')}”的问题可以这样操作",
                f"the finding is “{current.label('en')}”; only “{_source(target).label('en')}” findings can",
            ))
        finding.status = target
        return Changes(tasks={finding.task_id}, findings={finding_id})


def _source(target: FindingStatus) -> FindingStatus:
    return next(src for (src, dst) in FINDING_MOVES if dst == target)


def start_rectification(store: Store, finding_id: str) -> Changes:
    """待整改 → 整改中: the responsible unit has started fixing it."""
    return _move(store, finding_id, FindingStatus.RECTIFYING)


def submit_for_check(store: Store, finding_id: str) -> Changes:
    """整改中 → 待核查: the unit reports it fixed; an inspector must now check."""
    return _move(store, finding_id, FindingStatus.PENDING_CHECK)


def _ingest(
    store: Store, paths: Iterable[Path], progress: Progress | None, cancel: threading.Event | None,
) -> tuple[list[tuple[Path, PhotoInfo]], list[FieldAppError]]:
    """Validate and durably store photo files; return the good ones and the refusals."""
    paths = list(paths)
    stored: list[tuple[Path, PhotoInfo]] = []
    refused: list[FieldAppError] = []
    # What the platform accepts, learnt at the last sync: a photo it would refuse is refused now.
    limit = sync_state.read(store, sync_state.MAX_PHOTO_BYTES) or MAX_FILE_BYTES
    for i, path in enumerate(paths):
        check_cancel(cancel)
        try:
            too_large = size_refusal(Path(path).stat().st_size, Path(path).name, limit)
            if too_large:  # said before reading: a 2 GB file must not fill memory
                refused.append(too_large)
                continue
            data = Path(path).read_bytes()
        except OSError as exc:
            refused.append(PhotoRejected(str(exc), name=Path(path).name,
                                         reason=Text("无法读取文件", "the file cannot be read")))
            continue
        try:
            stored.append((Path(path), store.photos.put(data, Path(path).name)))
        except PhotoRejected as exc:
            refused.append(exc)
        if progress:
            progress(i + 1, len(paths))
    return stored, refused


def _photo_row(finding_id: str, check_id: str | None, kind: PhotoKind, path: Path, info: PhotoInfo) -> Photo:
    return Photo(
        finding_id=finding_id, check_id=check_id, kind=kind, original_name=path.name,
        sha256=info.sha256, size=info.size, width=info.width, height=info.height, mime=info.mime,
        taken_at=info.taken_at, latitude=info.latitude, longitude=info.longitude,
        orientation=info.orientation,
    )


def add_photos(
    store: Store, finding_id: str, paths: Iterable[Path], kind: str = PhotoKind.SITE, *,
    progress: Progress | None = None, cancel: threading.Event | None = None,
) -> Changes:
    """Attach photos to a finding. Bad files are refused one by one (see `Changes.refused`);
    the good ones are attached in one transaction."""
    kind = _choice(PhotoKind, kind, Text("照片类型", "Photo kind"))
    with store.session() as s:
        _open_finding(s.get(Finding, finding_id), finding_id)
    stored, refused = _ingest(store, paths, progress, cancel)
    changes = Changes(refused=refused)
    if not stored:
        return changes
    check_cancel(cancel)
    with store.transaction() as s:
        finding = _open_finding(s.get(Finding, finding_id), finding_id)
        for path, info in stored:
            row = _photo_row(finding_id, None, kind, path, info)
            s.add(row)
            s.flush()
            changes.photos.add(row.id)
        changes.findings.add(finding_id)
        changes.tasks.add(finding.task_id)
    return changes


def record_check(
    store: Store, finding_id: str, *, result: str, note: str = "",
    photos: Iterable[tuple[Path, str]] = (), checked_at: dt.datetime | None = None,
    inspector: str = "", progress: Progress | None = None, cancel: threading.Event | None = None,
) -> Changes:
    """整改核查. A passing check closes (销号) the finding and needs at least one 整改后 photo,
    given with the check or already on the finding since its last check; 未整改 sends it back
    (退回) to 整改中. Any refused photo refuses the whole check."""
    result = _choice(CheckResult, result, Text("核查结果", "Check result"))
    photos = [(Path(p), _choice(PhotoKind, k, Text("照片类型", "Photo kind"))) for p, k in photos]
    action = Text("记录核查", "record the check") if not result.passes else Text("销号", "close the finding")

    def refuse(zh: str, en: str) -> TransitionRefused:
        return TransitionRefused(action=action, reason=Text(zh, en))

    with store.session() as s:
        finding = s.get(Finding, finding_id)
        if finding is None:
            raise NotFound(what=FINDING, ident=finding_id)
        _raise(check_refusal(finding, action))
        evidence = fresh_after_photos(finding)
    if result.passes and not evidence and not any(k == PhotoKind.AFTER for _p, k in photos):
        raise refuse("销号需要至少一张“整改后”照片作为证据",
                     "closing needs at least one “After” photo as evidence")
    kinds = dict(photos)
    stored, refused = _ingest(store, kinds, progress, cancel)
    if refused:
        raise refused[0]
    check_cancel(cancel)
    with store.transaction() as s:
        finding = s.get(Finding, finding_id)
        if finding is None:
            raise NotFound(what=FINDING, ident=finding_id)
        _raise(check_refusal(finding, action))
        utc, offset = instants.split(checked_at or dt.datetime.now().astimezone())
        check = Check(
            finding_id=finding_id, checked_at=utc, checked_offset=offset, result=result,
            note=note.strip(), inspector=inspector or store.author,
        )
        s.add(check)
        s.flush()
        changes = Changes(tasks={finding.task_id}, findings={finding_id}, checks={check.id})
        for path, info in stored:
            row = _photo_row(finding_id, check.id, kinds[path], path, info)
            s.add(row)
            s.flush()
            changes.photos.add(row.id)
        finding.status = FindingStatus.CLOSED if result.passes else FindingStatus.RECTIFYING
        return changes
