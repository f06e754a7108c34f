"""What "nothing lost, nothing doubled" means, checked against the real platform's database.

Shared by tests/test_sync_faults.py and tests/test_sync_soak.py. The platform's state is read
straight from its SQLite file (sync/server/db.py: `records`, `photos`, `conflicts`, `changes`);
a FieldApp's from its store, each record put in wire form (`sync.records.to_wire`) so the two
compare field by field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from fieldapp.maintenance import verify
from fieldapp.models import Conflict
from fieldapp.store import Store
from sync import contract as c
from sync.cli import client_for
from sync.engine import Syncer
from sync.records import MODELS, to_wire

# Moved by every local update (and by a pull), never sent in an update: not compared.
_NOT_COMPARED = {"updated_at"}
_COLUMNS = {entity: {col.key for col in model.__table__.columns} for entity, model in MODELS.items()}


def server_rows(platform, sql: str, *args: Any) -> list[tuple]:
    con = sqlite3.connect(platform.db_url.removeprefix("sqlite:///"), timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def server_state(platform) -> dict[str, dict[str, dict[str, Any]]]:
    """{entity: {id: {"version", "deleted", "author", "task_id", "fields"}}} of the platform."""
    out: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in c.ENTITIES}
    for entity, rid, version, deleted, author, task_id, fields in server_rows(
            platform, "SELECT entity, id, version, deleted, author, task_id, fields FROM records"):
        out[entity][rid] = {"version": version, "deleted": bool(deleted), "author": author, "task_id": task_id,
                            "fields": json.loads(fields)}
    return out


def local_state(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """{entity: {id: {"version", "fields"}}} of a FieldApp, fields as they travel."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with store.session() as s:
        for entity, model in MODELS.items():
            out[entity] = {r.id: {"version": r.version, "fields": to_wire(entity, r.to_dict())}
                           for r in s.scalars(select(model))}
    return out


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in _NOT_COMPARED}


def record_diffs(entity: str, local: dict[str, Any], there: dict[str, Any]) -> list[str]:
    """How a local record differs from the platform's. A field the platform holds that this
    FieldApp has no column for (the platform's own, e.g. a returned finding's `returned_at`) is
    not compared: a pull drops it by design."""
    problems = []
    if there["deleted"]:
        return ["deleted on the platform"]
    mine, theirs = _comparable(local["fields"]), _comparable(there["fields"])
    for key in sorted(mine.keys() | theirs.keys()):
        if key not in mine and key not in _COLUMNS[entity]:
            continue
        if key not in theirs or key not in mine:
            problems.append(f"{key}: only {'here' if key in mine else 'there'}")
        elif mine[key] != theirs[key]:
            problems.append(f"{key}: here {mine[key]!r}, there {theirs[key]!r}")
    if local["version"] != there["version"]:
        problems.append(f"version: here {local['version']}, there {there['version']}")
    return problems


def assert_store_on_platform(platform, store: Store, *, all_of_server: bool = False,
                             entities: tuple[str, ...] = c.ENTITIES, tasks: set[str] | None = None) -> None:
    """Every record of `store` is on the platform, once, with the same values and version;
    with `all_of_server`, the platform holds no live record the store lacks (of `tasks` only,
    when given: what an inspector sees)."""
    there, here = server_state(platform), local_state(store)
    problems: list[str] = []
    for entity in entities:
        for rid, rec in here[entity].items():
            if rid not in there[entity]:
                problems.append(f"{entity} {rid}: not on the platform")
                continue
            problems += [f"{entity} {rid}: {p}" for p in record_diffs(entity, rec, there[entity][rid])]
        if all_of_server:
            extra = {rid for rid, r in there[entity].items()
                     if not r["deleted"] and (tasks is None or r["task_id"] in tasks)} - here[entity].keys()
            problems += [f"{entity} {rid}: on the platform only" for rid in sorted(extra)]
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def assert_photos_once(platform, *stores: Store) -> None:
    """Every photo file of the stores is on the platform once, byte for byte; every photo the
    platform lists has its file, holding the bytes its name promises."""
    held = {sha: size for sha, size in server_rows(platform, "SELECT sha256, size FROM photos")}
    for sha, size in held.items():
        path = Path(platform.photos_dir) / sha[:2] / sha
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha and len(data) == size, f"platform photo {sha} damaged"
    for store in stores:
        with store.reading() as con:
            shas = {r[0] for r in con.execute("SELECT sha256 FROM photos")}
        for sha in shas:
            assert sha in held, f"photo {sha} of {store.data_dir} not on the platform"
            assert (Path(platform.photos_dir) / sha[:2] / sha).read_bytes() == store.photos.path(sha).read_bytes()
    # No leftover upload of a photo that is stored.
    assert not server_rows(platform, "SELECT sha256 FROM uploads WHERE sha256 IN (SELECT sha256 FROM photos)")


def assert_changes_once(platform, store: Store) -> int:
    """The platform accepted every change this device made, once, except those it refused for
    good, and holds no change of this device that its log does not. Returns the count."""
    from fieldapp import sync_state

    with store.reading() as con:
        made = {r[0] for r in con.execute("SELECT id FROM change_log WHERE origin = 'local'")}
    refused = {r["change_id"] for r in sync_state.read(store, "refused", [])}
    there = [r[0] for r in server_rows(platform, "SELECT change_id FROM changes WHERE device_id = ?",
                                       store.identity.device)]
    assert len(there) == len(set(there))
    assert set(there) <= made, f"changes of this device the platform holds but it never made: {set(there) - made}"
    missing = made - refused - set(there)
    assert not missing, f"{len(missing)} changes neither accepted nor refused: {sorted(missing)[:5]}"
    return len(there)


def assert_healthy(store: Store) -> None:
    report = verify(store)
    assert report.ok, report


def pending(store: Store) -> int:
    client = client_for(store)
    try:
        return Syncer(store, client).pending()[0]
    finally:
        client.close()


def sync(store: Store):
    """One whole sync of `store`, as `fieldapp sync` runs it."""
    client = client_for(store)
    try:
        return Syncer(store, client).run()
    finally:
        client.close()


def local_conflicts(store: Store) -> dict[str, Conflict]:
    with store.session() as s:
        return {k.server_id or k.id: k for k in s.scalars(select(Conflict))}


def server_conflicts(platform) -> list[dict[str, Any]]:
    keys = ("id", "entity", "entity_id", "change_id", "field", "theirs", "mine", "user")
    return [dict(zip(keys, r)) for r in server_rows(
        platform, f"SELECT {', '.join(keys)} FROM conflicts ORDER BY created_at, id")]


def assert_conflicts_kept(platform, stores_by_user: dict[str, list[Store]]) -> int:
    """Every conflict the platform recorded is a local Conflict row on the device whose change
    lost (the device holding the change in its log), with the same field and both values."""
    missing = []
    found = 0
    for k in server_conflicts(platform):
        for key in ("theirs", "mine"):  # JSON columns: text in SQLite (a number may come back as one)
            if isinstance(k[key], str):
                k[key] = json.loads(k[key])
        holders = []
        for store in stores_by_user.get(k["user"], []):
            with store.reading() as con:
                if con.execute("SELECT 1 FROM change_log WHERE id = ? AND origin = 'local'",
                               (k["change_id"],)).fetchone():
                    holders.append(store)
        if not holders:
            missing.append(f"conflict {k['id']}: no device of {k['user']} made change {k['change_id']}")
            continue
        for store in holders:
            row = local_conflicts(store).get(k["id"])
            if row is None:
                missing.append(f"conflict {k['id']} ({k['entity']}.{k['field']}, {k['user']}) not kept locally")
            elif (row.entity_id, row.field, row.theirs, row.mine) != (k["entity_id"], k["field"], k["theirs"], k["mine"]):
                missing.append(f"conflict {k['id']}: kept as {row.field}={row.theirs!r}/{row.mine!r}")
            else:
                found += 1
    assert not missing, "\n".join(missing)
    return found


def db_snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table of the store's database (for "nothing changed")."""
    with store.reading() as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: sorted(map(tuple, con.execute(f'SELECT * FROM "{t}"').fetchall()), key=repr) for t in tables}


# ---------------------------------------------------------------- a random workload

HANGZHOU = dt.timezone(dt.timedelta(hours=8))


def noise_jpeg(path: Path, rng, size: tuple[int, int] = (96, 72)) -> Path:
    """A small JPEG of noise (does not compress to nothing: several chunks at a small chunk size)."""
    from PIL import Image

    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(path, "JPEG", quality=90)
    return path


SUBMITTED = ("pending_check", "closed")


class Actor:
    """One FieldApp's user making random changes of the kinds their role may make.

    A supervisor creates tasks, edits their dispatch fields and status, and edits the
    requirement or description of any finding submitted for checking; an inspector records visits, findings and photos
    on the tasks they hold, edits their own findings (text and status) and a task's status."""

    def __init__(self, name: str, role: str, store: Store, rng, scratch: Path) -> None:
        self.name, self.role, self.store, self.rng, self.scratch = name, role, store, rng, scratch
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def _ids(self, model, **where: Any) -> list[str]:
        with self.store.session() as s:
            q = select(model.id)
            for k, v in where.items():
                q = q.where(getattr(model, k) == v)
            return sorted(s.scalars(q))

    def pick(self, ids: list[str]) -> str:
        """Mostly one of the oldest few (ids are time-ordered): records every FieldApp holds by
        now, so that writers meet on them and conflicts happen."""
        return self.rng.choice(ids[:3] if self.rng.random() < 0.7 else ids)

    def _edit(self, model, rid: str, **values: Any) -> bool:
        with self.store.transaction() as s:
            obj = s.get(model, rid)
            if obj is None:
                return False
            for k, v in values.items():
                setattr(obj, k, v)
        return True

    def act(self) -> str:
        """One random change; returns what it did ("" when nothing fitted)."""
        self.n += 1
        kinds = self.SUPERVISOR if self.role == "supervisor" else self.INSPECTOR
        for _ in range(4):
            kind = self.rng.choices(list(kinds), weights=list(kinds.values()))[0]
            done = getattr(self, "_" + kind)()
            if done:
                return kind
        return ""

    SUPERVISOR: ClassVar[dict[str, int]] = {"task": 1, "dispatch": 2, "task_status": 3, "finding_text": 4}
    INSPECTOR: ClassVar[dict[str, int]] = {"visit": 2, "finding": 2, "photo": 2, "finding_text": 3,
                                           "finding_status": 3, "task_status": 3}

    def text(self, what: str) -> str:
        return f"{what} {self.name}#{self.n}-{self.rng.randrange(1000)}"

    # supervisor
    def _task(self) -> bool:
        from fieldapp.services.tasks import create_task

        create_task(self.store, title=self.text("任务"), code=f"{self.name}-{self.n}-{self.rng.randrange(10**6)}",
                    responsible_units=["某局"], deadline=dt.date(2027, 1, 1 + self.rng.randrange(28)))
        return True

    def _dispatch(self) -> bool:
        from fieldapp.models import Task

        ids = self._ids(Task)
        if not ids:
            return False
        field = self.rng.choice(("title", "targets", "address"))
        return self._edit(Task, self.pick(ids), **{field: self.text(field)})

    def _task_status(self) -> bool:
        from fieldapp.models import Task

        ids = self._ids(Task) if self.role == "supervisor" else self.tasks()
        if not ids:
            return False
        return self._edit(Task, self.pick(ids), status=self.rng.choice(("assigned", "in_progress")))

    def _finding_text(self) -> bool:
        from fieldapp.models import Finding

        if self.role == "supervisor":  # a finding is its author's alone until submitted for checking
            with self.store.session() as s:
                ids = sorted(s.scalars(select(Finding.id).where(Finding.status.in_(SUBMITTED))))
        else:
            ids = self._ids(Finding, author=self.name)
        if not ids:
            return False
        field = self.rng.choice(("requirement", "description"))
        return self._edit(Finding, self.pick(ids), **{field: self.text(field)})

    # inspector
    def tasks(self) -> list[str]:
        """The tasks this inspector holds (pulled: authored by someone else)."""
        from fieldapp.models import Task

        with self.store.session() as s:
            return sorted(s.scalars(select(Task.id).where(Task.author != self.name)))

    def _visit(self) -> bool:
        from fieldapp.services import visits

        tasks = self.tasks()
        if not tasks:
            return False
        visits.record_visit(self.store, self.rng.choice(tasks), place=self.text("地点"),
                            visited_at=dt.datetime(2026, 5, 1, 9, 0, tzinfo=HANGZHOU)
                            + dt.timedelta(minutes=self.rng.randrange(100000)))
        return True

    def _finding(self) -> bool:
        from fieldapp.models import Task, Visit
        from fieldapp.services import findings

        tasks = self.tasks()
        if not tasks:
            return False
        tid = self.rng.choice(tasks)
        with self.store.session() as s:
            if s.get(Task, tid).status == "completed":
                return False
            mine = sorted(s.scalars(select(Visit.id).where(Visit.task_id == tid, Visit.author == self.name)))
        findings.record_finding(self.store, tid, description=self.text("问题"), requirement=self.text("要求"),
                                visit_id=self.rng.choice(mine) if mine and self.rng.random() < 0.7 else None)
        return True

    def _photo(self) -> bool:
        from fieldapp.models import Finding
        from fieldapp.services import findings

        with self.store.session() as s:
            ids = sorted(s.scalars(select(Finding.id).where(Finding.author == self.name, Finding.status != "closed")))
        if not ids:
            return False
        path = noise_jpeg(self.scratch / f"{self.name}-{self.n}.jpg", self.rng)
        changes = findings.add_photos(self.store, self.rng.choice(ids), [path],
                                      self.rng.choice(("site", "before", "after")))
        return bool(changes.photos)

    def _finding_status(self) -> bool:
        from fieldapp.models import Finding
        from fieldapp.services import findings

        with self.store.session() as s:
            rows = [(f.id, f.status) for f in s.scalars(select(Finding).where(Finding.author == self.name))]
        movable = [(fid, st) for fid, st in rows if st in ("open", "rectifying")]
        if not movable:
            return False
        fid, st = self.rng.choice(movable)
        (findings.start_rectification if st == "open" else findings.submit_for_check)(self.store, fid)
        return True
