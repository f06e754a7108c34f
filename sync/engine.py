"""One sync with the platform: photos up, changes up, then what the platform has, down.

- Photos first: the platform is asked which of the outbox's photo hashes it lacks, and only
  those go up, chunk by chunk, resuming from the chunks it already holds.
- Push: the change log is the outbox — local entries after `pushed_seq`, in order, in batches.
  An entry leaves the outbox only when the platform has answered for it (applied, duplicate,
  or kept as a conflict); a retry after a lost answer is a duplicate there and changes nothing.
  Conflicts are kept locally until the user chooses — those of the push answer, and, since a
  lost answer's replay names none, the platform's open list of our own changes — and the
  record takes the platform's value of the field. A change refused for good is reported and
  its record's stream pulled again (the platform's copy did not move; nothing else would
  restore it here); a photo the platform will never take is refused likewise instead of
  holding up everything behind it.
- Pull: a cursor per stream; each page is applied in one transaction with its cursor, logged
  as pulled (never pushed back); a pulled record takes the platform's version. A field with a
  local change still in the outbox is not overwritten: that change goes up on its own base
  version and the platform merges it or reports the conflict. Any integrity problem stops the
  pull before anything of the page is written (BadAnswer); below `min_free_bytes` of free
  disk nothing is pulled (LowDisk).

The sync never holds the store's writer for longer than one page: user actions interleave.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from fieldapp import changelog, sync_state
from fieldapp.errors import Interrupted, InvalidInput, PhotoRejected, StorageFull
from fieldapp.models import Conflict, Record
from fieldapp.store import Store
from sync import contract as c
from sync import errors
from sync.client import PlatformClient
from sync.records import MODELS, RECORDED, from_wire, to_wire

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)

PUSHED_SEQ = sync_state.PUSHED_SEQ  # the last local log entry the platform has answered for
REFUSED = "refused"  # JSON list: entries the platform refused for good, with why
USERS = "users"
MIN_FREE_BYTES = 200 * 1024 * 1024
PULL_ORDER = (c.Stream.TASKS, c.Stream.RECORDS, c.Stream.ASSIGNMENTS, c.Stream.REFERENCE)
_ENTITY_RANK = {e: i for i, e in enumerate(c.ENTITIES)}
_STAYS = {c.ErrorCode.UPLOAD_INCOMPLETE}  # a refusal that a later sync can overcome
# What refers to a record: a pulled tombstone leaves a record that something here still hangs on.
_CHILDREN = {"tasks": (("visits", "task_id"), ("findings", "task_id")), "visits": (("findings", "visit_id"),),
             "findings": (("checks", "finding_id"), ("photos", "finding_id")), "checks": (("photos", "check_id"),)}


@dataclass
class SyncReport:
    pulled: dict[str, int] = field(default_factory=dict)  # per stream: items applied
    pushed: int = 0  # entries the platform applied
    duplicates: int = 0
    conflicts: int = 0  # raised by this sync
    refused: list[dict[str, Any]] = field(default_factory=list)
    photos_uploaded: int = 0
    bytes_uploaded: int = 0
    photos_downloaded: int = 0
    open_conflicts: int = 0
    pending_changes: int = 0
    pending_photos: int = 0
    head: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Interrupted()


class Syncer:
    def __init__(self, store: Store, client: PlatformClient, progress: Progress | None = None,
                 cancel: threading.Event | None = None, *, min_free_bytes: int | None = None,
                 page_size: int = c.MAX_PULL) -> None:
        """`min_free_bytes`: the free space below which nothing is pulled (default
        MIN_FREE_BYTES, or FIELDAPP_MIN_FREE_BYTES); `page_size`: items asked per pull page."""
        self.store = store
        self.client = client
        self.progress = progress or (lambda _s, _d, _t: None)
        self.cancel = cancel
        self.report = SyncReport()
        self.chunk_bytes = 1 << 20
        if min_free_bytes is None:
            min_free_bytes = int(os.environ.get("FIELDAPP_MIN_FREE_BYTES") or MIN_FREE_BYTES)
        self.min_free_bytes = min_free_bytes
        self.page_size = max(1, min(page_size, c.MAX_PULL))
        self._unsendable: dict[str, dict[str, Any]] = {}  # photo hash → why it can never go up
        self._versions: dict[str, int] = {}  # change id → the record's version on the platform after it

    def run(self) -> SyncReport:
        info = self.client.info()
        self.chunk_bytes = info.chunk_bytes
        sync_state.write(self.store, **{sync_state.MAX_PHOTO_BYTES: info.max_photo_bytes})
        self.upload_photos()
        self.push()
        self.keep_conflicts()
        self.pull()
        self._finish()
        return self.report

    # ------------------------------------------------------------------ the outbox

    def _pushed_seq(self) -> int:
        return int(sync_state.read(self.store, PUSHED_SEQ, 0))

    def _outbox(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self.store.reading() as con:
            con.row_factory = None
            rows = con.execute(
                "SELECT seq, id, at, author, entity, entity_id, action, before, after, prev_hash, hash, origin, "
                "op_id, COALESCE(base_version, (SELECT COUNT(*) FROM change_log p WHERE p.entity = l.entity "
                "AND p.entity_id = l.entity_id AND p.seq < l.seq)) "
                "FROM change_log l WHERE seq > ? AND (origin IS NULL OR origin = ?) ORDER BY seq LIMIT ?",
                (after, changelog.LOCAL, limit)).fetchall()
        keys = ("seq", "id", "at", "author", "entity", "entity_id", "action", "before", "after", "prev_hash",
                "hash", "origin", "op_id", "base_version")
        return [dict(zip(keys, r)) for r in rows]

    def pending(self) -> tuple[int, int, str | None]:
        """(changes, photos) still to go up, and when the oldest of them was made."""
        with self.store.reading() as con:
            p = sync_state.pending(con)
        return p.changes, p.photos, p.oldest_at

    # ------------------------------------------------------------------ photos

    def upload_photos(self) -> None:
        after = self._pushed_seq()
        with self.store.reading() as con:
            rows = con.execute(
                "SELECT DISTINCT json_extract(after, '$.sha256') FROM change_log WHERE seq > ? "
                "AND (origin IS NULL OR origin = ?) AND entity = 'photos' AND action = 'create'",
                (after, changelog.LOCAL)).fetchall()
        hashes = [r[0] for r in rows if r[0]]
        missing: list[str] = []
        for i in range(0, len(hashes), 1000):
            missing += self.client.missing_photos(hashes[i:i + 1000])
        for n, sha in enumerate(missing):
            _check(self.cancel)
            self.progress("photos", n, len(missing))
            # A photo that can never go up as it is (over the platform's limit, lowered since
            # it was taken; its file here damaged) must not stop the sync: everything recorded
            # after it waited behind it for ever. Its record is refused at the push instead.
            try:
                self._upload(sha)
            except PhotoRejected as exc:
                self._unsendable[sha] = {"code": "photo_damaged",
                                         "message": {"zh": exc.message("zh_CN"), "en": exc.message("en")}}
            except errors.SyncError as exc:
                if getattr(exc, "code", None) != c.ErrorCode.PHOTO_TOO_LARGE:
                    raise
                self._unsendable[sha] = {"code": str(c.ErrorCode.PHOTO_TOO_LARGE),
                                         "message": {"zh": exc.message("zh_CN"), "en": exc.message("en")}}
        self.progress("photos", len(missing), len(missing))

    def _upload(self, sha: str) -> None:
        path = self.store.photos.path(sha)
        problem = self.store.photos.verify_file(sha)
        if problem:  # never send what is not the photo it claims to be
            raise PhotoRejected(problem, name=sha[:12], reason=problem)
        size = path.stat().st_size
        state = self.client.start_upload(sha, size)
        chunk = state.chunk_bytes
        have = set(state.received)
        with open(path, "rb") as fh:
            for index in range((size + chunk - 1) // chunk):
                if state.complete:
                    break
                if index in have:
                    continue
                _check(self.cancel)
                fh.seek(index * chunk)
                data = fh.read(chunk)
                state = self.client.put_chunk(sha, index, data)
                self.report.bytes_uploaded += len(data)
        if not state.complete:
            raise errors.BadAnswer(f"photo {sha[:12]}: all chunks sent, the platform does not hold it")
        self.report.photos_uploaded += 1

    # ------------------------------------------------------------------ push

    def push(self) -> None:
        pushed = self._pushed_seq()
        total = self.pending()[0]
        done = 0
        while True:
            _check(self.cancel)
            entries = self._outbox(pushed, c.MAX_BATCH)
            if not entries:
                return
            changes = [self._change(e) for e in entries]
            pending_n, pending_p, oldest = self.pending()
            answer = self.client.push(c.PushRequest(
                device_id=self.store.identity.device, changes=changes,
                pending_changes=max(0, pending_n - len(changes)), pending_photos=pending_p,
                oldest_pending_at=_aware(oldest)))
            by_id = {r.change_id: r for r in answer.results}
            stop = False
            refused: list[dict[str, Any]] = []
            for e in entries:
                result = by_id.get(e["id"])
                if result is None:
                    raise errors.BadAnswer(f"push: no result for change {e['id']}")
                if result.outcome == c.ChangeOutcome.REJECTED:
                    why = {"code": result.code, "message": result.message.model_dump() if result.message else None}
                    if result.code in _STAYS:
                        sha = json.loads(e["after"] or "{}").get("sha256") if e["entity"] == "photos" else None
                        if sha not in self._unsendable:
                            stop = True  # it and what follows stay in the outbox
                            break
                        why = self._unsendable[sha]  # its file can never arrive: refused for good
                    refused.append({"change_id": e["id"], "seq": e["seq"], "entity": e["entity"],
                                    "entity_id": e["entity_id"], "action": e["action"], **why})
                elif result.outcome == c.ChangeOutcome.DUPLICATE:
                    self.report.duplicates += 1
                else:
                    self.report.pushed += 1
                if result.version is not None:
                    self._versions[e["id"]] = result.version
                pushed = e["seq"]
                done += 1
            self._record_push(pushed, answer, refused)
            self.progress("push", done, total)
            if stop:
                return

    def _change(self, e: dict[str, Any]) -> c.Change:
        legacy = e["origin"] is None
        after = json.loads(e["after"]) if e["after"] else {}
        before = json.loads(e["before"]) if e["before"] else {}
        offsets = self._offsets(e["entity"], e["entity_id"]) if legacy else None
        return c.Change(
            change_id=e["id"], seq=e["seq"], entity=e["entity"], entity_id=e["entity_id"], action=e["action"],
            base_version=e["base_version"],
            fields=to_wire(e["entity"], after, offsets, legacy) if e["action"] != "delete" else {},
            before=to_wire(e["entity"], before, offsets, legacy),
            at=_aware(e["at"]), author=e["author"], op_id=e["op_id"] or "", prev_hash=e["prev_hash"], hash=e["hash"])

    def _offsets(self, entity: str, entity_id: str) -> dict[str, int]:
        columns = [col for (ent, _), col in RECORDED.items() if ent == entity]
        if not columns:
            return {}
        with self.store.reading() as con:
            row = con.execute(f"SELECT {', '.join(columns)} FROM {entity} WHERE id = ?", (entity_id,)).fetchone()
        return dict(zip(columns, row)) if row else {}

    def _record_push(self, pushed: int, answer: c.PushResponse, refused: list[dict[str, Any]]) -> None:
        # Origin "pulled": the only records this transaction writes are the platform's values
        # of fields our changes lost (see _keep_conflict), which must never be pushed back.
        with self.store.transaction(origin=changelog.PULLED) as s:
            conn = s.connection()
            sync_state.put(conn, PUSHED_SEQ, pushed)
            if refused:
                sync_state.put(conn, REFUSED, (sync_state.get(conn, REFUSED, []) + refused)[-1000:])
                self.report.refused += refused
                # A refused edit (or delete) is still applied here, and the platform's copy did
                # not move, so no pull would ever bring it back: the record stayed unlike every
                # other copy, and its version one ahead, so the next allowed edit named a base
                # "newer than the platform's" and was refused too (lost). The contract has no
                # fetch of one record: its stream is pulled again from the start, in this sync
                # (the refused fields are no longer in the outbox, so the platform's values win).
                for stream in {"tasks" if r["entity"] == "tasks" else "records" for r in refused
                               if r["action"] != "create"}:
                    sync_state.put(conn, sync_state.CURSOR_PREFIX + stream, 0)
            if answer.head is not None:
                held = conn.exec_driver_sql("SELECT hash FROM change_log WHERE seq = ?", (answer.head.seq,)).first()
                if held is None or held[0] != answer.head.hash:
                    raise errors.BadAnswer(f"the platform acknowledged entry #{answer.head.seq} with another hash")
                sync_state.put(conn, sync_state.ACKED_HEAD, {"seq": answer.head.seq, "hash": answer.head.hash})
                self.report.head = answer.head.model_dump()
            for k in answer.conflicts:
                self._keep_conflict(s, k)

    def keep_conflicts(self) -> None:
        """The platform's open conflicts of this device's own changes, kept here if they are not.

        A push answer carries the conflicts its batch raised; when that answer is lost (a
        dropped connection, a timeout, the app killed before it was written down) the replay
        of the batch is all duplicates, and a duplicate's result names no conflict: the value
        that lost would be dropped in silence. So the open list is asked for after every push;
        a conflict of another device of the same user (its change is not in this log) is that
        device's to keep."""
        listed = self.client.conflicts()
        if not listed:
            return
        with self.store.transaction(origin=changelog.PULLED) as s:
            conn = s.connection()
            for k in listed:
                own = conn.exec_driver_sql(
                    "SELECT 1 FROM change_log WHERE id = ? AND (origin IS NULL OR origin = ?)",
                    (k.change_id, changelog.LOCAL)).first()
                if own is not None:
                    self._keep_conflict(s, k)

    def _keep_conflict(self, s: Any, k: c.Conflict) -> None:
        """Keep a conflict (once), and give its field the platform's value here.

        The platform kept `theirs`, and when nothing else of the change applied, the record did
        not move there, so no pull brings it: if a pull skipped the field while our change was
        still in the outbox (an edit made during a sync), the record kept our losing value for
        ever — unlike every other copy, and "keep theirs" would close the conflict on a value
        the platform does not hold. So `theirs` is written here, unless a newer local edit of
        the field is still to go up, and the platform's version with it when nothing of the
        record is. Pulls after this bring anything newer."""
        if s.get(Conflict, k.id) is not None:
            return
        conn = s.connection()
        row = conn.exec_driver_sql("SELECT seq FROM change_log WHERE id = ?", (k.change_id,)).first()
        if row is not None and row[0] > int(sync_state.get(conn, PUSHED_SEQ, 0)):
            # Its change is still in the outbox (the batch stopped before it at a photo not yet
            # uploaded): kept when that change leaves it, so its field is not taken while the
            # change still counts as an unsent edit of it.
            return
        s.add(Conflict(id=k.id, server_id=k.id, entity=k.entity, entity_id=k.entity_id, field=k.field,
                       theirs=k.theirs, mine=k.mine, change_id=k.change_id))
        self.report.conflicts += 1
        obj = s.get(MODELS[k.entity], k.entity_id)
        if obj is None or k.field == "deleted":
            # A stale delete the platform did not apply (its conflict is on "deleted"): the
            # record is gone here but stays there unchanged, so no pull brings it back; its
            # stream is pulled again from the start, in this sync (docs/sync-protocol.md 4.5).
            sync_state.put(conn, sync_state.CURSOR_PREFIX + ("tasks" if k.entity == "tasks" else "records"), 0)
            return
        pending = self._pending_fields(s, k.entity, k.entity_id)
        try:
            values = from_wire(k.entity, {k.field: k.theirs}) if k.field not in pending else {}
        except (ValueError, TypeError) as exc:
            raise errors.BadAnswer(f"conflict {k.id}: {exc}") from exc
        for key, value in values.items():
            setattr(obj, key, value)
        version = self._versions.get(k.change_id)
        self._take_version(s, obj, version if version is not None and not pending else obj.version)

    # ------------------------------------------------------------------ pull

    def _check_disk(self) -> None:
        free = shutil.disk_usage(self.store.data_dir).free
        if free < self.min_free_bytes:
            raise errors.LowDisk(free_mb=free // (1 << 20))

    def pull(self) -> None:
        for stream in PULL_ORDER:
            count = 0
            while True:
                _check(self.cancel)
                # Before every page, not only the first: a pull's photos can fill the disk.
                self._check_disk()
                with self.store.engine.connect() as conn:
                    after = sync_state.cursor(conn, stream)
                page = self.client.pull(stream, after, self.page_size)
                if page.stream != stream or (page.cursor < after):
                    raise errors.BadAnswer(f"pull {stream}: cursor {page.cursor} after {after}")
                self._fetch_photos(page)
                count += self._apply(stream, page)
                self.progress(f"pull:{stream}", count, count + (1 if page.more else 0))
                if not page.more:
                    break
            self.report.pulled[str(stream)] = count

    def _fetch_photos(self, page: c.PullResponse) -> None:
        """Photo files of pulled photo records, stored (hash checked) before their rows."""
        for r in page.records:
            sha = r.fields.get("sha256") if r.entity == "photos" and not r.deleted else None
            if not sha or self.store.photos.verify_file(sha) is None:
                continue
            _check(self.cancel)
            data = self.client.photo(sha)
            # Checked before the photo store sees the bytes: a proxy's error page or a cut-off
            # body answered 200 is a bad answer (the pull stops, nothing written), not a
            # PhotoRejected from decoding it as an image, which no caller of sync expects.
            if hashlib.sha256(data).hexdigest() != sha:
                raise errors.BadAnswer(f"photo {sha[:12]}: the platform sent other bytes ({len(data)} bytes)")
            try:
                info = self.store.photos.put(data, sha)
            except PhotoRejected as exc:  # the platform holds a file that is no image
                raise errors.BadAnswer(f"photo {sha[:12]}: {exc}") from exc
            if info.sha256 != sha:
                raise errors.BadAnswer(f"photo {sha[:12]}: the platform sent other bytes")
            self.report.photos_downloaded += 1

    def _apply(self, stream: str, page: c.PullResponse) -> int:
        applied = 0
        try:
            with self.store.transaction(origin=changelog.PULLED) as s:
                conn = s.connection()
                me = (sync_state.get(conn, sync_state.USER) or {}).get("name")
                for r in sorted(page.records, key=lambda r: (_ENTITY_RANK[r.entity], r.feed_seq)):
                    applied += self._apply_record(s, r)
                for a in page.assignments:
                    applied += self._apply_assignment(s, a, me)
                if stream == c.Stream.REFERENCE:
                    sync_state.put(conn, USERS, [u.model_dump(mode="json") for u in page.users])
                    applied += len(page.users)
                sync_state.put(conn, sync_state.CURSOR_PREFIX + stream, page.cursor)
        # Store.transaction hands SQLite's own error back (sqlite3.IntegrityError for a record
        # whose parent is not here, InvalidInput for a duplicate task code): a page that does not
        # fit the store is a bad answer like one that does not parse — rolled back whole.
        except StorageFull as exc:
            raise errors.LowDisk(free_mb=shutil.disk_usage(self.store.data_dir).free // (1 << 20)) from exc
        except (IntegrityError, ValueError, TypeError, sqlite3.Error, InvalidInput) as exc:
            raise errors.BadAnswer(f"pull {stream}: {exc}") from exc
        except SQLAlchemyError as exc:
            raise errors.BadAnswer(f"pull {stream}: {type(exc).__name__}") from exc
        return applied

    def _pending_fields(self, s: Any, entity: str, entity_id: str) -> set[str]:
        rows = s.connection().exec_driver_sql(
            "SELECT after FROM change_log WHERE entity = ? AND entity_id = ? AND seq > ? "
            "AND (origin IS NULL OR origin = ?)",
            (entity, entity_id, int(sync_state.get(s.connection(), PUSHED_SEQ, 0)), changelog.LOCAL)).all()
        return {k for (after,) in rows if after for k in json.loads(after)}

    def _apply_record(self, s: Any, r: c.PulledRecord) -> int:
        model = MODELS[r.entity]
        obj: Record | None = s.get(model, r.id)
        if r.deleted:
            if obj is None:
                return 0
            if self._has_children(s, r.entity, r.id):  # something recorded here still hangs on it: keep it
                log.warning("pulled tombstone of %s %s kept: local records refer to it", r.entity, r.id)
                return 0
            s.delete(obj)
            s.flush()
            return 1
        values = from_wire(r.entity, r.fields)
        if obj is None:
            values.pop("id", None)
            s.add(model(id=r.id, version=r.version, **values))
            s.flush()
            return 1
        pending = self._pending_fields(s, r.entity, r.id)
        changed = False
        for key, value in values.items():
            if key in pending or key in ("id", "updated_at"):
                continue
            if getattr(obj, key) != value:
                setattr(obj, key, value)
                changed = True
        # The record pulled is the platform's version of it: take its number, always. The next
        # local edit names it as its base, and the platform merges on that number; a local
        # number of our own (one more per local edit, where the platform numbered differently
        # or kept our edit only as a conflict) made the platform see a stale base as current
        # (silently overwriting another writer) or refuse a base "newer than the platform's"
        # for good (the edit lost).
        if obj.version != r.version:
            changed = True
        if changed:
            self._take_version(s, obj, r.version)
        return int(changed)

    @staticmethod
    def _take_version(s: Any, obj: Record, version: int) -> None:
        """Flush `obj`'s pulled values with the platform's `version` (logged as pulled)."""
        obj.version = version
        s.flush()
        if obj.version != version:
            # Same number, other values: the change log's hook counted the pulled fields as one
            # more version (it only recognises the platform's number when the number moves).
            # Set the platform's number back; logged as pulled, never pushed.
            obj.version = version
            s.flush()

    @staticmethod
    def _has_children(s: Any, entity: str, entity_id: str) -> bool:
        conn = s.connection()
        return any(conn.exec_driver_sql(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (entity_id,)).first()
                   for table, column in _CHILDREN.get(entity, ()))

    def _apply_assignment(self, s: Any, a: c.Assignment, me: str | None) -> int:
        """Taken off my list: the task goes, unless something recorded here still refers to it."""
        if a.assigned or a.user != me:
            return 0
        return self._apply_record(s, c.PulledRecord(entity="tasks", id=a.task_id, version=0, deleted=True,
                                                    feed_seq=a.feed_seq))

    # ------------------------------------------------------------------ the end

    def _finish(self) -> None:
        n, photos, _oldest = self.pending()
        self.report.pending_changes, self.report.pending_photos = n, photos
        with self.store.reading() as con:
            self.report.open_conflicts = con.execute(
                "SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL").fetchone()[0]
        sync_state.write(self.store, **{sync_state.LAST_SYNC: {
            "at": dt.datetime.now(dt.timezone.utc).isoformat(), "ok": True,
            "pending_changes": n, "pending_photos": photos}})


def _aware(text: str | None) -> dt.datetime | None:
    """A stored UTC time (naive text) as an instant."""
    if not text:
        return None
    return dt.datetime.fromisoformat(str(text)).replace(tzinfo=dt.timezone.utc)
