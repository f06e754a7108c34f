"""ready to travel: record versions, instants with offsets, log origin, sync state, conflicts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00

- Every record gets `version`: how many changes made it what it is. An existing record's
  version is the number of its entries in the change log (its create and its updates), which
  is what replaying its history gives, so its first push names the right base versions.
- `visits.visited_at` and `checks.checked_at` were the recorder's wall-clock time; they become
  UTC like every other stored time, and `visited_offset` / `checked_offset` keep the recorder's
  offset from UTC in minutes for display. An existing row is read as this machine's local time
  on that day (the only clock it could have come from), daylight saving included.
- The change log says where each entry came from (`origin`: local or pulled), the device, the
  operation (one user action = one op id) and the version the change was made on. Entries
  written before this revision keep these empty and their original hash.
- `findings.return_reason`: why the platform returned (退回) a finding.
- `sync_state`: the core's sync settings and progress (server URL, CA bundle, proxy, device
  id, cursors, the last chain head the server acknowledged), one JSON value per key.
- `conflicts`: a value that lost to another writer's, kept until the user chooses.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RECORD_TABLES = ("tasks", "visits", "findings", "checks", "photos")
_FMT = "%Y-%m-%d %H:%M:%S.%f"


def _to_utc(text: str) -> tuple[str, int]:
    """A stored local wall-clock time → (UTC as stored, the local offset in minutes)."""
    local = dt.datetime.fromisoformat(text)
    aware = local.astimezone()  # naive: this machine's zone on that date
    offset = aware.utcoffset() or dt.timedelta(0)
    utc = (aware - offset).replace(tzinfo=None)
    return utc.strftime(_FMT), int(offset.total_seconds() // 60)


def upgrade() -> None:
    conn = op.get_bind()
    for table in RECORD_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        conn.exec_driver_sql(
            f"UPDATE {table} SET version = MAX(1, (SELECT COUNT(*) FROM change_log l "
            f"WHERE l.entity = '{table}' AND l.entity_id = {table}.id AND l.action != 'delete'))"
        )
    for table, column in (("visits", "visited"), ("checks", "checked")):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(f"{column}_offset", sa.Integer(), nullable=False, server_default="0"))
        rows = conn.exec_driver_sql(f"SELECT id, {column}_at FROM {table}").fetchall()
        updates = []
        for row_id, at in rows:
            if at:
                utc, offset = _to_utc(at)
                updates.append({"utc": utc, "offset": offset, "id": row_id})
        if updates:
            conn.execute(sa.text(f"UPDATE {table} SET {column}_at = :utc, {column}_offset = :offset WHERE id = :id"),
                         updates)
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("return_reason", sa.Text(), nullable=False, server_default=""))

    # The append-only triggers refuse the table rebuild a batch ALTER does; ADD COLUMN is enough.
    for name, kind in (("origin", "VARCHAR(8)"), ("device", "VARCHAR(36)"), ("op_id", "VARCHAR(36)"),
                       ("base_version", "INTEGER")):
        conn.exec_driver_sql(f"ALTER TABLE change_log ADD COLUMN {name} {kind}")
    # The outbox: local entries after the last acknowledged one.
    conn.exec_driver_sql("CREATE INDEX ix_change_log_origin ON change_log (origin, seq)")

    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # This data dir's device id, made once, here, so that opening a store never writes.
    conn.execute(sa.text("INSERT INTO sync_state (key, value) VALUES ('device_id', :v)"),
                 {"v": json.dumps(str(uuid.uuid4()))})
    op.create_table(
        "conflicts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("theirs", sa.JSON(), nullable=True),
        sa.Column("mine", sa.JSON(), nullable=True),
        sa.Column("change_id", sa.String(36), nullable=False),
        sa.Column("server_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(8), nullable=False, server_default=""),
    )
    op.create_index("ix_conflicts_entity", "conflicts", ["entity", "entity_id"])


def downgrade() -> None:
    raise NotImplementedError("0005 converts stored times; restore the backup taken before the upgrade")
