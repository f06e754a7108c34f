"""Health of a data dir: counts (`fieldapp stats`) and checks (`fieldapp verify`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text

from fieldapp import sync_state
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
    acked: tuple[int, str] | None = None  # the last chain head the platform acknowledged
    acked_problem: str = ""  # "missing" (entries the platform saw are gone) or "differs" (rewritten)

    @property
    def ok(self) -> bool:
        return (self.integrity == ["ok"] and not self.foreign_keys and self.chain is not None
                and self.chain.ok and not self.photo_problems and not self.acked_problem)


def verify(store: Store) -> VerifyReport:
    report = VerifyReport()
    with store.session() as s:
        report.integrity = [r[0] for r in s.execute(text("PRAGMA integrity_check"))]
        report.foreign_keys = [tuple(r) for r in s.execute(text("PRAGMA foreign_key_check"))]
        entries = s.execute(select(ChangeLogEntry).order_by(ChangeLogEntry.seq)).scalars()
        report.chain = verify_chain(entries)
        # Cutting entries off the tail leaves a sound chain; the platform's acknowledgement
        # of how far it got does not go with them.
        report.acked = sync_state.acked_head(store)
        if report.acked is not None:
            seq, digest = report.acked
            held = s.scalar(select(ChangeLogEntry.hash).where(ChangeLogEntry.seq == seq))
            report.acked_problem = "" if held == digest else "missing" if held is None else "differs"
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
