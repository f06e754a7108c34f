"""The services: the finding lifecycle, its refusals, tasks and visits."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from helpers import counts, finding_in, finding_status, new_finding, task_status, write_jpeg
from sqlalchemy import select

from fieldapp.errors import FieldAppError, InvalidInput, NotFound, TransitionRefused
from fieldapp.models import Check, Finding, Photo
from fieldapp.services import findings, tasks, visits


def assert_bilingual(err: FieldAppError, *, zh: tuple[str, ...] = (), en: tuple[str, ...] = ()):
    """Both languages render fully (no unfilled {placeholders}) and contain the reason."""
    zh_text, en_text = err.message("zh_CN"), err.message("en")
    assert zh_text and en_text and zh_text != en_text
    assert "{" not in zh_text and "{" not in en_text
    for frag in zh:
        assert frag in zh_text, zh_text
    for frag in en:
        assert frag in en_text, en_text
    return zh_text, en_text


# -- allowed moves ------------------------------------------------------------------------------

def test_open_to_rectifying_to_pending(store, task_id):
    fid = new_finding(store, task_id)
    assert finding_status(store, fid) == "open"
    ch = findings.start_rectification(store, fid)
    assert ch.findings == {fid} and ch.tasks == {task_id}
    assert finding_status(store, fid) == "rectifying"
    findings.submit_for_check(store, fid)
    assert finding_status(store, fid) == "pending_check"


@pytest.mark.parametrize("result", ["rectified", "basically_rectified"])
def test_passing_check_with_after_photo_closes(store, task_id, tmp_path, result):
    fid = finding_in(store, task_id, "pending_check")
    after = write_jpeg(tmp_path / "after.jpg", color="green")
    site = write_jpeg(tmp_path / "site.jpg", color="blue")
    ch = findings.record_check(store, fid, result=result, note="已清理完毕",
                               photos=[(after, "after"), (site, "site")])
    assert finding_status(store, fid) == "closed"
    assert len(ch.checks) == 1 and len(ch.photos) == 2
    with store.session() as s:
        (check,) = s.scalars(select(Check).where(Check.finding_id == fid)).all()
        assert check.result == result and check.note == "已清理完毕"
        assert check.inspector == "测试员"
        kinds = sorted(p.kind for p in s.scalars(select(Photo).where(Photo.check_id == check.id)))
        assert kinds == ["after", "site"]


def test_failed_check_sends_back_to_rectifying(store, task_id):
    fid = finding_in(store, task_id, "pending_check")
    ch = findings.record_check(store, fid, result="not_rectified", note="仍有杂物堆放")
    assert finding_status(store, fid) == "rectifying"
    assert len(ch.checks) == 1
    # 退回 → 整改中 → 待核查 again → closed on a passing check
    findings.submit_for_check(store, fid)
    findings.record_check(store, fid, result="rectified",
                          photos=[(write_jpeg(store.data_dir.parent / "a2.jpg"), "after")])
    assert finding_status(store, fid) == "closed"
    with store.session() as s:
        results = [c.result for c in s.scalars(select(Check).where(Check.finding_id == fid)
                                                .order_by(Check.created_at))]
    assert results == ["not_rectified", "rectified"]


def test_visit_moves_task_to_in_progress(store, task_id):
    assert task_status(store, task_id) == "assigned"
    ch = visits.record_visit(store, task_id, visited_at=dt.datetime(2026, 5, 1, 9, 30),
                             place="某小区", latitude=30.25, longitude=120.16, summary="现场查看")
    assert task_status(store, task_id) == "in_progress"
    assert ch.tasks == {task_id} and len(ch.visits) == 1
    # a second visit keeps it in progress
    visits.record_visit(store, task_id, visited_at=dt.datetime(2026, 5, 2, 9, 30))
    assert task_status(store, task_id) == "in_progress"


def test_finding_moves_task_to_in_progress(store, task_id):
    new_finding(store, task_id)
    assert task_status(store, task_id) == "in_progress"


# -- refused moves ------------------------------------------------------------------------------

def test_close_without_after_photo_refused(store, task_id, tmp_path):
    fid = finding_in(store, task_id, "pending_check")
    site = write_jpeg(tmp_path / "site.jpg")
    for photos in ([], [(site, "site")], [(site, "before")]):
        with pytest.raises(TransitionRefused) as ei:
            findings.record_check(store, fid, result="rectified", photos=photos)
        assert_bilingual(ei.value, zh=("销号", "整改后"), en=("close", "After"))
    assert finding_status(store, fid) == "pending_check"


def test_refused_check_writes_nothing(store, task_id, tmp_path):
    fid = finding_in(store, task_id, "pending_check")
    before = counts(store)
    site = write_jpeg(tmp_path / "site.jpg", color="yellow")
    with pytest.raises(TransitionRefused):
        findings.record_check(store, fid, result="basically_rectified", photos=[(site, "site")])
    # a bad photo refuses the whole check, even a not-passing one with a good photo
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    good = write_jpeg(tmp_path / "good.jpg", color="purple")
    with pytest.raises(FieldAppError):
        findings.record_check(store, fid, result="rectified", photos=[(good, "after"), (bad, "after")])
    assert counts(store) == before
    assert finding_status(store, fid) == "pending_check"


def test_check_on_not_pending_refused(store, task_id, tmp_path):
    after = write_jpeg(tmp_path / "after.jpg")
    for status, zh_label, en_label in (("open", "待整改", "Open"), ("rectifying", "整改中", "Rectifying")):
        fid = finding_in(store, task_id, status)
        before = counts(store)
        for result in ("rectified", "not_rectified"):
            with pytest.raises(TransitionRefused) as ei:
                findings.record_check(store, fid, result=result, photos=[(after, "after")])
            assert_bilingual(ei.value, zh=(zh_label, "待核查"), en=(en_label, "awaiting check"))
        assert counts(store) == before
        assert finding_status(store, fid) == status


def test_start_rectification_twice_refused(store, task_id):
    fid = finding_in(store, task_id, "rectifying")
    n = counts(store)
    with pytest.raises(TransitionRefused) as ei:
        findings.start_rectification(store, fid)
    assert_bilingual(ei.value, zh=("开始整改", "整改中", "待整改"), en=("start rectification", "Rectifying", "Open"))
    assert finding_status(store, fid) == "rectifying"
    assert counts(store) == n


def test_submit_from_open_refused(store, task_id):
    fid = new_finding(store, task_id)
    with pytest.raises(TransitionRefused) as ei:
        findings.submit_for_check(store, fid)
    assert_bilingual(ei.value, zh=("提交核查", "待整改", "整改中"), en=("submit for check", "Open", "Rectifying"))
    assert finding_status(store, fid) == "open"


def test_submit_twice_refused(store, task_id):
    fid = finding_in(store, task_id, "pending_check")
    with pytest.raises(TransitionRefused) as ei:
        findings.submit_for_check(store, fid)
    assert_bilingual(ei.value, zh=("待核查",), en=("Awaiting check",))
    assert finding_status(store, fid) == "pending_check"


def test_everything_refused_on_closed_finding(store, task_id, tmp_path):
    fid = finding_in(store, task_id, "closed")
    n = counts(store)
    after = write_jpeg(tmp_path / "again.jpg", color="white")
    actions = [
        lambda: findings.start_rectification(store, fid),
        lambda: findings.submit_for_check(store, fid),
        lambda: findings.record_check(store, fid, result="rectified", photos=[(after, "after")]),
        lambda: findings.record_check(store, fid, result="not_rectified"),
    ]
    for act in actions:
        with pytest.raises(TransitionRefused) as ei:
            act()
        assert_bilingual(ei.value, zh=("已销号",), en=("Closed",))
    assert finding_status(store, fid) == "closed"
    assert counts(store) == n


def test_not_found_ids(store, task_id, tmp_path):
    ghost = str(uuid.uuid4())
    photo = write_jpeg(tmp_path / "p.jpg")
    actions = [
        lambda: findings.start_rectification(store, ghost),
        lambda: findings.submit_for_check(store, ghost),
        lambda: findings.record_check(store, ghost, result="not_rectified"),
        lambda: findings.add_photos(store, ghost, [photo]),
        lambda: findings.record_finding(store, ghost, description="x"),
        lambda: visits.record_visit(store, ghost, visited_at=dt.datetime(2026, 1, 1)),
        lambda: tasks.complete_task(store, ghost),
    ]
    n = counts(store)
    for act in actions:
        with pytest.raises(NotFound) as ei:
            act()
        assert_bilingual(ei.value, zh=(ghost, "找不到"), en=(ghost, "not found"))
    assert counts(store) == n


def test_complete_task_with_open_findings_refused_then_allowed(store, task_id):
    f1 = finding_in(store, task_id, "closed")
    f2 = finding_in(store, task_id, "pending_check")
    with pytest.raises(TransitionRefused) as ei:
        tasks.complete_task(store, task_id)
    assert_bilingual(ei.value, zh=("办结", "1 个问题未销号"), en=("complete the task", "1 findings are not closed"))
    assert task_status(store, task_id) == "in_progress"
    findings.record_check(store, f2, result="basically_rectified",
                          photos=[(write_jpeg(store.data_dir.parent / "x.jpg", color="black"), "after")])
    assert finding_status(store, f1) == finding_status(store, f2) == "closed"
    ch = tasks.complete_task(store, task_id)
    assert ch.tasks == {task_id}
    assert task_status(store, task_id) == "completed"
    with pytest.raises(TransitionRefused) as ei:
        tasks.complete_task(store, task_id)
    assert_bilingual(ei.value, zh=("已办结",), en=("already completed",))


def test_complete_task_without_findings(store, task_id):
    tasks.complete_task(store, task_id)
    assert task_status(store, task_id) == "completed"


def test_record_finding_on_completed_task_refused(store, task_id):
    tasks.complete_task(store, task_id)
    n = counts(store)
    with pytest.raises(TransitionRefused) as ei:
        findings.record_finding(store, task_id, description="新问题")
    assert_bilingual(ei.value, zh=("新增问题", "任务已办结"), en=("add a finding", "completed"))
    assert counts(store) == n


@pytest.mark.parametrize("severity", ["critical", "", "GENERAL", "严重的"])
def test_invalid_severity_refused(store, task_id, severity):
    n = counts(store)
    with pytest.raises(InvalidInput) as ei:
        findings.record_finding(store, task_id, description="问题", severity=severity)
    assert_bilingual(ei.value, zh=("严重程度",), en=("Severity",))
    assert counts(store) == n


@pytest.mark.parametrize("severity", ["general", "serious", "severe"])
def test_valid_severities(store, task_id, severity):
    (fid,) = findings.record_finding(store, task_id, description="问题", severity=severity).findings
    with store.session() as s:
        assert s.get(Finding, fid).severity == severity


@pytest.mark.parametrize("description", ["", "   ", "\n\t"])
def test_empty_description_refused(store, task_id, description):
    n = counts(store)
    with pytest.raises(InvalidInput) as ei:
        findings.record_finding(store, task_id, description=description)
    assert_bilingual(ei.value, zh=("问题描述", "不能为空"), en=("Description", "must not be empty"))
    assert counts(store) == n


@pytest.mark.parametrize("lat,lon", [(30.1, None), (None, 120.2)])
def test_half_coordinates_refused(store, task_id, lat, lon):
    n = counts(store)
    with pytest.raises(InvalidInput) as ei:
        visits.record_visit(store, task_id, visited_at=dt.datetime(2026, 5, 1), latitude=lat, longitude=lon)
    assert_bilingual(ei.value, zh=("坐标", "纬度和经度"), en=("Coordinates", "both latitude and longitude"))
    assert counts(store) == n
    assert task_status(store, task_id) == "assigned"


def test_out_of_range_coordinates_refused(store, task_id):
    with pytest.raises(InvalidInput) as ei:
        visits.record_visit(store, task_id, visited_at=dt.datetime(2026, 5, 1), latitude=91, longitude=0)
    assert_bilingual(ei.value, zh=("超出范围",), en=("out of range",))


def test_create_task_needs_title(store):
    with pytest.raises(InvalidInput) as ei:
        tasks.create_task(store, title="  ")
    assert_bilingual(ei.value, zh=("任务名称",), en=("Title",))


def test_add_photos_refuses_bad_files_one_by_one(store, task_id, tmp_path):
    fid = new_finding(store, task_id)
    good = write_jpeg(tmp_path / "good.jpg", color="orange")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 broken")
    missing = tmp_path / "missing.jpg"
    ch = findings.add_photos(store, fid, [good, bad, missing], kind="before")
    assert len(ch.photos) == 1 and len(ch.refused) == 2
    names = [e.message("zh_CN") for e in ch.refused]
    assert "bad.jpg" in names[0] and "missing.jpg" in names[1]
    with store.session() as s:
        (photo,) = s.scalars(select(Photo).where(Photo.finding_id == fid)).all()
        assert photo.kind == "before" and photo.original_name == "good.jpg" and photo.check_id is None


# -- queries behind the views -------------------------------------------------------------------

def _query_fixture(store):
    from fieldapp.services.tasks import complete_task, create_task

    def make(code, region, deadline=None, kind=None, title=None):
        fields = dict(code=code, title=title or f"任务 {code}", region_code=region, deadline=deadline)
        if kind:
            fields["deadline_kind"] = kind
        (tid,) = create_task(store, **fields).tasks
        return tid

    ids = {
        "xihu": make("A1", "330106", dt.date(2026, 3, 1), title="西湖景区整治"),
        "yuhang": make("A2", "330110", dt.date(2026, 9, 1)),
        "fuyang": make("A3", "330111", None, "open_ended"),
        "taizhou": make("A4", "331002", dt.date(2026, 1, 15)),
        "lishui": make("A5", "331102", dt.date(2026, 2, 1)),
    }
    finding_in(store, ids["xihu"], "closed")
    finding_in(store, ids["xihu"], "open")
    complete_task(store, ids["lishui"])
    return ids


def test_task_filters_and_counts(store):
    from contextlib import closing

    from fieldapp.task_list import TaskFilter, task_counts, task_ids, task_rows

    ids = _query_fixture(store)
    today = dt.date(2026, 4, 1)
    with closing(store.reader()) as s:
        def codes(flt, **kw):
            rows = task_rows(s, task_ids(s, flt, **kw))
            order = task_ids(s, flt, **kw)
            return [rows[r].code for r in order]

        assert codes(TaskFilter(region_prefix="331000")) == ["A4"]            # 台州市, not 丽水市 (331100)
        assert codes(TaskFilter(region_prefix="331100")) == ["A5"]
        assert sorted(codes(TaskFilter(region_prefix="330100"))) == ["A1", "A2", "A3"]
        assert codes(TaskFilter(region_prefix="330110")) == ["A2"]            # 余杭区 alone, not 富阳 330111
        assert len(codes(TaskFilter(region_prefix="330000"))) == 5
        # deadline order, open-ended last
        assert codes(TaskFilter()) == ["A4", "A5", "A1", "A2", "A3"]
        assert codes(TaskFilter(), descending=True)[-1] == "A3"
        # overdue is derived from today: completed and open-ended tasks never are
        assert sorted(codes(TaskFilter(overdue_only=True, today=today))) == ["A1", "A4"]
        assert codes(TaskFilter(overdue_only=True, today=dt.date(2025, 1, 1))) == []
        assert codes(TaskFilter(search="西湖")) == ["A1"]
        assert codes(TaskFilter(statuses=("completed",))) == ["A5"]

        rows = task_rows(s, task_ids(s, TaskFilter(search="A1")))
        (row,) = rows.values()
        assert row.id == ids["xihu"]
        assert (row.findings_open, row.findings_closed) == (1, 1)
        assert row.overdue(today) and not row.overdue(dt.date(2026, 2, 1))

        counts_ = task_counts(s, TaskFilter(today=today))
        assert counts_.total == 5 and counts_.overdue == 2
        assert counts_.by_status == {"in_progress": 1, "assigned": 3, "completed": 1}


def test_closed_finding_takes_no_more_photos_and_bad_choices_are_invalid_input(store, task_id, tmp_path, make_jpeg):
    from fieldapp.errors import InvalidInput, TransitionRefused

    fid = finding_in(store, task_id, "closed")
    photo = make_jpeg(tmp_path / "late.jpg")
    before = counts(store)
    with pytest.raises(TransitionRefused) as err:
        findings.add_photos(store, fid, [photo], kind="after")
    assert "已销号" in err.value.message("zh_CN") and "closed" in err.value.message("en")
    assert counts(store) == before
    open_fid = finding_in(store, task_id, "pending_check")
    before = counts(store)
    with pytest.raises(InvalidInput) as err:
        findings.record_check(store, open_fid, result="passed")
    assert "已整改" in err.value.message("zh_CN")
    with pytest.raises(InvalidInput):
        findings.add_photos(store, open_fid, [photo], kind="panorama")
    assert counts(store) == before


def test_search_finds_chinese_unit_names_also_in_escaped_json(store):
    """Units are JSON arrays; rows written by older code hold them as \\uXXXX escapes."""
    import json
    import sqlite3
    from contextlib import closing

    from fieldapp.task_list import TaskFilter, task_ids

    (new,) = tasks.create_task(store, title="甲", responsible_units=["市住建局"]).tasks
    (old,) = tasks.create_task(store, title="乙", responsible_units=["区林水局"]).tasks
    con = sqlite3.connect(store.db_path)
    con.execute("UPDATE tasks SET responsible_units = ? WHERE id = ?", (json.dumps(["区林水局"]), old))
    con.commit()
    con.close()
    with closing(store.reader()) as r:
        def found(q):
            return len(task_ids(r, TaskFilter(search=q)))
        assert found("住建") == 1 and found("林水") == 1
        assert found("u5e02") == 0  # escapes are not text a person searches for
