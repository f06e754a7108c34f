"""A real reference platform server in a subprocess, for the platform tests and the sync tests.

Imported like tests/helpers.py (conftest.py puts tests/ on sys.path):

    from platform_fixtures import Api, change, platform  # noqa: F401 - platform: the fixture

    def test_something(platform):
        platform.add_user("li", "inspector", "市督查室")
        api = platform.login("li")                     # an Api signed in as li
        r = api.get("/v1/me")

The server is `python -m sync.server.cli serve` on 127.0.0.1 with a SQLite file and a photos
directory under the test's tmp_path; users are made with the same CLI (FIELDAPP_PASSWORD).
`start_platform(tmp_path, token_ttl=1)` starts one with other settings (FIELDAPP_PLATFORM_*).

With FIELDAPP_TEST_PLATFORM_DB=postgres every server started here (without a `db_url` of its
own) runs on a fresh database of one PostgreSQL for the whole session (pgserver, started on
first use, stopped at exit); a seed is then a template database. Tests read the server's
database through SQLAlchemy on `db_url` (`server_rows`), never as a SQLite file.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from sync import contract as c

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
DB_ENV = "FIELDAPP_TEST_PLATFORM_DB"  # "postgres": the servers run on PostgreSQL (else SQLite)


def on_postgres() -> bool:
    value = os.environ.get(DB_ENV, "").strip().lower()
    if value not in ("", "sqlite", "postgres"):
        raise RuntimeError(f"{DB_ENV}={value!r}: use postgres or sqlite")
    return value == "postgres"


_postgres: dict[str, str] = {}  # the session's PostgreSQL: {"uri": …}


def postgres_uri() -> str:
    """The session's PostgreSQL server (started on first use; pgserver stops it at exit)."""
    if "uri" not in _postgres:
        import pgserver  # in the test extra: a missing one is an error, not a skip

        # Run as root, pgserver starts PostgreSQL as its own user, which cannot enter pytest's
        # 0700 tmp dirs: the data dir gets a folder of its own under /tmp.
        root = Path(tempfile.mkdtemp(prefix="fieldapp-pg-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)  # runs after pgserver's own stop
        server = pgserver.get_server(str(root), cleanup_mode="stop")
        _postgres["uri"] = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    return _postgres["uri"]


def new_postgres_database(template: str | None = None) -> tuple[str, str]:
    """A fresh database on the session's PostgreSQL (a copy of `template`'s): (name, URL)."""
    uri = postgres_uri()
    name = f"platform_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    finally:
        admin.dispose()
    return name, uri.replace("/postgres?", f"/{name}?", 1)


def server_rows(db_url: str, sql: str, **params: Any) -> list[tuple]:
    """Rows of a query on a platform's database, whichever it is (`:name` parameters). JSON
    columns come back as text on SQLite and as values on PostgreSQL: see `json_value`."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def json_value(value: Any) -> Any:
    """A JSON column's value as read by `server_rows` (text on SQLite)."""
    import json

    return json.loads(value) if isinstance(value, str) else value


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """`requests` with the contract header, the base URL and (once signed in) the token."""

    def __init__(self, base_url: str, token: str | None = None, device_id: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.device_id = device_id or str(uuid.uuid4())
        self.http = requests.Session()
        self.http.headers[c.CONTRACT_HEADER] = str(c.CONTRACT_VERSION)
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.base_url + path, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def push(self, changes: list[c.Change], **extra: Any) -> requests.Response:
        body = c.PushRequest(device_id=self.device_id, changes=changes, **extra)
        return self.post("/v1/push", json=body.model_dump(mode="json"))

    def pushed(self, changes: list[c.Change], **extra: Any) -> c.PushResponse:
        r = self.push(changes, **extra)
        assert r.status_code == 200, r.text
        return c.PushResponse.model_validate(r.json())

    def pull(self, stream: str, after: int = 0, limit: int | None = None) -> c.PullResponse:
        params: dict[str, int] = {"after": after}
        if limit is not None:
            params["limit"] = limit
        r = self.get(f"/v1/pull/{stream}", params=params)
        assert r.status_code == 200, r.text
        return c.PullResponse.model_validate(r.json())


def error(r: requests.Response, status: int, code: str) -> c.ErrorBody:
    """The answer is `status` with an ErrorBody of `code` and messages in both languages."""
    assert r.status_code == status, (r.status_code, r.text[:1000])
    body = c.ErrorBody.model_validate(r.json())
    assert body.code == code, body
    assert body.message.zh and body.message.en
    return body


_seq = iter(range(1, 10**9))


def change(entity: str, entity_id: str, action: str = "create", fields: dict[str, Any] | None = None, *,
           base_version: int = 0, change_id: str | None = None, seq: int | None = None,
           author: str = "tester") -> c.Change:
    """A Change as a device sends it; the hash chain is a stand-in (the server only echoes it)."""
    change_id = change_id or str(uuid.uuid4())
    return c.Change(change_id=change_id, seq=seq or next(_seq), entity=entity, entity_id=entity_id,  # type: ignore[arg-type]
                    action=action, base_version=base_version, fields=fields or {},  # type: ignore[arg-type]
                    at=dt.datetime.now(dt.timezone(dt.timedelta(hours=8))), author=author,
                    prev_hash="0" * 64, hash=hashlib.sha256(change_id.encode()).hexdigest())


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class PlatformServer:
    base_url: str
    db_url: str
    photos_dir: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    passwords: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, password: str | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run `fieldapp-platform ARGS` on this server's database; returns the completed process."""
        return run_cli(dict(self.env, **(env or {})), *args, password=password, check=check)

    def add_user(self, name: str, role: str, unit: str, password: str | None = None,
                 display_name: str | None = None) -> str:
        password = password or f"pw-{name}-秘密"
        args = ["user", "add", name, "--role", role, "--unit", unit]
        if display_name:
            args += ["--display-name", display_name]
        self.cli(*args, password=password)
        self.passwords[name] = password
        return password

    def api(self, token: str | None = None) -> Api:
        return Api(self.base_url, token)

    def login(self, name: str, password: str | None = None, device_id: str | None = None) -> Api:
        api = Api(self.base_url, device_id=device_id)
        r = api.post("/v1/auth/login", json={"user": name, "password": password or self.passwords[name],
                                             "device_id": api.device_id, "device_name": f"{name}'s laptop"})
        assert r.status_code == 200, r.text
        login = c.LoginResponse.model_validate(r.json())
        return Api(self.base_url, login.token, device_id=api.device_id)

    def stop_checked(self) -> None:
        """Stop, then fail if the server logged a traceback: a 5xx is a bug whatever the test
        checked (uvicorn logs every unexpected error)."""
        self.stop()
        text = self.log_path.read_text(errors="replace")
        assert "Traceback" not in text, f"the server logged an error:\n{text[-6000:]}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def run_cli(env: dict[str, str], *args: str, password: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    run_env = dict(env)
    if password is not None:
        run_env["FIELDAPP_PASSWORD"] = password
    proc = subprocess.run([sys.executable, "-m", "sync.server.cli", *args], cwd=ROOT, env=run_env, check=False,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"fieldapp-platform {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def platform_env(db_url: str, photos_dir: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_PLATFORM_")}
    env.update({"FIELDAPP_PLATFORM_DB": db_url, "FIELDAPP_PLATFORM_PHOTOS": str(photos_dir),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))})
    env.update({f"FIELDAPP_PLATFORM_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@dataclass
class Seed:
    """A platform database with users already in it, copied for each test (adding a user
    through the CLI costs a process start and a slow password hash): a SQLite file, or on
    PostgreSQL a database used as the template of each test's."""

    db_path: Path | None
    passwords: dict[str, str]
    template: str | None = None


def make_seed(directory: Path, users: list[tuple[str, str, str, str]]) -> Seed:
    """users: (name, role, unit, display name)."""
    directory.mkdir(parents=True, exist_ok=True)
    db_path: Path | None = directory / "seed.db"
    template = None
    if on_postgres():
        template, db_url = new_postgres_database()
        db_path = None
    else:
        db_url = f"sqlite:///{db_path}"
    env = platform_env(db_url, directory / "photos")
    passwords = {}
    for name, role, unit, display in users:
        passwords[name] = f"pw-{name}-秘密"
        args = ["user", "add", name, "--role", role, "--unit", unit] + (["--display-name", display] if display else [])
        run_cli(env, *args, password=passwords[name])
    return Seed(db_path, passwords, template)


def start_platform(tmp_path: Path, name: str = "platform", db_url: str | None = None, seed: Seed | None = None,
                   workers: int = 1, **settings: Any) -> PlatformServer:
    """Start a server under `tmp_path/name` (on a copy of `seed`'s database when given) with
    `workers` processes; `settings` are sync.server.config.Settings fields (token_ttl=1,
    chunk_bytes=…), given as FIELDAPP_PLATFORM_* variables. Without `db_url`: a SQLite file
    there, or with FIELDAPP_TEST_PLATFORM_DB=postgres a fresh PostgreSQL database."""
    base = tmp_path / name
    base.mkdir(parents=True, exist_ok=True)
    if db_url is None and on_postgres():
        _name, db_url = new_postgres_database(template=seed.template if seed is not None else None)
    elif db_url is None:
        if seed is not None:
            assert seed.db_path is not None, "a PostgreSQL seed for a SQLite server"
            shutil.copyfile(seed.db_path, base / "platform.db")
        db_url = f"sqlite:///{base / 'platform.db'}"
    photos_dir = Path(settings.pop("photos", base / "photos"))  # several servers may share one
    env = platform_env(db_url, photos_dir, **settings)
    port = free_port()
    server = PlatformServer(base_url=f"http://127.0.0.1:{port}", db_url=db_url, photos_dir=photos_dir, env=env,
                            log_path=base / "server.log", passwords=dict(seed.passwords) if seed else {})
    with open(server.log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        server.proc = subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--log-level", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.proc.poll() is not None:
            raise AssertionError(f"the platform server exited:\n{server.log_path.read_text(errors='replace')}")
        try:
            if requests.get(server.base_url + "/v1/info", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the platform server did not start:\n{server.log_path.read_text(errors='replace')}")
        time.sleep(0.1)


@contextmanager
def running_platform(tmp_path: Path, seed: Seed | None = None, workers: int = 1,
                     **settings: Any) -> Iterator[PlatformServer]:
    """A server for the block; afterwards it is stopped and its log must hold no traceback."""
    server = start_platform(tmp_path, seed=seed, workers=workers, **settings)
    try:
        yield server
    finally:
        server.stop_checked()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[PlatformServer]:
    """A running reference platform server (fresh database, no users) for one test; on
    PostgreSQL with FIELDAPP_TEST_PLATFORM_DB=postgres."""
    with running_platform(tmp_path) as server:
        yield server


OFFICE_UNIT = "市督查室"
OTHER_UNIT = "区督查室"
OFFICE_USERS = [("zhang", "supervisor", OFFICE_UNIT, "张组长"), ("li", "inspector", OFFICE_UNIT, "李督查"),
                ("wang", "inspector", OFFICE_UNIT, ""), ("zhao", "supervisor", OTHER_UNIT, "")]


@pytest.fixture(scope="session")
def office_seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return make_seed(tmp_path_factory.mktemp("office-seed"), OFFICE_USERS)


@pytest.fixture
def office(tmp_path: Path, office_seed: Seed) -> Iterator[PlatformServer]:
    """A running server whose database has OFFICE_USERS: supervisor zhang and inspectors li
    and wang of OFFICE_UNIT, supervisor zhao of OTHER_UNIT (passwords in `.passwords`)."""
    with running_platform(tmp_path, seed=office_seed) as server:
        yield server
