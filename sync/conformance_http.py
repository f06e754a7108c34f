"""The conformance kit's HTTP side: requests with the contract header, and answers checked
against the contract's models (`answer`, `refused`), every mismatch a `Fail` with its reason.
`--trace` writes each exchange as a JSON line, tokens and passwords blanked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError

from sync import contract as c

M = TypeVar("M", bound=BaseModel)
TIMEOUT = 30.0
BLANK = "…"


class Fail(Exception):
    """A check's failure, its message the one-line reason."""


def snippet(r: requests.Response) -> str:
    text = r.content[:120].decode("utf-8", "replace").replace("\n", " ")
    return text + ("…" if len(r.content) > 120 else "")


def answer(r: requests.Response, model: type[M], status: int = 200) -> M:
    """The answer as `model`, or Fail: another status, or a body the model refuses."""
    if r.status_code != status:
        code = _code(r)
        raise Fail(f"{r.request.method} {_path(r)}: HTTP {r.status_code}{' ' + code if code else ''} "
                   f"instead of {status}: {snippet(r)}")
    try:
        return model.model_validate_json(r.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Fail(f"{r.request.method} {_path(r)}: not a {model.__name__} "
                   f"({'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']})") from None


def refused(r: requests.Response, status: int, code: str) -> c.ErrorBody:
    """The answer is an ErrorBody of `code` with HTTP `status`, messages in both languages."""
    try:
        body = c.ErrorBody.model_validate_json(r.content)
    except ValidationError:
        raise Fail(f"{r.request.method} {_path(r)}: expected {status} {code}, got HTTP {r.status_code} "
                   f"without an ErrorBody: {snippet(r)}") from None
    if (r.status_code, body.code) != (status, code):
        raise Fail(f"{r.request.method} {_path(r)}: expected {status} {code}, got {r.status_code} {body.code}")
    if not (body.message.zh.strip() and body.message.en.strip()):
        raise Fail(f"{code}: the message lacks its Chinese or English text")
    return body


def expect(condition: bool, reason: str) -> None:
    if not condition:
        raise Fail(reason)


def _code(r: requests.Response) -> str:
    try:
        return c.ErrorBody.model_validate_json(r.content).code
    except ValidationError:
        return ""


def _path(r: requests.Response) -> str:
    return urlsplit(r.request.url or "").path


class Http:
    """requests with the base URL, the contract header (unless told otherwise) and a trace."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT, trace: Path | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.trace = open(trace, "w", encoding="utf-8") if trace else None  # noqa: SIM115 - closed by close()
        self.check = ""

    def close(self) -> None:
        self.session.close()
        if self.trace:
            self.trace.close()

    def call(self, method: str, path: str, *, token: str | None = None, body: BaseModel | dict | None = None,
             data: bytes | None = None, headers: dict[str, str] | None = None, params: dict | None = None,
             contract: str | None = str(c.CONTRACT_VERSION)) -> requests.Response:
        """`contract`: the header's value, None to leave it out."""
        sent = dict(headers or {})
        if contract is not None:
            sent[c.CONTRACT_HEADER] = contract
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload: Any = None
        if body is not None:
            payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        r = self.session.request(method, self.base_url + path, data=data, headers=sent, params=params,
                                 timeout=self.timeout)
        if self.trace:
            self._trace(method, path, params, sent, payload, data, r)
        return r

    def _trace(self, method: str, path: str, params: dict | None, sent: dict[str, str], payload: Any,
               data: bytes | None, r: requests.Response) -> None:
        request: Any = payload if payload is not None else (f"<{len(data)} bytes>" if data else None)
        if isinstance(request, dict) and "password" in request:
            request = dict(request, password=BLANK)
        try:
            response: Any = r.json()
        except ValueError:
            response = f"<{len(r.content)} bytes>" if r.content else None
        if isinstance(response, dict) and "token" in response:
            response = dict(response, token=BLANK)
        shown = {k: (f"Bearer {BLANK}" if k == "Authorization" else v) for k, v in sent.items()}
        self.trace.write(json.dumps({"check": self.check, "method": method, "path": path, "params": params,
                                     "headers": shown, "request": request, "status": r.status_code,
                                     "response": response}, ensure_ascii=False) + "\n")
