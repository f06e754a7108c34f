"""FieldApp's sync against the real reference platform on loopback: sign-in, push, photos, pull.

A supervisor's and inspectors' FieldApps are real data dirs; the platform is the real server in
a subprocess (tests/platform_fixtures.py); nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

import pytest
from helpers import write_jpeg
from PIL import Image
from sync_checks import sync
from platform_fixtures import json_value, platform, server_rows, start_platform  # noqa: F401 - the fixture
from sqlalchemy import func, select

from fieldapp import sync_state
from fieldapp.maintenance import verify
from fieldapp.models import Conflict, Finding, Photo, Task, Visit
from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store
from sync import errors
from sync.cli import client_for, sign_in, sign_out
from sync.engine import PUSHED_SEQ

UNIT = "市督查室"


@pytest.fixture(autouse=True)
def token_file(monkeypatch):
    monkeypatch.setenv("FIELDAPP_KEYRING", "file")  # no OS keyring on a test machine


def server_records(platform, entity: str) -> dict[str, dict]:
    return {i: {"version": v, **json_value(f)} for i, v, f in
            server_rows(platform.db_url, "SELECT id, version, fields FROM records WHERE entity = :e", e=entity)}


def count(store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people(platform, tmp_path):
    """A supervisor with one task published, an inspector it is assigned to; both signed in."""
    platform.add_user("zhou", "supervisor", UNIT)
    platform.add_user("li", "inspector", UNIT)
    sup = Store(tmp_path / "sup", author="周")
    ins = Store(tmp_path / "li", author="李")
    try:
        sign_in(sup, platform.base_url, "zhou", platform.passwords["zhou"])
        sign_in(ins, platform.base_url, "li", platform.passwords["li"])
        (tid,) = tasks.create_task(sup, title="西湖区河道保洁督查", code="DC-2026-001", region_code="330106",
                                   responsible_units=["西湖区林水局"], deadline=dt.date(2026, 6, 30)).tasks
        report = sync(sup)
        assert report.pushed == 1 and report.pending_changes == 0
        platform.cli("assign", "DC-2026-001", "li")
        yield sup, ins, tid
    finally:
        sup.close()
        ins.close()


def test_an_inspectors_work_reaches_the_platform_once_and_the_supervisor_sees_it(platform, people, tmp_path):
    sup, ins, tid = people
    first = sync(ins)
    assert first.pulled["tasks"] == 1
    with ins.session() as s:
        t = s.get(Task, tid)
        assert (t.title, t.deadline, t.author) == ("西湖区河道保洁督查", dt.date(2026, 6, 30), "zhou")
    # on site: a visit, a finding with two photos
    hangzhou = dt.timezone(dt.timedelta(hours=8))
    (vid,) = visits.record_visit(ins, tid, visited_at=dt.datetime(2026, 5, 6, 9, 30, tzinfo=hangzhou),
                                 place="古荡河").visits
    (fid,) = findings.record_finding(ins, tid, visit_id=vid, description="河面漂浮垃圾未清理", severity="serious",
                                     responsible_unit="西湖区林水局").findings
    photos = [write_jpeg(tmp_path / f"p{i}.jpg", size=(640, 480), color=c) for i, c in enumerate(("red", "blue"))]
    findings.add_photos(ins, fid, photos, "site")
    report = sync(ins)
    assert report.photos_uploaded == 2 and report.pending_changes == 0 and report.refused == []
    assert report.head is not None
    # exactly once on the platform, as recorded
    visits_there = server_records(platform, "visits")
    assert list(visits_there) == [vid]
    assert visits_there[vid]["visited_at"] == "2026-05-06T09:30:00+08:00"
    assert list(server_records(platform, "findings")) == [fid]
    assert len(server_records(platform, "photos")) == 2
    stored = sorted(p.name for p in platform.photos_dir.rglob("*") if p.is_file() and len(p.name) == 64)
    with ins.session() as s:
        assert stored == sorted(p.sha256 for p in s.scalars(select(Photo)))
    # a second sync has nothing to send; a retry after a lost answer changes nothing there
    again = sync(ins)
    assert (again.pushed, again.duplicates, again.photos_uploaded) == (0, 0, 0)
    sync_state.write(ins, **{PUSHED_SEQ: 0})
    replay = sync(ins)
    assert replay.pushed == 0 and replay.duplicates > 0
    assert len(server_records(platform, "visits")) == 1 and len(server_records(platform, "photos")) == 2
    assert server_rows(platform.db_url, "SELECT COUNT(*) FROM changes")[0][0] == replay.duplicates + 1  # + the task
    # the supervisor pulls the finding and its photos (files checked by hash)
    seen = sync(sup)
    assert seen.pulled["records"] >= 4 and seen.photos_downloaded == 2
    with sup.session() as s:
        f = s.get(Finding, fid)
        assert (f.description, f.author, len(f.photos)) == ("河面漂浮垃圾未清理", "li", 2)
        v = s.get(Visit, vid)
        assert v.visited_local == dt.datetime(2026, 5, 6, 9, 30) and v.visited_offset == 480
    assert verify(sup).ok and verify(ins).ok
    # what was pulled is logged as pulled and never pushed back
    assert sync(sup).pushed == 0
    with sup.reading() as con:
        origins = dict(con.execute("SELECT entity, origin FROM change_log WHERE entity_id = ?", (fid,)).fetchall())
    assert origins == {"findings": "pulled"}


def test_the_platform_owns_dispatch_fields_and_returns_findings(platform, people):
    sup, ins, tid = people
    sync(ins)
    fid = findings.record_finding(ins, tid, description="护栏破损", severity="general").findings.pop()
    findings.start_rectification(ins, fid)
    findings.submit_for_check(ins, fid)
    sync(ins)
    # the supervisor moves the deadline; the platform sends the finding back
    with sup.transaction() as s:
        s.get(Task, tid).deadline = dt.date(2026, 9, 30)
    sync(sup)
    platform.cli("return", fid, "--reason", "照片不能证明已修复，请补充整改后照片")
    sync(ins)
    with ins.session() as s:
        assert s.get(Task, tid).deadline == dt.date(2026, 9, 30)
        f = s.get(Finding, fid)
        assert f.status == "rectifying" and f.return_reason == "照片不能证明已修复，请补充整改后照片"
    # offline, the inspector works on it again
    findings.submit_for_check(ins, fid)
    assert sync(ins).pushed == 1
    assert server_records(platform, "findings")[fid]["status"] == "pending_check"


def test_an_inspector_cannot_change_a_dispatch_field(platform, people):
    sup, ins, tid = people
    sync(ins)
    with ins.transaction() as s:
        s.get(Task, tid).deadline = dt.date(2027, 1, 1)
    report = sync(ins)
    assert [r["code"] for r in report.refused] == ["forbidden"]
    assert server_records(platform, "tasks")[tid]["deadline"] == "2026-06-30"
    assert report.pending_changes == 0  # refused for good: it does not block what follows


def test_two_writers_of_one_field_keep_both_values(platform, people):
    sup, ins, tid = people
    sync(ins)
    fid = findings.record_finding(ins, tid, description="占道经营", severity="general",
                                  requirement="限期清理").findings.pop()
    # submitted for checking: no longer the inspector's alone, the supervisor may write it too
    findings.start_rectification(ins, fid)
    findings.submit_for_check(ins, fid)
    sync(ins)
    sync(sup)
    with sup.transaction() as s:
        s.get(Finding, fid).requirement = "三日内清理并设置隔离"
    with ins.transaction() as s:
        s.get(Finding, fid).requirement = "一周内清理"
    sync(sup)
    report = sync(ins)
    assert report.conflicts == 1 and report.open_conflicts == 1
    with ins.session() as s:
        (k,) = s.scalars(select(Conflict)).all()
        assert (k.entity_id, k.field, k.theirs, k.mine) == (fid, "requirement", "三日内清理并设置隔离", "一周内清理")
        # the platform's value arrived, the inspector's is kept in the conflict, not lost
        assert s.get(Finding, fid).requirement == "三日内清理并设置隔离"


def test_an_interrupted_photo_upload_resumes_from_the_chunks_the_platform_holds(tmp_path):
    server = start_platform(tmp_path, chunk_bytes=65536)
    try:
        server.add_user("zhou", "supervisor", UNIT)
        with Store(tmp_path / "sup") as sup:
            sign_in(sup, server.base_url, "zhou", server.passwords["zhou"])
            (tid,) = tasks.create_task(sup, title="督查").tasks
            fid = findings.record_finding(sup, tid, description="问题").findings.pop()
            big = tmp_path / "big.jpg"  # noise: a JPEG that does not compress to nothing
            Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3)).save(big, "JPEG", quality=90)
            findings.add_photos(sup, fid, [big], "site")
            data = big.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            assert len(data) > 3 * 65536
            client = client_for(sup)
            client.start_upload(sha, len(data))
            client.put_chunk(sha, 0, data[:65536])  # then the connection dropped
            client.put_chunk(sha, 1, data[65536:131072])
            client.close()
            report = sync(sup)
            assert report.photos_uploaded == 1 and report.bytes_uploaded == len(data) - 131072
            assert (server.photos_dir / sha[:2] / sha).read_bytes() == data
    finally:
        server.stop()


def test_sign_in_failures_are_said_in_the_users_language(platform, tmp_path):
    platform.add_user("li", "inspector", UNIT)
    with Store(tmp_path / "li") as ins:
        with pytest.raises(errors.WrongPassword) as wrong:
            sign_in(ins, platform.base_url, "li", "not-it")
        assert wrong.value.message("zh_CN") == "用户名或密码错误。"
        with pytest.raises(errors.NoNetwork) as offline:
            sign_in(ins, "http://127.0.0.1:9", "li", "x")
        assert "无法连接督查平台" in offline.value.message("zh_CN")
        with pytest.raises(errors.NotConfigured):
            client_for(ins)
        sign_in(ins, platform.base_url, "li", platform.passwords["li"])
        assert ins.author == "li"
        token = (tmp_path / "li" / "token").read_text()
        assert (tmp_path / "li" / "token").stat().st_mode & 0o077 == 0  # only the user reads it
        with ins.reading() as con:  # never in the database
            assert not con.execute("SELECT 1 FROM sync_state WHERE value LIKE ?", (f"%{token}%",)).fetchall()
        sign_out(ins)
        assert not (tmp_path / "li" / "token").exists()
        with pytest.raises(errors.SessionExpired):
            sync(ins)
        # the revoked token is refused by the platform too
        api = platform.api(token)
        assert api.get("/v1/me").json()["code"] == "token_revoked"


def test_a_sync_of_nothing_reports_nothing(platform, tmp_path):
    platform.add_user("li", "inspector", UNIT)
    with Store(tmp_path / "li") as ins:
        sign_in(ins, platform.base_url, "li", platform.passwords["li"])
        report = sync(ins)
        assert (report.pushed, report.photos_uploaded, report.pending_changes) == (0, 0, 0)
        assert report.pulled["tasks"] == 0
        assert sync_state.read(ins, sync_state.LAST_SYNC)["ok"] is True
        assert count(ins, Task) == 0


def run_app(*args: str, env: dict | None = None, stdin: str | None = None):
    import subprocess
    import sys

    full = dict(os.environ, FIELDAPP_KEYRING="file", **(env or {}))
    full.pop("FIELDAPP_LANG", None)
    return subprocess.run([sys.executable, "-m", "ui", *args], capture_output=True, text=True, encoding="utf-8",
                          env=full, input=stdin, timeout=120)


def test_login_sync_and_logout_from_the_command_line(platform, tmp_path):
    platform.add_user("li", "inspector", UNIT)
    data = str(tmp_path / "li")
    wrong = run_app("login", platform.base_url, "--user", "li", "--data-dir", data, stdin="nope\n")
    assert wrong.returncode == 2 and "用户名或密码错误" in wrong.stderr
    ok = run_app("login", platform.base_url, "--user", "li", "--data-dir", data,
                 env={"FIELDAPP_PASSWORD": platform.passwords["li"]})
    assert ok.returncode == 0, ok.stderr
    assert "已登录：li" in ok.stdout and "密钥环" in ok.stderr  # told once where the token went
    with Store(data) as store:
        (tid,) = tasks.create_task(store, title="本地任务").tasks  # an inspector may not publish tasks
    out = run_app("sync", "--json", "--data-dir", data)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True and [r["entity_id"] for r in report["refused"]] == [tid]
    assert report["refused"][0]["code"] == "forbidden" and set(report["pulled"]) >= {"tasks", "records"}
    platform.stop()  # the platform goes away: the sync fails, says why, and exits non-zero
    down = run_app("sync", "--json", "--data-dir", data)
    assert down.returncode == 1
    failed = json.loads(down.stdout)
    assert failed["ok"] is False and failed["error"] == "NoNetwork" and "无法连接督查平台" in failed["message"]
    bye = run_app("logout", "--data-dir", data, "--lang", "en")
    assert bye.returncode == 0 and "signed out" in bye.stdout
    assert not (tmp_path / "li" / "token").exists()
