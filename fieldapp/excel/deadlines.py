"""完成时限 as supervisors write it, read into a date only when the reading is exact.

A deadline cell may be a real date, or text: "2024年12月底前", "2025.6", "2024年6月30日",
"6月底前" (the year comes from the sheet's title), "长期坚持", "立行立改", "每季度"…

The rule (DESIGN.md: never a silently wrong date):

- kind ``date``: the text names one day, or a period whose last day is the deadline by the
  usual convention (月底 / 年底 / 上半年 / 第三季度 / a bare month "2025.6" = by the end of it);
- kind ``open_ended``: 长期坚持, 持续推进, 常态化 and the like;
- kind ``none``: the cell is blank;
- kind ``unread``: anything else. The text is kept exactly as written, with a warning saying
  why, and the row still imports. This covers 立行立改 (immediately — there is no date to
  store, and inventing "today" would be a wrong date), recurring 每季度 / 每月, ranges and
  two-stage deadlines ("6月底前完成一期，12月底前全部完成"), impossible dates (2月30日),
  "6月底前" when no year can be found, and numbers that only look like dates (2025.1 may be
  January or October; 45657 may be an Excel day number).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from fieldapp.domain import DeadlineKind
from fieldapp.errors import Text
from fieldapp.excel import normalize

MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass(frozen=True)
class Deadline:
    kind: str  # a DeadlineKind value
    date: dt.date | None = None
    text: str = ""  # as written (cleaned of stray blanks), "" when blank
    warning: Text | None = None


OPEN_ENDED = (
    "长期坚持", "持续推进", "长期推进", "长期", "持续", "常态化", "常态化推进", "长期开展",
    "持续开展", "常抓不懈", "久久为功", "长期执行", "长效", "长期有效",
)
IMMEDIATE = ("立行立改", "即知即改", "立即整改", "立即", "马上", "立改立行", "即时", "立即办理")
RECURRING = re.compile(r"^(?:每|逐)(?:年|半年|季度?|月|旬|周|星期|日|天)|^按(?:年|季|月|周)|定期")

_PREFIX = re.compile(r"^(?:力争|确保|争取|计划|预计|要求|截至|截止|截止到|截止于|截止至|于|在|至|到)+")
_SUFFIX = re.compile(
    r"(?:前|之前|以前|为止|止)?(?:全部|全面|基本)?(?:完成|办结|结束|完工|落实|整改到位|到位|销号)?"
    r"(?:前|之前|以前|为止)?[。.;；,，]*$"
)
_Y = r"(?P<y>\d{4})"
_M = r"(?P<m>\d{1,2})"
_D = r"(?P<d>\d{1,2})"
_YMD = re.compile(rf"^{_Y}(?:年|[-/.]){_M}(?:月|[-/.]){_D}(?:日|号)?$")
_YMD_COMPACT = re.compile(rf"^{_Y}(?P<m>\d{{2}})(?P<d>\d{{2}})$")
_YM = re.compile(rf"^{_Y}(?:年|[-/.]){_M}(?:月)?(?P<part>底|末|份|上旬|中旬|下旬)?$")
_MD = re.compile(rf"^(?:(?P<this>今年|本年|当年))?{_M}月{_D}(?:日|号)$")
_M_ONLY = re.compile(rf"^(?:(?P<this>今年|本年|当年))?{_M}月(?P<part>底|末|份|上旬|中旬|下旬)?$")
_Y_PERIOD = re.compile(
    rf"^{_Y}年?(?P<p>底|末|内|年底|年末|全年|上半年|下半年|一季度|二季度|三季度|四季度|"
    r"第一季度|第二季度|第三季度|第四季度|[Qq][1-4]|)$"
)
_PERIOD_ONLY = re.compile(
    r"^(?:今年|本年|当年)?(?P<p>年底|年末|年内|全年|上半年|下半年|一季度|二季度|三季度|四季度|"
    r"第一季度|第二季度|第三季度|第四季度)$"
)
_QUARTER = {"一": 3, "二": 6, "三": 9, "四": 12, "1": 3, "2": 6, "3": 9, "4": 12}


def _w(zh: str, en: str) -> Text:
    return Text(zh, en)


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _period_end(y: int, p: str) -> dt.date | None:
    if p in ("", "底", "末", "内", "年底", "年末", "全年", "下半年", "年内"):
        return dt.date(y, 12, 31)
    if p == "上半年":
        return dt.date(y, 6, 30)
    q = p.replace("第", "").replace("季度", "").upper().lstrip("Q")
    if q in _QUARTER:
        return _month_end(y, _QUARTER[q])
    return None


def _in_month(y: int, m: int, part: str | None) -> dt.date:
    if part == "上旬":
        return dt.date(y, m, 10)
    if part == "中旬":
        return dt.date(y, m, 20)
    return _month_end(y, m)


def _unread(text: str, zh: str, en: str) -> Deadline:
    return Deadline(DeadlineKind.UNREAD, None, text, _w(
        f"完成时限“{text}”{zh}，已按原文保存，未换算为日期",
        f"deadline “{text}” {en}; it is kept as written, not turned into a date"))


def _plausible(d: dt.date) -> bool:
    return MIN_YEAR <= d.year <= MAX_YEAR


def parse(value: Any, year: int | None = None) -> Deadline:
    """Read one deadline cell. `year` is the sheet's year (from its title), for "6月底前"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Deadline(DeadlineKind.NONE)
    if isinstance(value, bool):
        return _unread(normalize.cell_text(value), "不是日期", "is not a date")
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if not _plausible(value):
            return _unread(value.isoformat(), "年份不合理", "has an implausible year")
        return Deadline(DeadlineKind.DATE, value, value.isoformat())
    written = normalize.text(value)
    if not written:
        return Deadline(DeadlineKind.NONE)
    m = _ISO.match(written)  # a date cell, as the reader hands it over
    if m:
        try:
            d = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return _unread(written, "不是有效日期", "is not a valid date")
        if not _plausible(d):
            return _unread(written, "年份不合理", "has an implausible year")
        return Deadline(DeadlineKind.DATE, d, written)
    return _text(written, year)


def _number(value: float) -> Deadline:
    """A numeric cell: 2025.6 (year.month), 20241231, or an Excel day number."""
    if not math.isfinite(value):
        return _unread(normalize.cell_text(value), "不是日期", "is not a date")
    written = normalize.cell_text(value)
    if float(value).is_integer():
        n = int(value)
        if 19900101 <= n <= 21001231:
            return _text(written, None)
        if 1990 <= n <= 2100:
            return _text(f"{n}年", None)
        if 30000 <= n <= 75000:
            guess = dt.date(1899, 12, 30) + dt.timedelta(days=n)
            return Deadline(DeadlineKind.UNREAD, None, written, _w(
                f"完成时限“{written}”是一个数字，可能是 Excel 日期序号（{guess.isoformat()}），"
                "已按原文保存，请在表格中设为日期格式后重新导入",
                f"deadline “{written}” is a number, perhaps an Excel day number ({guess.isoformat()}); "
                "it is kept as written — format the cell as a date and import again"))
        return _unread(written, "不是日期", "is not a date")
    m = re.fullmatch(r"(\d{4})\.(\d{1,2})", written)
    if m:
        y, mo = int(m[1]), m[2]
        if mo == "1":  # the number 2025.10 is stored as 2025.1: January and October look alike
            return _unread(written, "可能是1月也可能是10月（数字格式丢掉了末尾的0）",
                           "may mean January or October (the number lost its trailing 0)")
        if 1 <= int(mo) <= 12 and MIN_YEAR <= y <= MAX_YEAR:
            return Deadline(DeadlineKind.DATE, _month_end(y, int(mo)), written)
    return _unread(written, "不是日期", "is not a date")


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def _text(written: str, year: int | None) -> Deadline:
    compact = normalize.key(written).rstrip("。.;；,，!！")
    if compact in OPEN_ENDED:
        return Deadline(DeadlineKind.OPEN_ENDED, None, written)
    if compact in IMMEDIATE:
        return _unread(written, "表示立即办理，没有具体日期", "means immediately and names no date")
    if RECURRING.search(compact):
        return _unread(written, "是周期性要求，没有单一日期", "is recurring and names no single date")
    core = _SUFFIX.sub("", _PREFIX.sub("", compact))
    try:
        found = _date_of(core, year)
    except ValueError:
        return _unread(written, "不是有效日期", "is not a valid date")
    if found is _NO_YEAR:
        return _unread(written, "没有年份，表格标题中也找不到年份", "has no year, and none was found in the sheet's title")
    if found is None:
        if any(word in compact for word in OPEN_ENDED[:4]) and re.search(r"\d", compact):
            return _unread(written, "既有日期又有长期要求", "mixes a date with an open-ended requirement")
        if len(re.findall(r"\d{1,4}[年月./-]", compact)) > 1:
            return _unread(written, "含有多个时间", "names more than one time")
        return _unread(written, "无法识别为日期", "could not be read as a date")
    if not _plausible(found):
        return _unread(written, "年份不合理", "has an implausible year")
    return Deadline(DeadlineKind.DATE, found, written)


_NO_YEAR = object()


def _date_of(core: str, year: int | None):
    """The date `core` names exactly, None if it names none, _NO_YEAR if it lacks a year.
    Raises ValueError for impossible dates (2月30日)."""
    m = _YMD.match(core) or _YMD_COMPACT.match(core)
    if m:
        return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    m = _YM.match(core)
    if m:
        return _in_month(int(m["y"]), _month(m["m"]), m["part"])
    m = _Y_PERIOD.match(core)
    if m:
        return _period_end(int(m["y"]), m["p"])
    m = _MD.match(core)
    if m:
        return _NO_YEAR if year is None else dt.date(year, int(m["m"]), int(m["d"]))
    m = _M_ONLY.match(core)
    if m:
        return _NO_YEAR if year is None else _in_month(year, _month(m["m"]), m["part"])
    m = _PERIOD_ONLY.match(core)
    if m:
        return _NO_YEAR if year is None else _period_end(year, m["p"])
    return None


def _month(text: str) -> int:
    m = int(text)
    if not 1 <= m <= 12:
        raise ValueError(text)
    return m


_YEAR_IN_TITLE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?:年|年度|\s*-\s*\d{4}年)")


def year_of(*texts: str) -> int | None:
    """The year a sheet is about, from its title rows, its name or its file name: "2024年…"."""
    for t in texts:
        if not t:
            continue
        m = _YEAR_IN_TITLE.search(normalize.key(t))
        if m:
            y = int(m[1])
            if MIN_YEAR <= y <= MAX_YEAR:
                return y
    return None
