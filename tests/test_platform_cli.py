"""`fieldapp-platform`'s administration commands against a running platform: import-tasks with
FieldApp's own importer, return (退回) a finding, and the refusals of bad arguments."""

from __future__ import annotations

import copy

from excel_fixtures import EXPECTED, PLAIN_ROWS, write_xlsx
from platform_fixtures import OFFICE_UNIT, change, new_id, office, office_seed  # noqa: F401 - the fixtures

from sync import contract as c


def test_import_tasks_creates_then_updates_only_what_changed_and_never_deletes(office, tmp_path):
    book = write_xlsx(tmp_path / "清单.xlsx")
    out = office.cli("import-tasks", str(book), "--unit", OFFICE_UNIT).stdout
    assert "created 7, 更新 updated 0, 无变化 unchanged 0" in out
    zhang = office.login("zhang")
    first = zhang.pull("tasks")
    got = {r.fields["code"]: (r.fields["title"], r.fields["deadline"], r.fields["deadline_text"], r.version)
           for r in first.records}
    assert got == {code: (title, deadline if deadline != "open-ended" else None, text, 1)
                   for code, (title, deadline, text, _warned) in EXPECTED.items()}
    assert {r.fields["status"] for r in first.records} == {"assigned"}
    assert office.login("zhao").pull("tasks").records == []  # another unit's supervisor

    # an inspector has started DC-003; then a newer list renames DC-001 and drops DC-007
    by_code = {r.fields["code"]: r for r in first.records}
    office.cli("assign", "DC-003", "li")
    li = office.login("li")
    li.pushed([change("tasks", by_code["DC-003"].id, "update", {"status": "in_progress"}, base_version=1)])
    rows = copy.deepcopy(PLAIN_ROWS)
    rows[3][2] = "推进老旧小区改造提升"
    del rows[11]  # DC-007
    out = office.cli("import-tasks", str(write_xlsx(tmp_path / "新清单.xlsx", rows)), "--unit", OFFICE_UNIT).stdout
    assert "created 0, 更新 updated 1, 无变化 unchanged 5" in out
    later = zhang.pull("tasks", after=first.cursor)
    assert [(r.fields["code"], r.fields["title"], r.version) for r in later.records] == [
        ("DC-003", "优化营商环境", 2), ("DC-001", "推进老旧小区改造提升", 2)]
    assert later.records[0].fields["status"] == "in_progress"  # the import does not reset it
    assert len(zhang.pull("tasks").records) == 7  # DC-007 is still there


def test_import_tasks_refuses_a_file_that_is_not_a_task_list(office, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    proc = office.cli("import-tasks", str(junk), "--unit", OFFICE_UNIT, check=False)
    assert proc.returncode == 2
    assert "junk.xlsx" in proc.stderr and "Traceback" not in proc.stderr
    assert office.login("zhang").pull("tasks").records == []


def test_return_sends_the_finding_back_through_the_feed(office):
    zhang = office.login("zhang")
    tid = new_id()
    zhang.pushed([change("tasks", tid, fields={"code": "DC-1", "title": "t"})])
    office.cli("assign", "DC-1", "li")
    li = office.login("li")
    fid = new_id()
    li.pushed([change("findings", fid, fields={"task_id": tid, "description": "d", "status": "pending_check"})])
    seen = li.pull("records")
    out = office.cli("return", fid, "--reason", "照片不能证明已整改", "--by", "zhang").stdout
    assert f"returned {fid} (version 2)" in out
    (rec,) = li.pull("records", after=seen.cursor).records
    assert (rec.id, rec.version, rec.fields["status"], rec.fields["return_reason"]) == \
        (fid, 2, "rectifying", "照片不能证明已整改")
    assert rec.fields["returned_at"][:2] == "20" and rec.fields["returned_at"][-6] in "+-"
    # li's offline edit of the status on version 1 does not undo the return: a conflict
    res = li.pushed([change("findings", fid, "update", {"status": "closed"}, base_version=1)])
    assert res.results[0].outcome == c.ChangeOutcome.CONFLICT
    assert (res.conflicts[0].theirs, res.conflicts[0].mine) == ("rectifying", "closed")

    refused = office.cli("return", fid, "--reason", "x", "--by", "zhao", check=False)
    assert (refused.returncode, "zhao is not a supervisor of the finding's unit" in refused.stderr) == (2, True)
    unknown = office.cli("return", new_id(), "--reason", "x", check=False)
    assert unknown.returncode == 2 and "no finding" in unknown.stderr


def test_cli_refusals_are_messages_not_tracebacks(office):
    for args, text in [
        (["user", "add", "li", "--role", "inspector", "--unit", "u"], "user li exists already"),
        (["user", "disable", "nobody"], "no user nobody"),
        (["assign", "NO-SUCH", "li"], "no task with code NO-SUCH"),
        (["token", "nobody"], "no user nobody"),
    ]:
        proc = office.cli(*args, password="pw", check=False)
        assert (proc.returncode, text in proc.stderr, "Traceback" in proc.stderr) == (2, True, False), proc.stderr
    proc = office.cli("user", "add", "x", "--role", "king", "--unit", "u", check=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
