"""The local store made ready to travel: one log writer, origins, versions, instants, acked heads."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time

import pytest
from excel_fixtures import write_xlsx
from helpers import finding_in
from sqlalchemy import select

from fieldapp import instants, migrations, sync_state
from fieldapp.changelog import GENESIS, LOCAL, entry_hash, verify_chain
from fieldapp.maintenance import verify
from fieldapp.models import ChangeLogEntry, Check, Finding, Task, Visit
from fieldapp.services import findings, tasks, visits
from fieldapp.services.task_import import apply, preview
from fieldapp.store import Store


def log_of(store) -> list[ChangeLogEntry]:
    with store.session() as s:
        return list(s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.seq)))


def test_each_entry_says_origin_device_operation_and_the_version_it_was_made_on(store):
    (tid,) = tasks.create_task(store, title="河道保洁督查", code="HD-1").tasks
    (vid,) = visits.record_visit(store, tid, visited_at=dt.datetime(2026, 5, 1, 10), place="河道").visits
    fid = finding_in(store, tid, "rectifying")
    log = log_of(store)
    assert {e.origin for e in log} == {LOCAL}
    assert {e.device for e in log} == {store.identity.device} and len(store.identity.device) == 36
    # one user action, one op id: the visit and the task it moved to 进行中
    visit_op = {e.op_id for e in log if e.entity_id == vid}
    assert len(visit_op) == 1
    assert {e.entity for e in log if e.op_id in visit_op} == {"visits", "tasks"}
    assert len({e.op_id for e in log}) == 4  # create task, visit, finding, start rectification
    task_entries = [e for e in log if e.entity_id == tid]
    assert [(e.action, e.base_version) for e in task_entries] == [("create", 0), ("update", 1)]
    finding_entries = [e for e in log if e.entity_id == fid]
    assert [(e.action, e.base_version) for e in finding_entries] == [("create", 0), ("update", 1)]
    with store.session() as s:
        assert s.get(Task, tid).version == 2 and s.get(Finding, fid).version == 2
        assert s.get(Visit, vid).version == 1
    assert "version" not in task_entries[1].after and "version" not in task_entries[0].after
    assert verify_chain(log).ok


def test_the_bulk_import_writes_entries_through_the_same_writer(store, tmp_path):
    book = write_xlsx(tmp_path / "v1.xlsx", [["任务编号", "任务名称", "完成时限"], ["A-1", "河道整治", "2026-06-30"],
                                             ["A-2", "道路修缮", "2026-07-31"]])
    apply(store, preview(store, book))
    (tid,) = [e.entity_id for e in log_of(store) if e.after and e.after.get("code") == "A-1"]
    with store.transaction() as s:  # an ORM edit between the two imports moves the version
        s.get(Task, tid).targets = "清淤 3 公里"
    book2 = write_xlsx(tmp_path / "v2.xlsx", [["任务编号", "任务名称", "完成时限"], ["A-1", "河道整治", "2026-09-30"],
                                              ["A-2", "道路修缮", "2026-07-31"]])
    apply(store, preview(store, book2))
    log = log_of(store)
    imports = [e for e in log if e.action == "create"]
    assert len(imports) == 2 and len({e.op_id for e in imports}) == 1
    assert {(e.origin, e.device, e.base_version) for e in imports} == {(LOCAL, store.identity.device, 0)}
    mine = [(e.action, e.base_version, e.after) for e in log if e.entity_id == tid]
    assert mine[1:] == [("update", 1, {"targets": "清淤 3 公里"}), ("update", 2, {"deadline": "2026-09-30", "deadline_text": "2026-09-30"})]
    with store.session() as s:
        assert s.get(Task, tid).version == 3
    assert verify(store).ok


def test_who_writes_is_given_when_the_store_opens_and_changed_between_actions(data_dir):
    with Store(data_dir, author="张三") as s:
        (tid,) = tasks.create_task(s, title="督查 1").tasks
        s.sign_in("李四")
        visits.record_visit(s, tid, visited_at=dt.datetime(2026, 5, 1, 10))
        authors = [(e.entity, e.author) for e in log_of(s)]
    assert authors == [("tasks", "张三"), ("visits", "李四"), ("tasks", "李四")]
    # once a platform user has signed in on this data dir, they are who writes
    with Store(data_dir, author="张三") as s:
        sync_state.write(s, **{sync_state.USER: {"name": "wang.jc", "role": "inspector", "unit": "督查一处"}})
    with Store(data_dir, author="张三") as s:
        assert s.author == "wang.jc"


def test_recorded_times_are_instants_shown_at_the_recorders_offset(store, task_id):
    hangzhou = dt.timezone(dt.timedelta(hours=8))
    visits.record_visit(store, task_id, visited_at=dt.datetime(2026, 5, 1, 9, 30, tzinfo=hangzhou))
    fid = finding_in(store, task_id, "pending_check")
    findings.record_check(store, fid, result="not_rectified",
                          checked_at=dt.datetime(2026, 5, 2, 23, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    with store.session() as s:
        v = s.scalars(select(Visit)).one()
        c = s.scalars(select(Check)).one()
        assert (v.visited_at, v.visited_offset) == (dt.datetime(2026, 5, 1, 1, 30), 480)
        assert v.visited_local == dt.datetime(2026, 5, 1, 9, 30)
        assert (c.checked_at, c.checked_offset) == (dt.datetime(2026, 5, 3, 4, 15), -300)
        assert c.checked_local == dt.datetime(2026, 5, 2, 23, 15)
    assert instants.to_wire(dt.datetime(2026, 5, 1, 1, 30), 480) == "2026-05-01T09:30:00+08:00"
    assert instants.from_wire("2026-05-01T09:30:00+08:00") == (dt.datetime(2026, 5, 1, 1, 30), 480)
    with pytest.raises(ValueError):
        instants.from_wire("2026-05-01T09:30:00")


def _legacy_entry(prev: str, seq: int, entity: str, entity_id: str, action: str, before, after) -> tuple:
    fields = {"id": f"e{seq}", "at": "2026-05-01T02:00:00", "author": "旧", "entity": entity,
              "entity_id": entity_id, "action": action, "before": before, "after": after}
    digest = entry_hash(prev, fields)
    return (seq, f"e{seq}", "2026-05-01 02:00:00.000000", "旧", entity, entity_id, action,
            json.dumps(before, ensure_ascii=False) if before else None,
            json.dumps(after, ensure_ascii=False) if after else None, prev, digest)


@pytest.fixture
def shanghai(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_an_older_database_upgrades_its_times_and_versions_in_place(data_dir, shanghai):
    from alembic import command

    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    command.upgrade(migrations.alembic_config(db), "0004")
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO tasks (id, title, category, responsible_units, lead_unit, cooperating_units, region_code, "
        "region_name, address, deadline_kind, deadline_text, targets, assignees, status, created_at, updated_at, "
        "author, import_source) VALUES ('t1', '旧任务', '其他', '[]', '', '[]', '', '', '', 'none', '', '', '[]', "
        "'in_progress', '2026-05-01 02:00:00.000000', '2026-05-01 02:00:00.000000', '旧', '')")
    con.execute("INSERT INTO visits (id, task_id, visited_at, place, summary, inspector, created_at, updated_at, "
                "author) VALUES ('v1', 't1', '2026-05-01 10:00:00.000000', '河道', '', '旧', "
                "'2026-05-01 02:00:00.000000', '2026-05-01 02:00:00.000000', '旧')")
    e1 = _legacy_entry(GENESIS, 1, "tasks", "t1", "create", None, {"title": "旧任务", "status": "assigned"})
    e2 = _legacy_entry(e1[-1], 2, "visits", "v1", "create", None, {"visited_at": "2026-05-01T10:00:00"})
    e3 = _legacy_entry(e2[-1], 3, "tasks", "t1", "update", {"status": "assigned"}, {"status": "in_progress"})
    con.executemany("INSERT INTO change_log (seq, id, at, author, entity, entity_id, action, before, after, "
                    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [e1, e2, e3])
    con.commit()
    con.close()

    with Store(data_dir) as s:
        with s.session() as session:
            v = session.get(Visit, "v1")
            # 10:00 in Shanghai was 02:00 UTC; shown as the recorder's 10:00
            assert (v.visited_at, v.visited_offset) == (dt.datetime(2026, 5, 1, 2, 0), 480)
            assert v.visited_local == dt.datetime(2026, 5, 1, 10, 0)
            assert session.get(Task, "t1").version == 2  # its create and one update
            assert v.version == 1
        assert verify(s).ok  # entries from before keep their hashes
        with s.transaction() as session:
            session.get(Task, "t1").targets = "新目标"
        new = log_of(s)[-1]
        assert (new.origin, new.base_version, new.prev_hash) == (LOCAL, 2, log_of(s)[-2].hash)
        assert verify(s).ok
    assert any((data_dir / "backups").iterdir())


def _cut_tail(db, keep: int) -> None:
    con = sqlite3.connect(db)
    try:
        con.execute("DROP TRIGGER change_log_no_delete")
        con.execute("DELETE FROM change_log WHERE seq > ?", (keep,))
        con.commit()
    finally:
        con.close()


def test_verify_finds_entries_the_platform_acknowledged_cut_off_the_tail(data_dir, tmp_path):
    from helpers import run_fieldapp

    with Store(data_dir, author="测试员") as s:
        (tid,) = tasks.create_task(s, title="督查").tasks
        for i in range(4):
            visits.record_visit(s, tid, visited_at=dt.datetime(2026, 5, 1, 10 + i))
        log = log_of(s)
        last = log[-1]
        sync_state.write(s, **{sync_state.ACKED_HEAD: {"seq": last.seq, "hash": last.hash}})
        assert verify(s).ok
    ok = run_fieldapp("verify", "--data-dir", str(data_dir), "--lang", "en")
    assert ok.returncode == 0 and f"holds entry #{last.seq}" in ok.stdout
    _cut_tail(data_dir / "fieldapp.db", keep=last.seq - 3)
    with Store(data_dir) as s:
        report = verify(s)
        assert report.chain.ok  # the chain alone cannot tell: what is left is sound
        assert report.acked_problem == "missing" and not report.ok
    bad = run_fieldapp("verify", "--data-dir", str(data_dir))
    assert bad.returncode == 1 and f"平台已确认接收到第 {last.seq} 条" in bad.stdout


def test_verify_finds_an_acknowledged_entry_rewritten(data_dir):
    with Store(data_dir, author="测试员") as s:
        tasks.create_task(s, title="督查")
        e = log_of(s)[-1]
        sync_state.write(s, **{sync_state.ACKED_HEAD: {"seq": e.seq, "hash": "f" * 64}})
        assert verify(s).acked_problem == "differs"


def test_a_conflict_kept_theirs_only_closes_and_mine_writes_my_value_as_a_new_change(store, task_id):
    from fieldapp.models import Conflict
    from fieldapp.services import conflicts

    with store.transaction() as s:
        s.add(Conflict(id="k-date", entity="tasks", entity_id=task_id, field="deadline", theirs="2026-09-30",
                       mine="2027-03-31", change_id="c1"))
        s.add(Conflict(id="k-text", entity="tasks", entity_id=task_id, field="targets", theirs="平台的", mine="我的",
                       change_id="c2"))
        s.get(Task, task_id).targets = "平台的"
    before = len(log_of(store))
    assert [k.id for k in conflicts.open_conflicts(store)] == ["k-date", "k-text"]
    conflicts.resolve(store, "k-text", conflicts.THEIRS)
    assert len(log_of(store)) == before  # nothing written to the record
    with store.session() as s:
        version = s.get(Task, task_id).version
    changes = conflicts.resolve(store, "k-date", conflicts.MINE)
    assert changes.tasks == {task_id}
    last = log_of(store)[-1]
    assert (last.entity_id, last.after, last.base_version, last.origin) == (task_id, {"deadline": "2027-03-31"},
                                                                            version, LOCAL)
    with store.session() as s:
        assert s.get(Task, task_id).deadline == dt.date(2027, 3, 31)
    assert conflicts.open_conflicts(store) == []
    with pytest.raises(Exception) as again:
        conflicts.resolve(store, "k-date", conflicts.MINE)
    assert "冲突" in again.value.message("zh_CN")


def test_a_photo_larger_than_the_platform_accepts_is_refused_when_it_is_added(store, task_id, make_jpeg, tmp_path):
    import os

    from PIL import Image

    from fieldapp.models import Photo

    fid = finding_in(store, task_id, "open")
    big = tmp_path / "big.jpg"
    Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)).save(big, "JPEG", quality=95)
    small = make_jpeg(tmp_path / "small.jpg")
    sync_state.write(store, **{sync_state.MAX_PHOTO_BYTES: big.stat().st_size - 1})  # learnt at the last sync
    changes = findings.add_photos(store, fid, [big, small], "site")
    assert len(changes.photos) == 1 and len(changes.refused) == 1
    assert "文件过大" in changes.refused[0].message("zh_CN") and "big.jpg" in changes.refused[0].message("zh_CN")
    with store.session() as s:
        assert [p.original_name for p in s.scalars(select(Photo))] == ["small.jpg"]


def test_a_delete_that_met_another_writers_change_can_be_kept_or_given_up(store):
    from fieldapp.domain import field_label, value_label
    from fieldapp.models import Conflict
    from fieldapp.services import conflicts

    (a,) = tasks.create_task(store, title="甲").tasks
    (b,) = tasks.create_task(store, title="乙").tasks
    with store.transaction() as s:
        for tid in (a, b):
            s.add(Conflict(id=f"k-{tid}", entity="tasks", entity_id=tid, field="deleted", theirs={"title": "改过"},
                           mine=True, change_id=f"c-{tid}"))
    assert field_label("deleted") == "删除" and value_label("tasks", "deleted", True) == "删除"
    assert value_label("tasks", "deleted", {"title": "改过"}) == "保留（已被他人修改）"
    conflicts.resolve(store, f"k-{a}", conflicts.MINE)
    conflicts.resolve(store, f"k-{b}", conflicts.THEIRS)
    with store.session() as s:
        assert s.get(Task, a) is None and s.get(Task, b) is not None
    assert log_of(store)[-1].action == "delete" and log_of(store)[-1].entity_id == a
