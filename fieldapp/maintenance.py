"""Health of a data dir: counts (`fieldapp stats`) and checks (`fieldapp verify`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text

from fieldapp.changelog import ChainReport, verify_chain
from fieldapp.models import ChangeLogEntry, Check, Finding, Photo, Task, Visit
from fieldapp.store import Store


def stats(store: Store) -> dict[str, Any]:
    with store.session() as s:
        tables = {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (Task, Visit, Finding, Check, Photo, ChangeLogEntry)
        }
        by_status = dict(s.execute(select(Finding.status, func.count()).group_by(Finding.status)).all())
        tasks_by_status = dict(s.execute(select(Task.status, func.count()).group_by(Task.status)).all())
    return {"tables": tables, "findings_by_status": by_status, "tasks_by_status": tasks_by_status}


@dataclass
class VerifyReport:
    integrity: list[str] = field(default_factory=list)  # PRAGMA integrity_check, "ok" when sound
    foreign_keys: list[tuple] = field(default_factory=list)
    chain: ChainReport | None = None
    photo_problems: list[tuple[str, str, str]] = field(default_factory=list)  # (photo id, sha, what)
    orphan_files: list[str] = field(default_factory=list)
    photos_checked: int = 0

    @property
    def ok(self) -> bool:
        return (self.integrity == ["ok"] and not self.foreign_keys and self.chain is not None
                and self.chain.ok and not self.photo_problems)


def verify(store: Store) -> VerifyReport:
    report = VerifyReport()
    with store.session() as s:
        report.integrity = [r[0] for r in s.execute(text("PRAGMA integrity_check"))]
        report.foreign_keys = [tuple(r) for r in s.execute(text("PRAGMA foreign_key_check"))]
        entries = s.execute(select(ChangeLogEntry).order_by(ChangeLogEntry.seq)).scalars()
        report.chain = verify_chain(entries)
        referenced: set[str] = set()
        for photo_id, sha in s.execute(select(Photo.id, Photo.sha256)):
            report.photos_checked += 1
            referenced.add(sha)
            problem = store.photos.verify_file(sha)
            if problem:
                report.photo_problems.append((photo_id, sha, problem))
    # A crash between writing a file and committing its row leaves an orphan: harmless.
    report.orphan_files = sorted(store.photos.stored_hashes() - referenced)
    return report
