"""The conformance kit (sync/conformance.py) against the reference server and against broken ones.

The reference platform (tests/platform_fixtures.py) must pass every check, run after run. A
stand-in server of this file's own on loopback must fail the checks its fault breaks, and
only those: one that answers garbage, and a proxy in front of the reference server that
forgets the contract header check, takes another payload under a used change id, or ignores
a pull's limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from platform_fixtures import ROOT, office, office_seed  # noqa: F401 - fixtures

from sync import contract as c

CHECKS = [
    "info", "contract_header_missing", "contract_header_other_version", "login_wrong_password", "login",
    "unauthenticated", "logout_revokes", "pull_streams", "push_create_pull", "pull_pagination",
    "replay_duplicate", "change_id_reused", "merge_other_field", "conflict_same_field", "conflicts_list_resolve",
    "delete_tombstone", "delete_stale_conflict", "photos_missing", "photo_record_before_upload",
    "upload_bad_chunk_hash", "upload_resume", "upload_complete", "photo_record_after_upload", "evidence_append_only",
    "upload_wrong_whole_hash", "photo_too_large",
]
SECOND_USER_CHECKS = ["second_cannot_see", "second_cannot_write", "second_cannot_download", "second_cannot_resolve"]


def kit(url: str, user: str, password: str, *more: str, second_password: str | None = None,
        command: tuple[str, ...] = ("-m", "sync.conformance")) -> tuple[int, dict, str]:
    """Run the kit as a subprocess with --json: (exit status, the report, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_")}
    env.update(FIELDAPP_PASSWORD=password, PYTHONPATH=str(ROOT))
    if second_password:
        env["FIELDAPP_SECOND_PASSWORD"] = second_password
    proc = subprocess.run([sys.executable, *command, url, "--user", user, "--json", *more], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def failing(report: dict) -> dict[str, str]:
    return {r["name"]: r["reason"] for r in report["checks"] if not r["ok"]}


def test_the_reference_server_passes_every_check_run_after_run(office):
    pw = office.passwords
    status, report, _ = kit(office.base_url, "zhang", pw["zhang"], "--second-user", "zhao",
                            second_password=pw["zhao"])
    assert failing(report) == {} and status == 0
    assert [r["name"] for r in report["checks"]] == CHECKS + SECOND_USER_CHECKS
    assert (report["passed"], report["failed"]) == (30, 0)
    # Again on the same server, without the second user and through fieldapp-platform's CLI.
    status, report, _ = kit(office.base_url, "zhang", pw["zhang"], command=("-m", "sync.server.cli", "conformance"))
    assert (status, failing(report), [r["name"] for r in report["checks"]]) == (0, {}, CHECKS)


def test_an_inspector_fails_the_checks_that_need_a_supervisor(office):
    status, report, _ = kit(office.base_url, "li", office.passwords["li"])
    failed = failing(report)
    assert status == 1
    assert "creating a task (is the user a supervisor?)" in failed["merge_other_field"]
    assert "NOT a supervisor" in next(r["reason"] for r in report["checks"] if r["name"] == "login")
    assert {"info", "login", "logout_revokes", "pull_streams", "photo_too_large"}.isdisjoint(failed)


def test_human_output_and_a_password_on_stdin(office):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_")}
    proc = subprocess.run([sys.executable, "-m", "sync.conformance", office.base_url, "--user", "zhang"],
                          cwd=ROOT, env=dict(env, PYTHONPATH=str(ROOT)), input=office.passwords["zhang"] + "\n",
                          capture_output=True, text=True, timeout=300, check=False)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split()[:2] for line in lines[:-1]] == [["PASS", name] for name in CHECKS]
    assert lines[-1].startswith(f"{len(CHECKS)} passed, 0 failed")


# ---------------------------------------------------------------- broken servers


Handler = Callable[[BaseHTTPRequestHandler, str, bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def stand_in(handle: Handler) -> Iterator[str]:
    """An HTTP server on loopback answering every request with `handle(request, method, body)`."""

    class Request(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, data = handle(self, self.command, body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Request)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_answering_garbage_fails_every_check_without_stopping_the_kit():
    def garbage(req: BaseHTTPRequestHandler, _method: str, _body: bytes):
        if req.path == "/v1/info":
            return 200, {"Content-Type": "application/json"}, b'{"contract_version": 1, "streams": "all"}'
        return 200, {"Content-Type": "text/html"}, b"<html>it works!</html>"

    with stand_in(garbage) as url:
        status, report, _ = kit(url, "zhang", "pw", "--second-user", "zhao", second_password="pw2")
    assert status == 1
    assert [r["name"] for r in report["checks"]] == CHECKS + SECOND_USER_CHECKS
    failed = failing(report)
    assert set(failed) == set(CHECKS + SECOND_USER_CHECKS)
    assert "not a ServerInfo" in failed["info"]
    assert "without an ErrorBody" in failed["contract_header_missing"]
    assert "not a LoginResponse" in failed["login"]
    assert failed["push_create_pull"] == "not run: the sign-in check failed"
    assert not any("unexpected answer" in reason for reason in failed.values()), failed


def proxy(upstream: str, fault: str) -> Handler:
    """Forward to `upstream`, with one fault:
    - "no-header-check": calls without the right contract header are served anyway;
    - "accept-reused": a batch refused for a reused change id is answered as all duplicates;
    - "ignore-limit": pulls answer whole streams whatever `limit` asks."""

    def handle(req: BaseHTTPRequestHandler, method: str, body: bytes):
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        path = req.path
        if fault == "ignore-limit" and path.startswith("/v1/pull/"):
            base, _, query = path.partition("?")
            path = base + "?" + "&".join(p for p in query.split("&") if not p.startswith("limit="))
        if fault == "no-header-check":
            headers = {k: v for k, v in headers.items() if k.lower() != c.CONTRACT_HEADER.lower()}
            headers[c.CONTRACT_HEADER] = str(c.CONTRACT_VERSION)
        r = requests.request(method, upstream + path, data=body, headers=headers, timeout=60)
        data = r.content
        if fault == "accept-reused" and req.path == "/v1/push" and r.status_code == 409:
            batch = c.PushRequest.model_validate_json(body)
            data = c.PushResponse(head=None, results=[
                c.ChangeResult(change_id=ch.change_id, outcome=c.ChangeOutcome.DUPLICATE, version=1)
                for ch in batch.changes]).model_dump_json().encode()
            return 200, {"Content-Type": "application/json"}, data
        return r.status_code, {"Content-Type": r.headers.get("Content-Type", "application/json")}, data

    return handle


@pytest.mark.parametrize("fault,broken", [
    ("no-header-check", {"contract_header_missing", "contract_header_other_version"}),
    ("accept-reused", {"change_id_reused"}),
    ("ignore-limit", {"pull_pagination"}),
])
def test_a_server_with_one_fault_fails_exactly_the_checks_of_that_fault(office, fault, broken):
    with stand_in(proxy(office.base_url, fault)) as url:
        status, report, _ = kit(url, "zhang", office.passwords["zhang"])
    assert status == 1
    assert set(failing(report)) == broken, failing(report)
    if fault == "accept-reused":
        assert "got HTTP 200 without an ErrorBody" in failing(report)["change_id_reused"]
    if fault == "ignore-limit":
        assert "in a page of limit 1" in failing(report)["pull_pagination"]


def test_no_password_at_all_is_a_usage_error(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_")}
    proc = subprocess.run([sys.executable, "-m", "sync.conformance", "http://127.0.0.1:9", "--user", "x"],
                          cwd=ROOT, env=dict(env, PYTHONPATH=str(ROOT)), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "FIELDAPP_PASSWORD" in proc.stderr
