"""One sheet of a task list read into rows: each a task's fields, or skipped with a reason.

Pure Python over plain data (no database, no files): the import service, the fuzz test and
the benchmark run it on what `reader` returned. Row numbers are Excel's (1-based).

What a row can be:

- data: a task. Its values use `Task`'s field names, for the mapped columns only, so an
  import never touches a field the sheet does not have. Problems that do not stop the row
  (a deadline kept as written, a hidden row, an unknown region) are warnings.
- skipped: title and subtitle rows, the header, a repeated header, blank rows, 合计 / 小计
  rows, section headings ("一、经济发展"), notes ("注：…") and what follows them, rows with
  only a 序号.
- error: a row that looks like a task but cannot become one (no title, a formula error such
  as #REF! in a mapped column, a code too long). The import refuses while any remain.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

from fieldapp.domain import CATEGORIES, DeadlineKind
from fieldapp.errors import Text
from fieldapp.excel import deadlines, header as hdr, normalize, units
from fieldapp.excel.reader import SheetData

HEAD_ROWS = 60  # rows kept as read, for a preview grid
MAX_CODE = 64
ERROR_TEXT = re.compile(r"^#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!|FIELD!|"
                        r"BLOCKED!|UNKNOWN!|CONNECT!|BUSY!|EXTERNAL!|ERROR!?)$")
_TOTAL = re.compile(r"^(?:合计|小计|总计|共计|总数|累计|合\s*计)(?:[:：(（].*)?$")
_NOTE = re.compile(r"^(?:注|备注|说明|附注|填表说明|填报说明|注释|注意)\s*(?:\d+)?\s*[:：.、]|^注\d|^\*注|"
                   r"^(?:制表人|制表|填报人|填表人|审核人|审核|负责人|联系人|联系电话|填报单位|制表单位|"
                   r"填报日期|制表日期|数据截至|统计截至)\s*[:：]")
_ERROR_VALUES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                           "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!",
                           "#EXTERNAL!", "#ERROR!"))
_NOTE_START = set("注备说附填制审负联数统*＊")
_TOTAL_START = set("合小总共累")
_SECTION = re.compile(r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+[部分章节类篇])")

_NOT_TASK_SHEETS = {"填表说明", "说明", "使用说明", "选项", "代码表", "字典", "填报说明", "instructions"}
_FINDING_COLUMNS = {"严重程度", "问题严重程度"}
_EXAMPLE = {"示例", "样例", "例", "举例", "example", "e.g."}

RowKind = str  # "data" | "skipped" | "error"


def t(zh: str, en: str) -> Text:
    return Text(zh, en)


R_BLANK = t("空行", "blank row")
R_TITLE = t("标题行（表头上方）", "title row above the header")
R_HEADER = t("表头", "header row")
R_REPEATED_HEADER = t("重复的表头", "repeated header")
R_TOTAL = t("合计行", "total row")
R_NOTE = t("表格下方的注释或说明", "a note under the table")
R_SECTION = t("分类标题行", "section heading")
R_SEQ_ONLY = t("只有序号，没有内容", "only a row number, nothing else")
R_EXAMPLE = t("示例行", "an example row")
R_LABEL = t("只有一个单元格有内容，不是任务", "a single filled cell, not a task")
R_ERRORS_ONLY = t("只有公式错误值（如公式下拉到表格以外留下的 #N/A），没有任务内容",
                  "only formula errors (such as the #N/A of formulas filled down past the table), no task")


@dataclass
class TaskRow:
    sheet: str
    row: int  # Excel's row number
    kind: RowKind
    reason: Text | None = None  # why skipped, or the (first) error
    values: dict[str, Any] = field(default_factory=dict)  # Task field → value, mapped fields only
    warnings: list[Text] = field(default_factory=list)
    record_id: str = ""  # FieldApp's own id, when the sheet is a ledger FieldApp exported
    key: str = ""  # the content key of a row without a code (see `content_key`)


@dataclass
class SheetResult:
    name: str
    index: int
    visible: bool = True
    loaded: bool = True
    header: hdr.Header | None = None
    title: str = ""  # the title rows above the header, joined
    year: int | None = None  # the year the sheet is about, for deadlines written without one
    rows: list[TaskRow] = field(default_factory=list)
    problem: Text | None = None  # why the sheet gives no tasks
    head: list[list[str]] = field(default_factory=list)  # the first rows as shown, for a preview
    width: int = 0
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)


def _fill_merged(rows: list[list[Any]], merged: Sequence[tuple[int, int, int, int]], header_end: int) -> None:
    """Give merged cells their value: fully in the header zone, downwards only below it
    (a unit merged over three tasks belongs to all three; a section heading merged across a
    row belongs to its first cell only)."""
    for r0, c0, r1, c1 in merged:
        if r0 >= len(rows) or r1 < r0 or c1 < c0 or (r1 - r0) * (c1 - c0 + 1) > 1_000_000:
            continue
        row0 = rows[r0]
        value = row0[c0] if c0 < len(row0) else None
        if normalize.is_blank(value):
            continue
        cols = range(c0, c1 + 1) if r0 < header_end else range(c0, c0 + 1)
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r] = list(rows[r])  # a copy: the rows as read stay as read
            for c in cols:
                if (r, c) == (r0, c0):
                    continue
                while len(row) <= c:
                    row.append(None)
                if normalize.is_blank(row[c]):
                    row[c] = value


def _nonblank(row: Sequence[Any]) -> list[tuple[int, Any]]:
    return [(c, v) for c, v in enumerate(row)
            if v is not None and v != "" and (type(v) is not str or v.strip(_BLANK_CHARS))]


_BLANK_CHARS = " \t\r\n\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff"


_KEY_PUNCT = str.maketrans("（）【】：；，。！？“”‘’", "()[]:;,.!?\"\"''", " \t\u3000")


def content_key(title: str, region: str) -> str:
    """A stable key for a row without a code: its title and region, compared without blanks,
    case or the width of punctuation. `title` is already `normalize.text`-clean."""
    raw = title.translate(_KEY_PUNCT).lower() + "\x1f" + region.translate(_KEY_PUNCT)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:24]


def clean_code(value: Any) -> str:
    """A code as written, without blanks and full-width forms: "ＤＣ－００１ " → "DC-001"."""
    s = normalize.cell_text(value)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s).translate(normalize.INVISIBLE)
    return "".join(s.split())


def code_key(code: str) -> str:
    """How codes are matched: without case, and all-digit codes without leading zeros (Excel
    turns a typed 0012 into the number 12)."""
    k = code.upper()
    return (k.lstrip("0") or "0") if k.isascii() and k.isdigit() else k


def clean_category(value: Any) -> str:
    text = normalize.text(value)
    if not text:
        return CATEGORIES[-1]
    if text in CATEGORIES:
        return text
    for c in CATEGORIES[:-1]:
        if c in text:
            return c
    return text


RegionFinder = Callable[[str], tuple[str, str] | None]


def _default_region_finder() -> RegionFinder:
    try:
        from fieldapp.regions import find_by_name
    except ImportError:  # pragma: no cover - the region table ships with FieldApp
        return lambda _name: None
    cache: dict[str, tuple[str, str] | None] = {}

    def find(name: str) -> tuple[str, str] | None:
        if name not in cache:
            try:
                region = find_by_name(name)
            except (LookupError, ValueError, OSError):
                region = None
            cache[name] = (region.code, region.name) if region is not None else None
        return cache[name]

    return find


class _RowParser:
    """Turns the cells of one data row into Task fields, for one sheet's mapping.

    Units, categories, regions, deadlines and assignees repeat down a sheet, so each distinct
    cell value is read once per column and remembered (a 50,000-row list has a few hundred).
    """

    CACHE_LIMIT = 100_000

    def __init__(self, mapping: dict[str, int], year: int | None, find_region: RegionFinder) -> None:
        self.mapping = mapping
        self.year = year
        self.find_region = find_region
        self.caches: dict[str, dict[Any, Any]] = {}
        self.readers: list[tuple[int, str, Callable[[Any], tuple[dict[str, Any], Text | None]]]] = []
        for f in ("category", "lead_unit", "cooperating_units", "responsible_units", "region", "address",
                  "deadline", "targets", "assignees"):
            if f in mapping:
                self.readers.append((mapping[f], f, getattr(self, "_" + f)))
        self.bound = [(col, self.caches.setdefault(f, {}), read) for col, f, read in self.readers]
        self.joined: dict[tuple, list[str]] = {}  # (lead cell, lead, cooperating) → responsible units
        self.title_col = mapping["title"]
        self.code_col = mapping.get("code")
        self.id_col = mapping.get("id")
        self.units_from_lead = "responsible_units" not in mapping and (
            "lead_unit" in mapping or "cooperating_units" in mapping)

    # Each reader: cell value → (Task fields, warning or None).
    def _category(self, v: Any):
        return {"category": clean_category(v)}, None

    def _lead_unit(self, v: Any):
        return {"lead_unit": units.join(units.split(v))}, None

    def _cooperating_units(self, v: Any):
        return {"cooperating_units": units.split(v)}, None

    def _responsible_units(self, v: Any):
        parsed = units.parse(v)
        out: dict[str, Any] = {"responsible_units": parsed.units}
        if "lead_unit" not in self.mapping and parsed.lead:
            out["lead_unit"] = units.join(parsed.lead)
        elif "lead_unit" not in self.mapping:
            out["lead_unit"] = ""
        return out, None

    def _region(self, v: Any):
        name = normalize.text(v)
        found = self.find_region(name) if name else None
        warning = None
        if name and not found:
            warning = t(f"所属区县“{name}”不在行政区划表中，已按原文保存",
                        f"region “{name}” is not in the table of divisions; kept as written")
        return {"region_name": found[1] if found and normalize.key(found[1]) == normalize.key(name) else name,
                "region_code": found[0] if found else ""}, warning

    def _address(self, v: Any):
        return {"address": normalize.text(v)}, None

    def _deadline(self, v: Any):
        d = deadlines.parse(v, self.year)
        return {"deadline": d.date, "deadline_kind": str(d.kind), "deadline_text": d.text}, d.warning

    def _targets(self, v: Any):
        return {"targets": normalize.text(v, multiline=True)}, None

    def _assignees(self, v: Any):
        return {"assignees": units.split(v)}, None

    def __call__(self, row: Sequence[Any], out: TaskRow) -> None:
        n = len(row)
        v = out.values
        c = self.title_col
        v["title"] = normalize.text(row[c]) if c < n else ""
        c = self.code_col
        if c is not None:
            code = clean_code(row[c]) if c < n else ""
            if len(code) > MAX_CODE:
                out.kind, out.reason = "error", t(f"任务编号过长（{len(code)} 个字符，上限 {MAX_CODE}）",
                                                  f"the code is too long ({len(code)} characters, limit {MAX_CODE})")
            v["code"] = code or None
        for col, cache, read in self.bound:
            value = row[col] if col < n else None
            hit = cache.get(value)
            if hit is None:
                hit = read(value)
                if len(cache) < self.CACHE_LIMIT and not (type(value) is str and len(value) > 200):
                    cache[value] = hit  # long text is not worth remembering
            v.update(hit[0])
            if hit[1] is not None:
                out.warnings.append(hit[1])
        if self.units_from_lead:
            lc = self.mapping.get("lead_unit")
            key = (row[lc] if lc is not None and lc < n else None, v.get("lead_unit"), tuple(v.get("cooperating_units", ())))
            both = self.joined.get(key)
            if both is None:
                lead = units.split(key[0]) if lc is not None else []
                both = self.joined[key] = lead + [u for u in key[2] if u not in lead]
            v["responsible_units"] = both
        if self.id_col is not None and self.id_col < n:
            out.record_id = normalize.key(row[self.id_col])


def parse_sheet(
    sheet: SheetData, *, mapping: dict[str, int | None] | None = None, file_name: str = "",
    find_region: RegionFinder | None = None, progress: Callable[[int, int], None] | None = None,
    guess_header: bool = True,
) -> SheetResult:
    """Read one sheet as a task list. `mapping` (field → column index, None to drop a field)
    overrides the detected columns; when no header is found, a mapping that names the title
    column makes the first full row the header, if `guess_header`."""
    result = SheetResult(name=sheet.name, index=sheet.index, visible=sheet.visible, loaded=sheet.loaded,
                         hidden_rows=set(sheet.hidden_rows), hidden_cols=set(sheet.hidden_cols))
    rows = sheet.rows
    result.width = sheet.width
    if not sheet.loaded:
        result.problem = (t("隐藏的工作表，未读取", "a hidden sheet, not read") if not sheet.visible
                          else t("未选择的工作表", "a sheet not chosen"))
        return result
    if not any(_nonblank(r) for r in rows[:hdr.SCAN_ROWS]) and not any(_nonblank(r) for r in rows):
        result.problem = t("工作表是空的", "the sheet is empty")
        return result
    # The header zone gets merged values in both directions; rows below only downwards.
    top = [list(r) for r in rows[:hdr.SCAN_ROWS]]
    _fill_merged(top, [m for m in sheet.merged if m[0] < hdr.SCAN_ROWS], hdr.SCAN_ROWS)
    result.head = [[normalize.cell_text(v) for v in r] for r in top[:HEAD_ROWS]]
    if len(rows) > len(top):
        result.head += [[normalize.cell_text(v) for v in r] for r in rows[len(top):HEAD_ROWS]]
    if normalize.key(sheet.name) in _NOT_TASK_SHEETS:
        result.problem = t("说明或选项表，不是任务清单", "instructions or lists, not a task list")
        return result
    header = hdr.detect(top, sheet.hidden_cols)
    if header is not None and any(normalize.key(x) in _FINDING_COLUMNS for x in header.texts):
        result.header = header
        result.problem = t("这是发现问题清单（有“严重程度”列），任务导入不读取它",
                           "a list of findings (it has a severity column); the task import leaves it alone")
        return result
    if header is None and guess_header and mapping and mapping.get("title") is not None:
        # No row names a title column, but a person chose the columns: the header is the first
        # row with about as many different texts as the fullest near the top (a title above it
        # is one text, however many cells its merge covers).
        counts = [len({normalize.key(v) for _c, v in _nonblank(r)}) for r in top]
        first = next(i for i, n in enumerate(counts) if n and n * 2 >= max(counts))
        texts = [normalize.text(v) for v in top[first]]
        header = hdr.Header(rows=(first,), texts=texts, mapping={}, matches={})
    if header is None:
        result.problem = t(f"找不到表头：前 {hdr.SCAN_ROWS} 行中没有“任务名称”“督查事项”“整改任务”之类的列名",
                           f"no header found: none of the first {hdr.SCAN_ROWS} rows names a column such as "
                           "任务名称 (title), 督查事项 or 整改任务")
        return result
    if mapping:
        header = hdr.remap(header, mapping)
        if "title" not in header.mapping:
            result.header = header
            result.problem = t("没有指定“任务名称”列", "no column is chosen for the title")
            return result
    result.header = header
    first_data = header.last_row + 1
    title_texts = [normalize.text(v) for r in top[:header.rows[0]] for v in r if not normalize.is_blank(v)]
    result.title = " ".join(dict.fromkeys(title_texts))
    result.year = deadlines.year_of(result.title, sheet.name, file_name)
    data = rows[first_data:]
    below = [(r0 - first_data, c0, r1 - first_data, c1) for r0, c0, r1, c1 in sheet.merged if r0 >= first_data]
    if below:
        _fill_merged(data, below, 0)

    name = sheet.name
    out = result.rows
    for i in range(first_data):
        if i in header.rows:
            out.append(TaskRow(name, i + 1, "skipped", R_HEADER))
        else:
            out.append(TaskRow(name, i + 1, "skipped", R_TITLE if _nonblank(rows[i]) else R_BLANK))
    parser = _RowParser(header.mapping, result.year, find_region or _default_region_finder())
    title_col = header.mapping["title"]
    seq_col = next((c for c, m in header.matches.items() if m.field == "seq"), None)
    mapped_cols = set(header.mapping.values())
    errors_by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in sheet.errors.items():
        if c in mapped_cols:
            errors_by_row.setdefault(r, []).append((c, text))
    col_field = {c: f for f, c in header.mapping.items()}
    in_notes = False
    title_names = header.column_keys()[title_col] if title_col < len(header.texts) else set()
    longest_name = max((len(n) for n in title_names), default=0) + 8
    total = len(data)
    for offset, row in enumerate(data):
        index = first_data + offset
        excel_row = index + 1
        if progress is not None and offset % 5000 == 0:
            progress(offset, total)
        title_cell = row[title_col] if title_col < len(row) else None
        titled = title_cell is not None and title_cell != "" and (
            type(title_cell) is not str or bool(title_cell.strip(_BLANK_CHARS)))
        # A row with a title is never blank: only the cells up to the title decide whether it
        # is a note or a total. Others are looked at whole.
        cells = _nonblank(row[:title_col + 1]) if titled and not in_notes else _nonblank(row)
        if not cells:
            bad = errors_by_row.get(index)
            if bad and any(c == title_col for c, _text in bad):  # a task whose title formula broke
                out.append(TaskRow(name, excel_row, "error", _formula_error(bad, col_field, excel_row)))
            else:  # errors alone elsewhere: formulas filled down past the table (#N/A of a VLOOKUP)
                out.append(TaskRow(name, excel_row, "skipped", R_ERRORS_ONLY if bad else R_BLANK))
            continue
        first_cell = cells[0][1]
        if (in_notes and len(cells) <= 2) or (
                isinstance(first_cell, str) and first_cell.lstrip()[:1] in _NOTE_START
                and _NOTE.match(normalize.key(first_cell))):
            in_notes = True
            out.append(TaskRow(name, excel_row, "skipped", R_NOTE))
            continue
        in_notes = False
        if any(_TOTAL.match(normalize.key(v)) for _c, v in cells[:3] if isinstance(v, str) and v.lstrip()[:1] in _TOTAL_START):
            out.append(TaskRow(name, excel_row, "skipped", R_TOTAL))
            continue
        if seq_col is not None and seq_col < len(row) and isinstance(row[seq_col], str) \
                and normalize.key(row[seq_col]) in _EXAMPLE:
            out.append(TaskRow(name, excel_row, "skipped", R_EXAMPLE))
            continue
        if not titled:
            filled = [c for c, _v in cells if c != seq_col]
            if not filled:
                text = cells[0][1]
                section = isinstance(text, str) and _SECTION.match(normalize.key(text))
                out.append(TaskRow(name, excel_row, "skipped", R_SECTION if section else R_SEQ_ONLY))
                continue
            if len(cells) == 1 or (len(filled) == 1 and filled[0] not in mapped_cols):
                text = normalize.key(cells[-1][1])
                out.append(TaskRow(name, excel_row, "skipped", R_SECTION if _SECTION.match(text) else R_LABEL))
                continue
        if (len(row) >= 2 and isinstance(title_cell, str) and len(title_cell) <= longest_name
                and normalize.key(title_cell) in title_names):
            if hdr.looks_like_header([normalize.text(v) for v in row], header):
                out.append(TaskRow(name, excel_row, "skipped", R_REPEATED_HEADER))
                continue
        task = TaskRow(name, excel_row, "data")
        parser(row, task)
        title = task.values["title"]
        if not title:
            task.kind = "error"
            task.reason = t("“任务名称”为空，但这一行有其他内容", "the title is empty, but the row has other content")
        elif _SECTION.match(title) and all(
                normalize.is_blank(row[c]) for c in mapped_cols if c != title_col and c < len(row)):
            out.append(TaskRow(name, excel_row, "skipped", R_SECTION))
            continue
        bad = errors_by_row.get(index)
        if not _ERROR_VALUES.isdisjoint(row):  # a program wrote an error as its text
            for c in mapped_cols:
                v = row[c] if c < len(row) else None
                if isinstance(v, str) and v.startswith("#") and ERROR_TEXT.match(v.strip()):
                    bad = (bad or []) + [(c, v.strip())]
        if bad:
            task.kind = "error"
            task.reason = _formula_error(bad, col_field, excel_row)
        if excel_row in sheet.hidden_rows:
            task.warnings.append(t("这一行在表格中是隐藏的，仍会导入", "this row is hidden in the sheet; it is imported all the same"))
        if task.kind == "data":
            task.key = content_key(title, task.values.get("region_name", ""))
        out.append(task)
    if progress is not None:
        progress(total, total)
    if not any(r.kind != "skipped" for r in out):
        result.problem = t("表头下没有任务行", "no task rows under the header")
    return result


def _formula_error(bad: list[tuple[int, str]], col_field: dict[int, str], excel_row: int) -> Text:
    c, text = sorted(bad)[0]
    label = hdr.FIELDS[col_field[c]][0]
    return t(f"“{label.zh}”列（{column_letter(c)}{excel_row}）是公式错误 {text}，请在表格中修正",
             f"the {label.en} cell ({column_letter(c)}{excel_row}) holds the formula error {text}; "
             "correct it in the sheet")


def column_letter(index: int) -> str:
    """0 → "A", 27 → "AB": columns as Excel names them."""
    s = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


# Kinds of deadline as the JSON output of `fieldapp import-tasks` names them.
def deadline_json(values: dict[str, Any]) -> str | None:
    kind = values.get("deadline_kind")
    if kind == DeadlineKind.DATE and values.get("deadline"):
        return values["deadline"].isoformat()
    if kind == DeadlineKind.OPEN_ENDED:
        return "open-ended"
    return None
