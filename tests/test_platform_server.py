"""The reference platform server over real HTTP: contract header, sign-in, push, pull, rules.

Each test starts the real server (tests/platform_fixtures.py) on a fresh SQLite database and
talks to it with `requests`, building bodies from sync/contract.py and validating answers
with the same models.
"""

from __future__ import annotations

import time

import pytest
import requests
from platform_fixtures import OFFICE_UNIT as UNIT
from platform_fixtures import (
    Api,
    change,
    error,
    new_id,
    office,  # noqa: F401 - a fixture
    office_seed,  # noqa: F401 - a fixture
    platform,  # noqa: F401 - a fixture
    start_platform,
)

from sync import contract as c


def task_fields(code: str, **more: object) -> dict:
    return {"code": code, "title": f"督查事项 {code}", "category": "民生实事", "status": "assigned",
            "deadline": "2026-12-31", **more}


def make_task(sup: Api, code: str) -> str:
    tid = new_id()
    res = sup.pushed([change("tasks", tid, fields=task_fields(code))])
    assert res.results[0].outcome == c.ChangeOutcome.APPLIED, res
    return tid


# ---------------------------------------------------------------- info, contract header


def test_info_and_openapi_need_no_header(platform):
    r = requests.get(platform.base_url + "/v1/info", timeout=10)
    info = c.ServerInfo.model_validate(r.json())
    assert info.contract_version == c.CONTRACT_VERSION
    assert info.chunk_bytes == 1024 * 1024
    assert info.streams == ["tasks", "assignments", "records", "reference"]
    spec = requests.get(platform.base_url + "/openapi.json", timeout=10).json()
    assert {"/v1/push", "/v1/pull/{stream}", "/v1/photos/{sha}/chunks/{index}", "/v1/conflicts/{conflict_id}/resolve"} \
        <= set(spec["paths"])


@pytest.mark.parametrize("header", [None, "2", "0", "v1"])
def test_contract_header_missing_or_wrong_is_refused_naming_both_versions(platform, header):
    headers = {c.CONTRACT_HEADER: header} if header is not None else {}
    r = requests.post(platform.base_url + "/v1/auth/login", headers=headers, timeout=10,
                      json={"user": "x", "password": "y", "device_id": "d1"})
    body = error(r, 400, "contract_version")
    assert f"the client speaks {header or 'none'}, the platform {c.CONTRACT_VERSION}" in body.message.en
    assert body.detail == {"client": header, "server": c.CONTRACT_VERSION}


# ---------------------------------------------------------------- sign-in


def test_login_me_and_the_same_code_for_wrong_password_and_unknown_user(office):
    api = office.login("li")
    me = c.UserInfo.model_validate(api.get("/v1/me").json())
    assert me == c.UserInfo(name="li", display_name="李督查", role=c.Role.INSPECTOR, unit=UNIT)
    anon = office.api()
    wrong = anon.post("/v1/auth/login", json={"user": "li", "password": "nope", "device_id": "d1"})
    unknown = anon.post("/v1/auth/login", json={"user": "nobody", "password": "nope", "device_id": "d1"})
    assert error(wrong, 401, "wrong_password").message == error(unknown, 401, "wrong_password").message
    error(anon.get("/v1/me"), 401, "unauthenticated")
    error(office.api("made-up-token").get("/v1/me"), 401, "unauthenticated")


def test_disabled_user_cannot_sign_in_nor_use_an_existing_token(office):
    api = office.login("wang")
    assert api.get("/v1/me").status_code == 200
    office.cli("user", "disable", "wang")
    error(api.get("/v1/me"), 403, "user_disabled")
    r = office.api().post("/v1/auth/login", json={"user": "wang", "password": office.passwords["wang"], "device_id": "d"})
    error(r, 403, "user_disabled")


def test_repeated_wrong_passwords_are_throttled_even_for_the_right_one(office):
    anon = office.api()
    attempt = {"user": "li", "password": "wrong", "device_id": "d1"}
    for _ in range(5):
        error(anon.post("/v1/auth/login", json=attempt), 401, "wrong_password")
    right = dict(attempt, password=office.passwords["li"])
    locked = error(anon.post("/v1/auth/login", json=right), 429, "too_many_attempts")
    assert 0 < locked.retry_after <= 1.0
    time.sleep(locked.retry_after + 0.1)
    error(anon.post("/v1/auth/login", json=attempt), 401, "wrong_password")  # the sixth failure: 2 s now
    locked = error(anon.post("/v1/auth/login", json=right), 429, "too_many_attempts")
    assert 1.0 < locked.retry_after <= 2.0
    time.sleep(locked.retry_after + 0.1)
    assert anon.post("/v1/auth/login", json=right).status_code == 200
    # A success starts the count again: one wrong password is not locked out.
    error(anon.post("/v1/auth/login", json=attempt), 401, "wrong_password")
    assert anon.post("/v1/auth/login", json=right).status_code == 200


def test_logout_revokes_the_token(office):
    api = office.login("li")
    assert api.post("/v1/auth/logout").status_code == 204
    error(api.get("/v1/me"), 401, "token_revoked")
    assert office.login("li").get("/v1/me").status_code == 200


def test_expired_token(tmp_path):
    server = start_platform(tmp_path, "short", token_ttl=1)
    try:
        server.add_user("li", "inspector", UNIT)
        api = server.login("li")
        assert api.get("/v1/me").status_code == 200
        time.sleep(1.2)
        error(api.get("/v1/me"), 401, "token_expired")
    finally:
        server.stop()


def test_api_token_from_the_cli(office):
    token = office.cli("token", "zhang").stdout.strip()
    me = c.UserInfo.model_validate(office.api(token).get("/v1/me").json())
    assert (me.name, me.role) == ("zhang", c.Role.SUPERVISOR)


# ---------------------------------------------------------------- push and pull


def test_push_create_then_pull_and_an_identical_replay_is_duplicate(office):
    sup = office.login("zhang")
    tid = new_id()
    batch = [change("tasks", tid, fields=task_fields("DC-1")),
             change("tasks", tid, "update", {"title": "改后的标题"}, base_version=1)]
    res = sup.pushed(batch, pending_changes=3)
    assert [(r.outcome, r.version) for r in res.results] == [("applied", 1), ("applied", 2)]
    assert res.head == c.ChainHead(seq=batch[1].seq, hash=batch[1].hash)
    page = sup.pull("tasks")
    assert [(p.id, p.version, p.fields["title"], p.deleted) for p in page.records] == [(tid, 2, "改后的标题", False)]
    assert page.cursor == page.records[0].feed_seq and page.more is False
    again = sup.pushed(batch)
    assert [(r.outcome, r.version) for r in again.results] == [("duplicate", 1), ("duplicate", 2)]
    assert sup.pull("tasks", after=page.cursor).records == []  # nothing doubled
    assert sup.pull("tasks").records[0].version == 2


def test_change_id_reused_with_other_content_refuses_the_whole_batch(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    first = change("tasks", tid, "update", {"title": "A"}, base_version=1)
    sup.pushed([first])
    other_task = new_id()
    reused = first.model_copy(update={"fields": {"title": "B"}})
    r = sup.push([change("tasks", other_task, fields=task_fields("DC-2")), reused])
    body = error(r, 409, "change_id_reused")
    assert body.detail == {"change_id": first.change_id}
    assert [(p.id, p.fields["title"]) for p in sup.pull("tasks").records] == [(tid, "A")]


def test_stale_update_of_another_field_is_merged(office):
    sup, desk = office.login("zhang"), office.login("zhang")  # one supervisor, two devices
    tid = make_task(sup, "DC-1")
    desk.pushed([change("tasks", tid, "update", {"title": "新标题"}, base_version=1)])
    res = sup.pushed([change("tasks", tid, "update", {"address": "解放路 1 号"}, base_version=1)])
    assert (res.results[0].outcome, res.results[0].version, res.conflicts) == ("applied", 3, [])
    (rec,) = sup.pull("tasks").records
    assert (rec.fields["title"], rec.fields["address"], rec.version) == ("新标题", "解放路 1 号", 3)


def test_stale_update_of_the_same_field_is_kept_as_a_conflict(office):
    sup, desk = office.login("zhang"), office.login("zhang")  # one supervisor, two devices
    tid = make_task(sup, "DC-1")
    desk.pushed([change("tasks", tid, "update", {"title": "他的"}, base_version=1)])
    mine = change("tasks", tid, "update", {"title": "我的", "address": "新地址"}, base_version=1)
    res = sup.pushed([mine])
    (result,) = res.results
    (conflict,) = res.conflicts
    assert (result.outcome, result.version, result.conflict_id) == ("conflict", 3, conflict.id)
    assert (conflict.field, conflict.theirs, conflict.mine, conflict.base_version, conflict.change_id) == \
        ("title", "他的", "我的", 1, mine.change_id)
    (rec,) = sup.pull("tasks").records
    assert (rec.fields["title"], rec.fields["address"]) == ("他的", "新地址")  # the other field applied
    listed = c.ConflictList.model_validate(sup.get("/v1/conflicts").json())
    assert [x.id for x in listed.conflicts] == [conflict.id]
    assert office.login("li").get("/v1/conflicts").json() == {"conflicts": []}  # not li's
    assert sup.post(f"/v1/conflicts/{conflict.id}/resolve").status_code == 204
    assert sup.get("/v1/conflicts").json() == {"conflicts": []}
    error(sup.post("/v1/conflicts/nope/resolve"), 404, "not_found")


def test_a_devices_own_offline_edits_never_conflict_with_each_other_but_others_still_do(office):
    """The device numbers its versions itself: its second offline edit says base_version 2,
    though the platform gave its first edit another version (someone wrote in between)."""
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    office.cli("assign", "DC-1", "li")
    li = office.login("li")
    fid = new_id()
    li.pushed([change("findings", fid, fields={"task_id": tid, "description": "d", "status": "pending_check",
                                               "note": ""})])
    # offline, li edits the finding three times; meanwhile the supervisor changes the submitted
    # finding's note and returns it
    sup.pushed([change("findings", fid, "update", {"note": "组长的备注"}, base_version=1)])
    office.cli("return", fid, "--reason", "证据不足")
    mine = [change("findings", fid, "update", {"description": "第一次"}, base_version=1),
            change("findings", fid, "update", {"description": "第二次"}, base_version=2),
            change("findings", fid, "update", {"status": "closed", "note": "李的备注"}, base_version=3)]
    res = li.pushed(mine)
    assert [(r.outcome, r.version) for r in res.results] == [("applied", 4), ("applied", 5), ("conflict", 5)]
    assert sorted((k.field, k.theirs, k.mine) for k in res.conflicts) == [
        ("note", "组长的备注", "李的备注"), ("status", "rectifying", "closed")]
    (rec,) = sup.pull("records").records
    assert (rec.fields["description"], rec.fields["status"], rec.fields["note"]) == ("第二次", "rectifying", "组长的备注")
    # having pulled version 5, li's next edit is made on it: no conflict with what li has seen
    after = li.pushed([change("findings", fid, "update", {"status": "pending_check"}, base_version=5)])
    assert (after.results[0].outcome, after.conflicts) == ("applied", [])


def test_same_value_written_by_both_is_not_a_conflict(office):
    sup, desk = office.login("zhang"), office.login("zhang")
    tid = make_task(sup, "DC-1")
    desk.pushed([change("tasks", tid, "update", {"title": "同一个"}, base_version=1)])
    res = sup.pushed([change("tasks", tid, "update", {"title": "同一个"}, base_version=1)])
    assert (res.results[0].outcome, res.conflicts) == ("applied", [])


def test_delete_travels_as_a_tombstone(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    res = sup.pushed([change("tasks", tid, "delete", base_version=1)])
    assert (res.results[0].outcome, res.results[0].version) == ("applied", 2)
    (rec,) = sup.pull("tasks").records
    assert (rec.id, rec.deleted, rec.version, rec.fields) == (tid, True, 2, {})
    again = sup.pushed([change("tasks", tid, "update", {"title": "x"}, base_version=2)])
    assert (again.results[0].outcome, again.results[0].code) == ("rejected", "not_found")


def test_a_stale_delete_is_kept_as_a_conflict_and_a_current_one_tombstones(office):
    sup, desk = office.login("zhang"), office.login("zhang")  # one supervisor, two devices
    tid = make_task(sup, "DC-1")
    desk.pushed([change("tasks", tid, "update", {"title": "他改的"}, base_version=1)])
    stale = change("tasks", tid, "delete", base_version=1)  # made before the title changed
    res = sup.pushed([stale])
    (result,) = res.results
    (conflict,) = res.conflicts
    assert (result.outcome, result.version, result.conflict_id) == ("conflict", 2, conflict.id)
    assert (conflict.field, conflict.mine, conflict.base_version, conflict.change_id) == \
        ("deleted", True, 1, stale.change_id)
    assert conflict.theirs == task_fields("DC-1", title="他改的")  # what the platform still holds
    (rec,) = sup.pull("tasks").records
    assert (rec.deleted, rec.version, rec.fields["title"]) == (False, 2, "他改的")
    assert [k.id for k in c.ConflictList.model_validate(sup.get("/v1/conflicts").json()).conflicts] == [conflict.id]
    assert sup.pushed([stale]).results[0].outcome == "duplicate"  # a replay changes nothing
    # the device that wrote version 2 edits and deletes on top of its own edits: current, it applies
    own = [change("tasks", tid, "update", {"address": "新地址"}, base_version=2),
           change("tasks", tid, "delete", base_version=3)]
    res = desk.pushed(own)
    assert [(r.outcome, r.version) for r in res.results] == [("applied", 3), ("applied", 4)]
    assert res.conflicts == []
    (rec,) = sup.pull("tasks").records
    assert (rec.deleted, rec.version) == (True, 4)


def test_a_delete_on_a_version_read_as_built_on_the_devices_own_edit_still_sees_others(office):
    """A device's delete numbered after its own offline edit is read as made on what that edit
    was made on (records.seen_version): another writer's change before is still news."""
    sup, desk = office.login("zhang"), office.login("zhang")
    tid = make_task(sup, "DC-1")
    desk.pushed([change("tasks", tid, "update", {"title": "他改的"}, base_version=1)])  # version 2
    res = sup.pushed([change("tasks", tid, "update", {"address": "我的地址"}, base_version=1),  # merged: 3
                      change("tasks", tid, "delete", base_version=2)])  # the device's own count
    assert [r.outcome for r in res.results] == ["applied", "conflict"]
    assert [(k.field, k.mine) for k in res.conflicts] == [("deleted", True)]
    assert sup.pull("tasks").records[0].deleted is False


def test_a_finding_is_its_authors_until_submitted(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    office.cli("assign", "DC-1", "li")
    office.add_user("root", "admin", "省督查室")
    li, root = office.login("li"), office.login("root")
    fid = new_id()
    li.pushed([change("findings", fid, fields={"task_id": tid, "description": "d", "status": "open",
                                               "requirement": "r"})])

    def others_refused(version: int) -> None:
        for api in (sup, root):
            res = api.pushed([change("findings", fid, "update", {"requirement": "组长的"}, base_version=version),
                              change("findings", fid, "delete", base_version=version)])
            assert [(r.outcome, r.code) for r in res.results] == [("rejected", "forbidden")] * 2
            assert "only its author" in res.results[0].message.en and "记录人" in res.results[0].message.zh

    others_refused(1)
    assert li.pushed([change("findings", fid, "update", {"status": "rectifying"}, base_version=1)]).results[0].version == 2
    others_refused(2)
    (rec,) = sup.pull("records").records
    assert (rec.version, rec.fields["requirement"], rec.deleted) == (2, "r", False)
    # submitted (提交核查): the unit's supervisor may write it from now on, also after a return
    li.pushed([change("findings", fid, "update", {"status": "pending_check"}, base_version=2)])
    res = sup.pushed([change("findings", fid, "update", {"requirement": "组长的"}, base_version=3)])
    assert (res.results[0].outcome, res.results[0].version) == ("applied", 4)
    office.cli("return", fid, "--reason", "证据不足")  # back to rectifying: still submitted
    res = sup.pushed([change("findings", fid, "update", {"requirement": "再改"}, base_version=5)])
    assert (res.results[0].outcome, res.results[0].version) == ("applied", 6)
    assert li.pushed([change("findings", fid, "update", {"description": "补充"}, base_version=6)]
                     ).results[0].outcome == "applied"
    # a finding recorded as submitted, and a supervisor's own finding before submission
    sent, own = new_id(), new_id()
    li.pushed([change("findings", sent, fields={"task_id": tid, "description": "d", "status": "pending_check"})])
    sup.pushed([change("findings", own, fields={"task_id": tid, "description": "d", "status": "open"})])
    res = sup.pushed([change("findings", sent, "update", {"requirement": "x"}, base_version=1),
                      change("findings", own, "update", {"requirement": "x"}, base_version=1)])
    assert [r.outcome for r in res.results] == ["applied", "applied"]
    res = li.pushed([change("findings", own, "update", {"requirement": "y"}, base_version=2)])
    assert (res.results[0].outcome, res.results[0].code) == ("rejected", "forbidden")


def test_pull_pages_and_collapses_to_the_latest_state(office):
    sup = office.login("zhang")
    ids = [make_task(sup, f"DC-{i}") for i in range(5)]
    sup.pushed([change("tasks", ids[0], "update", {"title": "最后"}, base_version=1)])
    first = sup.pull("tasks", limit=3)
    assert ([r.id for r in first.records], first.more) == (ids[:3], True)
    rest = sup.pull("tasks", after=first.cursor, limit=3)
    assert ([r.id for r in rest.records], rest.more) == (ids[3:] + [ids[0]], False)
    assert rest.records[-1].fields["title"] == "最后"
    whole = sup.pull("tasks")
    assert [r.id for r in whole.records] == ids[1:] + [ids[0]]  # ids[0] once, at its last position
    assert whole.cursor == rest.cursor


def test_reference_stream_lists_the_unit_users(office):
    page = office.login("li").pull("reference")
    assert [(u.name, u.role) for u in page.users] == [("li", "inspector"), ("wang", "inspector"), ("zhang", "supervisor")]
    assert page.more is False


# ---------------------------------------------------------------- who sees and writes what


def test_inspector_sees_only_assigned_tasks_and_their_records(office):
    sup = office.login("zhang")
    t1, t2 = make_task(sup, "DC-1"), make_task(sup, "DC-2")
    li = office.login("li")
    assert li.pull("tasks").records == []
    office.cli("assign", "DC-1", "li")
    page = li.pull("tasks")
    assert [r.id for r in page.records] == [t1]
    fid = new_id()
    res = li.pushed([change("findings", fid, fields={"task_id": t1, "description": "台账不全"}),
                     change("findings", new_id(), fields={"task_id": t2, "description": "x"})])
    assert [(r.outcome, r.code) for r in res.results] == [("applied", None), ("rejected", "forbidden")]
    assert [r.id for r in li.pull("records").records] == [fid]
    assert [r.id for r in sup.pull("records").records] == [fid]  # the supervisor sees the unit's records
    assert t2 not in {r.id for r in li.pull("tasks", after=page.cursor).records}


def test_inspector_cannot_write_another_inspectors_finding_nor_dispatch_fields(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    office.cli("assign", "DC-1", "li")
    office.cli("assign", "DC-1", "wang")
    li, wang = office.login("li"), office.login("wang")
    fid = new_id()
    li.pushed([change("findings", fid, fields={"task_id": tid, "description": "李的问题"})])
    res = wang.pushed([change("findings", fid, "update", {"description": "改掉"}, base_version=1),
                       change("findings", fid, "delete", base_version=1),
                       change("tasks", tid, "update", {"title": "督查员改的"}, base_version=1),
                       change("tasks", tid, "update", {"status": "in_progress", "title": "x"}, base_version=1),
                       change("tasks", new_id(), fields=task_fields("DC-9")),
                       change("tasks", tid, "update", {"status": "in_progress"}, base_version=1)])
    assert [(r.outcome, r.code) for r in res.results] == [
        ("rejected", "forbidden"), ("rejected", "forbidden"), ("rejected", "forbidden"),
        ("rejected", "forbidden"), ("rejected", "forbidden"), ("applied", None)]
    (task,) = sup.pull("tasks").records
    assert (task.fields["title"], task.fields["status"], task.version) == ("督查事项 DC-1", "in_progress", 2)
    (finding,) = sup.pull("records").records
    assert (finding.fields["description"], finding.version) == ("李的问题", 1)
    assert li.pushed([change("findings", fid, "update", {"description": "补充"}, base_version=1)]).results[0].version == 2


def test_supervisor_of_another_unit_sees_and_writes_nothing(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    office.cli("assign", "DC-1", "li")
    office.login("li").pushed([change("findings", new_id(), fields={"task_id": tid, "description": "d"})])
    zhao = office.login("zhao")
    assert (zhao.pull("tasks").records, zhao.pull("records").records, zhao.pull("assignments").assignments) == ([], [], [])
    res = zhao.pushed([change("tasks", tid, "update", {"title": "别人的"}, base_version=1)])
    assert (res.results[0].outcome, res.results[0].code) == ("rejected", "forbidden")


def test_children_need_an_existing_parent(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    res = sup.pushed([change("findings", new_id(), fields={"description": "no task"}),
                      change("findings", new_id(), fields={"task_id": new_id(), "description": "x"}),
                      change("checks", new_id(), fields={"finding_id": new_id(), "result": "rectified"}),
                      change("visits", new_id(), fields={"task_id": tid, "summary": "ok"})])
    assert [(r.outcome, r.code) for r in res.results] == [
        ("rejected", "bad_request"), ("rejected", "not_found"), ("rejected", "not_found"), ("applied", None)]


def test_assign_sends_the_task_and_its_records_and_unassign_a_tombstone(office):
    sup = office.login("zhang")
    tid = make_task(sup, "DC-1")
    office.cli("assign", "DC-1", "li")
    li = office.login("li")
    fid = new_id()
    li.pushed([change("findings", fid, fields={"task_id": tid, "description": "d"}),
               change("checks", cid := new_id(), fields={"finding_id": fid, "result": "not_rectified"})])
    # wang already holds a later task, so his cursors are past everything of DC-1
    later = make_task(sup, "DC-2")
    office.cli("assign", "DC-2", "wang")
    wang = office.login("wang")
    wang.pushed([change("visits", vid := new_id(), fields={"task_id": later, "summary": "s"})])
    before = (wang.pull("tasks"), wang.pull("records"), wang.pull("assignments"))
    assert [r.id for r in before[0].records] == [later] and [r.id for r in before[1].records] == [vid]
    li_seen = li.pull("records").cursor
    office.cli("assign", "DC-1", "wang")
    tasks = wang.pull("tasks", after=before[0].cursor)
    recs = wang.pull("records", after=before[1].cursor)
    assigned = wang.pull("assignments", after=before[2].cursor)
    assert [r.id for r in tasks.records] == [tid]
    assert [(r.entity, r.id) for r in recs.records] == [("findings", fid), ("checks", cid)]
    assert [(a.task_id, a.user, a.assigned) for a in assigned.assignments] == [(tid, "wang", True)]
    assert {(a.task_id, a.user) for a in wang.pull("assignments").assignments} == {(later, "wang"), (tid, "wang")}
    # li does not get the rows re-sent to wang; the supervisor sees both assignments
    assert li.pull("records", after=li_seen).records == []
    assert {(a.task_id, a.user, a.assigned) for a in sup.pull("assignments").assignments} == \
        {(tid, "li", True), (tid, "wang", True), (later, "wang", True)}
    assert office.cli("unassign", "DC-1", "wang").returncode == 0
    gone = wang.pull("assignments", after=assigned.cursor)
    assert [(a.task_id, a.user, a.assigned) for a in gone.assignments] == [(tid, "wang", False)]
    assert [r.id for r in wang.pull("tasks").records] == [later]
    res = wang.pushed([change("visits", new_id(), fields={"task_id": tid})])
    assert res.results[0].code == "forbidden"


def test_push_keeps_the_device_head_and_token_binds_the_device(office):
    li = office.login("li")
    assert li.pushed([]).head is None
    sup = office.login("zhang")
    first = change("tasks", new_id(), fields=task_fields("DC-1"), seq=7)
    parent = new_id()
    rejected = change("findings", new_id(), fields={"task_id": parent}, seq=8)
    res = sup.pushed([first, rejected])
    assert res.head == c.ChainHead(seq=7, hash=first.hash)  # a rejected change is not kept
    third = change("tasks", parent, fields=task_fields("DC-2"), seq=9)
    assert sup.pushed([third]).head == c.ChainHead(seq=9, hash=third.hash)
    retried = sup.pushed([rejected])  # its parent is there now: applied, and the head stays the highest
    assert (retried.results[0].outcome, retried.head) == ("applied", c.ChainHead(seq=9, hash=third.hash))
    other_device = Api(office.base_url, sup.token)
    error(other_device.push([]), 403, "forbidden")


# ---------------------------------------------------------------- malformed requests


GARBAGE = [
    (b"not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'{"device_id": "d", "changes": [{"seq": 1e400}]}', "application/json"),
    (b'{"device_id": "d", "changes": "many"}', "application/json"),
    (b'{"device_id": "d", "changes": []', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"[" * 100000 + b"]" * 100000, "application/json"),
    (b'{"device_id": "d", "changes": []}', "text/plain"),
]


def test_garbage_push_bodies_get_an_error_body(office):
    li = office.login("li")
    for body, content_type in GARBAGE:  # one server for all: each case is a request, not a start-up
        r = li.post("/v1/push", data=body, headers={"Content-Type": content_type})
        assert (r.status_code, r.json()["code"]) == (400, "bad_request"), (body[:40], r.text[:300])
        c.ErrorBody.model_validate(r.json())


def test_values_the_database_cannot_hold_are_refused(office):
    sup = office.login("zhang")
    good = change("tasks", new_id(), fields=task_fields("DC-1"))
    for bad in ({"seq": 10**30}, {"base_version": 2**40}):
        body = c.PushRequest(device_id=sup.device_id, changes=[good]).model_dump(mode="json")
        body["changes"][0].update(bad)
        error(sup.post("/v1/push", json=body), 400, "bad_request")
    body = c.PushRequest(device_id=sup.device_id, changes=[good]).model_dump(mode="json")
    raw = __import__("json").dumps(body).replace('"DC-1"', "NaN")
    error(sup.post("/v1/push", data=raw, headers={"Content-Type": "application/json"}), 400, "bad_request")
    assert sup.pull("tasks").records == []


def test_wrong_types_huge_bodies_unknown_paths_and_methods(office):
    li = office.login("li")
    error(li.post("/v1/auth/login", json={"user": 5, "password": ["x"], "device_id": "d"}), 400, "bad_request")
    error(li.get("/v1/pull/tasks", params={"after": "abc"}), 400, "bad_request")
    error(li.get("/v1/pull/tasks", params={"after": str(10**30)}), 400, "bad_request")
    error(li.get("/v1/pull/everything"), 400, "bad_request")
    error(li.get("/v1/nothing-here"), 404, "not_found")
    error(li.request("DELETE", "/v1/push"), 405, "bad_request")
    error(li.post("/v1/push", data=b"x" * (10 * 1024 * 1024), headers={"Content-Type": "application/json"}),
          413, "bad_request")
    error(li.post("/v1/auth/login", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                  headers={"Content-Type": "application/json"}), 413, "bad_request")

    def chunked():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    error(li.post("/v1/push", data=chunked(), headers={"Content-Type": "application/json"}), 413, "bad_request")
    error(li.post("/v1/photos/missing", json={"hashes": ["abc"]}), 400, "bad_request")
    error(li.post("/v1/conflicts/" + "x" * 100 + "/resolve"), 400, "bad_request")
