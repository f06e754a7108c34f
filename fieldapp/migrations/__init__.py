"""Schema migrations (Alembic), applied when a store opens.

The fast path costs one tiny query: if the database is already at `HEAD`, Alembic is not even
imported. Otherwise an existing database is first copied to backups/ with SQLite's online
backup, then upgraded in place. A revision this build does not know means a newer FieldApp
wrote the file: it is refused, untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

from fieldapp.errors import DatabaseTooNew, MigrationFailed, NotADatabase

log = logging.getLogger(__name__)

HEAD = "0005"
HERE = Path(__file__).resolve().parent


def current_revision(db_path: Path) -> str | None:
    if not db_path.exists():
        return None
    con = sqlite3.connect(db_path)
    try:
        row = con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not row:
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise NotADatabase(str(exc), path=db_path) from exc
    finally:
        con.close()


def alembic_config(db_path: Path):  # -> alembic.config.Config, imported lazily
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db_path}")
    return cfg


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(HERE))
    return {rev.revision for rev in script.walk_revisions()}


def backup(db_path: Path, backup_dir: Path, label: str) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"fieldapp-{stamp}-before-{label}.db"
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def _has_tables(db_path: Path) -> bool:
    if not db_path.exists() or db_path.stat().st_size == 0:
        return False
    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    except sqlite3.DatabaseError as exc:
        raise NotADatabase(str(exc), path=db_path) from exc
    finally:
        con.close()


def upgrade_to_head(db_path: Path, backup_dir: Path) -> None:
    current = current_revision(db_path)
    if current == HEAD:
        return
    if current is not None and current not in known_revisions():
        raise DatabaseTooNew(revision=current)
    # Any existing content is copied first, also a database without a revision (it has tables
    # that the upgrade would write into): only a new or empty file goes unsaved.
    saved: Path | None = None
    if current is not None or _has_tables(db_path):
        saved = backup(db_path, backup_dir, f"upgrade-from-{current or 'unversioned'}")
        log.info("backed up database to %s before upgrading from %s", saved, current)
    from alembic import command

    try:
        command.upgrade(alembic_config(db_path), "head")
    except Exception as exc:  # each migration is one transaction (env.py): nothing half-done stays
        log.exception("upgrading %s from %s failed", db_path, current)
        if saved is None:
            raise
        raise MigrationFailed(str(exc), backup=saved) from exc
    log.info("database at schema %s", HEAD)
