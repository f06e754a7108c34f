"""Sync benchmark (run by hand): FieldApp's sync client and the reference platform, on loopback.

    .venv/bin/python bench/sync.py [--quick] [--only push,photos,resume,pg,gui]

Every server is the real one (`python -m sync.server.cli serve`) in a child process on
127.0.0.1, fresh for each measurement; every figure is printed with a baseline measured in the
same run, and the ratio. Push and photos run 3 rounds (--quick: 1), ours and the baseline
alternating which goes first; the figures are medians, the ratio the median of the rounds'
ratios. What each baseline is, and why it is fair:

1. push     Our client pushes 10,000 new findings (one supervisor's store: a task and 10,000
            findings made in one transaction, so the change log holds 10,001 local entries):
            `Syncer(store, client).push()`, signed in through `sync.cli.sign_in`/`client_for`.
            Baseline: a bare `requests` loop POSTing the very same bytes, batch by batch, to a
            second fresh server of the same kind (SQLite). The bytes are made before any timing
            by running our Syncer on a copy of the store against a recording client that answers
            every change "applied" — so they are exactly what PlatformClient sends (same
            change ids, same batch size, same pending counts). The server's work is identical;
            the difference is the client: the outbox queries, building the models, validating
            the answers, recording each batch in the store. Goal ≤ 1.5×. The client process's
            CPU time is printed too (less sensitive to a busy machine).
2. photos   ~200 MB (--quick: ~40 MB) of noisy real JPEGs (3–5 MB each, stored with
            `findings.add_photos`) uploaded by `Syncer.upload_photos()`. Baseline: plain
            `requests` through the same endpoints (missing, upload start, every chunk PUT with
            its precomputed X-Chunk-SHA256), reading the same (page-cached) files chunk by chunk,
            to another fresh server. Ours re-hashes each file and each chunk and validates every
            answer; that is what is measured. Goal ≥ 80 % of the bare MB/s.
3. resume   A ~20 MB photo, server chunk size 256 KiB (FIELDAPP_PLATFORM_CHUNK_BYTES), its
            upload cut half way in three ways: the client's `put_chunk` wrapped (in this
            process) to raise NoNetwork after the chunk reached the server ("answer lost") or
            before sending it ("request lost"); and our upload in a child process killed with
            SIGKILL once the server holds half the chunks ("process killed"). The chunks the
            server holds are then counted from its own upload directory, the sync runs again
            (in this process, counting what it sends), and every chunk it sends that the
            server already held is "sent twice". Goal ≤ 1.
4. pg       Server push throughput on PostgreSQL 16 (pgserver, one database per run): 50
            client threads in this process (threads: each request is pre-serialised bytes, so
            the client side is a small fraction of the server's work), each signed in as its
            own supervisor with its own device, each pushing K batches of new findings into its
            own task, all starting together (K = 4 batches of 100, --quick 2; --pg-batches and
            --pg-batch change them: our client sends up to 500 a batch). Changes/second with `serve --workers 1` and
            `--workers 4`; the baseline is the 1-process figure, so the ratio is the scaling.
            Afterwards the database must hold exactly the findings pushed (records and
            accepted changes), each answered "applied". Sessions waiting on PostgreSQL locks
            are sampled meanwhile (pg_stat_activity), and one client alone pushing batch after
            batch is measured first, to show where the time goes.
5. gui      A real MainWindow (QT_QPA_PLATFORM=offscreen) on a store with a few thousand
            pending changes and some photos; `window.sync.sync_now()` runs the sync on the
            window's SyncController while a 5 ms QTimer on the GUI thread records the longest gap
            between its ticks, from the click until the sync is over and the views reloaded.
            Baseline: the same timer in the same window with no sync running, for as long.
            Goal: longest gap ≤ 50 ms. 3 rounds (--quick: 1), each on a new store, server and
            window; the medians of the longest gaps.

Figures are wall-clock on a shared machine: run it when nothing else is busy (the load average
is printed at the start and the end). Everything lives in a temporary directory removed at the
end; every server (and the PostgreSQL) started here is stopped, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ["FIELDAPP_KEYRING"] = "file"  # tokens in the (temporary) data dirs, never the OS keyring
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

import requests  # noqa: E402 - after the environment above, which the imports read

from sync import contract as c  # noqa: E402

PASSWORD = "bench-密码-1"
UNIT = "市督查室"
MB = 1_000_000
START_TIMEOUT = 60.0


@dataclass
class Params:
    rounds: int  # push, photos and gui: fresh servers (and stores) each round; medians
    findings: int
    photo_mb: int
    resume_mb: int
    pg_clients: int
    pg_batches: int  # K: batches each client pushes
    pg_batch: int  # changes per batch
    pg_serial_batches: int  # batches of the lone client
    gui_findings: int
    gui_photos: int


FULL = Params(rounds=3, findings=10_000, photo_mb=200, resume_mb=20, pg_clients=50, pg_batches=4, pg_batch=100,
              pg_serial_batches=20, gui_findings=3000, gui_photos=8)
QUICK = Params(rounds=1, findings=10_000, photo_mb=40, resume_mb=20, pg_clients=50, pg_batches=2, pg_batch=100,
               pg_serial_batches=10, gui_findings=2000, gui_photos=4)


@dataclass
class Row:
    figure: str
    ours: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None


ROWS: list[Row] = []
NOTES: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    url: str
    db_url: str
    photos: Path
    log: Path
    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # uvicorn stops its worker processes on SIGTERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only what it started
                self.proc.wait(timeout=10)
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            text = ""
        if "Traceback" in text:  # what was raised: the unindented lines naming an exception
            raised = Counter(line.strip() for line in text.splitlines()
                             if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout|Exit)\b", line))
            NOTES.append(f"server {self.name} logged {text.count('Traceback')} tracebacks: "
                         + "; ".join(f"{n}× {line[:300]}" for line, n in raised.most_common(3)))


class Bench:
    """The temporary directory, the servers and the PostgreSQL of one run, all stopped at the end."""

    def __init__(self, params: Params, parent: Path | None = None) -> None:
        self.p = params
        self.tmp = Path(tempfile.mkdtemp(prefix="fieldapp-bench-sync-", dir=parent))
        self.servers: list[Server] = []
        self.pg: Any = None
        self._seed: Path | None = None

    def close(self) -> None:
        for s in self.servers:
            try:
                s.stop()
            except (OSError, subprocess.SubprocessError) as exc:  # keep stopping the others
                say(f"stopping {s.name}: {exc}")
        self.servers.clear()
        if self.pg is not None:
            try:
                self.pg.cleanup()
            except Exception as exc:  # noqa: BLE001 - pgserver's own errors; the directory goes anyway
                say(f"stopping PostgreSQL: {exc}")
            self.pg = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def seed(self) -> Path:
        """A SQLite platform database with supervisor zhou, copied for each server (a user costs
        a slow password hash)."""
        if self._seed is None:
            path = self.tmp / "seed.db"
            add_users(f"sqlite:///{path}", [("zhou", UNIT)])
            self._seed = path
        return self._seed

    def start(self, name: str, *, db_url: str | None = None, workers: int = 1, **settings: Any) -> Server:
        """A fresh server: on a copy of the seed database unless `db_url` is given."""
        base = self.tmp / "servers" / name
        base.mkdir(parents=True)
        if db_url is None:
            shutil.copyfile(self.seed(), base / "platform.db")
            db_url = f"sqlite:///{base / 'platform.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_PLATFORM_")}
        env.update({"FIELDAPP_PLATFORM_DB": db_url, "FIELDAPP_PLATFORM_PHOTOS": str(base / "photos"),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))})
        env.update({f"FIELDAPP_PLATFORM_{k.upper()}": str(v) for k, v in settings.items()})
        port = free_port()
        log = base / "server.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sync.server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        server = Server(name, f"http://127.0.0.1:{port}", db_url, base / "photos", log, proc)
        self.servers.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server {name} exited:\n{log.read_text(errors='replace')}")
            try:
                if requests.get(server.url + "/v1/info", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        if workers > 1:  # the first answer is one worker's: give the others time to start too
            time.sleep(5.0)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        self.servers.remove(server)

    @contextmanager
    def server(self, name: str, **kw: Any) -> Iterator[Server]:
        s = self.start(name, **kw)
        try:
            yield s
        finally:
            self.stop(s)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_users(db_url: str, users: list[tuple[str, str]]) -> None:
    """Supervisors (name, unit), straight into the platform's database (migrated first)."""
    from sync.server import auth
    from sync.server.db import Database

    db = Database(db_url)
    try:
        for name, unit in users:
            auth.add_user(db, name, PASSWORD, c.Role.SUPERVISOR, unit)
    finally:
        db.dispose()


# ---------------------------------------------------------------- stores and photos


def noisy_jpeg(path: Path, megabytes: float) -> Path:
    """A real JPEG of about `megabytes` whose pixels are noise, so it does not compress away
    (and no two are alike)."""
    from PIL import Image

    pixels = int(megabytes * MB / 0.88)  # noise at quality 90: about 0.88 bytes a pixel
    width = int((pixels * 4 / 3) ** 0.5)
    height = pixels // width
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(path, "JPEG", quality=90)
    return path


def new_store(path: Path, findings: int = 1, author: str = "zhou") -> tuple[Any, str, list[str]]:
    """A store written as `author` with one task and `findings` findings made in one
    transaction (the change log records them all); returns (store, task id, finding ids)."""
    from fieldapp.models import Finding, Task
    from fieldapp.store import Store

    store = Store(path, author=author)
    with store.transaction() as s:
        task = Task(title="基准测试：河道保洁督查", region_code="330106", responsible_units=["西湖区林水局"])
        s.add(task)
        s.flush()
        rows = [Finding(task_id=task.id, description=f"第 {i} 处：河面漂浮垃圾未及时清理，岸坡杂草丛生",
                        category="环境卫生", severity="general", responsible_unit="西湖区林水局",
                        requirement="三日内清理完毕并建立长效保洁机制", status="open") for i in range(findings)]
        s.add_all(rows)
        s.flush()
        return store, task.id, [f.id for f in rows]


def add_noisy_photos(store: Any, finding_id: str, folder: Path, sizes_mb: list[float]) -> list[str]:
    """Noisy JPEGs of about the given sizes, attached to the finding five at a time
    (`findings.add_photos` stores them durably, with thumbnails); returns their hashes."""
    from fieldapp.services import findings

    folder.mkdir(parents=True, exist_ok=True)
    shas: list[str] = []
    for start in range(0, len(sizes_mb), 5):
        batch = [noisy_jpeg(folder / f"photo-{start + i:04}.jpg", mb) for i, mb in enumerate(sizes_mb[start:start + 5])]
        changes = findings.add_photos(store, finding_id, batch)
        if changes.refused:
            raise RuntimeError(f"photos refused: {changes.refused[0]}")
        for path in batch:
            shas.append(hashlib.sha256(path.read_bytes()).hexdigest())
            path.unlink()
    return shas


def sizes_up_to(total_mb: float, cycle: tuple[float, ...]) -> list[float]:
    out: list[float] = []
    while sum(out) < total_mb:
        out.append(cycle[len(out) % len(cycle)])
    return out


def signed_in_client(store: Any, server: Server) -> Any:
    """Our client exactly as the app makes it: sign in, then `client_for`."""
    from sync.cli import client_for, sign_in

    sign_in(store, server.url, "zhou", PASSWORD)
    return client_for(store)


def bare_session(server: Server, device_id: str, user: str = "zhou") -> requests.Session:
    """A plain requests session signed in for `device_id`, with the contract's headers."""
    http = requests.Session()
    http.headers[c.CONTRACT_HEADER] = str(c.CONTRACT_VERSION)
    http.headers[c.DEVICE_HEADER] = device_id
    r = http.post(server.url + "/v1/auth/login", timeout=60,
                  json={"user": user, "password": PASSWORD, "device_id": device_id, "device_name": "bench"})
    r.raise_for_status()
    http.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return http


def sqlite_count(server: Server, sql: str) -> int:
    import sqlite3

    con = sqlite3.connect(server.db_url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------- 1. push


def bench_push(b: Bench) -> None:
    from fieldapp.store import Store
    from sync.engine import Syncer

    n = b.p.findings
    say(f"\n== 1. push: {n} findings, our Syncer.push() vs bare requests with the same bodies")
    t = time.perf_counter()
    template = b.tmp / "push-template"
    store, _tid, _ids = new_store(template, findings=n)
    store.close()
    say(f"   store with {n + 1} pending changes made in {time.perf_counter() - t:.1f} s")

    def copy(name: str) -> Path:
        dst = b.tmp / name
        shutil.copytree(template, dst)
        return dst

    # The exact bodies our client sends, made on a copy by our own Syncer (untimed).
    recorder = RecordingClient()
    with Store(copy("push-dry-run"), author="zhou") as dry:
        device = dry.identity.device
        Syncer(dry, recorder).push()
    bodies = recorder.bodies
    say(f"   {len(bodies)} batches, {sum(map(len, bodies)) / MB:.1f} MB of JSON")

    ours_t: list[float] = []
    bare_t: list[float] = []
    for r in range(b.p.rounds):
        order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
        for who in order:
            with b.server(f"push-{who}-{r}") as server:
                if who == "ours":
                    with Store(copy(f"push-ours-{r}"), author="zhou") as st:
                        client = signed_in_client(st, server)
                        try:
                            t0, c0 = time.perf_counter(), time.process_time()
                            syncer = Syncer(st, client)
                            syncer.push()
                            took, cpu = time.perf_counter() - t0, time.process_time() - c0
                        finally:
                            client.close()
                        rep = syncer.report
                        if rep.pushed != n + 1 or rep.refused:
                            raise RuntimeError(f"our push: {rep.pushed} applied, {len(rep.refused)} refused")
                    ours_t.append(took)
                else:
                    http = bare_session(server, device)
                    headers = {"Content-Type": "application/json"}
                    answers = []
                    t0, c0 = time.perf_counter(), time.process_time()
                    for body in bodies:
                        resp = http.post(server.url + "/v1/push", data=body, headers=headers, timeout=300)
                        resp.raise_for_status()
                        answers.append(resp.content)
                    took, cpu = time.perf_counter() - t0, time.process_time() - c0
                    http.close()
                    applied = sum(1 for a in answers for x in json.loads(a)["results"] if x["outcome"] == "applied")
                    if applied != n + 1:
                        raise RuntimeError(f"bare push: {applied} applied of {n + 1}")
                    bare_t.append(took)
                say(f"   round {r + 1} {who}: {took:.2f} s (client CPU {cpu:.2f} s)")
    o, base = median(ours_t), median(bare_t)
    ratio = median([x / y for x, y in zip(ours_t, bare_t)])  # rounds pair up: less of the machine's drift
    say(f"   ours {o:.2f} s, bare {base:.2f} s (medians of {len(ours_t)}); ratio {ratio:.2f}x (median of the "
        f"rounds' ratios; goal ≤ 1.5)")
    ROWS.append(Row(f"push {n} findings (s)", f"{o:.2f}", f"{base:.2f}", f"{ratio:.2f}x", "≤ 1.5x", ratio <= 1.5))


class RecordingClient:
    """Stands in for PlatformClient in a dry run: keeps each push's body as PlatformClient would
    send it and answers every change "applied", its chain head the batch's last entry."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def push(self, request: c.PushRequest) -> c.PushResponse:
        self.bodies.append(request.model_dump_json().encode("utf-8"))  # = PlatformClient._call
        last = request.changes[-1]
        return c.PushResponse(results=[c.ChangeResult(change_id=ch.change_id, outcome=c.ChangeOutcome.APPLIED,
                                                      version=1) for ch in request.changes],
                              head=c.ChainHead(seq=last.seq, hash=last.hash))


# ---------------------------------------------------------------- 2. photos


def bench_photos(b: Bench) -> None:
    from sync.engine import Syncer
    from sync.server.config import Settings

    say(f"\n== 2. photo upload: ~{b.p.photo_mb} MB, our Syncer.upload_photos() vs bare chunked requests")
    t = time.perf_counter()
    store, _tid, (fid,) = new_store(b.tmp / "photos-store")
    try:
        shas = add_noisy_photos(store, fid, b.tmp / "jpegs", sizes_up_to(b.p.photo_mb, (3.0, 4.0, 5.0, 3.5, 4.5)))
        paths = [store.photos.path(s) for s in shas]
        sizes = [p.stat().st_size for p in paths]
        total = sum(sizes)
        say(f"   {len(shas)} photos, {total / MB:.0f} MB, stored in {time.perf_counter() - t:.1f} s")
        device = store.identity.device
        chunk = Settings().chunk_bytes  # the server's default; bare_upload checks it is what the server says
        plan = []  # (sha, path, size, [(index, offset, length, chunk sha)])
        for sha, path, size in zip(shas, paths, sizes):
            data = path.read_bytes()
            plan.append((sha, path, size, [(i, off, min(chunk, size - off), hashlib.sha256(data[off:off + chunk]).hexdigest())
                                           for i, off in enumerate(range(0, size, chunk))]))
        ours_r: list[float] = []
        bare_r: list[float] = []
        for r in range(b.p.rounds):
            order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
            for who in order:
                with b.server(f"photos-{who}-{r}") as server:
                    if who == "ours":
                        client = signed_in_client(store, server)
                        try:
                            syncer = Syncer(store, client)
                            t0, c0 = time.perf_counter(), time.process_time()
                            syncer.upload_photos()
                            took, cpu = time.perf_counter() - t0, time.process_time() - c0
                        finally:
                            client.close()
                        if syncer.report.photos_uploaded != len(shas) or syncer.report.bytes_uploaded != total:
                            raise RuntimeError(f"our upload: {syncer.report}")
                        ours_r.append(total / MB / took)
                    else:
                        http = bare_session(server, device)
                        t0, c0 = time.perf_counter(), time.process_time()
                        bare_upload(http, server.url, plan)
                        took, cpu = time.perf_counter() - t0, time.process_time() - c0
                        http.close()
                        bare_r.append(total / MB / took)
                    held = sum(1 for p in server.photos.glob("[0-9a-f][0-9a-f]/*") if len(p.name) == 64)
                    if held != len(shas):
                        raise RuntimeError(f"{who}: the server holds {held} photos of {len(shas)}")
                    say(f"   round {r + 1} {who}: {took:.2f} s, {total / MB / took:.1f} MB/s (client CPU {cpu:.2f} s)")
    finally:
        store.close()
    o, base = median(ours_r), median(bare_r)
    share = median([x / y for x, y in zip(ours_r, bare_r)])  # rounds pair up: less of the machine's drift
    say(f"   ours {o:.1f} MB/s, bare {base:.1f} MB/s (medians of {len(ours_r)}); {share:.0%} of bare (median of "
        f"the rounds' ratios; goal ≥ 80 %)")
    ROWS.append(Row(f"photo upload {total / MB:.0f} MB (MB/s)", f"{o:.1f}", f"{base:.1f}", f"{share:.0%}",
                    "≥ 80 %", share >= 0.8))


def bare_upload(http: requests.Session, url: str, plan: list) -> None:
    """The protocol with nothing else: which are missing, then start and every chunk of each."""
    r = http.post(url + "/v1/photos/missing", json={"hashes": [p[0] for p in plan]}, timeout=60)
    r.raise_for_status()
    missing = set(r.json()["missing"])
    octet = {"Content-Type": "application/octet-stream"}
    for sha, path, size, chunks in plan:
        if sha not in missing:
            continue
        r = http.post(f"{url}/v1/photos/{sha}/upload", json={"size": size}, timeout=60)
        r.raise_for_status()
        if r.json()["chunk_bytes"] != chunks[0][2] and len(chunks) > 1:
            raise RuntimeError(f"the server cuts photos in {r.json()['chunk_bytes']} bytes, the plan in {chunks[0][2]}")
        with open(path, "rb") as fh:
            for index, _off, length, chunk_sha in chunks:
                data = fh.read(length)
                r = http.put(f"{url}/v1/photos/{sha}/chunks/{index}", data=data, timeout=60,
                             headers={**octet, c.CHUNK_HASH_HEADER: chunk_sha})
                r.raise_for_status()
        if not r.json()["complete"]:
            raise RuntimeError(f"bare upload of {sha[:12]} incomplete")


# ---------------------------------------------------------------- 3. resume


def bench_resume(b: Bench) -> None:
    """Three interruptions of one photo's upload each, then a sync that resumes it."""
    from fieldapp.store import Store

    chunk = 256 * 1024
    say(f"\n== 3. interrupted upload: a ~{b.p.resume_mb} MB photo in {chunk // 1024} KiB chunks, cut half way, "
        "then sync again")
    data_dir = b.tmp / "resume-store"
    store, _tid, (fid,) = new_store(data_dir)
    worst = 0
    try:
        with b.server("resume", chunk_bytes=chunk) as server:
            for case in ("answer lost", "request lost", "process killed"):
                # Each case its own photo: the earlier ones are on the server by then, not missing.
                (sha,) = add_noisy_photos(store, fid, b.tmp / "jpegs", [b.p.resume_mb])
                size = store.photos.path(sha).stat().st_size
                count = (size + chunk - 1) // chunk
                sent_first: int | None
                if case == "process killed":
                    store.close()  # the child opens the data dir (its lock) itself
                    sent_first = killed_upload(data_dir, server, sha, count)
                    store = Store(data_dir, author="zhou")
                else:
                    sent_first = wrapped_upload(store, server, case, count // 2)
                # The server's own state: the chunk files of the upload under way.
                held = {int(p.name) for p in (server.photos / ".uploads" / sha).iterdir() if p.name.isdigit()}
                resent = counted_upload(store, server)
                stored = server.photos / sha[:2] / sha
                ok = stored.is_file() and hashlib.sha256(stored.read_bytes()).hexdigest() == sha
                twice = len(set(resent) & held) + len(resent) - len(set(resent))
                worst = max(worst, twice)
                before = "? (it was killed)" if sent_first is None else str(sent_first)
                total = "?" if sent_first is None else str(sent_first + len(resent))
                say(f"   {case}: {count} chunks; before the cut the client sent {before}, the server held "
                    f"{len(held)}; the resume sent {len(resent)}; sent twice: {twice}; total PUTs {total} for "
                    f"{count} chunks; stored and hash checked: {ok}")
                if not ok:
                    NOTES.append(f"resume ({case}): the server does not hold the photo after the resume")
    finally:
        store.close()
    ROWS.append(Row("interrupted upload: chunks sent twice (worst of 3 ways)", str(worst), "0", "-", "≤ 1",
                    worst <= 1))


def wrapped_upload(store: Any, server: Server, case: str, cut: int) -> int:
    """Our upload with put_chunk failing at the `cut`-th chunk: "answer lost" sends it first (the
    server keeps it, the client sees NoNetwork), "request lost" fails before sending. Returns
    the chunks the client sent."""
    from sync import errors
    from sync.engine import Syncer

    sent: list[int] = []
    client = signed_in_client(store, server)
    real = client.put_chunk

    def failing(sha: str, index: int, data: bytes) -> Any:
        if len(sent) + 1 == cut:
            if case == "answer lost":
                sent.append(index)
                real(sha, index, data)  # the server keeps it; its answer never comes
            raise errors.NoNetwork(f"bench: connection dropped at chunk {index}")
        sent.append(index)
        return real(sha, index, data)

    client.put_chunk = failing  # type: ignore[method-assign]
    try:
        Syncer(store, client).upload_photos()
        raise RuntimeError("the interrupted upload did not fail")
    except errors.NoNetwork:
        pass
    finally:
        client.close()
    return len(sent)


KILLED_CHILD = """
import os, sys
sys.path.insert(0, sys.argv[2])
from fieldapp.store import Store
from sync.cli import client_for
from sync.engine import Syncer
store = Store(sys.argv[1])
Syncer(store, client_for(store)).upload_photos()
"""


def killed_upload(data_dir: Path, server: Server, sha: str, count: int) -> None:
    """Our upload in a child process (the store already signed in to `server`), killed with
    SIGKILL once the server holds half the chunks. What it had sent died with it."""
    chunks = server.photos / ".uploads" / sha
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(data_dir), str(ROOT)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline:
            if chunks.is_dir() and sum(1 for p in chunks.iterdir() if p.name.isdigit()) >= count // 2:
                break
            time.sleep(0.005)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        err = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if child.stderr:
            child.stderr.close()
    if child.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the upload child was not killed mid-way (exit {child.returncode}): {err[-500:]}")


def counted_upload(store: Any, server: Server) -> list[int]:
    """Our upload, resuming; returns the chunk indexes it sent."""
    from sync.engine import Syncer

    sent: list[int] = []
    client = signed_in_client(store, server)
    real = client.put_chunk

    def counting(sha: str, index: int, data: bytes) -> Any:
        sent.append(index)
        return real(sha, index, data)

    client.put_chunk = counting  # type: ignore[method-assign]
    try:
        Syncer(store, client).upload_photos()
    finally:
        client.close()
    return sent


# ---------------------------------------------------------------- 4. PostgreSQL throughput


@dataclass
class PgClient:
    user: str
    device: str
    http: requests.Session = field(default_factory=requests.Session)
    bodies: list[bytes] = field(default_factory=list)
    applied: int = 0
    errors: list[str] = field(default_factory=list)


def wire_change(entity: str, entity_id: str, fields: dict[str, Any], seq: int, prev: str, user: str) -> c.Change:
    change_id = str(uuid.uuid4())
    return c.Change(change_id=change_id, seq=seq, entity=entity, entity_id=entity_id, action="create",  # type: ignore[arg-type]
                    base_version=0, fields=fields, at=c.utc_now(), author=user, prev_hash=prev,
                    hash=hashlib.sha256((prev + change_id).encode()).hexdigest())


def finding_fields(fid: str, task_id: str, user: str, i: int) -> dict[str, Any]:
    now = c.utc_now().isoformat()
    return {"id": fid, "created_at": now, "updated_at": now, "author": user, "task_id": task_id, "visit_id": None,
            "description": f"第 {i} 处：河面漂浮垃圾未及时清理", "category": "环境卫生", "severity": "general",
            "responsible_unit": "西湖区林水局", "requirement": "三日内清理完毕", "due_date": None, "status": "open",
            "return_reason": ""}


def bench_pg(b: Bench) -> None:
    import pgserver

    p = b.p
    per_run = p.pg_clients * p.pg_batches * p.pg_batch
    say(f"\n== 4. server push throughput on PostgreSQL: {p.pg_clients} client threads × {p.pg_batches} batches × "
        f"{p.pg_batch} findings = {per_run} changes per run; os.cpu_count() = {os.cpu_count()}")
    t = time.perf_counter()
    b.pg = pgserver.get_server(str(b.tmp / "pgdata"), cleanup_mode="stop")
    uri = b.pg.get_uri()
    say(f"   PostgreSQL up in {time.perf_counter() - t:.1f} s ({uri})")
    # For reading the figures: one client alone, one batch after the other (no contention).
    serial = pg_case(b, uri, "bench_serial", workers=1, clients=1, batches=p.pg_serial_batches, batch=p.pg_batch)
    ROWS.append(Row("pg push, 1 client alone, --workers 1 (changes/s)", f"{serial:,.0f}", "-", "-", "-", None))
    rates = {w: pg_case(b, uri, f"bench_w{w}", workers=w, clients=p.pg_clients, batches=p.pg_batches,
                        batch=p.pg_batch) for w in (1, 4)}
    ratio = rates[4] / rates[1]
    say(f"   4 processes / 1 process: {ratio:.2f}x (cpu_count {os.cpu_count()}; < 4x expected)")
    ROWS.append(Row(f"pg push {p.pg_clients} clients (changes/s), 4 vs 1 workers, {os.cpu_count()} CPUs",
                    f"{rates[4]:,.0f}", f"{rates[1]:,.0f}", f"{ratio:.2f}x", "- (< 4x)", None))


def pg_case(b: Bench, uri: str, dbname: str, *, workers: int, clients: int, batches: int, batch: int) -> float:
    """One run on a fresh database: `clients` supervisors of their own units push `batches`
    batches of `batch` findings each, all at once; checks the database holds each exactly
    once; returns changes/second."""
    import psycopg

    host = uri.split("host=", 1)[1]
    expected = clients * batches * batch
    with psycopg.connect(uri, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {dbname}")
    db_url = f"postgresql+psycopg://postgres:@/{dbname}?host={host}"
    plain_url = f"postgresql://postgres:@/{dbname}?host={host}"
    users = [(f"sup{i:02}", f"督查单位{i:02}") for i in range(clients)]
    add_users(db_url, users)
    with b.server(f"pg-{dbname}", db_url=db_url, workers=workers) as server:
        team = pg_clients(server, users, batches, batch)
        rate, waits = pg_run(team, server, plain_url)
    applied = sum(cl.applied for cl in team)
    errs = [e for cl in team for e in cl.errors]
    with psycopg.connect(plain_url) as con:
        records = con.execute("SELECT count(*) FROM records WHERE entity = 'findings'").fetchone()[0]
        distinct = con.execute("SELECT count(DISTINCT id) FROM records WHERE entity = 'findings'").fetchone()[0]
        changes = con.execute("SELECT count(*) FROM changes WHERE entity = 'findings'").fetchone()[0]
    # Nothing lost or doubled: the server holds each change answered "applied" once, no other.
    exact = records == distinct == changes == applied
    say(f"   {clients} client(s), --workers {workers}: {rate:,.0f} changes/s; pushed {expected}, answered applied "
        f"{applied}, server holds {records} findings ({distinct} distinct) and {changes} accepted changes: "
        f"{'exactly what was applied' if exact else 'MISMATCH'}; failed requests {len(errs)}")
    say(f"      sessions waiting on a lock (sampled every 50 ms): mean {waits[0]:.1f}, max {waits[1]} "
        f"(on the advisory lock: mean {waits[2]:.1f}); active sessions: mean {waits[3]:.1f}")
    if errs:
        NOTES.append(f"pg {dbname}: {len(errs)} of {clients * batches} push requests failed (not applied, a client "
                     f"would retry them), first: {errs[0][:300]}")
    if not exact:
        NOTES.append(f"pg {dbname}: pushed {expected}, applied {applied}, held {records} records / {changes} changes")
    if clients > 1:
        ROWS.append(Row(f"pg push, --workers {workers}: findings held (= applied, once each)", str(records),
                        str(expected), "-", "= pushed", exact and applied == expected))
    return rate


def pg_clients(server: Server, users: list[tuple[str, str]], batches: int, batch: int) -> list[PgClient]:
    """Each user signs in with its own device and creates its task (untimed); then its K
    batches of findings are serialised."""
    clients = []
    for name, _unit in users:
        cl = PgClient(user=name, device=str(uuid.uuid4()))
        cl.http = bare_session(server, cl.device, user=name)
        task_id = str(uuid.uuid4())
        now = c.utc_now().isoformat()
        seq, prev = 1, "0" * 64
        task = wire_change("tasks", task_id, {"id": task_id, "created_at": now, "updated_at": now, "author": name,
                                               "title": f"{name} 的督查任务", "category": "其他", "status": "assigned"},
                           seq, prev, name)
        r = cl.http.post(server.url + "/v1/push", timeout=120,
                         data=c.PushRequest(device_id=cl.device, changes=[task]).model_dump_json().encode(),
                         headers={"Content-Type": "application/json"})
        r.raise_for_status()
        assert r.json()["results"][0]["outcome"] == "applied", r.text
        prev = task.hash
        for _k in range(batches):
            changes = []
            for _i in range(batch):
                seq += 1
                fid = str(uuid.uuid4())
                ch = wire_change("findings", fid, finding_fields(fid, task_id, name, seq), seq, prev, name)
                prev = ch.hash
                changes.append(ch)
            cl.bodies.append(c.PushRequest(device_id=cl.device, changes=changes).model_dump_json().encode())
        clients.append(cl)
    return clients


def pg_run(clients: list[PgClient], server: Server, pg_uri: str) -> tuple[float, tuple[float, int, float, float]]:
    """All clients start together; changes/second from the first request to the last answer,
    and lock waits sampled meanwhile."""
    import psycopg

    start = threading.Barrier(len(clients) + 1)
    done = threading.Event()
    samples: list[tuple[int, int, int]] = []

    def work(cl: PgClient) -> None:
        start.wait()
        for body in cl.bodies:
            try:
                r = cl.http.post(server.url + "/v1/push", data=body, timeout=600,
                                 headers={"Content-Type": "application/json"})
                if r.status_code != 200:
                    cl.errors.append(f"HTTP {r.status_code}: {r.text[:300]}")
                    continue
                cl.applied += sum(1 for x in r.json()["results"] if x["outcome"] == "applied")
            except requests.RequestException as exc:
                cl.errors.append(repr(exc))

    def sample() -> None:
        with psycopg.connect(pg_uri, autocommit=True) as con:
            while not done.is_set():
                row = con.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'), "
                    "count(*) FILTER (WHERE state = 'active') "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
                samples.append(row)
                time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(cl,), name=f"client-{cl.user}", daemon=True) for cl in clients]
    for th in threads:
        th.start()
    sampler = threading.Thread(target=sample, name="pg-sampler", daemon=True)
    sampler.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    took = time.perf_counter() - t0
    done.set()
    sampler.join()
    for cl in clients:
        cl.http.close()
    total = sum(len(cl.bodies) for cl in clients) * (len(json.loads(clients[0].bodies[0])["changes"]))
    lock = [s[0] for s in samples] or [0]
    adv = [s[1] for s in samples] or [0]
    act = [s[2] for s in samples] or [0]
    say(f"      {total} changes in {took:.2f} s")
    return total / took, (statistics.mean(lock), max(lock), statistics.mean(adv), statistics.mean(act))


# ---------------------------------------------------------------- 5. GUI stall


def bench_gui(b: Bench) -> None:
    """Each round in a fresh process of this script (`--gui-child`), as the app runs: the
    interpreter's heap, and so its garbage collections, are the window's, not this bench's."""
    p = b.p
    say(f"\n== 5. GUI stall: the window syncs {p.gui_findings} findings and {p.gui_photos} photos "
        "(SyncController.sync_now), a 5 ms QTimer on the GUI thread; each round in a fresh process")
    results = [gui_child(b, r) for r in range(p.rounds)]
    sync_gap = median([r["sync_gap"] for r in results])
    idle_gap = median([r["idle_gap"] for r in results])
    if len(results) > 1:
        say(f"   median of {len(results)}: longest gap {sync_gap * 1000:.1f} ms during the sync, "
            f"{idle_gap * 1000:.1f} ms idle")
    ROWS.append(Row(f"GUI longest gap, sync of {results[0]['changes']} changes + {results[0]['photos']} photos (ms)",
                    f"{sync_gap * 1000:.1f}", f"{idle_gap * 1000:.1f}", f"{sync_gap / idle_gap:.1f}x",
                    "≤ 50 ms", sync_gap <= 0.050))


RESULT = "GUI-RESULT "


def gui_child(b: Bench, r: int) -> dict[str, Any]:
    """Run one GUI round in a child process; its lines are passed on, its result returned."""
    errors_path = b.tmp / f"gui-child-{r}.err"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--gui-child", str(r), "--tmp", str(b.tmp)]
    if b.p is QUICK:
        cmd.append("--quick")
    result: dict[str, Any] | None = None
    with open(errors_path, "w") as err:
        child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if line.startswith(RESULT):
                    result = json.loads(line[len(RESULT):])
                else:
                    say(line.rstrip("\n"))
            child.wait()
        except BaseException:
            child.terminate()  # it stops its own server on SIGTERM
            child.wait(timeout=60)
            raise
    if child.returncode != 0 or result is None:
        raise RuntimeError(f"GUI round {r + 1} failed (exit {child.returncode}):\n"
                           f"{errors_path.read_text(errors='replace')[-3000:]}")
    NOTES.extend(result.pop("notes"))
    return result


def gui_child_main(r: int, tmp: Path, params: Params) -> int:
    """`--gui-child R`: one GUI round in this fresh process; the result as one JSON line."""
    from PySide6.QtWidgets import QApplication

    from ui import i18n

    tmp.mkdir(parents=True, exist_ok=True)
    bench = Bench(params, parent=tmp)
    try:
        app = QApplication.instance() or QApplication([sys.argv[0]])
        i18n.install("zh_CN")
        result = gui_round(bench, app, r)
    finally:
        bench.close()
    say(RESULT + json.dumps({**result, "notes": NOTES}))
    return 0


def gui_round(b: Bench, app: Any, r: int) -> dict[str, Any]:
    """One window on a fresh store and server: the sync measured, then as long idle."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from fieldapp import sync_state
    from sync.cli import sign_in
    from ui.main_window import MainWindow
    from ui.settings import Settings

    p = b.p
    data_dir = b.tmp / f"gui-store-{r}"
    store, _tid, ids = new_store(data_dir, findings=p.gui_findings)
    try:
        shas = add_noisy_photos(store, ids[0], b.tmp / "jpegs", [3.5] * p.gui_photos)
        with b.server(f"gui-{r}") as server:
            window = MainWindow(store, Settings(data_dir))
            window.resize(1440, 880)
            window.show()
            failures: list[Any] = []
            window.sync.failed.disconnect()  # no modal error dialog in the middle of a measurement
            window.sync.failed.connect(lambda _parent, error: failures.append(error))

            def settled() -> bool:
                return window.runner.idle() and not window.model.loading

            wait_until(app, settled, 60)
            sign_in(store, server.url, "zhou", PASSWORD)  # untimed; no probe may start a sync by itself:
            window.sync.timer.stop()
            window.sync.refresh_status()
            wait_until(app, settled, 60)
            with store.reader() as con:
                before = sync_state.status(con)["pending"]
            # Which part of the sync the GUI thread last heard of (the same queued signal the status area gets).
            stage = {"now": "start"}
            window.sync._progressed.connect(lambda name, _d, _t: stage.__setitem__("now", name))

            import gc

            tracked = len(gc.get_objects())
            with gc_pauses() as pauses:
                window.sync.sync_now()
                if not window.sync.running:
                    raise RuntimeError("the window did not start a sync")
                sync = gaps(app, QEventLoop, QTimer, Qt, until=lambda: not window.sync.running and settled(),
                            stage=lambda: stage["now"] if window.sync.running else "after the sync (views reloading)")
            with store.reader() as con:
                last = json.loads(con.execute("SELECT value FROM sync_state WHERE key = 'last_sync'").fetchone()[0])
            held = sqlite_count(server, "SELECT count(*) FROM records")
            if failures or window.sync.last_error is not None:
                raise RuntimeError(f"the window's sync failed: {failures or window.sync.last_error}")
            if held != before.changes or last.get("pending_changes") or last.get("pending_photos"):
                NOTES.append(f"gui: {before.changes} changes pending, the server holds {held} records after the "
                             f"sync; still pending {last.get('pending_changes')} / {last.get('pending_photos')}")
            idle = gaps(app, QEventLoop, QTimer, Qt, seconds=sync.seconds)
            say(f"   round {r + 1}: {before.changes} changes and {before.photos} photos pending; the sync took "
                f"{sync.seconds:.2f} s (the server then held {held} records)")
            say(f"      during the sync: longest gap {sync.worst * 1000:.1f} ms (stage: {sync.where}), "
                f"99th percentile {sync.p99 * 1000:.1f} ms, {sync.slow} gaps > 50 ms, {sync.ticks} ticks")
            say(f"      idle, as long: longest gap {idle.worst * 1000:.1f} ms, 99th percentile {idle.p99 * 1000:.1f} ms, "
                f"{idle.slow} gaps > 50 ms, {idle.ticks} ticks")
            # The interpreter's garbage collections meanwhile (any thread's: they hold the GIL).
            longest = max(pauses, key=lambda x: x[2], default=None)
            inside = [x for x in pauses if x[1] <= sync.at and x[1] + x[2] >= sync.at - sync.worst]
            say(f"      garbage collections during the sync ({tracked:,} objects tracked at its start): {len(pauses)}, "
                f"{sum(1 for x in pauses if x[0] == 2)} of generation 2, longest {longest[2] * 1000 if longest else 0:.1f} ms (generation "
                f"{longest[0] if longest else '-'}); within the longest gap: "
                + (", ".join(f"gen {g} {d * 1000:.1f} ms" for g, _t, d in inside) or "none"))
            window.sync.shutdown()
            window.remember_layout = False
            window.close()
            window.deleteLater()
            app.processEvents()
            return {"sync_gap": sync.worst, "idle_gap": idle.worst, "changes": before.changes, "photos": len(shas)}
    finally:
        store.close()


@contextmanager
def gc_pauses() -> Iterator[list[tuple[int, float, float]]]:
    """(generation, start, seconds) of every garbage collection in the block, any thread."""
    import gc

    found: list[tuple[int, float, float]] = []
    started: dict[int, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            started[info["generation"]] = now
        elif info["generation"] in started:
            begin = started.pop(info["generation"])
            found.append((info["generation"], begin, now - begin))

    gc.callbacks.append(callback)
    try:
        yield found
    finally:
        gc.callbacks.remove(callback)


def wait_until(app: Any, predicate: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the window did not settle")
        app.processEvents()
        time.sleep(0.01)


@dataclass
class Gaps:
    worst: float  # the longest gap between two ticks, seconds
    p99: float
    seconds: float
    ticks: int
    slow: int  # gaps over 50 ms
    where: str  # the stage when the longest gap ended
    at: float  # perf_counter when it ended


def gaps(app: Any, QEventLoop: Any, QTimer: Any, Qt: Any, *, until: Callable[[], bool] | None = None,
         seconds: float | None = None, stage: Callable[[], str] = lambda: "-") -> Gaps:
    """Run the GUI event loop with a 5 ms precise timer until `until()` holds (checked every
    20 ms) or for `seconds`, recording the gaps between the timer's ticks."""
    loop = QEventLoop()
    intervals: list[float] = []
    state: dict[str, Any] = {"last": 0.0, "worst": 0.0, "where": "-", "at": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        gap = now - state["last"]
        if gap > state["worst"]:
            state["worst"], state["where"], state["at"] = gap, stage(), now
        intervals.append(gap)
        state["last"] = now

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(5)
    ticker.timeout.connect(tick)
    checker = QTimer()
    checker.setInterval(20)
    begin = time.perf_counter()
    deadline = begin + (seconds if seconds is not None else 900.0)

    def check() -> None:
        if (until is not None and until()) or time.perf_counter() >= deadline:
            loop.quit()

    checker.timeout.connect(check)
    state["last"] = time.perf_counter()
    ticker.start()
    checker.start()
    loop.exec()
    ticker.stop()
    checker.stop()
    took = time.perf_counter() - begin
    if until is not None and not until():
        raise RuntimeError("the sync did not finish in time")
    ordered = sorted(intervals) or [0.0]
    return Gaps(worst=state["worst"], p99=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], seconds=took,
                ticks=len(intervals), slow=sum(1 for g in intervals if g > 0.050), where=state["where"],
                at=state["at"])


# ---------------------------------------------------------------- main


SECTIONS = {"push": bench_push, "photos": bench_photos, "resume": bench_resume, "pg": bench_pg, "gui": bench_gui}


def table() -> None:
    heads = ("figure", "ours", "baseline", "ratio", "goal", "met?")
    rows = [(r.figure, r.ours, r.baseline, r.ratio, r.goal, {True: "yes", False: "NO", None: "-"}[r.met]) for r in ROWS]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths))
    say("\n" + line)
    say("-" * len(line))
    for row in rows:
        say("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~40 MB of photos, one round, fewer batches")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    parser.add_argument("--pg-batches", type=int, help="pg: batches each client pushes (K)")
    parser.add_argument("--pg-batch", type=int, help="pg: changes in a batch (the client sends up to 500)")
    parser.add_argument("--gui-child", type=int, help=argparse.SUPPRESS)  # one GUI round, run by bench_gui
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")

    def terminated(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background (SIG_IGN)
    params = QUICK if args.quick else FULL
    if args.gui_child is not None:
        return gui_child_main(args.gui_child, args.tmp, params)
    if args.pg_batches or args.pg_batch:
        params = replace(params, pg_batches=args.pg_batches or params.pg_batches,
                         pg_batch=args.pg_batch or params.pg_batch)
    bench = Bench(params)
    started = time.perf_counter()
    say(f"bench/sync.py {'--quick ' if args.quick else ''}— {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"cpu_count {os.cpu_count()}, load average {load()}, python {sys.version.split()[0]}")
    say(f"temporary data in {bench.tmp}")
    failed = False
    try:
        for name in wanted:
            try:
                SECTIONS[name](bench)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - one section failing is reported; the others still run
                import traceback

                failed = True
                traceback.print_exc()
                ROWS.append(Row(f"{name}: FAILED ({type(exc).__name__})", "-", "-", "-", "-", False))
                NOTES.append(f"{name} failed: {exc}")
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the servers")
        failed = True
    finally:
        bench.close()
    table()
    say(f"\ntotal {time.perf_counter() - started:.0f} s; load average at the end {load()}")
    for note in NOTES:
        say(f"note: {note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
