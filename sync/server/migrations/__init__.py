"""Alembic migrations of the platform's database, applied when the server (or its CLI) starts.

Like the app's own (fieldapp/migrations), but for any SQLAlchemy URL: a database at `HEAD`
costs one query; an unknown revision (a newer server wrote it) is refused untouched.
Several processes may start at once: PostgreSQL runs each migration in a transaction holding
an advisory lock, SQLite takes its write lock; the second process finds the schema at head.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

log = logging.getLogger(__name__)

HEAD = "0003"
HERE = Path(__file__).resolve().parent


class DatabaseTooNew(RuntimeError):
    """The database was migrated by a newer server than this one."""


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return row[0] if row else None
    finally:
        engine.dispose()


def alembic_config(url: str):  # -> alembic.config.Config, imported lazily
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    # ConfigParser interpolation would read a % in a password as a reference.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    current = current_revision(url)
    if current == HEAD:
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config(url)
    if current is not None and current not in {r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()}:
        raise DatabaseTooNew(f"the platform database is at revision {current}, newer than this server ({HEAD})")
    command.upgrade(cfg, "head")
    log.info("platform database at schema %s", HEAD)
