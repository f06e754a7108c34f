"""`fieldapp import-tasks FILE [--sheet NAME] [--map FIELD=COLUMN]… [--dry-run] [--json]` as a script would use it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from excel_fixtures import EXPECTED, HEADER, PLAIN_ROWS, db_snapshot, write_messy_xlsx, write_xlsx

from fieldapp.store import Store

RECORD_KEYS = {"sheet", "row", "code", "title", "category", "responsible_units", "lead_unit", "cooperating_units",
               "region", "deadline", "deadline_text", "status", "warnings"}


def fieldapp(*args: str, lang: str = "zh_CN") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fieldapp", "--lang", lang, *args], capture_output=True, text=True,
                          timeout=180)


def test_dry_run_json_describes_every_row_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    path = write_xlsx(tmp_path / "清单.xlsx")
    run = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--dry-run", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert {"records", "skipped", "errors"} <= set(out)
    assert out["errors"] == []
    recs = {r["code"]: r for r in out["records"]}
    assert set(recs) == set(EXPECTED)
    for code, (title, deadline, text, warned) in EXPECTED.items():
        r = recs[code]
        assert RECORD_KEYS <= set(r)
        assert (r["title"], r["deadline"], r["deadline_text"], bool(r["warnings"])) == (title, deadline, text, warned)
        assert r["status"] == "new" and r["sheet"] == "任务清单"
        assert isinstance(r["responsible_units"], list) and isinstance(r["cooperating_units"], list)
    assert recs["DC-001"]["row"] == 4 and recs["DC-001"]["region"] == "西湖区"
    assert recs["DC-001"]["cooperating_units"] == ["西湖区政府", "上城区政府"]
    assert sorted(s["row"] for s in out["skipped"]) == [1, 2, 3, 6, 7, 13, 14, 15]
    assert all(s["reason"] for s in out["skipped"])
    stats = json.loads(fieldapp("--data-dir", str(data), "stats", "--json").stdout)
    assert stats["tables"]["tasks"] == 0 and stats["tables"]["change_log"] == 0


def test_import_then_import_again(tmp_path):
    data = tmp_path / "data"
    path = write_messy_xlsx(tmp_path / "messy.xlsx")
    first = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["applied"] and {r["status"] for r in out["records"]} == {"new"}
    assert all(r["task_id"] for r in out["records"])
    again = json.loads(fieldapp("--data-dir", str(data), "import-tasks", str(path), "--json").stdout)
    assert {r["status"] for r in again["records"]} == {"unchanged"}
    one = json.loads(fieldapp("--data-dir", str(data), "import-tasks", str(path), "--sheet", "专项督查",
                              "--json", lang="en").stdout)
    assert {r["sheet"] for r in one["records"]} == {"专项督查"}
    warned = [w for r in one["records"] for w in r["warnings"]]
    assert warned and all(w.isascii() or "“" in w for w in warned)  # English, quoting the cell
    text = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--dry-run")
    assert text.returncode == 0 and "未变 8" in text.stdout


def test_import_commands_load_neither_qt_nor_openpyxl(tmp_path):
    path = write_xlsx(tmp_path / "清单.xlsx")
    code = (
        "import sys\n"
        "from fieldapp.cli import main\n"
        f"rc = main(['--data-dir', {str(tmp_path / 'data')!r}, 'import-tasks', {str(path)!r}, '--json'])\n"
        "assert rc == 0, rc\n"
        "heavy = [m for m in ('PySide6', 'ui', 'sync', 'openpyxl', 'python_calamine') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr


# ---------------------------------------------------------------- --map FIELD=COLUMN

UNKNOWN_DEADLINE = "哪天办完"  # a header no synonym names: the deadline column (H) is not found


def _unrecognised_deadline_xlsx(path):
    rows = [list(r) for r in PLAIN_ROWS]
    rows[2] = [UNKNOWN_DEADLINE if h == "完成时限" else h for h in HEADER]
    return write_xlsx(path, rows)


def _stored(data) -> dict:
    """The stored tasks by code: what the import wrote, read from the database itself."""
    from sqlalchemy import text

    with Store(data) as store, store.session() as s:
        rows = s.execute(text("SELECT code, lead_unit, deadline, deadline_kind, deadline_text FROM tasks"))
        return {r.code: r for r in rows}


def test_map_imports_a_column_whose_header_is_not_recognised(tmp_path):
    data = tmp_path / "data"
    path = _unrecognised_deadline_xlsx(tmp_path / "清单.xlsx")
    guessed = json.loads(fieldapp("--data-dir", str(data), "import-tasks", str(path), "--dry-run", "--json").stdout)
    assert "deadline" not in guessed["sheets"][0]["mapping"]
    assert {r["deadline_text"] for r in guessed["records"]} == {""}
    run = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--map", "deadline=H", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["applied"] and out["sheets"][0]["mapping"]["deadline"] == "H"
    stored = _stored(data)
    assert set(stored) == set(EXPECTED)
    for code, (_title, deadline, text, _warned) in EXPECTED.items():
        t = stored[code]
        assert t.deadline_text == text
        assert t.deadline == (deadline if deadline and deadline[0].isdigit() else None), code
    assert stored["DC-004"].deadline_kind == "open_ended" and stored["DC-001"].deadline_kind == "date"
    assert stored["DC-001"].lead_unit == "市住建局"


def test_map_takes_chinese_labels_and_header_texts_and_leaves_a_field_out(tmp_path):
    data = tmp_path / "data"
    path = _unrecognised_deadline_xlsx(tmp_path / "清单.xlsx")
    label = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--map", "完成时限=h", "--dry-run", "--json")
    assert label.returncode == 0, label.stderr
    assert json.loads(label.stdout)["sheets"][0]["mapping"]["deadline"] == "H"
    typed = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--map", "完成时限＝Ｈ", "--dry-run", "--json")
    assert json.loads(typed.stdout)["sheets"][0]["mapping"]["deadline"] == "H", typed.stderr  # a Chinese input method
    run = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--map", f"完成时限={UNKNOWN_DEADLINE}",
                   "--map", "lead_unit=")
    assert run.returncode == 0, run.stderr
    used = next(line for line in run.stdout.splitlines() if line.strip().startswith("列："))
    assert "完成时限 H" in used and "牵头单位" not in used  # the columns used are shown
    assert "未导入的列：" in run.stdout and "E 牵头单位" in run.stdout  # and the one left out
    stored = _stored(data)
    assert stored["DC-001"].deadline_text == "2024年12月底前" and str(stored["DC-001"].deadline) == "2024-12-31"
    assert {t.lead_unit for t in stored.values()} == {""}  # the lead-unit column was left out
    out = json.loads(fieldapp("--data-dir", str(data), "import-tasks", str(path), "--map", "lead_unit=",
                              "--map", "deadline=H", "--dry-run", "--json").stdout)
    assert "lead_unit" not in out["sheets"][0]["mapping"]
    assert {r["status"] for r in out["records"]} == {"unchanged"}


@pytest.mark.parametrize("maps, lang, message", [
    (["deadline=H", "dead=I"], "zh_CN", "没有“dead”这个字段"),
    (["deadline=H", "targets=ZZ"], "zh_CN", "只有 A–J 列，没有 ZZ 列"),
    (["deadline=H", "targets=I7"], "en", "“I7” is neither a column letter nor the header of a column"),
    (["deadline=H", "targets=h"], "zh_CN", "H 列已由 --map deadline=H 指定给 deadline"),
    (["deadline"], "en", "write it as FIELD=COLUMN"),
])
def test_a_bad_map_exits_2_with_the_reason_and_changes_nothing(tmp_path, maps, lang, message):
    data = tmp_path / "data"
    path = _unrecognised_deadline_xlsx(tmp_path / "清单.xlsx")
    assert fieldapp("--data-dir", str(data), "import-tasks", str(path)).returncode == 0  # deadlines not found
    with Store(data) as store:
        before = db_snapshot(store)
    args = [a for m in maps for a in ("--map", m)]
    run = fieldapp("--data-dir", str(data), "import-tasks", str(path), *args, lang=lang)
    assert run.returncode == 2
    assert message in run.stderr and "--map" in run.stderr
    assert ("database was not changed" if lang == "en" else "数据库未作任何修改") in run.stderr
    as_json = fieldapp("--data-dir", str(data), "import-tasks", str(path), *args, "--json", lang=lang)
    assert as_json.returncode == 2 and message in json.loads(as_json.stdout)["errors"][0]["reason"]
    with Store(data) as store:
        assert db_snapshot(store) == before


def test_a_letter_beyond_another_sheet_asks_for_the_sheet(tmp_path):
    path = write_messy_xlsx(tmp_path / "messy.xlsx")
    run = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--map", "deadline=H", lang="en")
    assert run.returncode == 2 and "“专项督查” has columns A–C only" in run.stderr and "--sheet" in run.stderr
    one = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--sheet", "2024年任务",
                   "--map", "deadline=H", "--dry-run")
    assert one.returncode == 0, one.stderr
    ambiguous = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--map", "lead_unit=责任单位")
    assert ambiguous.returncode == 2 and "（E、F）" in ambiguous.stderr


def test_import_help_lists_the_fields():
    from fieldapp.excel.header import FIELDS, MAPPABLE

    run = fieldapp("import-tasks", "--help")
    assert run.returncode == 0 and "--map FIELD=COLUMN" in run.stdout
    for f in MAPPABLE:
        assert f in run.stdout and FIELDS[f][0].zh in run.stdout


def test_a_second_version_says_what_changed_from_what_to_what_and_names_the_missing(tmp_path):
    data = tmp_path / "data"
    rows = [list(r) for r in PLAIN_ROWS]
    assert fieldapp("--data-dir", str(data), "import-tasks", str(write_xlsx(tmp_path / "v1.xlsx", rows))).returncode == 0
    dc1 = next(r for r in rows if "DC-001" in r)
    dc1[HEADER.index("完成时限")] = "2025年3月底前"
    dc7 = next(r for r in rows if "DC-007" in r)
    rows.remove(dc7)
    run = fieldapp("--data-dir", str(data), "import-tasks", str(write_xlsx(tmp_path / "v2.xlsx", rows)), "--dry-run")
    assert run.returncode == 0, run.stderr
    changed = next(line for line in run.stdout.splitlines() if "DC-001" in line)
    assert "完成时限 2024-12-31 → 2025-03-31" in changed and "deadline_text" not in changed
    assert "DC-007" in run.stdout and dc7[HEADER.index("督查事项")] in run.stdout  # named, not only counted


def test_skip_errors_imports_the_other_rows(tmp_path):
    data = tmp_path / "data"
    rows = [["任务编号", "任务名称"], ["A-1", "好的任务"], ["A-1", "编号重复的任务"], ["A-2", "另一个好任务"]]
    path = write_xlsx(tmp_path / "err.xlsx", rows)
    refused = fieldapp("--data-dir", str(data), "import-tasks", str(path))
    assert refused.returncode == 2
    assert json.loads(fieldapp("--data-dir", str(data), "stats", "--json").stdout)["tables"]["tasks"] == 0
    run = fieldapp("--data-dir", str(data), "import-tasks", str(path), "--skip-errors", "--json")
    out = json.loads(run.stdout)
    assert out["applied"] and out["counts"]["new"] == 2 and len(out["errors"]) == 1
    assert json.loads(fieldapp("--data-dir", str(data), "stats", "--json").stdout)["tables"]["tasks"] == 2


@pytest.mark.parametrize("args, words", [
    (["--status", "不存在"], ("不存在", "assigned")),
    (["--category", "没有的类别"], ("没有的类别", "类别")),
    (["--kind", "findings", "--status", "completed"], ("completed", "open")),  # a task status, not a finding's
])
def test_a_ledger_filter_that_names_nothing_is_refused(tmp_path, args, words):
    data = tmp_path / "data"
    assert fieldapp("--data-dir", str(data), "import-tasks", str(write_xlsx(tmp_path / "a.xlsx"))).returncode == 0
    out = tmp_path / "台账.xlsx"
    run = fieldapp("--data-dir", str(data), "export-ledger", str(out), *args)
    assert run.returncode == 2 and not out.exists()
    assert all(w in run.stderr for w in words), run.stderr


def test_a_ledger_is_written_only_under_an_xlsx_name(tmp_path):
    out = tmp_path / "台账.xls"
    run = fieldapp("--data-dir", str(tmp_path / "data"), "export-ledger", str(out))
    assert run.returncode == 2 and not out.exists() and ".xlsx" in run.stderr


def test_a_header_text_map_takes_the_column_from_the_field_that_had_it(tmp_path):
    """--map deadline=工作目标: column I was the targets'; now it is the deadline's, targets none."""
    path = write_xlsx(tmp_path / "清单.xlsx")
    run = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--dry-run", "--json",
                   "--map", "deadline=工作目标")
    mapping = json.loads(run.stdout)["sheets"][0]["mapping"]
    assert mapping["deadline"] == "I" and "targets" not in mapping
    run = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--dry-run", "--json",
                   "--map", "lead_unit=配合单位")
    mapping = json.loads(run.stdout)["sheets"][0]["mapping"]
    assert mapping["lead_unit"] == "F" and "cooperating_units" not in mapping


def test_a_title_letter_without_sheet_leaves_a_lookup_sheet_alone(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "任务清单"
    for r in PLAIN_ROWS:
        ws.append(list(r))
    units = wb.create_sheet("单位名录")
    for r in (["单位", "联系人", "电话"], ["市住建局", "张三", "1"], ["市水利局", "李四", "2"], ["市环保局", "王五", "3"]):
        units.append(r)
    path = tmp_path / "两张表.xlsx"
    wb.save(path)
    run = fieldapp("--data-dir", str(tmp_path / "data"), "import-tasks", str(path), "--dry-run", "--json",
                   "--map", "title=C")
    out = json.loads(run.stdout)
    assert {r["sheet"] for r in out["records"]} == {"任务清单"} and len(out["records"]) == len(EXPECTED)


def test_header_texts_map_a_sheet_whose_header_no_synonym_names(tmp_path):
    rows = [["2025年第一批清单"], ["序号", "要办的事", "谁来办", "哪天"], [1, "修路", "市交通局", "2025年底"],
            [2, "种树", "市园林局", "长期坚持"]]
    path = write_xlsx(tmp_path / "odd.xlsx", rows)
    data = str(tmp_path / "data")
    refused = fieldapp("--data-dir", data, "import-tasks", str(path), "--dry-run")
    assert refused.returncode == 2 and "表头" in refused.stderr
    run = fieldapp("--data-dir", data, "import-tasks", str(path), "--dry-run", "--json", "--map", "title=要办的事",
                   "--map", "责任单位=谁来办", "--map", "deadline=哪天")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert [(r["title"], r["responsible_units"], r["deadline"]) for r in out["records"]] == [
        ("修路", ["市交通局"], "2025-12-31"), ("种树", ["市园林局"], "open-ended")]
    assert out["sheets"][0]["header_rows"] == [2]
    still = fieldapp("--data-dir", data, "import-tasks", str(path), "--dry-run", "--map", "deadline=哪天")
    assert still.returncode == 2 and "表头" in still.stderr  # no title column: still nothing to import


def test_a_ledger_imports_back_unchanged_without_noise(tmp_path):
    data = str(tmp_path / "data")
    assert fieldapp("--data-dir", data, "import-tasks", str(write_xlsx(tmp_path / "a.xlsx"))).returncode == 0
    ledger = tmp_path / "台账.xlsx"
    assert fieldapp("--data-dir", data, "export-ledger", str(ledger)).returncode == 0
    run = fieldapp("--data-dir", data, "import-tasks", str(ledger), "--dry-run")
    assert run.returncode == 0, run.stderr
    assert f"未变 {len(EXPECTED)}" in run.stdout and "新增 0，变更 0" in run.stdout
    assert "隐藏" not in run.stdout  # the ledger's hidden 记录ID column is FieldApp's own, not worth a note
