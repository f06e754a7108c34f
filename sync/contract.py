"""The wire contract between FieldApp and the provincial platform, version `CONTRACT_VERSION`.

One set of pydantic models, used by the client (`sync.client`) to build requests and validate
answers and by the reference server (`sync.server`) to parse requests and build answers, so
the two cannot drift apart. `docs/sync-protocol.md` explains it for a platform team that
implements the server side themselves.

Conventions:
- JSON over HTTP(S), paths under `/v1`. Every request carries `X-FieldApp-Contract:
  <CONTRACT_VERSION>`; a server speaking another version answers 400 `contract_version`.
- Authenticated calls carry `Authorization: Bearer <token>`.
- Times are ISO 8601 with an offset (`2026-12-02T09:30:00+08:00`).
- Every error is an `ErrorBody` with a machine-readable `code` and a message in both languages.
- Record ids and change ids are client-generated UUIDs (time-ordered, RFC 9562 v7).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CONTRACT_VERSION = 1
CONTRACT_HEADER = "X-FieldApp-Contract"
DEVICE_HEADER = "X-FieldApp-Device"

# Entities that travel, in the order a batch must apply them (parents before children).
ENTITIES = ("tasks", "visits", "findings", "checks", "photos")
Entity = Literal["tasks", "visits", "findings", "checks", "photos"]
Action = Literal["create", "update", "delete"]

SHA256 = Field(pattern=r"^[0-9a-f]{64}$")
UUID_TEXT = Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")

MAX_BATCH = 500  # changes in one push
MAX_PULL = 1000  # items in one pull page


class Wire(BaseModel):
    """Base of every model: unknown fields are refused, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", frozen=False)


# ---------------------------------------------------------------- errors


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"  # malformed JSON or a field of the wrong shape
    CONTRACT_VERSION = "contract_version"  # the client speaks another contract version
    UNAUTHENTICATED = "unauthenticated"  # no token, or a token the server does not know
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    WRONG_PASSWORD = "wrong_password"  # unknown user or wrong password (deliberately one code)
    USER_DISABLED = "user_disabled"
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # repeated wrong passwords: wait `retry_after` s
    FORBIDDEN = "forbidden"  # authenticated, but not allowed to see or write this
    NOT_FOUND = "not_found"
    CHANGE_ID_REUSED = "change_id_reused"  # 409: another payload under an accepted change id
    PHOTO_TOO_LARGE = "photo_too_large"
    PHOTO_HASH_MISMATCH = "photo_hash_mismatch"  # the assembled bytes are not the named hash
    CHUNK_HASH_MISMATCH = "chunk_hash_mismatch"
    UPLOAD_INCOMPLETE = "upload_incomplete"
    SERVER_BUSY = "server_busy"  # 503: too many writers at once; retry after `retry_after` s
    SERVER_ERROR = "server_error"


class Message(Wire):
    zh: str
    en: str


class ErrorBody(Wire):
    code: str  # an ErrorCode; a client treats an unknown code as `server_error`
    message: Message
    detail: dict[str, Any] = Field(default_factory=dict)
    retry_after: float | None = None  # seconds, with too_many_attempts


# ---------------------------------------------------------------- info and sign-in


class ServerInfo(Wire):
    """GET /v1/info — no authentication; the client's first call."""

    contract_version: int
    server_version: str
    platform_name: str = ""
    max_photo_bytes: int
    chunk_bytes: int  # the chunk size the server expects for photo uploads
    streams: list[str]


class Role(StrEnum):
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class UserInfo(Wire):
    name: str
    display_name: str = ""
    role: Role
    unit: str


class LoginRequest(Wire):
    """POST /v1/auth/login"""

    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    device_id: str = UUID_TEXT
    device_name: str = Field(default="", max_length=128)


class LoginResponse(Wire):
    token: str
    expires_at: AwareDatetime
    user: UserInfo


# POST /v1/auth/logout revokes the bearer token: 204. GET /v1/me → UserInfo.


# ---------------------------------------------------------------- push


class Change(Wire):
    """One entry of a device's change log, as it travels.

    `fields` holds the record's values after the change: all of them for a create, only the
    changed ones for an update, none for a delete. `before` holds the changed fields' values
    before an update. `base_version` is the record's version the change was made on (0 for a
    create); the server applies an update only on top of that version, field by field.
    `prev_hash`/`hash` are the device's hash chain; the server acknowledges the last one."""

    change_id: str = UUID_TEXT
    seq: int = Field(ge=1)
    entity: Entity
    entity_id: str = UUID_TEXT
    action: Action
    base_version: int = Field(ge=0)
    fields: dict[str, Any] = Field(default_factory=dict)
    before: dict[str, Any] = Field(default_factory=dict)
    at: AwareDatetime
    author: str = Field(max_length=64)
    op_id: str = Field(default="", max_length=36)
    prev_hash: str = SHA256
    hash: str = SHA256


class PushRequest(Wire):
    """POST /v1/push — a batch of one device's changes, in its log's order.

    The whole batch is one transaction on the server. Replaying a change id already accepted
    with the same content is a no-op (`duplicate`); with other content the batch is refused
    with 409 `change_id_reused` and nothing of it is applied."""

    device_id: str = UUID_TEXT
    changes: list[Change] = Field(max_length=MAX_BATCH)
    # What the device still holds unsent after this batch (for the supervisor's health view).
    pending_changes: int = Field(default=0, ge=0)
    pending_photos: int = Field(default=0, ge=0)
    oldest_pending_at: AwareDatetime | None = None


class ChangeOutcome(StrEnum):
    APPLIED = "applied"  # applied; `version` is the record's new version
    DUPLICATE = "duplicate"  # accepted before: nothing changed
    # Accepted and kept, but some fields were not applied: see `conflict_id`. A delete made on a
    # version another writer has changed since is not applied either: its conflict names the
    # field "deleted" (theirs: the record's fields, mine: true) and the record stays.
    CONFLICT = "conflict"
    # Not accepted. `upload_incomplete` (a photo record whose file has not arrived) stays in the
    # client's outbox and is sent again after the upload; any other code is a refusal for good.
    REJECTED = "rejected"


class ChangeResult(Wire):
    change_id: str
    outcome: ChangeOutcome
    version: int | None = None
    conflict_id: str | None = None
    code: str | None = None  # an ErrorCode, with rejected
    message: Message | None = None


class ChainHead(Wire):
    """The last change of a device's chain the server has received and keeps."""

    seq: int
    hash: str


class PushResponse(Wire):
    results: list[ChangeResult]
    conflicts: list["Conflict"] = Field(default_factory=list)  # those the batch's changes raised
    head: ChainHead | None  # None when the server holds nothing of this device yet


# ---------------------------------------------------------------- pull


class Stream(StrEnum):
    TASKS = "tasks"  # tasks with their dispatch fields
    ASSIGNMENTS = "assignments"  # which user each task is assigned to
    RECORDS = "records"  # visits, findings (returned ones included), checks and photos' metadata
    REFERENCE = "reference"  # the users of the caller's unit (for assignment)


class PulledRecord(Wire):
    """A record as the platform holds it now, or its tombstone."""

    entity: Entity
    id: str
    version: int
    deleted: bool = False
    fields: dict[str, Any] = Field(default_factory=dict)
    # The server's feed position of this item; the page's `cursor` is the largest.
    feed_seq: int


class Assignment(Wire):
    task_id: str
    user: str
    assigned: bool  # False: a tombstone — the task was taken off this user's list
    feed_seq: int


class PullResponse(Wire):
    """GET /v1/pull/{stream}?after=CURSOR&limit=N — what changed since `after`, oldest first.

    Call again with `after=cursor` while `more` is true. A client stores `cursor` only after
    it has applied the page."""

    stream: Stream
    cursor: int
    more: bool
    records: list[PulledRecord] = Field(default_factory=list)
    assignments: list[Assignment] = Field(default_factory=list)
    users: list[UserInfo] = Field(default_factory=list)


# ---------------------------------------------------------------- photos


class MissingPhotosRequest(Wire):
    """POST /v1/photos/missing"""

    hashes: list[str] = Field(max_length=5000)


class MissingPhotosResponse(Wire):
    missing: list[str]


class UploadStart(Wire):
    """POST /v1/photos/{sha256}/upload — begin or resume an upload.

    The photo is cut into chunks of the server's `chunk_bytes` (the last one shorter); the
    answer says which chunks the server already holds, so an interrupted upload resumes."""

    size: int = Field(ge=1)


class UploadState(Wire):
    sha256: str
    size: int
    chunk_bytes: int
    received: list[int]  # chunk indexes already held
    complete: bool  # the photo is stored (its hash checked)


# PUT /v1/photos/{sha256}/chunks/{index}, body: the chunk's bytes, header X-Chunk-SHA256: the
# chunk's hash → UploadState. When the last chunk arrives the server assembles the photo and
# checks its SHA-256; a mismatch drops the upload (422 photo_hash_mismatch).
CHUNK_HASH_HEADER = "X-Chunk-SHA256"

# GET /v1/photos/{sha256} → the photo's bytes (an authorised user only).


# ---------------------------------------------------------------- conflicts


class Conflict(Wire):
    """A change the server kept but did not apply over another writer's value."""

    id: str
    entity: Entity
    entity_id: str
    change_id: str
    field: str
    theirs: Any  # the value the server holds (the other writer's)
    mine: Any  # the value the change wanted
    base_version: int
    created_at: AwareDatetime
    resolved: bool = False


class ConflictList(Wire):
    """GET /v1/conflicts — the open conflicts of the caller's own changes."""

    conflicts: list[Conflict]


# POST /v1/conflicts/{id}/resolve → 204: the user chose. Choosing their own value is a new
# change made on the current version, pushed like any other; resolving only closes the conflict.

PushResponse.model_rebuild()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
