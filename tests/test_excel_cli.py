"""`fieldapp import-tasks FILE [--sheet NAME] [--dry-run] [--json]` as a script would use it."""

from __future__ import annotations

import json
import subprocess
import sys

from excel_fixtures import EXPECTED, write_messy_xlsx, write_xlsx

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
