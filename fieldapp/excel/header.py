"""Finding a task list's header row and which column holds which field.

Supervisors' sheets put one or two title rows above the header, merge header cells, split
责任单位 into 牵头单位 / 配合单位 on a second header row, and name the same column a dozen
ways. Each header cell is matched against the Chinese synonyms of every field: exactly, then
without bracketed notes ("完成时限（年月日）"), then by the longest synonym it contains. The
header is the row (or pair of rows) among the first ones whose cells name the most fields and
include the task's title. The mapping is a plain dict, field → column index, that a person can
change before importing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

from fieldapp.errors import Text
from fieldapp.excel import normalize

SCAN_ROWS = 40  # the header is among the first rows
MAX_HEADER_TEXT = 30  # a longer cell is data or a note, never a column name

# Field → (label, synonyms). Synonyms are compared in `normalize.key` form.
FIELDS: dict[str, tuple[Text, tuple[str, ...]]] = {
    "seq": (Text("序号", "No."), ("序号", "序", "no", "no.", "排序", "编号序号")),
    "code": (Text("任务编号", "Code"), (
        "任务编号", "编号", "事项编号", "督办编号", "督查编号", "任务代码", "代码", "项目编号", "台账编号",
        "任务号", "督办号", "任务id", "事项代码", "任务编码", "编码")),
    "title": (Text("任务名称", "Title"), (
        "任务名称", "督查事项", "整改任务", "问题描述", "工作任务", "重点任务", "任务内容", "事项名称",
        "督查内容", "具体任务", "任务", "督办事项", "工作内容", "项目名称", "事项", "主要任务", "重点工作",
        "督查任务", "任务事项", "工作事项", "存在问题", "反馈问题", "问题清单", "督查项目", "任务描述",
        "督查事项名称", "整改事项", "问题", "工作名称", "任务标题", "标题", "名称", "交办事项", "交办内容",
        "督办内容")),
    "category": (Text("督查类别", "Category"), (
        "督查类别", "类别", "任务类别", "任务类型", "类型", "督查类型", "事项类别", "任务来源", "来源",
        "分类", "督查分类", "任务分类", "事项来源", "督查来源", "类别来源", "督办类型", "交办类型", "事项类型")),
    "responsible_units": (Text("责任单位", "Responsible units"), (
        "责任单位", "责任部门", "承办单位", "主办单位", "责任主体", "落实单位", "实施单位", "整改责任单位",
        "承办部门", "责任单位部门", "责任处室", "主体责任单位", "办理单位", "完成单位", "承办处室", "承办科室",
        "责任科室")),
    "lead_unit": (Text("牵头单位", "Lead unit"), (
        "牵头单位", "牵头部门", "牵头责任单位", "主责单位", "牵头", "牵头处室", "牵头单位部门", "牵头负责单位")),
    "cooperating_units": (Text("配合单位", "Cooperating units"), (
        "配合单位", "协办单位", "配合部门", "协同单位", "参与单位", "协办部门", "配合", "协办", "配合处室",
        "配合单位部门", "协同部门", "协办处室", "配合科室")),
    "region": (Text("所属区县", "Region"), (
        "所属区县", "地区", "区县", "所属地区", "属地", "行政区划", "县市区", "区域", "所在地区", "市县",
        "地市", "所属区域", "设区市", "区县市", "所在区县", "辖区", "所属县市区", "所属市县", "县区",
        "区市县", "所在地市", "所属地市", "行政区域", "县(市、区)", "县(市,区)", "市(县、区)", "区(县)",
        "县(区)", "所属县(市、区)")),
    "address": (Text("地址", "Address"), (
        "地址", "地点", "具体地点", "项目地址", "详细地址", "点位", "项目地点", "所在地", "位置", "具体位置",
        "督查地点", "现场地址")),
    "deadline": (Text("完成时限", "Deadline"), (
        "完成时限", "整改时限", "办结时限", "时限", "完成时间", "时间节点", "截止时间", "期限", "完成期限",
        "整改期限", "办结时间", "时限要求", "计划完成时间", "完成时限要求", "整改完成时限", "办理时限",
        "截止日期", "完成日期", "整改时间", "要求完成时间", "办结期限", "最终节点", "完成节点", "办结节点",
        "时间要求")),
    "targets": (Text("工作目标", "Targets"), (
        "工作目标", "目标任务", "具体要求", "工作要求", "目标", "整改措施", "工作措施", "主要措施", "任务要求",
        "整改要求", "目标要求", "具体措施", "整改目标", "进度要求", "工作举措", "具体目标", "任务目标",
        "推进措施", "督查要求", "目标及措施")),
    "assignees": (Text("督查人员", "Assignees"), (
        "督查人员", "督查组", "督查员", "督查责任人", "督查组长", "督办人", "督查人", "督查组成员", "督查责任人员")),
    "id": (Text("记录ID", "Record ID"), ("记录id", "fieldappid", "fieldapp id", "系统id")),
    # Columns a task list often has that are not imported; naming them helps find the header.
    "other": (Text("不导入", "Not imported"), (
        "备注", "完成情况", "进展情况", "推进情况", "状态", "任务状态", "办理情况", "责任领导", "分管领导",
        "联系人", "联系电话", "责任人", "进度", "当前进度", "整改情况", "落实情况", "评价", "督查意见",
        "问题数", "已整改", "整改率", "已销号数", "是否逾期", "整改状态", "最近核查结果", "照片数", "逾期", "创建时间", "更新时间", "说明", "附件", "督查情况",
        "严重程度", "问题类别", "发现时间")),
}

IMPORTED = ("code", "title", "category", "responsible_units", "lead_unit", "cooperating_units",
            "region", "address", "deadline", "targets", "assignees")
# Fields whose column may be chosen by hand; "seq" and "other" only help to find the header.
MAPPABLE = IMPORTED + ("id",)

_SYNONYMS: dict[str, str] = {}
for _field, (_label, _words) in FIELDS.items():
    for _w in _words:
        _SYNONYMS.setdefault(normalize.key(_w), _field)
_BY_LENGTH = sorted(_SYNONYMS.items(), key=lambda kv: -len(kv[0]))
_BRACKETS = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]|[*※★]")
# Short words that alone would match too much when looked for inside a longer text.
_NOT_INSIDE = {"序", "no", "no.", "任务", "事项", "问题", "名称", "标题", "类别", "类型", "来源", "分类", "目标",
               "编号", "代码", "编码", "地区", "区域", "属地", "期限", "时限", "地点", "位置", "配合", "协办",
               "牵头", "状态", "说明", "进度", "评价", "附件", "逾期", "已整改", "所在地"}


@dataclass(frozen=True)
class Match:
    field: str
    score: float  # 3 exact, 2 exact without bracketed notes, 1..2 contains a synonym


def match(text: Any) -> Match | None:
    """Which field a header cell names, if any."""
    k = normalize.key(text)
    if not k or len(k) > MAX_HEADER_TEXT:
        return None
    f = _SYNONYMS.get(k)
    if f:
        return Match(f, 3.0)
    bare = _BRACKETS.sub("", k).strip(":：")
    if bare != k:
        f = _SYNONYMS.get(bare)
        if f:
            return Match(f, 2.0)
        inner = "".join(re.findall(r"[(\[【〔]([^)\]】〕]*)[)\]】〕]", k))
        if bare in ("单位", "部门") and inner in ("牵头", "配合", "协办", "责任"):
            return Match({"牵头": "lead_unit", "责任": "responsible_units"}.get(inner, "cooperating_units"), 2.0)
    for syn, f in _BY_LENGTH:
        if len(syn) >= 2 and syn not in _NOT_INSIDE and syn in bare:
            return Match(f, 1.0 + min(len(syn), 9) / 10)
    return None


@dataclass
class Header:
    rows: tuple[int, ...]  # 0-based indexes of the header row(s), top first
    texts: list[str]  # per column: the header text as shown (two rows joined by " / ")
    mapping: dict[str, int]  # field → column index (0-based); only IMPORTED and "id" fields
    matches: dict[int, Match] = field(default_factory=dict)  # column → what its header names
    score: float = 0.0

    @property
    def last_row(self) -> int:
        return self.rows[-1]

    def column_keys(self) -> list[set[str]]:
        """Per column, the compared forms of its header text(s)."""
        return [{normalize.key(p) for p in text.split(" / ") if p} for text in self.texts]


def _cells(row: Sequence[Any]) -> list[str]:
    return [normalize.text(v) for v in row]


def _row_score(texts: list[str]) -> tuple[float, dict[int, Match]]:
    found: dict[int, Match] = {}
    fields: dict[str, float] = {}
    for col, t in enumerate(texts):
        m = match(t)
        if m:
            found[col] = m
            fields[m.field] = max(fields.get(m.field, 0), m.score)
    score = sum(v for k, v in fields.items() if k not in ("other", "seq")) + 0.5 * ("other" in fields) + 0.5 * ("seq" in fields)
    return score, found


def _header_like(texts: list[str]) -> bool:
    """A row of column names: at least one exact name, and most of its cells name something."""
    filled = [t for t in texts if t]
    matches = [match(t) for t in filled]
    exact = sum(1 for m in matches if m and m.score >= 2)
    return exact >= 1 and sum(1 for m in matches if m) * 2 >= len(filled)


def _combine(upper: list[str], lower: list[str], width: int) -> tuple[list[str], dict[int, Match]]:
    """Two header rows into one: for each column the more specific of the two names."""
    texts: list[str] = []
    found: dict[int, Match] = {}
    for col in range(width):
        u = upper[col] if col < len(upper) else ""
        lo = lower[col] if col < len(lower) else ""
        candidates = [(lo, match(lo)), (u, match(u)), (u + lo, match(u + lo) if u and lo and u != lo else None)]
        best = None
        for _text, m in candidates:
            if m and (best is None or m.score > best.score):
                best = m
        found_text = u if not lo or lo == u else (lo if not u else f"{u} / {lo}")
        texts.append(found_text)
        if best:
            found[col] = best
    return texts, found


def _assign(found: dict[int, Match], hidden_cols: set[int]) -> dict[str, int]:
    """Each field to its best column: visible (a hidden 完成时限 beside a visible 调整后完成时限
    is the superseded one), then the highest score, then leftmost."""
    best: dict[str, tuple[int, float, int]] = {}
    for col, m in found.items():
        if m.field not in MAPPABLE:
            continue
        rank = (0 if col in hidden_cols else 1, m.score, -col)
        if m.field not in best or rank > best[m.field]:
            best[m.field] = rank
    return {f: -rank[2] for f, rank in best.items()}


def _score_of(found: dict[int, Match]) -> float:
    fields: dict[str, float] = {}
    for m in found.values():
        fields[m.field] = max(fields.get(m.field, 0), m.score)
    return (sum(v for k, v in fields.items() if k not in ("other", "seq"))
            + 0.5 * ("other" in fields) + 0.5 * ("seq" in fields))


def detect(rows: Sequence[Sequence[Any]], hidden_cols: set[int] | None = None, scan: int = SCAN_ROWS) -> Header | None:
    """The header of a task list, or None when no row names a title column."""
    hidden_cols = hidden_cols or set()
    top = [_cells(r) for r in rows[:scan]]
    width = max((len(r) for r in top), default=0)
    singles: dict[int, tuple[float, dict[int, Match]]] = {}
    for i, texts in enumerate(top):
        if any(texts):
            score, found = _row_score(texts)
            if score >= 1:
                singles[i] = (score, found)
    options: list[tuple[tuple[int, ...], list[str], dict[int, Match], float]] = []
    for i, (score, found) in singles.items():
        options.append(((i,), list(top[i]), found, score))
        # A two-row header: both rows are column names, and together they name more.
        j = i + 1
        if j in singles and _header_like(top[i]) and _header_like(top[j]):
            ctexts, cfound = _combine(top[i], top[j], width)
            cscore = _score_of(cfound)
            if cscore >= max(score, singles[j][0]):  # equal: both rows are still the header
                options.append(((i, j), ctexts, cfound, cscore))
    best: Header | None = None
    for idx, texts_, found_, score_ in options:
        mapping = _assign(found_, hidden_cols)
        if "title" not in mapping:
            continue
        if len(mapping) == 1 and found_[mapping["title"]].score < 2:
            continue  # one cell merely containing a title word (a unit 市重点工作办公室) is data, not a header
        if best is None or score_ > best.score:
            best = Header(rows=idx, texts=texts_ + [""] * (width - len(texts_)), mapping=mapping,
                          matches=found_, score=score_)
    return best


def remap(header: Header, mapping: dict[str, int | None]) -> Header:
    """The header with some fields moved to other columns by hand (None: do not import)."""
    new = dict(header.mapping)
    for f, col in mapping.items():
        if f not in MAPPABLE:
            raise ValueError(f"unknown field {f!r}")
        if col is None or col < 0:
            new.pop(f, None)
            continue
        for other, c in list(new.items()):  # one column feeds one field
            if c == col and other != f:
                del new[other]
        new[f] = int(col)
    return Header(rows=header.rows, texts=header.texts, mapping=new, matches=header.matches, score=header.score)


def looks_like_header(texts: list[str], header: Header) -> bool:
    """A data row that repeats the header (printed tables repeat it on every page)."""
    names = header.column_keys()
    same = sum(1 for col, text in enumerate(texts) if text and col < len(names) and normalize.key(text) in names[col])
    named = sum(1 for n in names if n)
    return same >= max(2, named // 2)
