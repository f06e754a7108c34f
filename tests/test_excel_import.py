"""Importing real task-list files end to end: every row's outcome, upsert, all or nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading

import openpyxl
import pytest
from sqlalchemy import select

from excel_fixtures import (
    EXPECTED, EXPECTED_SKIPPED, PLAIN_ROWS, db_snapshot, records_by_code, write_big_xlsx, write_csv,
    write_messy_xlsx, write_ods, write_xls, write_xlsx,
)
from fieldapp.changelog import verify_chain
from fieldapp.errors import Interrupted
from fieldapp.excel.errors import ImportRefused, NothingToImport, SheetNotFound
from fieldapp.excel.reader_worker import scan_xls
from fieldapp.models import ChangeLogEntry, Task
from fieldapp.services import task_import as ti
from fieldapp.services.tasks import create_task

WRITERS = {
    "xlsx": lambda p: write_xlsx(p.with_suffix(".xlsx")),
    "xlsm": lambda p: write_xlsx(p.with_suffix(".xlsm")),
    "xls": lambda p: write_xls(p.with_suffix(".xls")),
    "ods": lambda p: write_ods(p.with_suffix(".ods")),
    "csv-utf8": lambda p: write_csv(p.with_suffix(".csv"), encoding="utf-8-sig"),
    "csv-gbk": lambda p: write_csv(p.with_suffix(".csv"), encoding="gbk"),
}
REASON_WORDS = {"title": "title row", "header": "header", "blank": "blank", "section": "section",
                "total": "total", "note": "note"}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_reads_the_same_rows(store, tmp_path, fmt):
    path = WRITERS[fmt](tmp_path / "清单")
    p = ti.preview(store, path)
    got = {r.values["code"]: (r.values["title"], ti.record_json(r, "en")["deadline"], r.values["deadline_text"],
                              bool(r.warnings)) for r in p.records}
    assert got == EXPECTED
    assert all(r.status == ti.NEW for r in p.records)
    skipped = {r.row: r.reason("en") for r in p.rows if r.status == ti.SKIPPED}
    assert set(skipped) == set(EXPECTED_SKIPPED)
    for row, kind in EXPECTED_SKIPPED.items():
        assert REASON_WORDS[kind] in skipped[row], (row, skipped[row])
    dc2 = records_by_code(p)["DC-002"]
    assert dc2.values["lead_unit"] == "市水利局"
    assert dc2.values["cooperating_units"] == ["市环保局", "市城管局"]
    assert dc2.values["responsible_units"] == ["市水利局", "市环保局", "市城管局"]
    assert records_by_code(p)["DC-003"].values["cooperating_units"] == ["市市场监管局", "市税务局"]
    assert p.sheets[0].header_rows == (3,) and p.sheets[0].year == 2024


def test_messy_workbook(store, tmp_path):
    p = ti.preview(store, write_messy_xlsx(tmp_path / "messy.xlsx"))
    sheets = {s.name: s for s in p.sheets}
    main = sheets["2024年任务"]
    assert main.header_rows == (2, 3)  # 责任单位 over 牵头单位 / 配合单位
    assert main.mapping["lead_unit"] == 4 and main.mapping["cooperating_units"] == 5
    assert "deadline" in main.mapping and main.year == 2024
    assert 8 not in main.mapping.values()  # the hidden 内部备注 column is not a field
    assert next(c for c in main.columns if c.letter == "I").hidden
    assert sheets["隐藏表"].problem is not None and not sheets["隐藏表"].loaded
    recs = records_by_code(p)
    assert recs["DC-101"].values["deadline"] == dt.date(2024, 12, 31)  # a real date cell
    assert recs["DC-103"].values["deadline"] == dt.date(2024, 6, 30)  # "6月底前", year from the title
    assert recs["DC-104"].values["deadline"] == dt.date(2024, 9, 30)  # a datetime cell
    assert any("hidden" in w("en") for w in recs["DC-104"].warnings)
    assert recs["DC-106"].values["lead_unit"] == "市城管局"  # merged down from DC-105
    assert recs["DC-106"].values["deadline"] == dt.date(2024, 10, 31)
    # The second sheet has no codes and no year in its title: "年底前" stays as written.
    assert recs["清理河道垃圾"].values["lead_unit"] == "市城管局"  # marked （牵头）
    assert recs["清理河道垃圾"].values["responsible_units"] == ["市城管局", "市水利局"]
    assert recs["整治油烟污染"].values["deadline_kind"] == "unread"
    assert recs["整治油烟污染"].warnings
    assert "不应导入" not in recs
    assert not p.has_errors
    result = ti.apply(store, p)
    assert result.created == 8
    with store.session() as s:
        hidden = s.scalars(select(Task).where(Task.code == "DC-104")).one()
        assert hidden.region_name == "滨江区"


def test_reimporting_the_same_file_changes_nothing(store, tmp_path):
    path = write_messy_xlsx(tmp_path / "messy.xlsx")
    first = ti.apply(store, ti.preview(store, path))
    assert first.created == 8 and first.updated == 0
    before = db_snapshot(store)
    p = ti.preview(store, path)
    assert {r.status for r in p.records} == {ti.UNCHANGED}
    second = ti.apply(store, p)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 8)
    assert not second.changes.tasks
    assert db_snapshot(store) == before


def test_an_edited_file_changes_only_the_changed_fields_and_reports_missing_tasks(store, tmp_path):
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "v1.xlsx")))
    with store.session() as s:
        seq_before = s.scalar(select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq.desc()).limit(1))
        dc7_id = s.scalars(select(Task.id).where(Task.code == "DC-007")).one()
    rows = [list(r) for r in PLAIN_ROWS]
    rows[3][7] = "2025年3月底前"  # DC-001: new deadline
    rows[4][5] = "市环保局"  # DC-002: one cooperating unit fewer
    rows[8][7] = "长期 坚持"  # DC-004: the same deadline, written with a stray space
    del rows[11]  # DC-007 is gone from the newer file
    p = ti.preview(store, write_xlsx(tmp_path / "v2.xlsx", rows))
    recs = records_by_code(p)
    assert recs["DC-001"].status == ti.CHANGED and recs["DC-001"].changed_fields == ["deadline"]
    assert recs["DC-002"].status == ti.CHANGED
    assert set(recs["DC-002"].changed_fields) == {"cooperating_units", "responsible_units"}
    for code in ("DC-003", "DC-004", "DC-005", "DC-006"):
        assert recs[code].status == ti.UNCHANGED, code
    assert [m.code for m in p.missing] == ["DC-007"]
    result = ti.apply(store, p)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 4)
    with store.session() as s:
        entries = s.scalars(select(ChangeLogEntry).where(ChangeLogEntry.seq > seq_before)
                            .order_by(ChangeLogEntry.seq)).all()
        assert [e.action for e in entries] == ["update", "update"]
        by_task = {e.entity_id: e for e in entries}
        dc1 = s.scalars(select(Task).where(Task.code == "DC-001")).one()
        assert by_task[dc1.id].before == {"deadline": "2024-12-31", "deadline_text": "2024年12月底前"}
        assert by_task[dc1.id].after == {"deadline": "2025-03-31", "deadline_text": "2025年3月底前"}
        dc2 = s.scalars(select(Task).where(Task.code == "DC-002")).one()
        assert set(by_task[dc2.id].after) == {"cooperating_units", "responsible_units"}
        assert dc2.cooperating_units == ["市环保局"]
        assert s.get(Task, dc7_id) is not None  # reported, never deleted
        assert verify_chain(s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.seq))).ok


def test_rows_without_a_code_are_matched_by_their_content(store, tmp_path):
    rows = [["任务名称", "责任单位", "所属区县", "完成时限"],
            ["清理河道垃圾", "市城管局", "西湖区", "2024年11月"],
            ["清理河道垃圾", "市城管局", "上城区", "2024年11月"],  # same title, another region
            ["整治油烟污染", "市环保局", "西湖区", "2024年底"]]
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "a.xlsx", rows)))
    rows[1][3] = "2024年12月"
    rows[3][1] = "市环保局、市城管局"
    p = ti.preview(store, write_xlsx(tmp_path / "b.xlsx", rows))
    assert [r.status for r in p.records] == [ti.CHANGED, ti.UNCHANGED, ti.CHANGED]
    assert p.records[0].changed_fields == ["deadline"]
    assert not p.missing
    ti.apply(store, p)
    with store.session() as s:
        assert s.query(Task).count() == 3


def test_the_same_deadline_written_another_way_is_unchanged(store, tmp_path):
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "a.xlsx")))
    rows = [list(r) for r in PLAIN_ROWS]
    rows[3][7] = dt.date(2024, 12, 31)  # was "2024年12月底前"
    p = ti.preview(store, write_xlsx(tmp_path / "b.xlsx", rows))
    assert records_by_code(p)["DC-001"].status == ti.UNCHANGED


def test_preview_writes_nothing(store, tmp_path):
    before = db_snapshot(store)
    ti.preview(store, write_messy_xlsx(tmp_path / "m.xlsx"))
    assert db_snapshot(store) == before


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_formula_errors_refuse_the_whole_import(store, tmp_path, fmt):
    rows = [["任务编号", "任务名称", "完成时限"], ["A-1", "好的任务", "2024年底"], ["A-2", "坏的任务", "#REF!"],
            ["A-3", "#N/A", "2024年底"],  # an error value a program wrote as text
            [None, None, None],  # row 5: nothing but an error in the title column (its formula broke)
            [None, None, None]]  # row 6: an #N/A under the deadline only (a formula filled down too far)
    if fmt == "xls":  # calamine reads an .xls error cell as blank; xlrd finds it
        path = write_xls(tmp_path / "err.xls", rows, errors={(2, 2): "#REF!", (4, 1): "#REF!", (5, 2): "#N/A"})
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
        ws["C3"].data_type = "e"  # a real error cell, as Excel writes it
        ws["B5"] = "#REF!"
        ws["B5"].data_type = "e"
        ws["C6"] = "#N/A"
        ws["C6"].data_type = "e"
        path = tmp_path / "err.xlsx"
        wb.save(path)
    before = db_snapshot(store)
    p = ti.preview(store, path)
    errors = {r.row: r.reason for r in p.errors}
    assert set(errors) == {3, 4, 5}  # row 5 reads as blank, but it is a broken row, not a spacer
    assert "#REF!" in errors[3]("zh_CN") and "C3" in errors[3]("en")
    assert "#N/A" in errors[4]("en")
    assert "#REF!" in errors[5]("zh_CN") and "B5" in errors[5]("en")
    assert "formula errors" in next(r.reason("en") for r in p.rows if r.row == 6)  # skipped, with the reason
    with pytest.raises(ImportRefused) as info:
        ti.apply(store, p)
    assert "3" in info.value.message("zh_CN") and "row 3" in info.value.message("en")
    assert db_snapshot(store) == before
    result = ti.apply(store, p, skip_errors=True)
    assert (result.created, result.errors_skipped) == (1, 3)


def test_a_code_twice_in_one_file_is_an_error(store, tmp_path):
    rows = [["任务编号", "任务名称"], ["X-1", "甲"], ["X-1", "乙"]]
    p = ti.preview(store, write_xlsx(tmp_path / "dup.xlsx", rows))
    assert [r.status for r in p.rows[1:]] == [ti.NEW, ti.ERROR]
    assert "X-1" in p.rows[2].reason("zh_CN") and "row 2" in p.rows[2].reason("en")


def test_only_the_chosen_sheet(store, tmp_path):
    path = write_messy_xlsx(tmp_path / "m.xlsx")
    p = ti.preview(store, path, sheet="专项督查")
    assert [s.name for s in p.sheets] == ["专项督查"]
    assert len(p.records) == 2
    with pytest.raises(SheetNotFound) as info:
        ti.preview(store, path, sheet="没有这张表")
    assert "专项督查" in info.value.message("zh_CN")


def test_remap_uses_the_columns_a_person_chose_without_reading_again(store, tmp_path):
    rows = [["任务名称", "完成时限", "说明"], ["甲", "2024年底", "2025年6月底前"]]
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    p = ti.preview(store, path)
    assert p.records[0].values["deadline"] == dt.date(2024, 12, 31)
    path.unlink()  # a remap must not need the file
    q = ti.remap(store, p, p.sheets[0].name, {"deadline": 2})
    assert q.records[0].values["deadline"] == dt.date(2025, 6, 30)
    assert q.sheets[0].mapping == {"title": 0, "deadline": 2}
    r = ti.remap(store, q, q.sheets[0].name, {"deadline": None})
    assert "deadline" not in r.records[0].values
    none = ti.remap(store, r, r.sheets[0].name, {"title": None})
    assert none.sheets[0].problem is not None and not none.records


def test_apply_compares_again_if_the_store_changed_after_the_preview(store, tmp_path):
    p = ti.preview(store, write_xlsx(tmp_path / "a.xlsx"))
    assert records_by_code(p)["DC-001"].status == ti.NEW
    create_task(store, code="DC-001", title="推进老旧小区改造")  # e.g. synced meanwhile
    result = ti.apply(store, p)
    assert result.created == 6 and result.updated == 1
    with store.session() as s:
        assert s.query(Task).filter(Task.code == "DC-001").count() == 1


def test_cancel_during_apply_leaves_the_database_as_it_was(store, tmp_path):
    create_task(store, code="OLD-1", title="已有任务")
    p = ti.preview(store, write_big_xlsx(tmp_path / "big.xlsx", 6000))
    before = db_snapshot(store)
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done >= 2000:
            cancel.set()  # after rows were written inside the transaction

    with pytest.raises(Interrupted):
        ti.apply(store, p, progress=progress, cancel=cancel)
    assert seen and seen[0] >= 2000
    assert db_snapshot(store) == before
    assert not list((store.data_dir / "cache" / "imports").glob("*.json"))  # no memo of what never committed
    again = ti.preview(store, tmp_path / "big.xlsx")
    assert not again.from_memo and {r.status for r in again.records} == {ti.NEW}


def test_cancel_while_reading(store, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Interrupted):
        ti.preview(store, write_xlsx(tmp_path / "a.xlsx"), cancel=cancel)


def test_a_killed_import_leaves_the_database_as_it_was(tmp_path):
    """SIGKILL in the middle of the import's transaction: the database is as before."""
    from fieldapp.store import Store

    data = tmp_path / "data"
    big = write_big_xlsx(tmp_path / "big.xlsx", 8000)
    with Store(data) as s:
        create_task(s, code="OLD-1", title="已有任务")
        before = db_snapshot(s)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from fieldapp.store import Store
        from fieldapp.services import task_import as ti
        store = Store(Path({str(data)!r}))
        p = ti.preview(store, {str(big)!r})
        def progress(done, total):
            print("wrote", done, flush=True)
            time.sleep(30)  # hold the transaction open until the test kills us
        ti.apply(store, p, progress=progress)
        print("committed", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("wrote"), (line, proc.stderr.read() if proc.poll() is not None else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with Store(data) as s:
        assert db_snapshot(s) == before


def test_a_reimport_of_identical_bytes_reuses_the_reading_only_while_nothing_changed(store, tmp_path):
    path = write_messy_xlsx(tmp_path / "messy.xlsx")
    ti.apply(store, ti.preview(store, path))
    memo = ti.preview(store, path)
    assert memo.from_memo and {r.status for r in memo.records} == {ti.UNCHANGED}
    cache = store.data_dir / "cache" / "imports"
    saved = {f: f.read_bytes() for f in cache.iterdir()}
    for f in saved:
        f.unlink()
    cold = ti.preview(store, path)
    assert not cold.from_memo
    assert memo.to_json("zh_CN") == cold.to_json("zh_CN")  # the memo says exactly what a reading says
    for f, data in saved.items():
        f.write_bytes(data)
    assert ti.preview(store, path).from_memo
    mapped = ti.remap(store, memo, "2024年任务", {"deadline": None})  # needs the cells: read again
    assert all("deadline" not in r.values for r in mapped.records if r.sheet == "2024年任务")
    create_task(store, code="NEW-1", title="别处新增的任务")  # the store moved on
    moved = ti.preview(store, path)
    assert not moved.from_memo and {r.status for r in moved.records} == {ti.UNCHANGED}
    for damage in ("{damaged", "[]", "[" * 100_000):  # truncated, another shape, nested past the recursion limit
        for f in saved:
            f.write_text(damage)
        assert not ti.preview(store, path).from_memo


def test_a_memo_is_never_used_for_other_bytes(store, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx")
    ti.apply(store, ti.preview(store, path))
    rows = [list(r) for r in PLAIN_ROWS]
    rows[3][7] = "2025年3月底前"
    write_xlsx(path, rows)  # same name, other content
    p = ti.preview(store, path)
    assert not p.from_memo and records_by_code(p)["DC-001"].status == ti.CHANGED


def test_a_sheet_without_a_recognisable_header_can_be_mapped_by_hand(store, tmp_path):
    rows = [["事情", "谁来办", "哪天"], ["修路", "市交通局", "2024年底"], ["种树", "市园林局", "长期坚持"]]
    with pytest.raises(NothingToImport):
        ti.preview(store, write_xlsx(tmp_path / "odd.xlsx", rows))
    p = ti.preview(store, tmp_path / "odd.xlsx", mapping={"title": 0, "responsible_units": 1, "deadline": 2})
    assert [r.values["title"] for r in p.records] == ["修路", "种树"]
    assert p.records[0].values["deadline"] == dt.date(2024, 12, 31)
    assert p.sheets[0].header_rows == (1,)


def test_a_headerless_sheet_with_a_title_above_is_previewed_and_mapped_by_hand(store, tmp_path):
    """The window opens such a sheet (strict=False) for a person to choose the columns: the
    header is then the first full row, not the merged title row above it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in (["2025年第一批清单"], ["（截至3月）"], ["序号", "要办的事", "谁来办", "哪天"],
              [1, "修路", "市交通局", "2025年底"], [2, "种树", "市园林局", "长期坚持"]):
        ws.append(r)
    ws.merge_cells("A1:D1")
    path = tmp_path / "odd.xlsx"
    wb.save(path)
    with pytest.raises(NothingToImport):
        ti.preview(store, path)
    p = ti.preview(store, path, strict=False)
    assert not p.records and p.sheets[0].problem is not None
    mapped = ti.remap(store, p, p.sheets[0].name, {"title": 1, "responsible_units": 2, "deadline": 3})
    assert mapped.sheets[0].header_rows == (3,)
    assert [(r.values["title"], r.values["deadline"]) for r in mapped.records] == [
        ("修路", dt.date(2025, 12, 31)), ("种树", None)]
    assert [c.header for c in mapped.sheets[0].columns] == ["序号", "要办的事", "谁来办", "哪天"]


@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_merged_cells_and_hidden_rows_of_an_ods_or_xls_file(store, tmp_path, fmt):
    rows = [
        ["2024年任务清单"],
        ["序号", "督查事项", "责任单位", None, "完成时限", "内部"],
        [None, None, "牵头单位", "配合单位", None, None],
        [1, "推进老旧小区改造", "市住建局", "市财政局", "6月底前", "x"],
        [2, "加快河道整治", None, "市环保局", "2024年底", ""],
        [3, "隐藏的任务", "市城管局", "", "长期坚持", ""],
    ]
    spans = {(0, 0): (1, 6), (1, 0): (2, 1), (1, 1): (2, 1), (1, 2): (1, 2), (1, 4): (2, 1), (3, 2): (2, 1)}
    if fmt == "xls":  # merges from calamine, hidden rows and columns from xlrd
        path = write_xls(tmp_path / "合并.xls", rows, "任务", spans=spans, hidden_rows={5}, hidden_cols={5})
    else:
        path = write_ods(tmp_path / "合并.ods", {"任务": rows}, spans=spans, hidden_rows={5}, hidden_cols={5})
    p = ti.preview(store, path)
    s = p.sheets[0]
    assert s.header_rows == (2, 3) and s.year == 2024
    assert s.mapping["lead_unit"] == 2 and s.mapping["cooperating_units"] == 3
    assert s.columns[5].hidden and not any(c.hidden for c in s.columns[:5])
    recs = records_by_code(p)
    assert recs["推进老旧小区改造"].values["deadline"] == dt.date(2024, 6, 30)
    assert recs["加快河道整治"].values["lead_unit"] == "市住建局"  # merged down
    assert any("hidden" in w("en") for w in recs["隐藏的任务"].warnings)
    assert not any(r.warnings for r in (recs["推进老旧小区改造"], recs["加快河道整治"]))


def test_an_xls_that_only_calamine_can_read_still_imports(store, tmp_path):
    """xlrd refuses an OLE header whose byte-order mark is broken; calamine reads on. The cells
    stand, only what xlrd would have added (here a hidden row's warning) is lost."""
    path = write_xls(tmp_path / "清单.xls", hidden_rows={3})  # DC-001
    assert records_by_code(ti.preview(store, path))["DC-001"].warnings
    data = bytearray(path.read_bytes())
    data[28:30] = b"\0\0"
    path.write_bytes(bytes(data))
    assert list(scan_xls(str(path), ["任务清单"])) == [("任务清单", {})]
    p = ti.preview(store, path)
    got = {r.values["code"]: (r.values["title"], ti.record_json(r, "en")["deadline"], r.values["deadline_text"],
                              bool(r.warnings)) for r in p.records}
    assert got == EXPECTED
    assert not p.errors


def test_only_tasks_of_the_same_list_are_reported_missing(store, tmp_path):
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "清单A.xlsx")))
    other = [["任务编号", "任务名称"], ["B-1", "另一份清单的任务"]]
    unrelated = ti.preview(store, write_xlsx(tmp_path / "清单B.xlsx", other))
    assert not unrelated.missing  # a different list says nothing about list A
    ti.apply(store, unrelated)
    rows = [list(r) for r in PLAIN_ROWS]
    del rows[11]  # DC-007
    newer = ti.preview(store, write_xlsx(tmp_path / "清单A（更新）.xlsx", rows))
    assert [(m.code, m.source) for m in newer.missing] == [("DC-007", "清单A.xlsx")]


def test_logged_records_are_the_tasks_as_stored(store, tmp_path):
    """The bulk writer assembles each new task's log entry by hand: it must say exactly what the
    row holds (the ORM's own record of it), for text that JSON has to escape too."""
    rows = [["任务编号", "任务名称", "责任单位", "所属区县", "完成时限", "工作目标"],
            ["", '引号"与\\反斜杠 \U0001F600', "市水利局、市环保局", "西湖区", "2024年12月底前", "第一行\n第二行\t制表"],
            ["DC-9", "控制字符\x01与\u2028分隔", "", "不存在区", "长期坚持", ""],
            ["", "=1+1 公式样的文本", "市城管局", "", "", "</script>"]]
    result = ti.apply(store, ti.preview(store, write_csv(tmp_path / "esc.csv", rows)))  # xlsx cannot hold \x01
    assert result.created == 3
    with store.session() as s:
        entries = s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.seq)).all()
        assert verify_chain(entries).ok
        creates = {e.entity_id: e.after for e in entries if e.action == "create"}
        tasks = s.scalars(select(Task)).all()
        assert {t.id for t in tasks} == set(creates)
        for t in tasks:
            assert creates[t.id] == t.to_dict(), t.title
        assert sorted(t.id for t in tasks) == [e.entity_id for e in entries]  # ids in the order written


def test_codes_match_without_case_or_leading_zeros(store, tmp_path):
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "v1.xlsx", [
        ["任务编号", "任务名称"], ["DC-01", "推进老旧小区改造"], [12, "加快河道整治"]])))
    p = ti.preview(store, write_xlsx(tmp_path / "v2.xlsx", [
        ["任务编号", "任务名称"], ["dc-01", "推进老旧小区改造"], ["0012", "加快河道整治"]]))
    assert [r.status for r in p.records] == [ti.UNCHANGED, ti.UNCHANGED]
    assert not p.missing and not any(r.warnings for r in p.records)


def test_a_code_that_another_list_gave_an_unrelated_task_is_flagged(store, tmp_path):
    """Two offices number their lists 1, 2, 3: the second list would rewrite the first's tasks."""
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "科教.xlsx", [
        ["编号", "任务名称", "责任单位"], [1, "中小学课后服务全覆盖", "市教育局"], [2, "新建幼儿园 5 所", "市教育局"]])))
    p = ti.preview(store, write_xlsx(tmp_path / "城建.xlsx", [
        ["编号", "任务名称", "责任单位"], [1, "地铁三期建设", "市住建局"], [2, "新建幼儿园 6 所", "市教育局"]]))
    one, two = p.records
    assert one.status == ti.CHANGED and two.status == ti.CHANGED
    assert "中小学课后服务全覆盖" in one.warnings[0]("zh_CN") and "科教.xlsx" in one.warnings[0]("en")
    assert not two.warnings  # a reworded title of the same task is an ordinary change
    assert ti.record_json(one, "en")["warnings"]


def test_the_same_task_under_a_new_code_and_repeated_rows_are_flagged(store, tmp_path):
    ti.apply(store, ti.preview(store, write_xlsx(tmp_path / "v1.xlsx", [
        ["任务编号", "任务名称", "所属区县"], ["A-1", "整治油烟污染", "西湖区"]])))
    p = ti.preview(store, write_xlsx(tmp_path / "v2.xlsx", [
        ["任务编号", "任务名称", "所属区县"], ["B-7", "整治油烟污染", "西湖区"], [None, "清理河道垃圾", "上城区"],
        [None, "清理河道垃圾", "上城区"]]))
    renumbered, first, repeat = p.records
    assert renumbered.status == ti.NEW and "A-1" in renumbered.warnings[0]("zh_CN")
    assert not first.warnings and repeat.status == ti.NEW and "row 3" in repeat.warnings[0]("en")
    create_task(store, code="OTHER", title="别处新增")  # the store moved: apply compares again
    result = ti.apply(store, p)
    assert result.created == 3
    again = {r.row: r for r in result.rows}
    assert len(again[2].warnings) == 1 and len(again[4].warnings) == 1  # not doubled by comparing twice


def test_a_big_import_leaves_the_checkpoint_to_the_background_and_the_pool_as_it_was(store, tmp_path):
    import sqlite3

    from sqlalchemy import text

    result = ti.apply(store, ti.preview(store, write_big_xlsx(tmp_path / "big.xlsx", 3000)))
    assert result.created == 3000
    for t in list(store._background):  # the checkpoint (and the memo) threads
        t.join()
    assert any(t.name == "wal-checkpoint" for t in store._background)
    sessions = [store.session() for _ in range(3)]  # every pooled connection checks automatically again
    try:
        assert {s.execute(text("PRAGMA wal_autocheckpoint")).scalar() for s in sessions} == {1000}
    finally:
        for s in sessions:
            s.close()
    con = sqlite3.connect(store.db_path)
    try:
        busy, frames, copied = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and frames == copied  # the whole log is in the database
    finally:
        con.close()
    with store.session() as s:
        assert s.execute(text("SELECT COUNT(*) FROM tasks")).scalar() == 3000
