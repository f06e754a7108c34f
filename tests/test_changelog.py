"""The hash-chained, append-only change log: entries, chain, and tampering found."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from helpers import finding_in, run_fieldapp, write_jpeg
from sqlalchemy import select

from fieldapp.changelog import GENESIS, verify_chain
from fieldapp.maintenance import verify
from fieldapp.models import ChangeLogEntry, Finding, Task
from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store


def entries(store) -> list[ChangeLogEntry]:
    with store.session() as s:
        return list(s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.seq)))


def test_every_action_is_logged_with_before_and_after(store, tmp_path):
    (tid,) = tasks.create_task(store, title="河道保洁督查", code="HD-1", region_code="330102").tasks
    log = entries(store)
    assert [(e.entity, e.entity_id, e.action) for e in log] == [("tasks", tid, "create")]
    create = log[0]
    assert create.before is None
    with store.session() as s:
        row = s.get(Task, tid).to_dict()
    # the logged "after" is exactly what the row holds, defaults included
    assert create.after == row
    assert create.after["status"] == "assigned" and create.after["responsible_units"] == []
    assert create.author == "测试员"

    (vid,) = visits.record_visit(store, tid, visited_at=dt.datetime(2026, 5, 1, 10), place="河道").visits
    new = entries(store)[1:]
    assert {(e.entity, e.action) for e in new} == {("visits", "create"), ("tasks", "update")}
    upd = next(e for e in new if e.entity == "tasks")
    assert upd.entity_id == tid
    assert upd.before == {"status": "assigned"} and upd.after == {"status": "in_progress"}
    vis = next(e for e in new if e.entity == "visits")
    assert vis.entity_id == vid and vis.after["place"] == "河道" and vis.before is None

    fid = finding_in(store, tid, "closed")
    log = entries(store)
    mine = [e for e in log if e.entity_id == fid]
    assert [e.action for e in mine] == ["create", "update", "update", "update"]
    assert [(e.before, e.after) for e in mine[1:]] == [
        ({"status": "open"}, {"status": "rectifying"}),
        ({"status": "rectifying"}, {"status": "pending_check"}),
        ({"status": "pending_check"}, {"status": "closed"}),
    ]
    check_entries = [e for e in log if e.entity == "checks"]
    photo_entries = [e for e in log if e.entity == "photos"]
    assert len(check_entries) == 1 and check_entries[0].after["result"] == "rectified"
    assert len(photo_entries) == 1 and photo_entries[0].after["kind"] == "after"
    assert photo_entries[0].after["check_id"] == check_entries[0].entity_id
    # every logged row exists with the logged content (created and not changed since)
    with store.session() as s:
        f = s.get(Finding, fid)
        assert mine[0].after["description"] == f.description
    # every entry knows when and who
    assert all(e.at is not None and e.author == "测试员" for e in log)
    assert len({e.id for e in log}) == len(log)


def test_chain_links_and_verifies(store, task_id, tmp_path):
    finding_in(store, task_id, "closed")
    log = entries(store)
    assert len(log) >= 8
    assert log[0].prev_hash == GENESIS
    for a, b in zip(log, log[1:]):
        assert b.prev_hash == a.hash
        assert b.seq == a.seq + 1
    report = verify_chain(log)
    assert report.ok and report.entries == len(log)
    assert verify(store).ok


def test_chain_continues_across_reopen(data_dir, tmp_path):
    with Store(data_dir) as s1:
        tasks.create_task(s1, title="一")
        head = entries(s1)[-1].hash
    with Store(data_dir) as s2:
        tasks.create_task(s2, title="二")
        log = entries(s2)
        assert log[1].prev_hash == head
        assert verify_chain(log).ok


def test_refused_action_logs_nothing(store, task_id):
    fid = finding_in(store, task_id, "open")
    n = len(entries(store))
    with pytest.raises(Exception):  # noqa: B017 - any refusal: the point is what is left behind
        findings.submit_for_check(store, fid)
    # the chain head is not left pointing at a rolled-back entry
    tasks.create_task(store, title="之后")
    log = entries(store)
    assert len(log) == n + 1
    assert verify_chain(log).ok


def test_update_and_delete_refused_by_trigger(store, task_id):
    con = sqlite3.connect(store.db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE change_log SET author = 'mallory' WHERE seq = 1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM change_log WHERE seq = 1")
        con.rollback()
        assert con.execute("SELECT author FROM change_log WHERE seq = 1").fetchone()[0] == "测试员"
    finally:
        con.close()
    assert verify(store).ok


def _make_history(data_dir, tmp_path) -> int:
    with Store(data_dir, author="张三") as s:
        (tid,) = tasks.create_task(s, title="督查事项").tasks
        fid = finding_in(s, tid, "pending_check")
        findings.add_photos(s, fid, [write_jpeg(tmp_path / "site.jpg", color="blue")])
        return len(entries(s))


def test_edited_entry_found_by_cli_verify(data_dir, tmp_path):
    total = _make_history(data_dir, tmp_path)
    ok = run_fieldapp("verify", "--data-dir", str(data_dir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "校验通过" in ok.stdout

    victim = 3
    con = sqlite3.connect(data_dir / "fieldapp.db")
    try:
        con.execute("DROP TRIGGER change_log_no_update")
        after = json.loads(con.execute("SELECT after FROM change_log WHERE seq = ?", (victim,)).fetchone()[0])
        key = next(iter(after))
        after[key] = "篡改后的内容"
        con.execute("UPDATE change_log SET after = ? WHERE seq = ?", (json.dumps(after, ensure_ascii=False), victim))
        con.commit()
    finally:
        con.close()

    bad = run_fieldapp("verify", "--data-dir", str(data_dir), "--lang", "en")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"chain BROKEN at entry #{victim}" in bad.stdout
    assert "edited" in bad.stdout
    zh = run_fieldapp("verify", "--data-dir", str(data_dir))
    assert zh.returncode == 1
    assert f"第 {victim} 条" in zh.stdout and "校验发现问题" in zh.stdout
    with Store(data_dir) as s:
        report = verify(s)
        assert not report.ok and report.chain.broken_at == victim and report.chain.entries == victim
    assert total > victim


def test_deleted_middle_entry_found(data_dir, tmp_path):
    total = _make_history(data_dir, tmp_path)
    con = sqlite3.connect(data_dir / "fieldapp.db")
    try:
        con.execute("DROP TRIGGER change_log_no_delete")
        con.execute("DELETE FROM change_log WHERE seq = 4")
        con.commit()
    finally:
        con.close()
    bad = run_fieldapp("verify", "--data-dir", str(data_dir), "--lang", "en")
    assert bad.returncode == 1
    assert "chain BROKEN at entry #5" in bad.stdout and "missing" in bad.stdout
    with Store(data_dir) as s:
        report = verify(s).chain
        assert report.broken_at == 5 and not report.ok
    assert total > 5


def test_rewritten_chain_tail_found(data_dir, tmp_path):
    """Editing an entry and recomputing its own hash still breaks the link to the next one."""
    from fieldapp.changelog import _hashed_fields, entry_hash

    _make_history(data_dir, tmp_path)
    with Store(data_dir) as s:
        e = entries(s)[1]
    e.author = "李四"
    new_hash = entry_hash(e.prev_hash, _hashed_fields(e))
    con = sqlite3.connect(data_dir / "fieldapp.db")
    try:
        con.execute("DROP TRIGGER change_log_no_update")
        con.execute("UPDATE change_log SET author = ?, hash = ? WHERE seq = ?", ("李四", new_hash, e.seq))
        con.commit()
    finally:
        con.close()
    with Store(data_dir) as s:
        report = verify(s).chain
    assert report.broken_at == e.seq + 1
    assert "follow" in report.reason


def test_concurrent_writers_keep_one_chain(store):
    """Writes from several threads (window worker, background sync) never fork the chain."""
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(40):
                (tid,) = tasks.create_task(store, title=f"线程{n}-{i}").tasks
                findings.record_finding(store, tid, description="并发写入")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log = entries(store)
    assert len(log) == 4 * 40 * 3  # task create, finding create, task update
    assert len({e.prev_hash for e in log}) == len(log)  # no two entries claim the same parent
    report = verify_chain(log)
    assert report.ok, report
