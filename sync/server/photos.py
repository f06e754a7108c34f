"""Photo files on the platform: content-addressed, uploaded in chunks that survive interruption.

A stored photo is `<photos>/ab/abcdef…` (its SHA-256), written to a temporary name, flushed
and renamed, and only then entered in the `photos` table: a row always has its file. An
upload under way is a row in `uploads` and a file per chunk under `<photos>/.uploads/<sha>/`;
each chunk file is complete or absent (temporary name, rename), so several server processes
may take chunks of one upload, and the answer to a resumed start lists the chunks held.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.contract import ErrorCode, UploadState
from sync.server import records
from sync.server.auth import Caller
from sync.server.db import Database, PhotoRow, RecordRow, UploadRow, utcnow
from sync.server.errors import ApiError, not_found


class PhotoFiles:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.uploads = self.root / ".uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def chunk_dir(self, sha: str) -> Path:
        return self.uploads / sha

    def held_chunks(self, sha: str) -> list[int]:
        d = self.chunk_dir(sha)
        if not d.is_dir():
            return []
        return sorted(int(p.name) for p in d.iterdir() if p.name.isdigit())

    def drop_chunks(self, sha: str) -> None:
        shutil.rmtree(self.chunk_dir(sha), ignore_errors=True)


def write_atomic(target: Path, data_parts: list[Path] | bytes) -> str:
    """Write bytes (or the concatenation of files) to `target` via a flushed temporary file and
    a rename; returns the SHA-256 of what was written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data_parts, bytes):
                out.write(data_parts)
                digest.update(data_parts)
            else:
                for part in data_parts:
                    data = part.read_bytes()
                    out.write(data)
                    digest.update(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _chunk_count(size: int, chunk_bytes: int) -> int:
    return (size + chunk_bytes - 1) // chunk_bytes


def missing(db: Database, hashes: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(hashes))  # once each, in the order asked
    held: set[str] = set()
    with db.read() as s:
        for start in range(0, len(wanted), 500):  # bound the IN list
            held.update(s.scalars(select(PhotoRow.sha256).where(PhotoRow.sha256.in_(wanted[start:start + 500]))))
    return [h for h in wanted if h not in held]


def _state(files: PhotoFiles, sha: str, size: int, chunk_bytes: int, complete: bool) -> UploadState:
    return UploadState(sha256=sha, size=size, chunk_bytes=chunk_bytes,
                       received=[] if complete else files.held_chunks(sha), complete=complete)


def start_upload(db: Database, files: PhotoFiles, sha: str, size: int, chunk_bytes: int,
                 max_bytes: int) -> UploadState:
    if size > max_bytes:
        raise ApiError(413, ErrorCode.PHOTO_TOO_LARGE, f"照片超过平台允许的 {max_bytes} 字节",
                       f"the photo is larger than the platform's limit of {max_bytes} bytes",
                       detail={"max_photo_bytes": max_bytes})
    with db.write(feed=False) as s:
        stored = s.get(PhotoRow, sha)
        if stored is not None:
            return _state(files, sha, stored.size, chunk_bytes, True)
        up = s.get(UploadRow, sha)
        if up is not None and up.size != size:  # another size under the same hash: start over
            files.drop_chunks(sha)
            s.delete(up)
            up = None
        if up is None:
            up = UploadRow(sha256=sha, size=size, chunk_bytes=chunk_bytes, started_at=utcnow())
            s.add(up)
        return _state(files, sha, up.size, up.chunk_bytes, False)


def put_chunk(db: Database, files: PhotoFiles, caller: Caller, sha: str, index: int, data: bytes,
              chunk_hash: str | None, chunk_bytes: int) -> UploadState:
    if not chunk_hash or hashlib.sha256(data).hexdigest() != chunk_hash.strip().lower():
        raise ApiError(422, ErrorCode.CHUNK_HASH_MISMATCH, "分片校验失败，请重传该分片",
                       "the chunk does not match its X-Chunk-SHA256; send it again", detail={"index": index})
    with db.read() as s:
        stored = s.get(PhotoRow, sha)
        if stored is not None:
            return _state(files, sha, stored.size, chunk_bytes, True)
        up = s.get(UploadRow, sha)
        if up is None:
            raise not_found("该照片的上传（请先开始上传）", "upload (start it first)")
        size, chunk_bytes = up.size, up.chunk_bytes
    count = _chunk_count(size, chunk_bytes)
    expected = chunk_bytes if index < count - 1 else size - chunk_bytes * (count - 1)
    if not 0 <= index < count or len(data) != expected:
        raise ApiError(400, ErrorCode.BAD_REQUEST, "分片序号或长度不对", "wrong chunk index or length",
                       detail={"index": index, "chunks": count, "expected_bytes": expected if 0 <= index < count else None})
    write_atomic(files.chunk_dir(sha) / str(index), data)
    held = files.held_chunks(sha)
    if len(held) < count:
        return UploadState(sha256=sha, size=size, chunk_bytes=chunk_bytes, received=held, complete=False)
    return _assemble(db, files, caller, sha, size, chunk_bytes, count)


def _assemble(db: Database, files: PhotoFiles, caller: Caller, sha: str, size: int, chunk_bytes: int,
              count: int) -> UploadState:
    parts = [files.chunk_dir(sha) / str(i) for i in range(count)]
    target = files.path(sha)
    # Assembled beside the target under a temporary name; renamed into place only if it is `sha`.
    scratch = target.parent / f".assembling-{sha}-{os.getpid()}"
    try:
        got = write_atomic(scratch, parts)
    except FileNotFoundError:  # another process assembled it and dropped the chunks meanwhile
        return UploadState(sha256=sha, size=size, chunk_bytes=chunk_bytes, received=[], complete=True)
    if got != sha:
        scratch.unlink(missing_ok=True)
        files.drop_chunks(sha)
        with db.write(feed=False) as s:
            up = s.get(UploadRow, sha)
            if up is not None:
                s.delete(up)
        raise ApiError(422, ErrorCode.PHOTO_HASH_MISMATCH, "照片内容与其 SHA-256 不符，上传已作废，请重新上传",
                       "the assembled photo is not the named SHA-256; the upload was dropped, start again",
                       detail={"got": got})
    os.replace(scratch, target)
    try:
        with db.write(feed=False) as s:
            if s.get(PhotoRow, sha) is None:
                s.add(PhotoRow(sha256=sha, size=size, stored_at=utcnow(), uploader=caller.name))
            up = s.get(UploadRow, sha)
            if up is not None:
                s.delete(up)
    except IntegrityError:  # another process stored the same photo at the same moment
        pass
    files.drop_chunks(sha)
    return UploadState(sha256=sha, size=size, chunk_bytes=chunk_bytes, received=[], complete=True)


def photo_path(db: Database, files: PhotoFiles, caller: Caller, sha: str) -> Path:
    """The file of a stored photo, for a caller who may see a photo record holding it."""
    with db.read() as s:
        if s.get(PhotoRow, sha) is None:
            raise not_found("照片", "photo")
        if not caller.admin:
            seen = s.scalar(select(RecordRow.id).where(
                RecordRow.entity == "photos", RecordRow.sha256 == sha, RecordRow.deleted.is_(False),
                records.visible_clause(caller)).limit(1))
            if seen is None:
                raise ApiError(403, ErrorCode.FORBIDDEN, "无权查看此照片", "not allowed to see this photo")
    return files.path(sha)
