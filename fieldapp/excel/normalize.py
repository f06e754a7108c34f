"""Cleaning cell text the way a person reads it: full-width forms, stray spaces, numbers as text.

Two strengths. `text()` is for words people wrote (titles, units, targets): it turns full-width
letters, digits and a few symbols into their ASCII forms but keeps Chinese punctuation
(，、：；（）) as written, removes invisible characters and spaces that stray between Chinese
characters, and collapses runs of blanks. `key()` is for things compared, not read (headers,
codes, deadlines, content keys): NFKC, no blanks at all.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

# Full-width ASCII that is only ever a typing accident in Chinese text: digits, letters and
# symbols with no Chinese role. Chinese punctuation （），：；！？ stays as written.
_KEEP = set("（），：；！？［］｛｝＜＞")
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP}
_HALF[0x3000] = 0x20  # ideographic space
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_BLANKS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f]+")
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_NEWLINES = re.compile(r"\s*(?:\r\n|\r|\n)\s*")
# Anything `text` would change: full-width forms, odd blanks, invisible characters, edges.
_DIRTY = re.compile("[" + "".join(re.escape(chr(c)) for c in _HALF) + r"\s\u200b-\u200d\u2060\ufeff\u00ad]")


def cell_text(value: Any) -> str:
    """A cell value as the text a person sees: 12.0 → "12", None → ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def text(value: Any, *, multiline: bool = False, keep_gaps: bool = False) -> str:
    """Words as written, cleaned of typing accidents; line breaks kept only if `multiline`,
    blanks between Chinese characters kept only if `keep_gaps` (they may separate units)."""
    s = cell_text(value)
    if not s:
        return ""
    if s.isascii():
        if multiline and "\n" in s:
            lines = (" ".join(line.split()) for line in s.splitlines())
            return "\n".join(line for line in lines if line)
        return " ".join(s.split())
    if not _DIRTY.search(s):  # the common case: clean Chinese text
        return s
    s = s.translate(_HALF).translate(INVISIBLE)
    if multiline:
        lines = (_BLANKS.sub(" ", line).strip() for line in _NEWLINES.split(s))
        return "\n".join(line if keep_gaps else _CJK_GAP.sub("", line) for line in lines if line)
    s = _NEWLINES.sub(" ", s)
    s = _BLANKS.sub(" ", s).strip()
    return s if keep_gaps else _CJK_GAP.sub("", s)


def key(value: Any) -> str:
    """A comparison form: NFKC, no blanks, no invisible characters, case folded."""
    s = cell_text(value)
    if not s:
        return ""
    if s.isascii():
        return "".join(s.split()).lower()
    s = unicodedata.normalize("NFKC", s).translate(INVISIBLE)
    return "".join(s.split()).casefold()


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or not value.translate(INVISIBLE).strip("\u3000 \t\r\n\u00a0")
    return False
