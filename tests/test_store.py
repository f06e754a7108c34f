"""Opening the store safely: migrations, refusals that leave files untouched, lock, full disk."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import counts, finding_in
from sqlalchemy import event, text

from fieldapp import migrations
from fieldapp.errors import (DatabaseTooNew, DataDirLocked, DataDirUnwritable, NotADatabase,
                             StorageFull)
from fieldapp.maintenance import verify
from fieldapp.models import Finding
from fieldapp.services import tasks
from fieldapp.store import Store


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def schema(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        con.close()


def revision(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def test_head_matches_alembic_scripts():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations.HERE))
    assert script.get_current_head() == migrations.HEAD
    assert migrations.HEAD in migrations.known_revisions()


def test_empty_dir_migrates_to_head(data_dir):
    assert not data_dir.exists()
    with Store(data_dir) as store:
        assert store.db_path.exists()
        names = {r[1] for r in schema(store.db_path) if r[0] == "table"}
        assert {"tasks", "visits", "findings", "checks", "photos", "change_log", "alembic_version"} <= names
        triggers = {r[1] for r in schema(store.db_path) if r[0] == "trigger"}
        assert triggers == {"change_log_no_update", "change_log_no_delete"}
    assert revision(data_dir / "fieldapp.db") == migrations.HEAD
    # a brand-new database has nothing to back up
    assert not (data_dir / "backups").exists() or not any((data_dir / "backups").iterdir())


def test_empty_file_migrates_to_head(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "fieldapp.db").write_bytes(b"")
    with Store(data_dir):
        pass
    assert revision(data_dir / "fieldapp.db") == migrations.HEAD


def _filled(data_dir: Path) -> Path:
    with Store(data_dir) as s:
        (tid,) = tasks.create_task(s, title="已有数据").tasks
        finding_in(s, tid, "rectifying")
        return s.db_path


def test_reopen_is_a_noop(data_dir):
    db = _filled(data_dir)
    before_schema = schema(db)
    with Store(data_dir) as s:
        before_counts = counts(s)
    with Store(data_dir) as s:
        assert counts(s) == before_counts
        assert verify(s).ok
    assert before_counts["findings"] == 1
    assert schema(db) == before_schema
    assert revision(db) == migrations.HEAD
    assert not (data_dir / "backups").exists() or not any((data_dir / "backups").iterdir())


def test_reopen_at_head_does_not_load_alembic(data_dir):
    Store(data_dir).close()
    code = textwrap.dedent(f"""
        import sys
        from fieldapp.store import Store
        Store({str(data_dir)!r}).close()
        print("alembic" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("content", [
    b"PK\x03\x04 this is a zip, or a spreadsheet, not a database" * 50,
    "台账.xlsx 被误命名".encode(),
    b"SQLite format 3\x00" + b"\xa5" * 4000,  # right magic, garbage body
])
def test_not_a_database_left_untouched(data_dir, content):
    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    db.write_bytes(content)
    for _ in range(2):  # the lock is released after a refusal: the second try fails the same way
        with pytest.raises(NotADatabase) as ei:
            Store(data_dir)
        assert str(db) in ei.value.message("zh_CN") and str(db) in ei.value.message("en")
        assert "没有修改" in ei.value.message("zh_CN") and "untouched" in ei.value.message("en")
    assert db.read_bytes() == content
    assert not (data_dir / "backups").exists() or not any((data_dir / "backups").iterdir())


def test_database_too_new_left_untouched(data_dir):
    db = _filled(data_dir)
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = digest(db)
    for _ in range(2):
        with pytest.raises(DatabaseTooNew) as ei:
            Store(data_dir)
    assert "9999" in ei.value.message("zh_CN") and "9999" in ei.value.message("en")
    assert "未被修改" in ei.value.message("zh_CN") and "Nothing was changed" in ei.value.message("en")
    assert digest(db) == before
    assert revision(db) == "9999"
    assert not (data_dir / "backups").exists() or not any((data_dir / "backups").iterdir())


def test_second_store_in_same_process_locked(data_dir):
    store = Store(data_dir)
    try:
        with pytest.raises(DataDirLocked) as ei:
            Store(data_dir)
        assert str(data_dir) in ei.value.message("zh_CN")
        assert "另一个" in ei.value.message("zh_CN") and "Another FieldApp" in ei.value.message("en")
        # the refused open did not disturb the first one
        tasks.create_task(store, title="仍可写入")
    finally:
        store.close()
    with Store(data_dir) as again:  # free again once closed
        assert counts(again)["tasks"] == 1


HOLDER = textwrap.dedent("""
    import sys
    from fieldapp.store import Store
    store = Store(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.read()
    store.close()
""")


def _holder(data_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_store_held_by_another_process_locked(data_dir):
    proc = _holder(data_dir)
    try:
        with pytest.raises(DataDirLocked):
            Store(data_dir)
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    Store(data_dir).close()


def test_lock_freed_when_holder_is_killed(data_dir):
    proc = _holder(data_dir)
    with pytest.raises(DataDirLocked):
        Store(data_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Store(data_dir) as s:  # no stale lock after a crash
        assert verify(s).ok


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("a file where a folder should be")
    target = blocker / "data"
    with pytest.raises(DataDirUnwritable) as ei:
        Store(target)
    zh, en = ei.value.message("zh_CN"), ei.value.message("en")
    assert str(target) in zh and str(target) in en
    assert "无法写入" in zh and "Cannot write" in en
    assert blocker.read_text() == "a file where a folder should be"


def test_pragmas_on(store, task_id):
    with store.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with store.transaction() as s:
            s.add(Finding(task_id="no-such-task", description="孤儿问题", status="open"))
            s.flush()
    assert counts(store)["findings"] == 0


def test_transaction_is_all_or_nothing(store, task_id):
    before = counts(store)
    with pytest.raises(RuntimeError):
        with store.transaction() as s:
            s.add(Finding(task_id=task_id, description="一", status="open"))
            s.flush()
            raise RuntimeError("the user action failed half way")
    assert counts(store) == before


def _limit_pages(store, pages: int | None) -> None:
    """Cap the database size on every connection of the store (a full disk, as SQLite sees it)."""
    def cap(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    for fn in list(getattr(store, "_test_caps", [])):
        event.remove(store.engine, "connect", fn)
    store._test_caps = []
    if pages is not None:
        event.listen(store.engine, "connect", cap)
        store._test_caps.append(cap)
    store.engine.dispose()


def test_disk_full_raises_storage_full_and_changes_nothing(store, task_id):
    finding_in(store, task_id, "rectifying")
    store.engine.dispose()
    with store.session() as s:
        s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = s.execute(text("PRAGMA page_count")).scalar()
    before = counts(store)
    _limit_pages(store, pages)
    try:
        with pytest.raises(StorageFull) as ei:
            tasks.create_task(store, title="很长的任务" * 20000, targets="目标" * 20000)
        assert "磁盘空间不足" in ei.value.message("zh_CN") and "disk is full" in ei.value.message("en")
        assert counts(store) == before
    finally:
        _limit_pages(store, None)
    assert counts(store) == before
    report = verify(store)
    assert report.ok, report
    # space freed: the next action works and the chain carries on intact
    tasks.create_task(store, title="很长的任务" * 20000)
    assert counts(store)["tasks"] == before["tasks"] + 1
    assert verify(store).ok


def test_backup_is_a_faithful_copy(store, task_id):
    finding_in(store, task_id, "pending_check")
    saved = migrations.backup(store.db_path, store.data_dir / "backups", "upgrade-from-0000")
    assert saved.parent == store.data_dir / "backups"
    assert "before-upgrade-from-0000" in saved.name
    assert schema(saved) == schema(store.db_path)
    src, dst = sqlite3.connect(store.db_path), sqlite3.connect(saved)
    try:
        assert dst.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in ("tasks", "findings", "change_log"):
            q = f"SELECT * FROM {table} ORDER BY rowid"
            assert dst.execute(q).fetchall() == src.execute(q).fetchall()
    finally:
        src.close()
        dst.close()


def test_data_files_stay_in_data_dir(store, task_id):
    finding_in(store, task_id, "closed")
    names = {p.name for p in store.data_dir.iterdir()}
    assert {"fieldapp.db", "fieldapp.lock", "photos"} <= names
    assert (store.data_dir / "fieldapp.lock").read_text() == str(os.getpid())


def test_existing_unversioned_database_backed_up_before_upgrade(data_dir):
    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.executemany("INSERT INTO notes (body) VALUES (?)", [("现场记录一",), ("现场记录二",)])
    con.commit()
    con.close()
    original = schema(db)
    with Store(data_dir):
        pass
    (saved,) = (data_dir / "backups").iterdir()
    assert "before-upgrade-from-unversioned" in saved.name
    assert schema(saved) == original  # the database as it was, without the FieldApp tables
    bk = sqlite3.connect(saved)
    try:
        assert [r[0] for r in bk.execute("SELECT body FROM notes ORDER BY id")] == ["现场记录一", "现场记录二"]
    finally:
        bk.close()
    assert revision(db) == migrations.HEAD
    con = sqlite3.connect(db)
    try:
        assert [r[0] for r in con.execute("SELECT body FROM notes ORDER BY id")] == ["现场记录一", "现场记录二"]
    finally:
        con.close()
    # opening again changes nothing and backs up nothing more
    with Store(data_dir):
        pass
    assert len(list((data_dir / "backups").iterdir())) == 1


def test_older_database_backed_up_then_upgraded(data_dir):
    """A database at an earlier revision is copied to backups/ before the upgrade touches it."""
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations.HERE))
    older = script.get_revision(migrations.HEAD).down_revision
    if older is None:
        pytest.skip("only one schema revision so far")
    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    command.upgrade(migrations.alembic_config(db), older)
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO tasks (id, title, category, responsible_units, lead_unit, cooperating_units, "
        "region_code, region_name, address, deadline_kind, deadline_text, targets, assignees, status, "
        "created_at, updated_at, author) VALUES ('t-old', '旧版本任务', '其他', '[]', '', '[]', '330106', "
        "'西湖区', '', 'none', '', '', '[]', 'assigned', '2026-01-01 00:00:00', '2026-01-01 00:00:00', '旧')")
    con.commit()
    con.close()
    old_schema = schema(db)

    with Store(data_dir) as s:
        from fieldapp.models import Task

        with s.session() as session:
            assert session.get(Task, "t-old").title == "旧版本任务"
    assert revision(db) == migrations.HEAD
    (saved,) = (data_dir / "backups").iterdir()
    assert f"before-upgrade-from-{older}" in saved.name
    assert revision(saved) == older
    assert schema(saved) == old_schema
    bk = sqlite3.connect(saved)
    try:
        assert bk.execute("SELECT title FROM tasks").fetchall() == [("旧版本任务",)]
    finally:
        bk.close()


def test_a_migration_that_fails_half_way_changes_nothing(data_dir):
    """Each migration is one transaction: a failure after its DDL leaves the old schema whole."""
    from alembic import command

    from fieldapp import migrations
    from fieldapp.errors import MigrationFailed

    data_dir.mkdir(parents=True)
    db = data_dir / "fieldapp.db"
    command.upgrade(migrations.alembic_config(db), "0001")
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(tasks)")]
    # The upgrade's last step, stamping the new revision, is made to fail.
    con.execute("CREATE TRIGGER fail_stamp BEFORE UPDATE ON alembic_version "
                "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END")
    con.commit()
    con.close()
    with pytest.raises(MigrationFailed) as err:
        Store(data_dir)
    assert "backups" in err.value.message("zh_CN")
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    assert [r[1] for r in con.execute("PRAGMA table_info(tasks)")] == cols  # no import_key half-added
    con.close()


def test_migrations_build_exactly_the_schema_the_models_declare(store):
    """A model change without its migration (or the reverse) shows up here, not on a user's disk."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fieldapp.models import Base

    with store.engine.connect() as con:
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []


def test_closing_the_store_waits_for_its_background_work(data_dir):
    import time

    done = []
    store = Store(data_dir)
    store.after(lambda: (time.sleep(0.3), done.append(1)), name="slow cache")
    store.close()
    assert done == [1]  # finished before the data dir's lock was let go
