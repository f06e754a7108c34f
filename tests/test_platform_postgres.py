"""A province's platform: several server processes on one PostgreSQL, clients spread across them.

PostgreSQL comes from pgserver (a pip package carrying the server's binaries), so ./test.sh
needs no system install and CI runs the same thing a developer does. The servers share the
database and the photo directory and keep nothing in their processes, so which process a request
reaches must not matter: the result is the same as with one.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import write_jpeg
from sync_checks import sync
from platform_fixtures import change, new_id, start_platform

from fieldapp.maintenance import verify
from fieldapp.models import Finding, Photo, Task, Visit
from fieldapp.services import findings, tasks, visits
from fieldapp.store import Store
from sync.cli import sign_in

UNIT = "省督查室"


@pytest.fixture(scope="module")
def postgres():
    import pgserver  # in the test extra: a missing one is an error, not a skip

    # Run as root, pgserver starts PostgreSQL as its own user, which cannot enter pytest's
    # 0700 tmp dirs: the data dir gets a folder of its own under /tmp.
    root = Path(tempfile.mkdtemp(prefix="fieldapp-pg-"))
    server = pgserver.get_server(str(root), cleanup_mode="stop")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database(postgres):
    """A fresh database of its own for each test, on the module's PostgreSQL server."""
    name = f"platform_{new_id().replace('-', '')[:16]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield postgres.replace("/postgres?", f"/{name}?", 1)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def two_servers(database, tmp_path):
    photos = tmp_path / "shared-photos"
    a = start_platform(tmp_path, "a", db_url=database, photos=str(photos))
    b = start_platform(tmp_path, "b", db_url=database, photos=str(photos))
    try:
        yield a, b, photos
    finally:
        for s in (a, b):
            s.stop_checked()


def server_records(db_url: str) -> dict[tuple[str, str], dict]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT entity, id, version, fields FROM records").all()
    finally:
        engine.dispose()
    return {(e, i): {"version": v, **(f if isinstance(f, dict) else json.loads(f))} for e, i, v, f in rows}


def test_inspectors_on_two_server_processes_converge_as_on_one(two_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDAPP_KEYRING", "file")
    a, b, photos_dir = two_servers
    a.add_user("zhou", "supervisor", UNIT)
    for name in ("li", "wu"):
        a.add_user(name, "inspector", UNIT)
    sup = Store(tmp_path / "zhou", author="周")
    li = Store(tmp_path / "li", author="李")
    wu = Store(tmp_path / "wu", author="吴")
    try:
        sign_in(sup, a.base_url, "zhou", a.passwords["zhou"])
        sign_in(li, a.base_url, "li", a.passwords["li"])
        sign_in(wu, b.base_url, "wu", a.passwords["wu"])  # the other process
        ids = [tasks.create_task(sup, title=f"督查任务 {i}", code=f"PG-{i}", deadline=dt.date(2026, 6, 30)).tasks.pop()
               for i in range(4)]
        sync(sup)
        for i, code in enumerate(f"PG-{i}" for i in range(4)):
            b.cli("assign", code, "li" if i % 2 == 0 else "wu")
        # both inspectors work and sync at the same time, each on its own process
        work = {"li": (li, ids[0::2]), "wu": (wu, ids[1::2])}
        failures: list[BaseException] = []

        def inspector(name: str) -> None:
            store, mine = work[name]
            try:
                sync(store)
                for n, tid in enumerate(mine):
                    vid = visits.record_visit(store, tid, visited_at=dt.datetime(2026, 5, 6, 9, n)).visits.pop()
                    fid = findings.record_finding(store, tid, visit_id=vid, description=f"{name} 问题 {n}").findings.pop()
                    photo = write_jpeg(tmp_path / f"{name}-{n}.jpg", color=random.choice(["red", "green", "blue"]),
                                       size=(200 + n, 150 if name == "li" else 160))  # four distinct files
                    findings.add_photos(store, fid, [photo], "site")
                    sync(store)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
                failures.append(exc)

        threads = [threading.Thread(target=inspector, args=(n,)) for n in work]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures
        for store in (li, wu, sup, li, wu):
            sync(store)
        held = server_records(a.db_url)
        for store in (sup, li, wu):
            assert verify(store).ok
        # every record exactly once on the platform, as the device that made it holds it
        for store, name in ((li, "li"), (wu, "wu")):
            with store.session() as s:
                for model in (Visit, Finding, Photo):
                    for obj in s.query(model).filter(model.author == name):
                        there = held[(model.__tablename__, obj.id)]
                        assert there["version"] == obj.version and there["author"] == name
        assert sum(1 for (e, _i) in held if e == "findings") == 4
        assert sum(1 for (e, _i) in held if e == "photos") == 4
        files = [p for p in photos_dir.rglob("*") if p.is_file() and len(p.name) == 64]
        assert len(files) == 4
        # the supervisor sees all of it, whichever process took it
        with sup.session() as s:
            assert s.query(Finding).count() == 4 and s.query(Photo).count() == 4 and s.query(Task).count() == 4
    finally:
        for store in (sup, li, wu):
            store.close()


def test_a_puller_misses_nothing_while_two_processes_take_concurrent_pushes(two_servers):
    """The feed's order under concurrent writers: a page's cursor never jumps over a row that
    commits later (the servers take an advisory lock around their feed appends)."""
    a, b, _photos = two_servers
    a.add_user("zhou", "supervisor", UNIT)
    password = a.passwords["zhou"]
    writers = [server.login("zhou", password) for server in (a, b, a, b)]
    reader = b.login("zhou", password)
    pushed: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def push(api) -> None:
        for _ in range(15):
            batch = [new_id() for _ in range(5)]
            api.pushed([change("tasks", i, fields={"title": f"任务 {i[:8]}"}) for i in batch])
            with lock:
                pushed.update(batch)

    seen: set[str] = set()

    def pull() -> None:
        cursor = 0
        while True:
            done = stop.is_set()
            page = reader.pull("tasks", after=cursor, limit=7)
            seen.update(r.id for r in page.records)
            cursor = page.cursor
            if done and not page.more:
                return

    puller = threading.Thread(target=pull)
    puller.start()
    threads = [threading.Thread(target=push, args=(api,)) for api in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    puller.join(120)
    assert len(pushed) == 4 * 15 * 5
    assert seen == pushed  # pulled incrementally while they arrived: nothing skipped
    assert sum(1 for (e, _i) in server_records(a.db_url) if e == "tasks") == len(pushed)


def test_pgserver_is_a_real_postgresql(postgres):
    engine = sa.create_engine(postgres)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version()").scalar().startswith("PostgreSQL")
    finally:
        engine.dispose()
