"""Hypothesis mutates real workbooks; nothing may crash and a refused import changes nothing.

Two depths, so a run stays within a couple of minutes on two cores:

- cells: the cells of real sheets (rows inserted, dropped, shuffled, cells replaced by
  random Chinese text, numbers, dates, formula errors, merges and hidden rows) go through the
  task-list parser in-process. FIELDAPP_FUZZ_EXAMPLES of them (default 1000).
- bytes: the bytes of real files, and the XML inside their zip, are flipped, cut, spliced and
  repeated, and every mutant goes through the whole isolated import (child process, limits,
  preview, apply). A tenth as many (at least 40): each costs a process.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from excel_fixtures import PLAIN_ROWS, db_snapshot, write_csv, write_messy_xlsx, write_ods, write_xls, write_xlsx
from fieldapp.errors import FieldAppError
from fieldapp.excel.errors import ImportRefused
from fieldapp.excel.reader import Limits, SheetData, read_workbook
from fieldapp.excel.tasklist import parse_sheet
from fieldapp.services import task_import as ti

EXAMPLES = int(os.environ.get("FIELDAPP_FUZZ_EXAMPLES", "1000"))
ISOLATED = max(40, EXAMPLES // 10)
LIMITS = Limits(seconds=30, memory_mib=768)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("seeds")
    return {
        "plain.xlsx": write_xlsx(d / "plain.xlsx"),
        "messy.xlsx": write_messy_xlsx(d / "messy.xlsx"),
        "plain.xls": write_xls(d / "plain.xls"),
        "plain.ods": write_ods(d / "plain.ods"),
        "gbk.csv": write_csv(d / "gbk.csv", encoding="gbk"),
    }


@pytest.fixture(scope="module")
def seed_sheets(seeds) -> list[SheetData]:
    sheets = []
    for path in seeds.values():
        sheets.extend(s for s in read_workbook(path).sheets if s.loaded)
    return sheets


# ---------------------------------------------------------------- cells, in-process

CJK = "督查任务推进改造整治建设责任单位市县区局委办政府年月日底前长期坚持持续立行改每季度合计注一二三、，；（）牵头配合"
cell_values = st.one_of(
    st.none(), st.just(""),
    st.text(alphabet=CJK + "0123456789 .-/\n\u3000ＡＢ１２#", max_size=30),
    st.integers(-10, 100_000), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["#REF!", "#N/A", "#DIV/0!", "合计", "注：说明", "一、分类", "序号", "任务名称", "完成时限",
                     "责任单位", "示例", "2024年12月底前", "6月底前", "长期坚持", "立行立改", "每季度", "2025.1"]),
)
row_ops = st.lists(st.tuples(st.sampled_from(["set", "insert", "delete", "swap", "merge", "hide", "widen"]),
                             st.integers(0, 40), st.integers(0, 14), cell_values), max_size=25)


def _mutate_cells(sheet: SheetData, ops) -> SheetData:
    rows = [list(r) for r in sheet.rows]
    merged = list(sheet.merged)
    hidden = set(sheet.hidden_rows)
    errors = dict(sheet.errors)
    for op, r, c, v in ops:
        r = r % (len(rows) + 1)
        if op == "insert" or not rows:
            rows.insert(r, [v] * (c % 5))
            continue
        r = min(r, len(rows) - 1)
        if op == "set":
            row = rows[r]
            row.extend([None] * (c + 1 - len(row)))
            row[c] = v
        elif op == "delete":
            del rows[r]
        elif op == "swap":
            j = c % len(rows)
            rows[r], rows[j] = rows[j], rows[r]
        elif op == "merge":
            merged.append((r, c % 6, r + c % 3, c % 6 + c % 2))
        elif op == "hide":
            hidden.add(r + 1)
            errors[(r, c)] = "#REF!"
        elif op == "widen":
            rows[r] = rows[r] + [v] * c
    return SheetData(name=sheet.name, index=sheet.index, visible=True, loaded=True, rows=rows,
                     hidden_rows=hidden, hidden_cols={c for c in range(3) if c in sheet.hidden_cols},
                     merged=merged, errors=errors)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(data=st.data(), ops=row_ops)
def test_mutated_cells_never_crash_the_parser(seed_sheets, data, ops):
    sheet = _mutate_cells(data.draw(st.sampled_from(seed_sheets)), ops)
    mapping = data.draw(st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["title", "code", "deadline", "responsible_units", "lead_unit", "region"]),
        st.one_of(st.none(), st.integers(0, 12)), max_size=3)))
    result = parse_sheet(sheet, mapping=mapping, file_name="fuzz.xlsx")
    numbers = [r.row for r in result.rows]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= len(sheet.rows) for n in numbers)
    if result.problem is None:
        assert len(result.rows) == len(sheet.rows)
    for r in result.rows:
        assert r.kind in ("data", "skipped", "error")
        assert (r.reason is None) == (r.kind == "data")
        if r.kind == "data":
            assert r.values["title"]
            kind = r.values.get("deadline_kind")
            if kind == "date":
                assert r.values["deadline"] is not None
            elif kind == "unread":
                assert r.values["deadline"] is None and any(r.values["deadline_text"] in w("zh_CN") for w in r.warnings)


# ---------------------------------------------------------------- bytes, isolated

_XML_MEMBERS = ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "content.xml",
                "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml")
byte_ops = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat", "zero"]),
                              st.floats(0, 1), st.binary(min_size=1, max_size=6)), min_size=1, max_size=6)


def _mutate_bytes(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op, where, blob in ops:
        if not b:
            b.extend(blob)
            continue
        i = int(where * (len(b) - 1))
        if op == "flip":
            b[i] ^= blob[0] or 0xFF
        elif op == "insert":
            b[i:i] = blob
        elif op == "delete":
            del b[i:i + len(blob) * 16]
        elif op == "truncate":
            del b[max(i, 1):]
        elif op == "repeat":
            b[i:i] = b[i:i + 64] * (blob[0] % 8 + 1)
        elif op == "zero":
            b[i:i + len(blob) * 8] = bytes(len(b[i:i + len(blob) * 8]))
    return bytes(b)


def _mutate_file(data: bytes, ops, inside: bool) -> bytes:
    """Mutate the bytes, or — for a zip — the XML of one member, re-zipped with valid CRCs so
    the mutation reaches the XML parser rather than the zip reader."""
    if not inside or not data.startswith(b"PK"):
        return _mutate_bytes(data, ops)
    src = zipfile.ZipFile(io.BytesIO(data))
    names = [n for n in src.namelist() if n in _XML_MEMBERS] or src.namelist()
    target = names[int(ops[0][1] * (len(names) - 1))]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == target:
                body = _mutate_bytes(body, ops)
            z.writestr(info, body)
    return out.getvalue()


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    from fieldapp.store import Store

    store = Store(tmp_path_factory.mktemp("fuzzdata"), author="fuzz")
    yield store
    store.close()


@settings(max_examples=ISOLATED, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(["plain.xlsx", "messy.xlsx", "plain.xls", "plain.ods", "gbk.csv"]),
       ops=byte_ops, inside=st.booleans(), salt=st.integers(0, 2**31))
def test_mutated_files_are_imported_or_refused_cleanly(seeds, fuzz_store, tmp_path_factory, seed, ops, inside, salt):
    src = seeds[seed]
    path = tmp_path_factory.mktemp("mut") / f"m{salt}{src.suffix}"
    path.write_bytes(_mutate_file(src.read_bytes(), ops, inside))
    before = db_snapshot(fuzz_store)
    try:
        preview = ti.preview(fuzz_store, path, limits=LIMITS)
    except FieldAppError as exc:  # refused: a message in both languages, nothing written
        assert exc.message("zh_CN") and exc.message("en")
        assert db_snapshot(fuzz_store) == before
        return
    try:
        ti.apply(fuzz_store, preview)
    except ImportRefused:
        assert db_snapshot(fuzz_store) == before
        return
    after = db_snapshot(fuzz_store)
    assert len(after[1]) >= len(before[1])  # the log only grows


def test_the_fuzz_seeds_import_unmutated(seeds, fuzz_store):
    """The mutants start from files that import: a mutation, not the seed, is what breaks."""
    for path in seeds.values():
        assert ti.preview(fuzz_store, path, limits=LIMITS).records
    random.seed(0)
    assert PLAIN_ROWS
