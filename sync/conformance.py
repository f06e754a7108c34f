"""Conformance kit: run the wire contract's checks against any server that claims to speak it.

    python -m sync.conformance URL --user NAME [--password-env VAR]
                               [--second-user NAME --second-password-env VAR] [--json] [--trace FILE]
    fieldapp-platform conformance URL --user NAME …        (the same, from the platform's CLI)

The checks (`sync.conformance_checks`) talk plain HTTP with `requests`, build every request
from the contract's models (`sync.contract`) and validate every answer with them: a server that
answers garbage fails the check, it does not stop the kit. Each check prints PASS or FAIL with
a one-line reason; the exit status is 1 when any failed (2 when the kit could not start).

The user must be a supervisor (or admin): the checks create their own tasks, a finding and a
photo under fresh UUIDs, so the kit can run again and again against the same server and leaves
that data behind (tasks titled "conformance …", one of them deleted). The optional second user
is for the authorisation checks and must have no rights on the first user's records: an
inspector not assigned to them or a supervisor of another unit (not an admin).

A password comes from the variable named by --password-env (default FIELDAPP_PASSWORD), else
from stdin when it is not a terminal (one line; the second user's on the next line), else a prompt.
`--trace FILE` writes every exchange as JSON lines (tokens and passwords blanked).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = 30.0  # seconds for each answer
# requests, pydantic and the checks are imported when the kit runs: `fieldapp-platform`
# builds this command's arguments on every start and should not pay for them.


@dataclass
class Result:
    name: str
    title: str
    ok: bool
    reason: str
    seconds: float


@dataclass
class Report:
    url: str
    results: list[Result] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        from sync import contract as c

        return {"url": self.url, "contract_version": c.CONTRACT_VERSION, "checks": [asdict(r) for r in self.results],
                "passed": len(self.results) - self.failed, "failed": self.failed}


Check = Callable[[Any], str]


def run(base_url: str, user: str, password: str, *, second_user: str | None = None,
        second_password: str | None = None, timeout: float = TIMEOUT, trace: Path | None = None,
        on_result: Callable[[Result], None] | None = None) -> Report:
    """Run every check in order against `base_url`; each result also goes to `on_result`."""
    import requests

    from sync.conformance_checks import CHECKS, SECOND_USER_CHECKS, Kit
    from sync.conformance_http import Fail, Http

    http = Http(base_url, timeout, trace)
    kit = Kit(http, user, password, second_user, second_password)
    checks = CHECKS + (SECOND_USER_CHECKS if second_user else [])
    report = Report(base_url)
    try:
        for check in checks:
            name = check.__name__.removeprefix("check_")
            title = (check.__doc__ or name).strip().splitlines()[0]
            http.check = name
            started = time.monotonic()
            try:
                ok, reason = True, check(kit) or "ok"
            except Fail as exc:
                ok, reason = False, str(exc)
            except requests.RequestException as exc:
                ok, reason = False, f"no answer: {type(exc).__name__}: {str(exc)[:160]}"
            except Exception as exc:  # noqa: BLE001 - a garbage answer fails its check, never stops the kit
                ok, reason = False, f"unexpected answer ({type(exc).__name__}: {str(exc)[:160]})"
            result = Result(name, title, ok, reason, round(time.monotonic() - started, 3))
            report.results.append(result)
            if on_result:
                on_result(result)
    finally:
        http.close()
    return report


# ---------------------------------------------------------------- command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="the platform's base URL, e.g. https://platform.example.gov.cn")
    p.add_argument("--user", required=True, help="a supervisor (or admin): the checks create tasks")
    p.add_argument("--password-env", default="FIELDAPP_PASSWORD", metavar="VAR",
                   help="variable holding the password (default FIELDAPP_PASSWORD; else stdin or a prompt)")
    p.add_argument("--second-user", metavar="NAME",
                   help="for the authorisation checks: an inspector not assigned to the first user's tasks, "
                        "or a supervisor of another unit")
    p.add_argument("--second-password-env", default="FIELDAPP_SECOND_PASSWORD", metavar="VAR",
                   help="variable holding the second user's password (default FIELDAPP_SECOND_PASSWORD)")
    p.add_argument("--json", action="store_true", help="print one JSON report instead of lines")
    p.add_argument("--trace", type=Path, metavar="FILE", help="write every request and answer as JSON lines")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds to wait for each answer")


def _password(var: str, who: str) -> str:
    if os.environ.get(var):
        return os.environ[var]
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"{who} 的密码 password: ")
    if not password:
        raise ValueError(f"no password for {who}: set {var} or give it on stdin")
    return password


def main_args(args: argparse.Namespace) -> int:
    try:
        password = _password(args.password_env, args.user)
        second = _password(args.second_password_env, args.second_user) if args.second_user else None
    except (ValueError, EOFError, KeyboardInterrupt) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2

    def show(r: Result) -> None:
        print(f"{'PASS' if r.ok else 'FAIL'}  {r.name:<28} {r.reason}", flush=True)

    try:
        report = run(args.url, args.user, password, second_user=args.second_user, second_password=second,
                     timeout=args.timeout, trace=args.trace, on_result=None if args.json else show)
    except OSError as exc:  # the trace file cannot be written
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"{len(report.results) - report.failed} passed, {report.failed} failed — {args.url}")
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sync.conformance", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return main_args(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
