"""Sync under faults, with real parts only: the real platform server on loopback, real data
dirs, real child processes killed with SIGKILL, and a real proxy (tests/fault_proxy.py) that
drops, stalls, truncates and garbles what passes through it. Nothing is mocked or patched.

After every storm the FieldApps sync once more, cleanly, and then: the platform holds every
local record exactly once with the same values and version, every photo once and
byte-identical, no outbox entry is left, every conflict the platform recorded is kept on the
device whose change lost, and `fieldapp verify` finds nothing wrong.

Round counts (CI defaults keep this file to a few minutes on 2 cores):

    FIELDAPP_SYNC_KILL_ROUNDS=50    syncs (`python -m ui sync`) killed with SIGKILL at a random instant
    FIELDAPP_SYNC_FAULT_ROUNDS=300  syncs through the fault proxy (~1000 by hand)
    FIELDAPP_SYNC_SEED=N            replay a run: every randomized test prints its seed when it fails
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
from fault_proxy import FaultProxy
from platform_fixtures import start_platform
from sqlalchemy import select
from sync_checks import (
    Actor,
    assert_changes_once,
    assert_conflicts_kept,
    assert_healthy,
    assert_photos_once,
    assert_store_on_platform,
    db_snapshot,
    local_conflicts,
    noise_jpeg,
    pending,
    server_rows,
    server_state,
    sync,
)

from fieldapp import sync_state
from fieldapp.models import Finding, Task
from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store
from sync import errors
from sync.cli import client_for, sign_in
from sync.client import PlatformClient
from sync.credentials import TokenStore
from sync.engine import Syncer

UNIT = "市督查室"
KILL_ROUNDS = int(os.environ.get("FIELDAPP_SYNC_KILL_ROUNDS", "50"))
FAULT_ROUNDS = int(os.environ.get("FIELDAPP_SYNC_FAULT_ROUNDS", "300"))
SEED = int(os.environ.get("FIELDAPP_SYNC_SEED") or time.time_ns() % 10**9)
CHUNK = 8192  # small chunks: every photo is several, so interruptions land between them


@pytest.fixture(autouse=True)
def token_file(monkeypatch):
    monkeypatch.setenv("FIELDAPP_KEYRING", "file")


@pytest.fixture
def server(tmp_path):
    srv = start_platform(tmp_path, chunk_bytes=CHUNK)
    try:
        yield srv
    finally:
        srv.stop_checked()


def seeded(request) -> random.Random:
    """The run's seed, said on failure so it can be replayed."""
    request.node.user_properties.append(("seed", SEED))
    print(f"FIELDAPP_SYNC_SEED={SEED}")
    return random.Random(SEED)


@pytest.fixture
def team(server, tmp_path):
    """A supervisor with three published tasks, all assigned to inspector li; both signed in."""
    server.add_user("zhou", "supervisor", UNIT)
    server.add_user("li", "inspector", UNIT)
    sup = Store(tmp_path / "zhou")
    ins = Store(tmp_path / "li")
    try:
        sign_in(sup, server.base_url, "zhou", server.passwords["zhou"])
        sign_in(ins, server.base_url, "li", server.passwords["li"])
        for i in range(3):
            tasks.create_task(sup, title=f"河道保洁督查 {i}", code=f"DC-{i}", responsible_units=["林水局"])
        assert sync(sup).pending_changes == 0
        for i in range(3):
            server.cli("assign", f"DC-{i}", "li")
        sync(ins)
        yield sup, ins
    finally:
        sup.close()
        ins.close()


def converge(server, *stores: Store, rounds: int = 6) -> None:
    """Clean syncs (no proxy) until two full rounds change nothing anywhere."""
    quiet = 0
    for _ in range(rounds):
        moved = False
        for store in stores:
            r = sync(store)
            moved |= bool(r.pushed or r.duplicates or sum(r.pulled.values()) - r.pulled.get("reference", 0)
                          or r.photos_uploaded or r.photos_downloaded or r.refused)
        quiet = 0 if moved else quiet + 1
        if quiet == 2:
            return
    raise AssertionError("the FieldApps did not converge")


def assert_all_there(server, sup: Store, ins: Store, users: dict[str, list[Store]]) -> None:
    for store in (sup, ins):
        assert pending(store) == 0
        assert_healthy(store)
        assert_store_on_platform(server, store)
    assert_store_on_platform(server, sup, all_of_server=True)  # the supervisor sees the whole unit
    assert_photos_once(server, sup, ins)
    for store in (sup, ins):
        assert_changes_once(server, store)
    shas = [r["fields"]["sha256"] for r in server_state(server)["photos"].values()]
    assert len(shas) == len(set(shas))  # every photo file of the workload is added once: one record each
    kept = assert_conflicts_kept(server, users)
    counts = {e: len(v) for e, v in server_state(server).items()}
    print(f"platform: {counts}, {kept} conflicts, each kept by the device whose change lost")


# ---------------------------------------------------------------- a fault on every request


def faulty_client(store: Store, proxy: FaultProxy, read_timeout: float = 0.5) -> PlatformClient:
    token = TokenStore(store.data_dir, store.identity.device).load()
    return PlatformClient(proxy.url, token=token, device_id=store.identity.device, retries=1,
                          timeout=(0.5, read_timeout))


def test_sync_through_a_faulty_network_loses_and_doubles_nothing(server, team, tmp_path, request):
    rng = seeded(request)
    sup, ins = team
    actors = [Actor("zhou", "supervisor", sup, rng, tmp_path / "scratch"),
              Actor("li", "inspector", ins, rng, tmp_path / "scratch")]
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    with FaultProxy(server.base_url, rng=random.Random(SEED + 1), stall_seconds=0.8) as proxy:
        for round_no in range(FAULT_ROUNDS):
            actor = rng.choice(actors)
            proxy.rate = rng.choice((0.0, 0.03, 0.1, 0.3))  # calm rounds and storms
            for _ in range(rng.randrange(0, 4)):
                actor.act()
            client = faulty_client(actor.store, proxy)
            try:
                Syncer(actor.store, client).run()
                outcome = "ok"
            except errors.SyncError as exc:
                outcome = type(exc).__name__
            except Exception as exc:
                raise AssertionError(f"seed {SEED}, round {round_no}: {type(exc).__name__}: {exc}") from exc
            finally:
                client.close()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if round_no % 50 == 49:
                assert_healthy(actor.store)
        faults = proxy.counts()
    print(f"{FAULT_ROUNDS} rounds in {time.monotonic() - started:.0f} s; outcomes {outcomes}; faults {faults}")
    converge(server, sup, ins)
    assert_all_there(server, sup, ins, {"zhou": [sup], "li": [ins]})
    assert outcomes.get("ok", 0) > 0 and len(outcomes) > 1  # the storm let some through and stopped others


# ---------------------------------------------------------------- SIGKILL at any instant

APP = [sys.executable, "-m", "ui", "sync", "--data-dir"]


def _child_env() -> dict[str, str]:
    env = dict(os.environ, FIELDAPP_KEYRING="file", FIELDAPP_LANG="en")
    env.pop("FIELDAPP_MIN_FREE_BYTES", None)
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sync_killed_at_any_instant_loses_and_doubles_nothing(server, tmp_path, request):
    """`fieldapp sync` in a child process, killed with SIGKILL at a random instant, again and
    again, while the inspector records more between the kills and the supervisor edits the
    same findings; then one clean sync."""
    rng = seeded(request)
    server.add_user("zhou", "supervisor", UNIT)
    server.add_user("li", "inspector", UNIT)
    sup = Store(tmp_path / "zhou")
    li_dir = tmp_path / "li"
    try:
        sign_in(sup, server.base_url, "zhou", server.passwords["zhou"])
        for i in range(2):
            tasks.create_task(sup, title=f"督查 {i}", code=f"K-{i}")
        sync(sup)
        for i in range(2):
            server.cli("assign", f"K-{i}", "li")
        with Store(li_dir) as ins:
            sign_in(ins, server.base_url, "li", server.passwords["li"])
        boss = Actor("zhou", "supervisor", sup, rng, tmp_path / "scratch")
        # How long a whole child sync takes here (start-up included), and how long from its first
        # progress line to its end, to aim the kills inside it.
        started = time.monotonic()
        first = subprocess.Popen(APP + [str(li_dir)], env=_child_env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        first.stderr.read(1)
        progressing = time.monotonic()
        rest = first.stderr.read()
        assert first.wait(timeout=120) == 0, rest
        first.stderr.close()
        whole, tail = time.monotonic() - started, time.monotonic() - progressing
        kinds: dict[str, int] = {}
        killed = finished = replayed = 0
        for round_no in range(KILL_ROUNDS):
            with Store(li_dir) as ins:
                worker = Actor("li", "inspector", ins, rng, tmp_path / "scratch")
                worker.n = round_no * 10
                for _ in range(rng.randrange(1, 5)):
                    kind = worker.act()
                    kinds[kind] = kinds.get(kind, 0) + 1
            if rng.random() < 0.5:  # the platform moves too: the child has something to pull
                boss.act()
                sync(sup)
            proc = subprocess.Popen(APP + [str(li_dir)], env=_child_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            spawned = time.monotonic()
            try:
                if round_no % 5 == 4:  # let it finish: how long a sync takes now aims the next kills
                    proc.stderr.read(1)
                    began = time.monotonic()
                    proc.stderr.read()
                    proc.wait(timeout=120)
                    tail = (tail + time.monotonic() - began) / 2
                    whole = (whole + time.monotonic() - spawned) / 2
                    # What the kills before it left: changes the platform had applied unbeknown
                    # to us (the answer lost with the killed process) go again as duplicates.
                    said = re.search(r"\((\d+) already there\)", proc.stdout.read())
                    replayed += int(said[1]) if said else 0
                elif rng.random() < 0.2:  # anywhere, start-up included
                    time.sleep(rng.uniform(0, whole))
                else:  # inside the sync: after its first progress line
                    proc.stderr.read(1)
                    time.sleep(rng.uniform(0, tail))
            finally:
                proc.send_signal(signal.SIGKILL)
                code = proc.wait(timeout=60)
                proc.stderr.close()
                proc.stdout.close()
            if code == -signal.SIGKILL:
                killed += 1
            else:
                assert code == 0, f"seed {SEED}, round {round_no}: the sync exited {code}"
                finished += 1
        print(f"{KILL_ROUNDS} rounds: {killed} killed mid-sync, {finished} finished (every fifth let finish); "
              f"a sync {whole:.2f} s, {tail:.2f} s after its first progress line; {replayed} changes replayed as "
              f"duplicates after a kill; "
              f"recorded between kills: {kinds}")
        with Store(li_dir) as ins:
            assert_healthy(ins)  # what the kills left, before any repair by a sync
            converge(server, sup, ins)
            assert_all_there(server, sup, ins, {"zhou": [sup], "li": [ins]})
            assert_store_on_platform(server, ins)
    finally:
        sup.close()


# ---------------------------------------------------------------- answers that are not answers


PUBLISHED = 6


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A platform where supervisor zhou published PUBLISHED tasks, all assigned to li (shared
    by the tests below: each signs li in on a fresh data dir of its own)."""
    base = tmp_path_factory.mktemp("published")
    srv = start_platform(base, chunk_bytes=CHUNK)
    try:
        srv.add_user("zhou", "supervisor", UNIT)
        srv.add_user("li", "inspector", UNIT)
        with Store(base / "zhou", author="zhou") as sup:
            sign_in(sup, srv.base_url, "zhou", srv.passwords["zhou"])
            for i in range(PUBLISHED):
                tasks.create_task(sup, title=f"督查 {i}", code=f"B-{i}")
            sync(sup)
        for i in range(PUBLISHED):
            srv.cli("assign", f"B-{i}", "li")
        yield srv
    finally:
        srv.stop_checked()


@pytest.fixture
def fresh_li(published, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDAPP_KEYRING", "file")
    store = Store(tmp_path / "li")
    try:
        sign_in(store, published.base_url, "li", published.passwords["li"])
        yield store
    finally:
        store.close()


BAD_PAGES = {
    "not JSON": lambda page: b"<html>502 Bad Gateway</html>",
    "JSON, not a page": lambda page: b'{"stream": "tasks", "cursor": "soon"}',
    "cursor backwards": lambda page: re.sub(rb'"cursor":\d+', b'"cursor":0', page, count=1),
    "a value that does not fit": lambda page: page.replace(b'"deadline_kind":"none"', b'"deadline_kind":"none",'
                                                           b'"created_at":"yesterday"', 1),
    "a record of an unknown task": lambda page: page.replace(b'"entity":"tasks"', b'"entity":"visits"', 1),
}


@pytest.mark.parametrize("how", list(BAD_PAGES))
def test_a_bad_pull_page_changes_nothing_of_the_store(published, fresh_li, how):
    """The platform answers the second page of tasks wrongly: the sync stops with BadAnswer and
    the store is exactly as the first page left it (every table, row by row); the next good
    sync carries on from there."""
    ins = fresh_li
    pages = {"n": 0}

    def rule(method: str, path: str) -> str | None:
        if path == "/v1/pull/tasks":
            pages["n"] += 1
            return "rewrite" if pages["n"] == 2 else "pass"
        return "pass"

    with FaultProxy(published.base_url, rule=rule, rate=0.0) as proxy:
        proxy.rewrite = BAD_PAGES[how]
        snapshots: list[dict] = []
        client = faulty_client(ins, proxy, read_timeout=10)
        syncer = Syncer(ins, client, page_size=PUBLISHED // 2,
                        progress=lambda stage, _d, _t: snapshots.append(db_snapshot(ins))
                        if stage == "pull:tasks" else None)
        with pytest.raises(errors.BadAnswer):
            syncer.run()
        client.close()
    assert pages["n"] == 2 and len(snapshots) == 1
    assert db_snapshot(ins) == snapshots[0]
    with ins.reader() as con:
        assert con.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == PUBLISHED // 2
    assert sync(ins).pulled["tasks"] == PUBLISHED - PUBLISHED // 2  # the rest, from the cursor the good page left
    assert_store_on_platform(published, ins, all_of_server=True)
    assert_healthy(ins)


def test_too_little_disk_pulls_nothing(published, fresh_li):
    """Below the free-space threshold nothing is pulled (LowDisk), nothing of the store changes;
    above it the same sync goes through."""
    ins = fresh_li
    before = db_snapshot(ins)
    client = client_for(ins)
    try:
        with pytest.raises(errors.LowDisk) as low:
            Syncer(ins, client, min_free_bytes=1 << 62).run()
    finally:
        client.close()
    assert "MB" in low.value.message("en")
    after = db_snapshot(ins)
    # the platform's photo limit, learnt from /v1/info, is the one thing written
    assert {k: v for k, v in after.items() if k != "sync_state"} == {k: v for k, v in before.items() if k != "sync_state"}
    assert [r for r in after["sync_state"] if r[0] != sync_state.MAX_PHOTO_BYTES] == \
        [r for r in before["sync_state"] if r[0] != sync_state.MAX_PHOTO_BYTES]
    assert sync(ins).pulled["tasks"] == PUBLISHED


# ---------------------------------------------------------------- refusals


def test_a_refused_edit_gives_way_to_the_platforms_value_and_blocks_nothing(published, fresh_li):
    """An inspector may not change a dispatch field: the platform refuses it for good. The
    record here goes back to the platform's values and version (not left different from every
    other copy), and the inspector's next, allowed, edit of it goes through."""
    ins = fresh_li
    sync(ins)
    with ins.session() as s:
        tid = s.scalars(select(Task.id).where(Task.code == "B-0")).one()
    with ins.transaction() as s:
        t = s.get(Task, tid)
        t.title = "改过的标题"  # a dispatch field: the platform's
    report = sync(ins)
    assert [(r["entity_id"], r["code"]) for r in report.refused] == [(tid, "forbidden")]
    assert_store_on_platform(published, ins)  # the title and version are the platform's again
    with ins.transaction() as s:
        s.get(Task, tid).status = "in_progress"  # the one task field an inspector writes
    report = sync(ins)
    assert report.refused == [] and report.pushed == 1
    assert server_state(published)["tasks"][tid]["fields"]["status"] == "in_progress"
    assert_store_on_platform(published, ins)
    assert pending(ins) == 0


def test_a_photo_the_platform_will_never_take_blocks_nothing_behind_it(tmp_path):
    """A photo over the platform's limit (lowered since it was taken) can never go up. It is
    refused for good, said once, and the visit and finding recorded after it still go up."""
    srv = start_platform(tmp_path, chunk_bytes=CHUNK, max_photo_bytes=20000)
    try:
        srv.add_user("zhou", "supervisor", UNIT)
        srv.add_user("li", "inspector", UNIT)
        with Store(tmp_path / "zhou") as sup:
            sign_in(sup, srv.base_url, "zhou", srv.passwords["zhou"])
            (tid,) = tasks.create_task(sup, title="督查", code="P-1").tasks
            sync(sup)
        srv.cli("assign", "P-1", "li")
        with Store(tmp_path / "li") as ins:
            sign_in(ins, srv.base_url, "li", srv.passwords["li"])
            sync(ins)
            fid = findings.record_finding(ins, tid, description="垃圾堆放").findings.pop()
            sync_state.write(ins, **{sync_state.MAX_PHOTO_BYTES: 10**8})  # as the limit was when it was taken
            big = noise_jpeg(tmp_path / "big.jpg", random.Random(1), size=(200, 150))
            small = noise_jpeg(tmp_path / "small.jpg", random.Random(2), size=(40, 30))
            assert big.stat().st_size > 20000 > small.stat().st_size
            (big_id,) = findings.add_photos(ins, fid, [big]).photos
            (small_id,) = findings.add_photos(ins, fid, [small]).photos
            (vid,) = visits.record_visit(ins, tid, visited_at=dt.datetime(2026, 5, 6, 9, 30)).visits
            report = sync(ins)
            assert [(r["entity_id"], r["code"]) for r in report.refused] == [(big_id, "photo_too_large")]
            assert report.pending_changes == 0 and report.photos_uploaded == 1
            there = server_state(srv)
            assert set(there["photos"]) == {small_id} and set(there["visits"]) == {vid} and fid in there["findings"]
            assert sync(ins).refused == []  # said once
    finally:
        srv.stop()


def test_a_second_offline_edit_does_not_conflict_with_the_first(published, fresh_li):
    """Found here as a server bug (the device's second offline edit of a field conflicted with
    its own first one whenever another writer touched the record meanwhile: the user's latest
    value lost to their previous one); fixed in the platform's merge (2f7d9f2, seen_version)."""
    ins = fresh_li
    sync(ins)
    with ins.session() as s:
        tid = s.scalars(select(Task.id).where(Task.code == "B-1")).one()
    fid = findings.record_finding(ins, tid, description="初记").findings.pop()
    sync(ins)
    published.cli("return", fid, "--reason", "请补充整改后照片")  # another writer: the platform
    for text in ("第一次改", "第二次改"):  # offline, the inspector edits the description twice
        with ins.transaction() as s:
            s.get(Finding, fid).description = text
    report = sync(ins)
    assert server_state(published)["findings"][fid]["fields"]["description"] == "第二次改"
    assert report.conflicts == 0


def test_an_edit_made_during_a_sync_that_then_loses_leaves_the_platforms_value(published, fresh_li, tmp_path):
    """The inspector edits a finding's description while a sync runs (after its push, before its
    pull); the pull brings the supervisor's new description but keeps the unsent edit's field;
    the next push loses that field to the supervisor's (a conflict, nothing applied, so the
    record does not move on the platform and no pull brings it again). The record here must end
    with the platform's value and version, the inspector's kept in the conflict."""
    ins = fresh_li
    sync(ins)
    with ins.session() as s:
        tid = s.scalars(select(Task.id).where(Task.code == "B-2")).one()
    fid = findings.record_finding(ins, tid, description="初记").findings.pop()
    findings.start_rectification(ins, fid)
    findings.submit_for_check(ins, fid)  # from now on the supervisor may write it too
    sync(ins)
    with Store(tmp_path / "zhou2") as sup:
        sign_in(sup, published.base_url, "zhou", published.passwords["zhou"])
        sync(sup)
        with sup.transaction() as s:
            s.get(Finding, fid).description = "组长改的"
        sync(sup)

    def edit_between_push_and_pull(stage: str, _done: int, _total: int) -> None:
        if stage == "pull:tasks" and not edited:
            edited.append(True)
            with ins.transaction() as s:
                s.get(Finding, fid).description = "督查员改的"

    edited: list[bool] = []
    client = client_for(ins)
    try:
        Syncer(ins, client, progress=edit_between_push_and_pull).run()
    finally:
        client.close()
    assert edited
    report = sync(ins)
    assert report.conflicts == 1
    assert server_state(published)["findings"][fid]["fields"]["description"] == "组长改的"
    assert_store_on_platform(published, ins)
    ((_, k),) = local_conflicts(ins).items()
    assert (k.field, k.theirs, k.mine) == ("description", "组长改的", "督查员改的")


# ---------------------------------------------------------------- the lost answer, exactly


def test_a_lost_push_answer_is_a_duplicate_next_time_never_a_double(published, fresh_li, tmp_path):
    """The platform applies a push and its answer never arrives (the connection drops after the
    platform answered; the client's retry is dropped too). The next sync sends the same changes:
    every one a duplicate, nothing applied twice, and the photo's chunks not sent again."""
    ins = fresh_li
    sync(ins)
    with ins.session() as s:
        tid = s.scalars(select(Task.id).where(Task.code == "B-3")).one()
    (vid,) = visits.record_visit(ins, tid, visited_at=dt.datetime(2026, 5, 6, 9, 30, tzinfo=dt.timezone.utc)).visits
    fid = findings.record_finding(ins, tid, description="消防通道堵塞", visit_id=vid).findings.pop()
    findings.add_photos(ins, fid, [noise_jpeg(tmp_path / "p.jpg", random.Random(3))])
    with ins.transaction() as s:
        s.get(Finding, fid).requirement = "三日内清理"
    changes_before = server_rows(published, "SELECT COUNT(*) FROM changes")[0][0]
    with FaultProxy(published.base_url, rate=0.0,
                    rule=lambda method, path: "drop_after" if path == "/v1/push" else "pass") as proxy:
        client = faulty_client(ins, proxy, read_timeout=10)
        try:
            with pytest.raises(errors.NoNetwork):
                Syncer(ins, client).run()
        finally:
            client.close()
        assert [f for m, p, f in proxy.log if p == "/v1/push"] == ["drop_after", "drop_after"]  # and its retry
    outbox = pending(ins)
    assert outbox == 5  # visit, finding (+ the task's status), photo, the edit: all still to go as far as we know
    applied = server_rows(published, "SELECT COUNT(*) FROM changes")[0][0] - changes_before
    assert applied == outbox  # ... but the platform has them all
    report = sync(ins)
    assert (report.pushed, report.duplicates, report.photos_uploaded, report.bytes_uploaded) == (0, outbox, 0, 0)
    assert server_rows(published, "SELECT COUNT(*) FROM changes")[0][0] - changes_before == outbox
    assert pending(ins) == 0
    assert_store_on_platform(published, ins)
    assert_photos_once(published, ins)


def test_a_conflict_behind_a_photo_not_yet_uploaded_still_leaves_the_platforms_value(published, fresh_li, tmp_path):
    """While a sync runs, after its photo uploads, the inspector adds a photo and then edits a
    requirement the supervisor has changed meanwhile. The push stops at the photo (its file is
    not there yet: it stays in the outbox, and the edit behind it too), though the platform took
    the edit as a conflict. The next sync uploads the photo, replays both (duplicates), and only
    then keeps the conflict: the record ends with the platform's value, the inspector's kept."""
    ins = fresh_li
    sync(ins)
    with ins.session() as s:
        tid = s.scalars(select(Task.id).where(Task.code == "B-4")).one()
    fid = findings.record_finding(ins, tid, description="路灯不亮", requirement="一周内修复").findings.pop()
    findings.start_rectification(ins, fid)
    findings.submit_for_check(ins, fid)
    sync(ins)
    with Store(tmp_path / "zhou3") as sup:
        sign_in(sup, published.base_url, "zhou", published.passwords["zhou"])
        sync(sup)
        with sup.transaction() as s:
            s.get(Finding, fid).requirement = "三日内修复"
        sync(sup)
    photo = noise_jpeg(tmp_path / "late.jpg", random.Random(4))

    def record_after_the_uploads(stage: str, done: int, total: int) -> None:
        if stage == "photos" and done == total and not late:
            late.append(findings.add_photos(ins, fid, [photo], "after").photos.pop())
            with ins.transaction() as s:
                s.get(Finding, fid).requirement = "两日内修复"

    late: list[str] = []
    client = client_for(ins)
    try:
        first = Syncer(ins, client, progress=record_after_the_uploads).run()
    finally:
        client.close()
    assert late and first.pending_changes == 2 and first.conflicts == 0
    second = sync(ins)
    assert (second.photos_uploaded, second.duplicates, second.conflicts, second.pending_changes) == (1, 1, 1, 0)
    assert server_state(published)["findings"][fid]["fields"]["requirement"] == "三日内修复"
    assert_store_on_platform(published, ins)
    assert_photos_once(published, ins)
    ((_, k),) = local_conflicts(ins).items()
    assert (k.field, k.theirs, k.mine) == ("requirement", "三日内修复", "两日内修复")


def test_a_stale_delete_brings_the_record_back(published, tmp_path):
    """A supervisor deletes a task on one FieldApp while, on another, the title was changed and
    sent. The platform keeps the task (a conflict on "deleted"); the deleting FieldApp gets it
    back, as the platform holds it, with the conflict kept."""
    a, b = Store(tmp_path / "zhou-a"), Store(tmp_path / "zhou-b")
    try:
        for store in (a, b):
            sign_in(store, published.base_url, "zhou", published.passwords["zhou"])
        (tid,) = tasks.create_task(a, title="临时任务", code="DEL-1").tasks
        sync(a)
        sync(b)
        with b.transaction() as s:
            s.get(Task, tid).title = "改了名的任务"
        sync(b)
        with a.transaction() as s:
            s.delete(s.get(Task, tid))
        report = sync(a)
        assert report.conflicts == 1 and report.pending_changes == 0
        with a.session() as s:
            assert s.get(Task, tid).title == "改了名的任务"
        assert_store_on_platform(published, a)
        ((_, k),) = local_conflicts(a).items()
        assert (k.entity_id, k.field, k.mine) == (tid, "deleted", True)
        assert_healthy(a)
    finally:
        a.close()
        b.close()
