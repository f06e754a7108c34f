"""Domain vocabulary of DESIGN.md: codes stored in the database, labels shown to people.

Values are stable English codes (they travel over the wire and sit in the database); every
code has a Chinese and an English label. The finding lifecycle lives here as data so the
services, the window and the reports agree on it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class Labeled(StrEnum):
    """A StrEnum whose members carry (zh, en) labels."""

    def label(self, lang: str = "zh_CN") -> str:
        zh, en = _LABELS[self]
        return en if lang.startswith("en") else zh

    @classmethod
    def label_of(cls, code: str, lang: str = "zh_CN") -> str:
        """The label of a stored code; a code this build does not know (sent by a newer
        platform or version) is shown as it is rather than breaking the view."""
        try:
            return cls(code).label(lang)
        except ValueError:
            return str(code)

    @classmethod
    def from_label(cls, text: str) -> "Labeled":
        text = text.strip()
        for member in cls:
            if text in (member.value, *_LABELS[member]):
                return member
        raise ValueError(text)


class TaskStatus(Labeled):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Severity(Labeled):
    GENERAL = "general"
    SERIOUS = "serious"
    SEVERE = "severe"


class FindingStatus(Labeled):
    OPEN = "open"
    RECTIFYING = "rectifying"
    PENDING_CHECK = "pending_check"
    CLOSED = "closed"


class CheckResult(Labeled):
    RECTIFIED = "rectified"
    BASICALLY_RECTIFIED = "basically_rectified"
    NOT_RECTIFIED = "not_rectified"

    @property
    def passes(self) -> bool:
        return self is not CheckResult.NOT_RECTIFIED


class PhotoKind(Labeled):
    SITE = "site"
    BEFORE = "before"
    AFTER = "after"


class DeadlineKind(Labeled):
    DATE = "date"
    OPEN_ENDED = "open_ended"
    NONE = "none"
    UNREAD = "unread"


_LABELS: dict[StrEnum, tuple[str, str]] = {
    TaskStatus.ASSIGNED: ("待督查", "Assigned"),
    TaskStatus.IN_PROGRESS: ("督查中", "In progress"),
    TaskStatus.COMPLETED: ("已办结", "Completed"),
    Severity.GENERAL: ("一般", "Minor"),
    Severity.SERIOUS: ("较重", "Serious"),
    Severity.SEVERE: ("严重", "Severe"),
    FindingStatus.OPEN: ("待整改", "Open"),
    FindingStatus.RECTIFYING: ("整改中", "Rectifying"),
    FindingStatus.PENDING_CHECK: ("待核查", "Awaiting check"),
    FindingStatus.CLOSED: ("已销号", "Closed"),
    CheckResult.RECTIFIED: ("已整改", "Rectified"),
    CheckResult.BASICALLY_RECTIFIED: ("基本整改", "Basically rectified"),
    CheckResult.NOT_RECTIFIED: ("未整改", "Not rectified"),
    PhotoKind.SITE: ("现场", "On site"),
    PhotoKind.BEFORE: ("整改前", "Before"),
    PhotoKind.AFTER: ("整改后", "After"),
    DeadlineKind.DATE: ("日期", "Date"),
    DeadlineKind.OPEN_ENDED: ("长期坚持", "Open-ended"),
    DeadlineKind.NONE: ("未设定", "Not set"),
    DeadlineKind.UNREAD: ("按原文", "As written"),
}

# An open list (DESIGN.md): these are offered, others are accepted.
CATEGORIES: tuple[str, ...] = (
    "政府工作报告", "民生实事", "领导批示", "重点督查督办", "重大政策", "生态环保", "其他",
)

_CATEGORY_EN = {
    "政府工作报告": "Government work report", "民生实事": "Livelihood projects",
    "领导批示": "Leaders' instructions", "重点督查督办": "Key supervision", "重大政策": "Major policies",
    "生态环保": "Ecology & environment", "其他": "Other",
}


def category_label(category: str, lang: str = "zh_CN") -> str:
    """Categories are stored as written (an open list); the standard ones have English names."""
    return _CATEGORY_EN.get(category, category) if lang.startswith("en") else category


# Allowed explicit moves; a check decides the moves out of PENDING_CHECK.
FINDING_MOVES: dict[tuple[FindingStatus, FindingStatus], tuple[str, str]] = {
    (FindingStatus.OPEN, FindingStatus.RECTIFYING): ("开始整改", "start rectification"),
    (FindingStatus.RECTIFYING, FindingStatus.PENDING_CHECK): ("提交核查", "submit for check"),
}


def is_overdue(deadline: dt.date | None, done: bool, today: dt.date | None = None) -> bool:
    """Overdue is derived, never stored: a dated deadline in the past on unfinished work."""
    if deadline is None or done:
        return False
    return deadline < (today or dt.date.today())


# What people call a record's fields, where the app names one outside a form (a conflict).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "code": ("任务编号", "Code"), "title": ("任务名称", "Title"), "category": ("督查类别", "Category"),
    "responsible_units": ("责任单位", "Responsible units"), "lead_unit": ("牵头单位", "Lead unit"),
    "cooperating_units": ("配合单位", "Cooperating units"), "region_code": ("行政区划", "Region"),
    "address": ("地址", "Address"), "deadline": ("完成时限", "Deadline"), "targets": ("督查目标", "Targets"),
    "assignees": ("督查人员", "Assignees"), "status": ("状态", "Status"), "description": ("问题描述", "Description"),
    "severity": ("严重程度", "Severity"), "responsible_unit": ("责任单位", "Responsible unit"),
    "requirement": ("整改要求", "Rectification requirement"), "due_date": ("整改时限", "Rectify by"),
    "place": ("地点", "Place"), "summary": ("督查情况", "Summary"), "note": ("核查意见", "Note"),
    "result": ("核查结果", "Result"), "kind": ("照片类型", "Photo kind"),
    "deleted": ("删除", "Deleted"),  # a conflict of my delete with another writer's change
}
# Fields whose stored codes have labels, by entity.
CODED_FIELDS: dict[tuple[str, str], type[Labeled]] = {
    ("tasks", "status"): TaskStatus, ("findings", "status"): FindingStatus, ("findings", "severity"): Severity,
    ("checks", "result"): CheckResult, ("photos", "kind"): PhotoKind,
}


def field_label(field: str, lang: str = "zh_CN") -> str:
    zh, en = FIELD_LABELS.get(field, (field, field))
    return en if lang.startswith("en") else zh


def value_label(entity: str, field: str, value: object, lang: str = "zh_CN") -> str:
    """A stored value as a person reads it: codes by their labels, lists joined, none as —."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "deleted":  # mine: true; theirs: the record as the platform keeps it
        deleted = value is True
        return ("deleted" if deleted else "kept, changed by another writer") if lang.startswith("en") \
            else ("删除" if deleted else "保留（已被他人修改）")
    coded = CODED_FIELDS.get((entity, field))
    if coded is not None:
        return coded.label_of(str(value), lang)
    if field == "category":
        return category_label(str(value), lang)
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)
