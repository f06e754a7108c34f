"""The platform's schema migrations on a database kept by an earlier server (SQLite, or the
session's PostgreSQL with FIELDAPP_TEST_PLATFORM_DB=postgres)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from platform_fixtures import (
    json_value,
    new_postgres_database,
    on_postgres,
    server_rows,
)

from sync.server import migrations


def test_0003_marks_the_findings_already_submitted(tmp_path):
    url = new_postgres_database()[1] if on_postgres() else f"sqlite:///{tmp_path / 'platform.db'}"
    command.upgrade(migrations.alembic_config(url), "0002")  # as an earlier server left it
    now = dt.datetime(2026, 12, 1, 8, 0)
    statuses = {"f-open": "open", "f-rect": "rectifying", "f-pend": "pending_check", "f-closed": "closed"}
    records = sa.table("records", *(sa.column(n) for n in ("entity", "id", "task_id", "owner_unit", "author")),
                       sa.column("version", sa.Integer), sa.column("deleted", sa.Boolean),
                       sa.column("fields", sa.JSON), sa.column("updated_at", sa.DateTime))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            rows = [{"entity": "findings", "id": fid, "fields": {"status": st}} for fid, st in statuses.items()]
            rows.append({"entity": "tasks", "id": "t-1", "fields": {"status": "closed"}})  # not a finding
            conn.execute(sa.insert(records).values([
                dict(r, task_id="t-1", owner_unit="u", author="li", version=1, deleted=False, updated_at=now)
                for r in rows]))
    finally:
        engine.dispose()
    migrations.upgrade_to_head(url)
    assert migrations.current_revision(url) == migrations.HEAD
    got = {(e, i): (bool(sub), json_value(f)["status"])
           for e, i, sub, f in server_rows(url, "SELECT entity, id, submitted, fields FROM records")}
    assert got == {("findings", "f-open"): (False, "open"), ("findings", "f-rect"): (False, "rectifying"),
                   ("findings", "f-pend"): (True, "pending_check"), ("findings", "f-closed"): (True, "closed"),
                   ("tasks", "t-1"): (False, "closed")}
