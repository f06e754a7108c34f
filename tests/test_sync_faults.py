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

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from platform_fixtures import start_platform
from sync_checks import (
    Actor, assert_conflicts_kept, assert_healthy, assert_photos_once, assert_store_on_platform, db_snapshot,
    noise_jpeg, pending, server_rows, server_state, sync,
)

from fieldapp import sync_state
from fieldapp.errors import FieldAppError
from fieldapp.models import Task
from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store
from sync import errors
from sync.cli import client_for, sign_in
from sync.client import PlatformClient
from sync.credentials import TokenStore
from sync.engine import Syncer
from fault_proxy import FaultProxy

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
        srv.stop()
        text = srv.log_path.read_text(errors="replace")
        assert "Traceback" not in text, f"the server logged an error:\n{text[-6000:]}"


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
            except Exception as exc:  # noqa: BLE001 - the point: nothing but a SyncError may escape
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
