"""责任单位 cells into lists of units.

Units are separated by 、，,；; line breaks, slashes or blanks; separators inside brackets
("各县（市、区）政府") do not split. A unit marked （牵头） is the lead unit; （配合）/（协办）
marks are dropped. Placeholders (无, /, —) are not units. Order is kept, duplicates dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fieldapp.excel import normalize

_SEPARATORS = set("、，,；;/／\n\r|｜ ")
_OPEN = "（(【[〔《"
_CLOSE = "）)】]〕》"
_LEAD_MARK = re.compile(r"[（(](?:牵头|牵头单位|主办|主责|牵头部门)[）)]$|^牵头[:：]")
_OTHER_MARK = re.compile(r"[（(](?:配合|配合单位|协办|协同|参与|责任|责任单位)[）)]$|^(?:配合|协办)[:：]")
_PLACEHOLDERS = {"无", "/", "-", "—", "——", "－", "暂无", "待定", "0", "n/a", "na", "none"}


@dataclass
class Units:
    units: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)  # the units marked （牵头）


_SPECIAL = re.compile(r"[（(【\[〔《牵配协:：.。\t]")
_SPLIT = re.compile("[" + re.escape("".join(sorted(_SEPARATORS))) + "]")


def _tokens(text: str) -> list[str]:
    if not any(ch in text for ch in _OPEN):
        return _SPLIT.split(text)
    out: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        if ch in _SEPARATORS and depth == 0:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return out


def parse(value: object) -> Units:
    text = normalize.text(value, multiline=True, keep_gaps=True)
    result = Units()
    if not text:
        return result
    if not _SPECIAL.search(text):  # the common case: names and separators only
        for name in _SPLIT.split(text):
            if name and name not in result.units and name.casefold() not in _PLACEHOLDERS:
                result.units.append(name)
        if " " not in text:
            return result
        result.units = []
    seen: set[str] = set()
    tokens: list[str] = []
    for token in _tokens(text):
        # A lone character between blanks is a stray space inside a name ("省 财政厅").
        if tokens and len(tokens[-1]) == 1 and token and text.find(tokens[-1] + " " + token) >= 0:
            tokens[-1] += token
        else:
            tokens.append(token)
    for token in tokens:
        name = token.strip(" \t.。:：")
        is_lead = bool(_LEAD_MARK.search(name))
        name = _OTHER_MARK.sub("", _LEAD_MARK.sub("", name)).strip(" .。:：")
        if not name or name.casefold() in _PLACEHOLDERS:
            continue
        if name not in seen:
            seen.add(name)
            result.units.append(name)
        if is_lead and name not in result.lead:
            result.lead.append(name)
    return result


def split(value: object) -> list[str]:
    return parse(value).units


def join(units: list[str]) -> str:
    """The form FieldApp writes back to a ledger, which `split` reads into the same list."""
    return "、".join(units)
