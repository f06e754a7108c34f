"""What sync needs to remember, read and written by the core (no Qt), in the store itself.

The connection settings (server URL, CA bundle, proxy), the signed-in user, the cursor of each
pulled stream and the last chain head the platform acknowledged live in the `sync_state` table
of the data dir's database, so the command line and the window see the same values, and a
cursor moves in the same transaction as the records it pulled. Tokens never live here: they
go to the OS keyring (see `sync.credentials`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from fieldapp.store import Store

# Connection settings a user (or the site's configuration) sets.
SERVER_URL = "server_url"
CA_BUNDLE = "ca_bundle"
PROXY = "proxy"
SETTINGS = (SERVER_URL, CA_BUNDLE, PROXY)
# Set by sync itself.
USER = "user"  # JSON: the signed-in user as the platform described them (name, role, unit)
ACKED_HEAD = "acked_head"  # JSON: {"seq": n, "hash": h}, the last of our entries the platform holds
LAST_SYNC = "last_sync"  # JSON: when and how the last sync ended
MAX_PHOTO_BYTES = "max_photo_bytes"  # the platform's limit, refused when a photo is added
CURSOR_PREFIX = "cursor/"


def get(conn: Connection, key: str, default: Any = None) -> Any:
    row = conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = ?", (key,)).first()
    return json.loads(row[0]) if row else default


def put(conn: Connection, key: str, value: Any) -> None:
    """Set `key` (None removes it) — within the caller's transaction."""
    if value is None:
        conn.exec_driver_sql("DELETE FROM sync_state WHERE key = ?", (key,))
    else:
        conn.exec_driver_sql(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False)))


def read(store: Store, key: str, default: Any = None) -> Any:
    with store.engine.connect() as conn:
        return get(conn, key, default)


def write(store: Store, **values: Any) -> None:
    """Set several keys in one transaction (None removes a key)."""
    with store.transaction() as session:
        conn = session.connection()
        for key, value in values.items():
            put(conn, key, value)


@dataclass(frozen=True)
class SyncSettings:
    server_url: str
    ca_bundle: str
    proxy: str


def connection_settings(store: Store) -> SyncSettings:
    with store.engine.connect() as conn:
        return SyncSettings(*(get(conn, k, "") or "" for k in SETTINGS))


def cursor(conn: Connection, stream: str) -> int:
    return int(get(conn, CURSOR_PREFIX + stream, 0))


def acked_head(store: Store) -> tuple[int, str] | None:
    head = read(store, ACKED_HEAD)
    return (int(head["seq"]), str(head["hash"])) if head else None


PUSHED_SEQ = "pushed_seq"  # the last local log entry the platform has answered for


@dataclass(frozen=True)
class Pending:
    """What is still on this computer only: the outbox (local entries after `pushed_seq`)."""

    changes: int
    photos: int
    oldest_at: str | None  # stored UTC text of the oldest


def pending(con: Any) -> Pending:
    """Counted on a plain sqlite3 connection (a reader: the status area asks often)."""
    row = con.execute("SELECT value FROM sync_state WHERE key = ?", (PUSHED_SEQ,)).fetchone()
    after = json.loads(row[0]) if row else 0
    n, photos, oldest = con.execute(
        "SELECT COUNT(*), SUM(entity = 'photos' AND action = 'create'), MIN(at) FROM change_log "
        "WHERE seq > ? AND (origin IS NULL OR origin = 'local')", (after,)).fetchone()
    return Pending(n, photos or 0, oldest)


def status(con: Any) -> dict[str, Any]:
    """What the status area shows: who is signed in where, the last sync, what is pending."""
    values = dict(con.execute("SELECT key, value FROM sync_state WHERE key IN (?, ?, ?)",
                              (SERVER_URL, USER, LAST_SYNC)).fetchall())
    return {k: json.loads(v) for k, v in values.items()} | {"pending": pending(con)}


def unsynced_findings(con: Any, finding_ids: list[str]) -> set[str]:
    """Those of `finding_ids` not yet wholly on the platform: the finding, one of its checks or
    one of its photos is still in the outbox (a finding counts as synced only with every photo)."""
    if not finding_ids:
        return set()
    row = con.execute("SELECT value FROM sync_state WHERE key = ?", (PUSHED_SEQ,)).fetchone()
    after = json.loads(row[0]) if row else 0
    marks = ", ".join("?" * len(finding_ids))
    rows = con.execute(
        "SELECT CASE WHEN entity = 'findings' THEN entity_id ELSE json_extract(after, '$.finding_id') END "
        "FROM change_log WHERE seq > ? AND (origin IS NULL OR origin = 'local') AND ("
        f"(entity = 'findings' AND entity_id IN ({marks})) OR "
        f"(entity IN ('checks', 'photos') AND json_extract(after, '$.finding_id') IN ({marks})))",
        (after, *finding_ids, *finding_ids)).fetchall()
    return {r[0] for r in rows}
