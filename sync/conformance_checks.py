"""The conformance kit's checks (run in this order by `sync.conformance.run`).

Each check is a function of the `Kit` (the HTTP helper and what earlier checks learned: the
server's info, the token, the tasks made) that returns a one-line summary or raises `Fail`.
A check that needs what an earlier one failed to get fails saying so. Every record the checks
make has a fresh UUID, and each run signs in as a fresh device, so runs do not collide.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

from fieldapp.ids import new_id
from sync import contract as c
from sync.conformance_http import Fail, Http, answer, expect, refused

ZERO = "0" * 64
STREAMS = [s.value for s in c.Stream]
MAX_PAGES = 10_000  # walking a stream to its end


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Kit:
    """What the checks share: the HTTP helper, the users, and what earlier checks found."""

    def __init__(self, http: Http, user: str, password: str, second_user: str | None = None,
                 second_password: str | None = None) -> None:
        self.http = http
        self.user, self.password = user, password
        self.second_user, self.second_password = second_user, second_password
        self.device = new_id()
        self.info: c.ServerInfo | None = None
        self.token: str | None = None
        self.me: c.UserInfo | None = None
        self.seq = 0
        self.prev_hash = ZERO
        self.found: dict[str, Any] = {}  # what a check leaves for later ones
        self.second_token: str | None = None
        self.second_device = new_id()

    # ------------------------------------------------------------------ plumbing

    def need(self, *keys: str) -> Any:
        for key in keys:
            if key == "token" and not self.token:
                raise Fail("not run: the sign-in check failed")
            if key == "info" and self.info is None:
                raise Fail("not run: GET /v1/info failed")
            if key not in ("token", "info") and key not in self.found:
                raise Fail(f"not run: an earlier check did not leave its {key}")
        last = keys[-1]
        return {"token": self.token, "info": self.info}.get(last) if last in ("token", "info") else self.found[last]

    def call(self, method: str, path: str, **kw: Any):
        return self.http.call(method, path, token=kw.pop("token", self.token), **kw)

    def login(self, user: str, password: str, device: str) -> c.LoginResponse:
        body = c.LoginRequest(user=user, password=password, device_id=device, device_name="conformance kit")
        return answer(self.http.call("POST", "/v1/auth/login", body=body), c.LoginResponse)

    def change(self, entity: str, entity_id: str, action: str = "create", fields: dict | None = None,
               base_version: int = 0) -> c.Change:
        """The next change of this device's chain (a real hash chain: each names the last)."""
        self.seq += 1
        change_id = new_id()
        at = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
        digest = sha(f"{self.prev_hash}|{change_id}|{entity}|{entity_id}|{action}".encode())
        ch = c.Change(change_id=change_id, seq=self.seq, entity=entity, entity_id=entity_id, action=action,  # type: ignore[arg-type]
                      base_version=base_version, fields=fields or {}, at=at, author=self.user,
                      prev_hash=self.prev_hash, hash=digest)
        self.prev_hash = digest
        return ch

    def push_raw(self, changes: list[c.Change], token: str | None = None, device: str | None = None):
        body = c.PushRequest(device_id=device or self.device, changes=changes)
        return self.call("POST", "/v1/push", body=body, token=token or self.token)

    def push(self, changes: list[c.Change], **kw: Any) -> c.PushResponse:
        res = answer(self.push_raw(changes, **kw), c.PushResponse)
        expect([r.change_id for r in res.results] == [ch.change_id for ch in changes],
               "push: the results do not answer the batch's changes one for one, in order")
        return res

    def pull(self, stream: str, after: int, limit: int | None = None, token: str | None = None) -> c.PullResponse:
        params = {"after": after} | ({"limit": limit} if limit else {})
        page = answer(self.call("GET", f"/v1/pull/{stream}", params=params, token=token or self.token),
                      c.PullResponse)
        expect(page.stream == stream, f"pull {stream}: the page says it is stream {page.stream}")
        expect(page.cursor >= after, f"pull {stream}: cursor {page.cursor} went back from {after}")
        if limit:
            expect(len(page.records) + len(page.assignments) <= limit,
                   f"pull {stream}: {len(page.records)} records in a page of limit {limit}")
        return page

    def walk(self, stream: str, after: int = 0, token: str | None = None) -> tuple[int, list[c.PulledRecord]]:
        """Pull `stream` from `after` to its end: (the last cursor, every record, in order)."""
        got: list[c.PulledRecord] = []
        for _ in range(MAX_PAGES):
            page = self.pull(stream, after, token=token)
            got += page.records
            if not page.more:
                return page.cursor, got
            expect(page.cursor > after, f"pull {stream}: more=true but the cursor stays at {after}")
            after = page.cursor
        raise Fail(f"pull {stream}: still more after {MAX_PAGES} pages")

    def latest(self, stream: str, after: int, record_id: str) -> c.PulledRecord:
        _cursor, got = self.walk(stream, after)
        mine = [r for r in got if r.id == record_id]
        expect(bool(mine), f"pull {stream} after {after}: record {record_id} is not there")
        return mine[-1]

    def task(self, title: str) -> tuple[str, c.Change]:
        """A new task of the user's unit; (its id, its create change)."""
        tid = new_id()
        ch = self.change("tasks", tid, fields=task_fields(title))
        res = self.push([ch])
        outcome(res.results[0], "applied", 1, "creating a task (is the user a supervisor?)")
        return tid, ch


def task_fields(title: str) -> dict[str, Any]:
    return {"code": f"CONF-{new_id()[-12:]}", "title": f"conformance {title}", "category": "其他",
            "status": "assigned", "deadline": "2026-12-31", "address": ""}


def outcome(r: c.ChangeResult, want: str, version: int | None = None, what: str = "") -> None:
    label = f"{what}: " if what else ""
    expect(r.outcome == want, f"{label}outcome {r.outcome} ({r.code or ''}) instead of {want}")
    if version is not None:
        expect(r.version == version, f"{label}version {r.version} instead of {version}")


# ---------------------------------------------------------------- info, header, sign-in


def check_info(kit: Kit) -> str:
    """GET /v1/info answers a ServerInfo of this contract version, without a header or token"""
    info = answer(kit.http.call("GET", "/v1/info", contract=None), c.ServerInfo)
    expect(info.contract_version == c.CONTRACT_VERSION,
           f"contract_version {info.contract_version}, the kit speaks {c.CONTRACT_VERSION}")
    expect(set(STREAMS) <= set(info.streams), f"streams {info.streams} lack some of {STREAMS}")
    expect(info.chunk_bytes > 0 and info.max_photo_bytes >= info.chunk_bytes,
           f"chunk_bytes {info.chunk_bytes}, max_photo_bytes {info.max_photo_bytes}")
    kit.info = info
    return f"contract v{info.contract_version}, {info.platform_name or '?'} {info.server_version}"


def check_contract_header_missing(kit: Kit) -> str:
    """A call without X-FieldApp-Contract is refused: 400 contract_version"""
    r = kit.http.call("POST", "/v1/auth/login", contract=None,
                      body=c.LoginRequest(user=kit.user, password="-", device_id=kit.device))
    refused(r, 400, c.ErrorCode.CONTRACT_VERSION)
    return "400 contract_version"


def check_contract_header_other_version(kit: Kit) -> str:
    """A call speaking another contract version is refused: 400 contract_version"""
    other = str(c.CONTRACT_VERSION + 1)
    refused(kit.http.call("POST", "/v1/auth/login", contract=other,
                          body=c.LoginRequest(user=kit.user, password="-", device_id=kit.device)),
            400, c.ErrorCode.CONTRACT_VERSION)
    refused(kit.http.call("GET", "/v1/me", contract=other), 400, c.ErrorCode.CONTRACT_VERSION)
    return f"version {other} refused (login and /v1/me)"


def check_login_wrong_password(kit: Kit) -> str:
    """A wrong password is refused: 401 wrong_password (the same for an unknown user)"""
    r = kit.http.call("POST", "/v1/auth/login",
                      body=c.LoginRequest(user=kit.user, password=kit.password + "-wrong", device_id=kit.device))
    refused(r, 401, c.ErrorCode.WRONG_PASSWORD)
    r = kit.http.call("POST", "/v1/auth/login",
                      body=c.LoginRequest(user=f"nobody-{new_id()[-8:]}", password="x", device_id=kit.device))
    refused(r, 401, c.ErrorCode.WRONG_PASSWORD)
    return "401 wrong_password, unknown user too"


def check_login(kit: Kit) -> str:
    """Sign-in answers a token, its expiry and the user; GET /v1/me says the same user"""
    res = kit.login(kit.user, kit.password, kit.device)
    expect(res.user.name == kit.user, f"signed in as {res.user.name}, not {kit.user}")
    expect(res.expires_at > dt.datetime.now(dt.timezone.utc), f"the token expires in the past ({res.expires_at})")
    kit.token = res.token
    me = answer(kit.call("GET", "/v1/me"), c.UserInfo)
    expect(me == res.user, f"/v1/me says {me}, sign-in said {res.user}")
    kit.me = me
    note = "" if me.role in (c.Role.SUPERVISOR, c.Role.ADMIN) else " — NOT a supervisor: the data checks will fail"
    return f"{me.name}: {me.role.value} of {me.unit}{note}"


def check_unauthenticated(kit: Kit) -> str:
    """Calls without a token or with an unknown one are refused: 401 unauthenticated"""
    refused(kit.http.call("GET", "/v1/me"), 401, c.ErrorCode.UNAUTHENTICATED)
    refused(kit.http.call("GET", "/v1/pull/tasks"), 401, c.ErrorCode.UNAUTHENTICATED)
    refused(kit.http.call("POST", "/v1/push", body=c.PushRequest(device_id=kit.device, changes=[])),
            401, c.ErrorCode.UNAUTHENTICATED)
    refused(kit.http.call("GET", "/v1/me", token=f"made-up-{new_id()}"), 401, c.ErrorCode.UNAUTHENTICATED)
    return "no token and a made-up token: 401 unauthenticated"


def check_logout_revokes(kit: Kit) -> str:
    """Logout (204) revokes the token: the next call is 401 token_revoked"""
    other = kit.login(kit.user, kit.password, new_id())
    r = kit.http.call("POST", "/v1/auth/logout", token=other.token)
    expect(r.status_code == 204, f"logout: HTTP {r.status_code} instead of 204")
    refused(kit.http.call("GET", "/v1/me", token=other.token), 401, c.ErrorCode.TOKEN_REVOKED)
    if kit.token:
        answer(kit.call("GET", "/v1/me"), c.UserInfo)  # another sign-in of the same user still works
    return "204, then 401 token_revoked; other sign-ins unaffected"


def check_pull_streams(kit: Kit) -> str:
    """Every stream answers a PullResponse naming itself; an unknown stream is 400 bad_request"""
    kit.need("token")
    for stream in STREAMS:
        kit.pull(stream, 0, limit=1)
    refused(kit.call("GET", "/v1/pull/no-such-stream"), 400, c.ErrorCode.BAD_REQUEST)
    return ", ".join(STREAMS)


# ---------------------------------------------------------------- push and pull


def check_push_create_pull(kit: Kit) -> str:
    """Pushed creates are applied (version 1, chain head acknowledged) and pulled after the cursor"""
    kit.need("token")
    cursor, _ = kit.walk("tasks")
    ids = [new_id() for _ in range(3)]
    batch = [kit.change("tasks", tid, fields=task_fields(f"create {n}")) for n, tid in enumerate(ids)]
    res = kit.push(batch)
    for r in res.results:
        outcome(r, "applied", 1)
    expect(res.head == c.ChainHead(seq=batch[-1].seq, hash=batch[-1].hash),
           f"head {res.head}, expected seq {batch[-1].seq} with the last change's hash")
    after, got = kit.walk("tasks", cursor)
    mine = [r for r in got if r.id in ids]
    expect([r.id for r in mine] == ids, f"pull after {cursor}: {len(mine)} of the 3 tasks, in push order expected")
    for r, ch in zip(mine, batch):
        expect((r.version, r.deleted, r.fields.get("title")) == (1, False, ch.fields["title"]),
               f"pulled {r.id}: version {r.version}, deleted {r.deleted}, title {r.fields.get('title')!r}")
    expect(after > cursor and after >= mine[-1].feed_seq, f"cursor {cursor} → {after} did not pass the new tasks")
    kit.found.update(batch=batch, cursor=cursor, after=after, ids=ids)
    return f"3 tasks applied, cursor {cursor} → {after}"


def check_pull_pagination(kit: Kit) -> str:
    """limit=1 pages one item at a time, more=true until the last, cursor = the item's feed_seq"""
    ids = kit.need("token", "ids")
    after = kit.found["cursor"]
    seen: list[str] = []
    for pages in range(1, MAX_PAGES):  # noqa: B007 - read after the loop
        page = kit.pull("tasks", after, limit=1)
        if page.records:
            expect(page.cursor == page.records[-1].feed_seq,
                   f"cursor {page.cursor} is not the page's feed_seq {page.records[-1].feed_seq}")
            seen += [r.id for r in page.records]
        if not page.more:
            break
        expect(page.cursor > after, f"more=true but the cursor stays at {after}")
        after = page.cursor
    mine = [i for i in seen if i in ids]
    expect(mine == ids, f"limit=1 pages gave {len(mine)} of the 3 tasks in order")
    return f"{pages} pages of one"


def check_replay_duplicate(kit: Kit) -> str:
    """Replaying a batch unchanged is all duplicate, with the versions first given, and changes nothing"""
    batch = kit.need("token", "batch")
    res = kit.push(batch)
    for r in res.results:
        outcome(r, "duplicate", 1, "replay")
    expect(res.head == c.ChainHead(seq=batch[-1].seq, hash=batch[-1].hash), f"head moved on a replay: {res.head}")
    _cursor, got = kit.walk("tasks", kit.found["after"])
    again = [r.id for r in got if r.id in kit.found["ids"]]
    expect(not again, f"a replay put {len(again)} tasks in the feed again")
    return "3 × duplicate, feed unchanged"


def check_change_id_reused(kit: Kit) -> str:
    """Another payload under an accepted change id: 409 change_id_reused, nothing of the batch applied"""
    batch = kit.need("token", "batch")
    cursor, _ = kit.walk("tasks")
    fresh_id = new_id()
    fresh = kit.change("tasks", fresh_id, fields=task_fields("never applied"))
    reused = batch[0].model_copy(update={"fields": dict(batch[0].fields, title="conformance changed payload")})
    body = refused(kit.push_raw([fresh, reused]), 409, c.ErrorCode.CHANGE_ID_REUSED)
    _cursor, got = kit.walk("tasks", cursor)
    expect(fresh_id not in {r.id for r in got}, "the batch's other change was applied anyway")
    res = kit.push([fresh])  # its change id was not kept either: applied now
    outcome(res.results[0], "applied", 1, "the refused batch's other change, pushed again")
    return f"409 change_id_reused (detail {body.detail}); the other change applied only when pushed alone"


def check_merge_other_field(kit: Kit) -> str:
    """A stale update (old base_version) of another field is merged: applied, no conflict"""
    kit.need("token")
    tid, _ = kit.task("merge")
    outcome(kit.push([kit.change("tasks", tid, "update", {"title": "conformance theirs"}, 1)]).results[0],
            "applied", 2)
    res = kit.push([kit.change("tasks", tid, "update", {"address": "conformance 1 号"}, 1)])
    outcome(res.results[0], "applied", 3, "stale update of another field")
    expect(not res.conflicts, f"{len(res.conflicts)} conflicts for a merge")
    rec = kit.latest("tasks", kit.found.get("cursor", 0), tid)
    expect((rec.version, rec.fields.get("title"), rec.fields.get("address")) == (3, "conformance theirs", "conformance 1 号"),
           f"pulled version {rec.version}, title {rec.fields.get('title')!r}, address {rec.fields.get('address')!r}")
    kit.found["merge_task"] = tid
    return "applied as version 3, both fields pulled"


def check_conflict_same_field(kit: Kit) -> str:
    """A stale update of a field changed since is a conflict: reported, and the server keeps its value"""
    tid = kit.need("token", "merge_task")
    mine = kit.change("tasks", tid, "update", {"title": "conformance mine"}, 1)
    res = kit.push([mine])
    r = res.results[0]
    expect(r.outcome == "conflict", f"outcome {r.outcome} ({r.code or ''}) instead of conflict")
    found = [k for k in res.conflicts if k.id == r.conflict_id]
    expect(bool(found), f"conflict_id {r.conflict_id} is not among the response's conflicts")
    k = found[0]
    expect((k.entity, k.entity_id, k.field, k.change_id) == ("tasks", tid, "title", mine.change_id),
           f"the conflict names {k.entity} {k.entity_id} field {k.field} change {k.change_id}")
    expect((k.theirs, k.mine, k.base_version) == ("conformance theirs", "conformance mine", 1),
           f"theirs {k.theirs!r}, mine {k.mine!r}, base_version {k.base_version}")
    rec = kit.latest("tasks", kit.found.get("cursor", 0), tid)
    expect(rec.fields.get("title") == "conformance theirs", f"the server took the loser: title {rec.fields.get('title')!r}")
    kit.found["conflict"] = k.id
    return f"conflict {k.id} on title; the server kept its value"


def check_conflicts_list_resolve(kit: Kit) -> str:
    """GET /v1/conflicts lists the caller's open conflict; resolving it (204) closes it"""
    cid = kit.need("token", "conflict")
    listed = answer(kit.call("GET", "/v1/conflicts"), c.ConflictList)
    expect(cid in {k.id for k in listed.conflicts}, "the open conflict is not listed")
    r = kit.call("POST", f"/v1/conflicts/{cid}/resolve")
    expect(r.status_code == 204, f"resolve: HTTP {r.status_code} instead of 204")
    listed = answer(kit.call("GET", "/v1/conflicts"), c.ConflictList)
    expect(cid not in {k.id for k in listed.conflicts}, "still listed after resolving")
    refused(kit.call("POST", f"/v1/conflicts/{new_id()}/resolve"), 404, c.ErrorCode.NOT_FOUND)
    return "listed, resolved, gone; an unknown one 404 not_found"


def check_delete_tombstone(kit: Kit) -> str:
    """A delete is applied and travels as a tombstone (deleted=true, a higher version)"""
    tid = kit.need("token", "merge_task")
    before = kit.latest("tasks", kit.found.get("cursor", 0), tid)
    res = kit.push([kit.change("tasks", tid, "delete", base_version=before.version)])
    outcome(res.results[0], "applied", what="delete")
    rec = kit.latest("tasks", before.feed_seq, tid)
    expect(rec.deleted and rec.version > before.version,
           f"pulled after the delete: deleted {rec.deleted}, version {before.version} → {rec.version}")
    return f"tombstone at version {rec.version}"


def check_delete_stale_conflict(kit: Kit) -> str:
    """A delete made on a version changed since is not applied: a conflict on "deleted", the record stays"""
    kit.need("token")
    tid, _ = kit.task("stale delete")
    outcome(kit.push([kit.change("tasks", tid, "update", {"title": "conformance changed"}, 1)]).results[0],
            "applied", 2)
    stale = kit.change("tasks", tid, "delete", base_version=1)
    res = kit.push([stale])
    r = res.results[0]
    expect(r.outcome == "conflict", f"stale delete: outcome {r.outcome} ({r.code or ''}) instead of conflict")
    found = [k for k in res.conflicts if k.id == r.conflict_id]
    expect(bool(found), f"conflict_id {r.conflict_id} is not among the response's conflicts")
    k = found[0]
    expect((k.entity, k.entity_id, k.field, k.mine, k.change_id) == ("tasks", tid, "deleted", True, stale.change_id),
           f"the conflict names {k.entity} {k.entity_id} field {k.field} mine {k.mine!r} change {k.change_id}")
    expect(isinstance(k.theirs, dict) and k.theirs.get("title") == "conformance changed",
           f"theirs is not the record's current fields: {str(k.theirs)[:120]}")
    rec = kit.latest("tasks", kit.found.get("cursor", 0), tid)
    expect((rec.deleted, rec.version) == (False, 2), f"after the stale delete: deleted {rec.deleted}, version {rec.version}")
    r = kit.call("POST", f"/v1/conflicts/{k.id}/resolve")
    expect(r.status_code == 204, f"resolve: HTTP {r.status_code} instead of 204")
    outcome(kit.push([kit.change("tasks", tid, "delete", base_version=2)]).results[0], "applied", 3,
            "delete on the current version")
    return "conflict on deleted, the record kept at version 2; deleted on the current version"


# ---------------------------------------------------------------- photos


def _photo_setup(kit: Kit) -> dict[str, Any]:
    """A task, a finding on it and a photo's bytes of 2 whole chunks and a short one."""
    if "photo" not in kit.found:
        info = kit.need("token", "info")
        tid, _ = kit.task("photos")
        fid = new_id()
        outcome(kit.push([kit.change("findings", fid, fields={"task_id": tid, "description": "conformance"})]
                         ).results[0], "applied", 1, "creating a finding")
        size = min(2 * info.chunk_bytes + 100, info.max_photo_bytes)
        data = os.urandom(size)
        kit.found["photo"] = {"task": tid, "finding": fid, "data": data, "sha": sha(data),
                              "chunk": info.chunk_bytes}
    return kit.found["photo"]


def _parts(p: dict[str, Any]) -> list[bytes]:
    n = p["chunk"]
    return [p["data"][i:i + n] for i in range(0, len(p["data"]), n)]


def _put(kit: Kit, digest: str, index: int, data: bytes, chunk_hash: str | None = None):
    return kit.call("PUT", f"/v1/photos/{digest}/chunks/{index}", data=data,
                    headers={c.CHUNK_HASH_HEADER: chunk_hash or sha(data), "Content-Type": "application/octet-stream"})


def _start(kit: Kit, digest: str, size: int) -> c.UploadState:
    state = answer(kit.call("POST", f"/v1/photos/{digest}/upload", body=c.UploadStart(size=size)), c.UploadState)
    expect((state.sha256, state.size) == (digest, size), f"upload state for {state.sha256[:12]} of {state.size} bytes")
    return state


def check_photos_missing(kit: Kit) -> str:
    """POST /v1/photos/missing names the hashes the server lacks"""
    p = _photo_setup(kit)
    other = sha(os.urandom(16))
    res = answer(kit.call("POST", "/v1/photos/missing", body=c.MissingPhotosRequest(hashes=[p["sha"], other])),
                 c.MissingPhotosResponse)
    expect(set(res.missing) == {p["sha"], other}, f"missing {res.missing}, expected both new hashes")
    return "both new hashes missing"


def check_photo_record_before_upload(kit: Kit) -> str:
    """A photo record whose file has not arrived is rejected: upload_incomplete (and retried later)"""
    p = _photo_setup(kit)
    ch = kit.change("photos", new_id(), fields={"finding_id": p["finding"], "sha256": p["sha"], "kind": "site",
                                                 "size": len(p["data"])})
    r = kit.push([ch]).results[0]
    expect((r.outcome, r.code) == ("rejected", c.ErrorCode.UPLOAD_INCOMPLETE),
           f"outcome {r.outcome} {r.code or ''} instead of rejected upload_incomplete")
    p["change"] = ch
    return "rejected upload_incomplete"


def check_upload_bad_chunk_hash(kit: Kit) -> str:
    """An upload starts empty; a chunk that is not its X-Chunk-SHA256 is refused: 422 chunk_hash_mismatch"""
    p = _photo_setup(kit)
    state = _start(kit, p["sha"], len(p["data"]))
    expect((state.received, state.complete, state.chunk_bytes) == ([], False, p["chunk"]),
           f"a new upload: received {state.received}, complete {state.complete}, chunk_bytes {state.chunk_bytes}")
    refused(_put(kit, p["sha"], 0, _parts(p)[0], chunk_hash=sha(b"not this chunk")), 422,
            c.ErrorCode.CHUNK_HASH_MISMATCH)
    after = _start(kit, p["sha"], len(p["data"]))
    expect(after.received == [], f"the refused chunk was kept: received {after.received}")
    return "422 chunk_hash_mismatch, nothing kept"


def check_upload_resume(kit: Kit) -> str:
    """An interrupted upload resumes: a new start reports the chunks already received"""
    p = _photo_setup(kit)
    parts = _parts(p)
    last = len(parts) - 1
    state = answer(_put(kit, p["sha"], last, parts[last]), c.UploadState)
    expect(last in state.received and not state.complete, f"after the last chunk: received {state.received}")
    state = _start(kit, p["sha"], len(p["data"]))
    expect(state.received == [last], f"a resumed start reports received {state.received}, not [{last}]")
    return f"resumed with chunk {last} held"


def check_upload_complete(kit: Kit) -> str:
    """The remaining chunks complete the upload; the photo is then not missing"""
    p = _photo_setup(kit)
    parts = _parts(p)
    state = None
    for index in range(len(parts) - 1):
        state = answer(_put(kit, p["sha"], index, parts[index]), c.UploadState)
    expect(state is not None and state.complete, f"after every chunk: complete {state and state.complete}")
    res = answer(kit.call("POST", "/v1/photos/missing", body=c.MissingPhotosRequest(hashes=[p["sha"]])),
                 c.MissingPhotosResponse)
    expect(res.missing == [], f"still missing after the upload: {res.missing}")
    expect(_start(kit, p["sha"], len(p["data"])).complete, "a new start does not say complete")
    p["stored"] = True
    return f"{len(parts)} chunks, {len(p['data'])} bytes stored"


def check_photo_record_after_upload(kit: Kit) -> str:
    """The rejected photo record, retried under its change id, applies; the photo downloads"""
    p = _photo_setup(kit)
    ch = p.get("change")
    expect(ch is not None and p.get("stored"), "not run: the photo record or its upload failed earlier")
    outcome(kit.push([ch]).results[0], "applied", 1, "the photo record after its upload")
    p["record"] = ch.entity_id
    r = kit.call("GET", f"/v1/photos/{p['sha']}")
    expect(r.status_code == 200 and r.content == p["data"],
           f"download: HTTP {r.status_code}, {len(r.content)} bytes, {'other' if r.content != p['data'] else 'same'} bytes")
    return "applied, downloaded the same bytes"


def check_evidence_append_only(kit: Kit) -> str:
    """Checks and photos are append-only: their author's update or delete is rejected: forbidden"""
    p = _photo_setup(kit)
    photo = p.get("record")
    expect(photo is not None, "not run: the photo record was not applied earlier")
    cid = new_id()
    outcome(kit.push([kit.change("checks", cid, fields={"finding_id": p["finding"], "result": "not_rectified"})]
                     ).results[0], "applied", 1, "creating a check")
    res = kit.push([kit.change("checks", cid, "update", {"result": "rectified"}, 1),
                    kit.change("checks", cid, "delete", base_version=1),
                    kit.change("photos", photo, "update", {"kind": "after"}, 1),
                    kit.change("photos", photo, "delete", base_version=1)])
    got = [(r.outcome, r.code) for r in res.results]
    expect(got == [("rejected", "forbidden")] * 4, f"results {got} instead of 4 × rejected forbidden")
    return "a check created; its and the photo's update and delete 4 × rejected forbidden"


def check_upload_wrong_whole_hash(kit: Kit) -> str:
    """Chunks whose whole is not the named SHA-256 drop the upload: 422 photo_hash_mismatch"""
    info = kit.need("token", "info")
    data = os.urandom(min(1000, info.chunk_bytes))
    named = sha(os.urandom(32))
    _start(kit, named, len(data))
    refused(_put(kit, named, 0, data), 422, c.ErrorCode.PHOTO_HASH_MISMATCH)
    res = answer(kit.call("POST", "/v1/photos/missing", body=c.MissingPhotosRequest(hashes=[named])),
                 c.MissingPhotosResponse)
    expect(res.missing == [named], "the mismatched photo is held anyway")
    return "422 photo_hash_mismatch, still missing"


def check_photo_too_large(kit: Kit) -> str:
    """An upload over max_photo_bytes is refused: 413 photo_too_large"""
    info = kit.need("token", "info")
    r = kit.call("POST", f"/v1/photos/{sha(os.urandom(8))}/upload", body=c.UploadStart(size=info.max_photo_bytes + 1))
    refused(r, 413, c.ErrorCode.PHOTO_TOO_LARGE)
    return f"{info.max_photo_bytes + 1} bytes: 413 photo_too_large"


# ---------------------------------------------------------------- a second user


def _second(kit: Kit) -> str:
    if kit.second_token is None:
        kit.need("token")
        res = kit.login(kit.second_user or "", kit.second_password or "", kit.second_device)
        expect(res.user.role != c.Role.ADMIN, "the second user is an admin: they may see everything")
        kit.second_token = res.token
    return kit.second_token


def check_second_cannot_see(kit: Kit) -> str:
    """The second user pulls none of the first user's tasks nor their finding"""
    token = _second(kit)
    ids = set(kit.found.get("ids", [])) | ({kit.found["photo"]["task"]} if "photo" in kit.found else set())
    expect(bool(ids), "not run: no tasks were made")
    _cursor, tasks = kit.walk("tasks", 0, token=token)
    _cursor, recs = kit.walk("records", 0, token=token)
    seen = ids & {r.id for r in tasks}
    seen |= {r.id for r in recs} & ({kit.found["photo"]["finding"]} if "photo" in kit.found else set())
    expect(not seen, f"the second user pulls {len(seen)} of the first user's records")
    return f"none of {len(ids)} tasks nor the finding"


def check_second_cannot_write(kit: Kit) -> str:
    """The second user's update of those tasks and a finding under them are rejected: forbidden"""
    token = _second(kit)
    tid = kit.need("ids")[0]
    second = Kit(kit.http, kit.second_user or "", "")
    changes = [second.change("tasks", tid, "update", {"title": "conformance not yours"}, 1),
               second.change("findings", new_id(), fields={"task_id": tid, "description": "not yours"})]
    res = answer(kit.http.call("POST", "/v1/push", token=token,
                               body=c.PushRequest(device_id=kit.second_device, changes=changes)), c.PushResponse)
    got = [(r.outcome, r.code) for r in res.results]
    expect(got == [("rejected", "forbidden")] * 2, f"results {got} instead of 2 × rejected forbidden")
    return "2 × rejected forbidden"


def check_second_cannot_download(kit: Kit) -> str:
    """The second user cannot download the first user's photo: 403 forbidden"""
    token = _second(kit)
    p = kit.need("photo")
    expect(bool(p.get("stored")), "not run: the photo upload failed earlier")
    refused(kit.http.call("GET", f"/v1/photos/{p['sha']}", token=token), 403, c.ErrorCode.FORBIDDEN)
    return "403 forbidden"


def check_second_cannot_resolve(kit: Kit) -> str:
    """The second user cannot resolve the first user's conflict: 403 forbidden"""
    token = _second(kit)
    cid = kit.need("conflict")
    refused(kit.http.call("POST", f"/v1/conflicts/{cid}/resolve", token=token), 403, c.ErrorCode.FORBIDDEN)
    listed = answer(kit.http.call("GET", "/v1/conflicts", token=token), c.ConflictList)
    expect(cid not in {k.id for k in listed.conflicts}, "the first user's conflict is listed to the second")
    return "403 forbidden, not listed to them"


CHECKS = [
    check_info, check_contract_header_missing, check_contract_header_other_version, check_login_wrong_password,
    check_login, check_unauthenticated, check_logout_revokes, check_pull_streams,
    check_push_create_pull, check_pull_pagination, check_replay_duplicate, check_change_id_reused,
    check_merge_other_field, check_conflict_same_field, check_conflicts_list_resolve, check_delete_tombstone,
    check_delete_stale_conflict, check_photos_missing, check_photo_record_before_upload, check_upload_bad_chunk_hash,
    check_upload_resume, check_upload_complete, check_photo_record_after_upload, check_evidence_append_only,
    check_upload_wrong_whole_hash, check_photo_too_large,
]
SECOND_USER_CHECKS = [check_second_cannot_see, check_second_cannot_write, check_second_cannot_download,
                      check_second_cannot_resolve]
