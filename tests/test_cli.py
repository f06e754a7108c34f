"""The `fieldapp` command line: stats, verify, and errors people can read."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from helpers import finding_in, run_fieldapp, write_jpeg

from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store


@pytest.fixture
def filled(data_dir, tmp_path) -> Path:
    """A data dir with known contents: 3 tasks, 2 visits, findings in every status."""
    with Store(data_dir) as s:
        t1, t2, _t3 = (next(iter(tasks.create_task(s, title=f"任务{i}", code=f"T-{i}").tasks)) for i in range(3))
        visits.record_visit(s, t1, visited_at=dt.datetime(2026, 5, 1, 9), latitude=30.2, longitude=120.1)
        visits.record_visit(s, t2, visited_at=dt.datetime(2026, 5, 2, 9))
        finding_in(s, t1, "open")
        finding_in(s, t1, "open")
        finding_in(s, t1, "rectifying")
        finding_in(s, t2, "pending_check")
        finding_in(s, t2, "closed")  # 1 check, 1 photo
        back = finding_in(s, t2, "pending_check")
        findings.add_photos(s, back, [write_jpeg(tmp_path / "site1.jpg", color="blue"),
                                      write_jpeg(tmp_path / "site2.jpg", color="pink")])
        findings.record_check(s, back, result="not_rectified")  # 退回: 1 more check
    return data_dir


def test_stats_json(filled):
    out = run_fieldapp("stats", "--json", "--data-dir", str(filled))
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    tables = result["tables"]
    assert {k: tables[k] for k in ("tasks", "visits", "findings", "checks", "photos")} == {
        "tasks": 3, "visits": 2, "findings": 6, "checks": 2, "photos": 3,
    }
    assert tables["change_log"] > 3 + 2 + 6 + 2 + 3
    assert result["findings_by_status"] == {"open": 2, "rectifying": 2, "pending_check": 1, "closed": 1}
    assert result["tasks_by_status"] == {"assigned": 1, "in_progress": 2}


def test_stats_plain(filled):
    out = run_fieldapp("stats", "--data-dir", str(filled))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.split() == ["findings", "6"] for line in lines)
    assert "findings[open] 2" in lines


def test_stats_on_new_dir_creates_empty_store(data_dir):
    out = run_fieldapp("stats", "--json", "--data-dir", str(data_dir))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["tables"].values()) == {0}
    assert result["findings_by_status"] == {}


def test_verify_ok(filled):
    zh = run_fieldapp("verify", "--data-dir", str(filled))
    assert zh.returncode == 0, zh.stdout + zh.stderr
    assert "数据库完整性：正常" in zh.stdout and "哈希链完整" in zh.stdout
    assert zh.stdout.strip().splitlines()[-1] == "校验通过"
    en = run_fieldapp("verify", "--data-dir", str(filled), "--lang", "en")
    assert en.returncode == 0
    assert "database integrity: OK" in en.stdout and "chain intact" in en.stdout
    assert en.stdout.strip().splitlines()[-1] == "verify: OK"


def test_verify_reports_missing_photo(filled):
    photo = next(p for p in (filled / "photos").glob("[0-9a-f][0-9a-f]/*"))
    photo.unlink()
    out = run_fieldapp("verify", "--data-dir", str(filled), "--lang", "en")
    assert out.returncode == 1
    assert f"({photo.name[:12]}…): missing" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "verify: PROBLEMS FOUND"


@pytest.mark.parametrize("command", [["stats", "--json"], ["verify"]])
def test_locked_data_dir_message_zh_and_en(data_dir, command):
    with Store(data_dir):
        zh = run_fieldapp(*command, "--data-dir", str(data_dir))
        en = run_fieldapp(*command, "--data-dir", str(data_dir), "--lang", "en")
        en_top = run_fieldapp("--lang", "en", *command, "--data-dir", str(data_dir))
        en_env = run_fieldapp(*command, "--data-dir", str(data_dir), env_extra={"FIELDAPP_LANG": "en"})
    assert zh.returncode == 2, zh.stdout + zh.stderr
    assert "另一个 FieldApp 窗口正在使用数据目录" in zh.stderr and str(data_dir) in zh.stderr
    assert "Another" not in zh.stderr
    assert "Traceback" not in zh.stderr and zh.stdout == ""
    for out in (en, en_top, en_env):
        assert out.returncode == 2
        assert "Another FieldApp is already using the data folder" in out.stderr
        assert str(data_dir) in out.stderr and "另一个" not in out.stderr
    # once released, the same command works
    assert run_fieldapp(*command, "--data-dir", str(data_dir)).returncode == 0


def test_not_a_database_via_cli(data_dir):
    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    db.write_bytes(b"just some text\n" * 10)
    out = run_fieldapp("stats", "--data-dir", str(data_dir))
    assert out.returncode == 2
    assert "不是 FieldApp 数据库" in out.stderr and "Traceback" not in out.stderr
    assert db.read_bytes() == b"just some text\n" * 10


def test_unwritable_data_dir_via_cli(tmp_path):
    (tmp_path / "afile").write_text("x")
    out = run_fieldapp("verify", "--data-dir", str(tmp_path / "afile" / "data"), "--lang", "en")
    assert out.returncode == 2
    assert "Cannot write to the data folder" in out.stderr and "Traceback" not in out.stderr


def test_console_script_installed(data_dir):
    script = Path(sys.executable).parent / ("fieldapp.exe" if os.name == "nt" else "fieldapp")
    if not script.exists():
        pytest.skip("fieldapp is not installed as a console script in this environment")
    import subprocess

    out = subprocess.run([str(script), "stats", "--json", "--data-dir", str(data_dir)],
                         capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["tables"]["tasks"] == 0


def test_version():
    from fieldapp import __version__

    out = run_fieldapp("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"FieldApp {__version__}"
