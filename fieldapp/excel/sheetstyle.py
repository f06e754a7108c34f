"""How FieldApp's workbooks look and stay safe: ledger styles, Chinese-aware widths, text
that can never turn into a formula. Used by `template` and `ledger` (openpyxl, write-only).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

FONT_NAME = "宋体"  # what a 督查处 prints with; Excel and WPS substitute if it is missing
TITLE_FONT = Font(name="方正小标宋简体", size=16, bold=True)
SUBTITLE_FONT = Font(name=FONT_NAME, size=10, color="555555")
HEADER_FONT = Font(name="黑体", size=11, bold=True)
BODY_FONT = Font(name=FONT_NAME, size=10.5)
NOTE_FONT = Font(name=FONT_NAME, size=9.5, italic=True, color="666666")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
EXAMPLE_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(horizontal="left", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"

# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def display_width(text: Any) -> float:
    """Width in Excel's units (one '0' of the default font): Chinese characters count two."""
    if text is None:
        return 0
    if isinstance(text, (dt.date, dt.datetime)):
        return 16 if isinstance(text, dt.datetime) else 11
    s = str(text)
    longest = 0.0
    for line in s.splitlines() or [""]:
        w = 0.0
        for ch in line:
            w += 2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.1
        longest = max(longest, w)
    return longest


def fit_widths(samples: list[list[Any]], headers: list[str], *, minimum: float = 6, maximum: float = 50) -> list[float]:
    """Column widths that fit their Chinese text, from the header and a sample of rows;
    long text wraps at `maximum`."""
    widths = [display_width(h) + 2 for h in headers]
    for row in samples:
        for i, v in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], display_width(v) + 2)
    return [round(min(max(w, minimum), maximum), 1) for w in widths]


def cell(ws, value: Any, *, font: Font = BODY_FONT, alignment: Alignment | None = None, border: bool = True,
         fill: PatternFill | None = None, number_format: str | None = None) -> WriteOnlyCell:
    """A styled cell for a write-only sheet. Text is always text: a value that Excel would
    read as a formula is stored as a string and marked quote-prefixed."""
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        if value.startswith(FORMULA_STARTS):
            c.data_type = "s"
            c.quotePrefix = True
    elif isinstance(value, dt.datetime):
        c.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        c.number_format = DATE_FORMAT
    if number_format:
        c.number_format = number_format
    c.font = font
    if alignment is not None:
        c.alignment = alignment
    if border:
        c.border = BORDER
    if fill is not None:
        c.fill = fill
    return c


def safe_text(value: Any) -> Any:
    """Strip characters that XML 1.0 (and so .xlsx) cannot hold; openpyxl would refuse them."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 0x20) if any(ord(ch) < 0x20 for ch in value) else value
    return value
