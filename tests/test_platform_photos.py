"""Photos on the reference platform: which are missing, chunked resumable uploads, hash checks,
the photo record that waits for its file, and who may download it."""

from __future__ import annotations

import hashlib
import os

import pytest
from platform_fixtures import (
    Api,
    change,
    error,
    new_id,
    office_seed,  # noqa: F401 - a fixture
    running_platform,
)

from sync import contract as c

CHUNK = 64 * 1024


@pytest.fixture
def server(tmp_path, office_seed):
    with running_platform(tmp_path, seed=office_seed, chunk_bytes=CHUNK, max_photo_bytes=300_000) as s:
        yield s


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(api: Api, digest: str, index: int, data: bytes, chunk_hash: str | None = None):
    return api.put(f"/v1/photos/{digest}/chunks/{index}", data=data,
                   headers={c.CHUNK_HASH_HEADER: chunk_hash or sha(data), "Content-Type": "application/octet-stream"})


def start(api: Api, digest: str, size: int) -> c.UploadState:
    r = api.post(f"/v1/photos/{digest}/upload", json={"size": size})
    assert r.status_code == 200, r.text
    return c.UploadState.model_validate(r.json())


def task_with_finding(server) -> tuple[Api, Api, str]:
    """zhang's task DC-1 assigned to li, li's finding on it: (li, zhang, finding id)."""
    zhang = server.login("zhang")
    tid = new_id()
    zhang.pushed([change("tasks", tid, fields={"code": "DC-1", "title": "t"})])
    server.cli("assign", "DC-1", "li")
    li = server.login("li")
    fid = new_id()
    assert li.pushed([change("findings", fid, fields={"task_id": tid, "description": "d"})]).results[0].version == 1
    return li, zhang, fid


def test_chunked_upload_resumes_refuses_bad_chunks_and_then_the_record_applies(server):
    li, zhang, fid = task_with_finding(server)
    data = os.urandom(2 * CHUNK + 1000)  # three chunks, the last short
    digest = sha(data)
    other = sha(b"never sent")
    missing = li.post("/v1/photos/missing", json={"hashes": [digest, other, digest]})
    assert c.MissingPhotosResponse.model_validate(missing.json()).missing == [digest, other]

    photo = change("photos", pid := new_id(), fields={"finding_id": fid, "sha256": digest, "kind": "site"})
    early = li.pushed([photo])
    assert (early.results[0].outcome, early.results[0].code) == ("rejected", "upload_incomplete")

    state = start(li, digest, len(data))
    assert (state.chunk_bytes, state.received, state.complete) == (CHUNK, [], False)
    parts = [data[:CHUNK], data[CHUNK:2 * CHUNK], data[2 * CHUNK:]]
    body = error(put(li, digest, 0, parts[0], chunk_hash=sha(b"other")), 422, "chunk_hash_mismatch")
    assert body.detail == {"index": 0}
    error(put(li, digest, 1, parts[1][:-1]), 400, "bad_request")  # a middle chunk must be whole
    error(put(li, digest, 3, parts[2]), 400, "bad_request")  # no chunk 3
    assert c.UploadState.model_validate(put(li, digest, 2, parts[2]).json()).received == [2]
    # interrupted here: a new start says what the platform holds
    assert start(li, digest, len(data)).received == [2]
    assert put(li, digest, 0, parts[0]).json()["received"] == [0, 2]
    done = c.UploadState.model_validate(put(li, digest, 1, parts[1]).json())
    assert (done.complete, done.received) == (True, [])
    assert (server.photos_dir / digest[:2] / digest).read_bytes() == data
    assert not (server.photos_dir / ".uploads" / digest).exists()
    assert li.post("/v1/photos/missing", json={"hashes": [digest, other]}).json() == {"missing": [other]}
    assert start(li, digest, len(data)).complete is True

    late = li.pushed([photo])  # the same change id, retried: now applied
    assert (late.results[0].outcome, late.results[0].version) == ("applied", 1)
    assert [(r.entity, r.id) for r in zhang.pull("records").records][-1] == ("photos", pid)
    assert li.get(f"/v1/photos/{digest}").content == data
    assert zhang.get(f"/v1/photos/{digest}").content == data
    error(server.login("zhao").get(f"/v1/photos/{digest}"), 403, "forbidden")
    error(server.login("wang").get(f"/v1/photos/{digest}"), 403, "forbidden")  # not assigned the task
    error(li.get(f"/v1/photos/{other}"), 404, "not_found")


def test_bytes_that_are_not_the_named_hash_drop_the_upload(server):
    li = server.login("li")
    data = os.urandom(CHUNK + 10)
    wrong = sha(b"something else")
    assert start(li, wrong, len(data)).received == []
    assert put(li, wrong, 0, data[:CHUNK]).status_code == 200
    body = error(put(li, wrong, 1, data[CHUNK:]), 422, "photo_hash_mismatch")
    assert body.detail == {"got": sha(data)}
    assert not (server.photos_dir / wrong[:2] / wrong).exists()
    assert start(li, wrong, len(data)).received == []  # dropped: starts from nothing
    assert li.post("/v1/photos/missing", json={"hashes": [wrong]}).json() == {"missing": [wrong]}


def test_too_large_photos_and_chunks_are_refused(server):
    li = server.login("li")
    digest = sha(b"x")
    body = error(li.post(f"/v1/photos/{digest}/upload", json={"size": 300_001}), 413, "photo_too_large")
    assert body.detail == {"max_photo_bytes": 300_000}
    assert start(li, digest, 300_000).complete is False
    error(put(li, digest, 0, b"x" * (CHUNK + 1)), 413, "bad_request")
    error(li.post(f"/v1/photos/{digest}/upload", json={"size": 0}), 400, "bad_request")
    error(li.post(f"/v1/photos/{digest}/upload", json={"size": 10**40}), 413, "photo_too_large")
    error(li.post("/v1/photos/NOT-A-HASH/upload", json={"size": 5}), 400, "bad_request")
    error(put(li, sha(b"never started"), 0, b"abc"), 404, "not_found")
    error(li.put(f"/v1/photos/{digest}/chunks/0", data=b"abc"), 422, "chunk_hash_mismatch")  # no header


def test_checks_and_photos_are_append_only_for_every_role(server):
    """Evidence is created, never changed or deleted: not by its author, the unit's supervisor
    or an admin (DESIGN.md, "Sync principles")."""
    li, zhang, fid = task_with_finding(server)
    server.add_user("root", "admin", "省督查室")
    root = server.login("root")
    data = os.urandom(1000)
    digest = sha(data)
    start(li, digest, len(data))
    assert put(li, digest, 0, data).json()["complete"] is True
    cid, pid = new_id(), new_id()
    created = li.pushed([change("checks", cid, fields={"finding_id": fid, "result": "not_rectified", "note": "n"}),
                         change("photos", pid, fields={"finding_id": fid, "sha256": digest, "kind": "site"})])
    assert [(r.outcome, r.version) for r in created.results] == [("applied", 1), ("applied", 1)]
    for api in (li, zhang, root):
        res = api.pushed([change("checks", cid, "update", {"note": "改"}, base_version=1),
                          change("checks", cid, "delete", base_version=1),
                          change("photos", pid, "update", {"kind": "after"}, base_version=1),
                          change("photos", pid, "delete", base_version=1)])
        assert [(r.outcome, r.code) for r in res.results] == [("rejected", "forbidden")] * 4, res
        for r in res.results:
            assert "append-only" in r.message.en and "只增不改" in r.message.zh
    held = {r.id: r for r in zhang.pull("records").records}
    assert (held[cid].version, held[cid].deleted, held[cid].fields["note"]) == (1, False, "n")
    assert (held[pid].version, held[pid].deleted, held[pid].fields["kind"]) == (1, False, "site")
    # a new check (a second opinion) is how evidence is added
    more = zhang.pushed([change("checks", new_id(), fields={"finding_id": fid, "result": "rectified"})])
    assert more.results[0].outcome == "applied"
