"""The platform's HTTP client: one requests Session, the contract's models on both ends.

Every call has a timeout; idempotent calls (all but login) are retried with backoff by
urllib3's Retry on connection failures and 502/503/504; TLS is always verified (against a site
CA bundle when one is configured); a proxy can be set. Every answer is validated into the
contract's model, and every failure becomes a `sync.errors.SyncError` in the user's language.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fieldapp import __version__
from fieldapp.errors import Text
from sync import contract as c
from sync import errors

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


def _retry(total: int) -> Retry:
    return Retry(total=total, connect=total, read=total, status=total, backoff_factor=0.5, backoff_max=8,
                 status_forcelist=(502, 503, 504), allowed_methods=None,  # every call of ours is idempotent
                 respect_retry_after_header=True, raise_on_status=False)


class PlatformClient:
    def __init__(self, base_url: str, *, token: str | None = None, device_id: str = "",
                 ca_bundle: str = "", proxy: str = "", retries: int = 3,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()
        self.http.verify = ca_bundle or True  # never False
        if proxy:
            self.http.proxies = {"http": proxy, "https": proxy}
        self.http.headers.update({
            c.CONTRACT_HEADER: str(c.CONTRACT_VERSION),
            "User-Agent": f"FieldApp/{__version__}",
        })
        if device_id:
            self.http.headers[c.DEVICE_HEADER] = device_id
        adapter = HTTPAdapter(max_retries=_retry(retries))
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        # Login is not retried: a wrong password must count once.
        self._once = requests.Session()
        self._once.verify, self._once.proxies, self._once.headers = self.http.verify, self.http.proxies, self.http.headers

    def close(self) -> None:
        self.http.close()
        self._once.close()

    # ------------------------------------------------------------------ the calls

    def info(self) -> c.ServerInfo:
        info = self._call("GET", "/v1/info", c.ServerInfo, auth=False)
        if info.contract_version != c.CONTRACT_VERSION:
            raise errors.VersionMismatch(mine=c.CONTRACT_VERSION, theirs=info.contract_version)
        return info

    def login(self, user: str, password: str, device_id: str, device_name: str = "") -> c.LoginResponse:
        body = c.LoginRequest(user=user, password=password, device_id=device_id, device_name=device_name)
        answer = self._call("POST", "/v1/auth/login", c.LoginResponse, json=body, auth=False, session=self._once)
        self.token = answer.token
        return answer

    def logout(self) -> None:
        self._call("POST", "/v1/auth/logout", None)

    def me(self) -> c.UserInfo:
        return self._call("GET", "/v1/me", c.UserInfo)

    def push(self, request: c.PushRequest) -> c.PushResponse:
        return self._call("POST", "/v1/push", c.PushResponse, json=request)

    def pull(self, stream: str, after: int, limit: int = c.MAX_PULL) -> c.PullResponse:
        return self._call("GET", f"/v1/pull/{stream}", c.PullResponse, params={"after": after, "limit": limit})

    def missing_photos(self, hashes: list[str]) -> list[str]:
        return self._call("POST", "/v1/photos/missing", c.MissingPhotosResponse,
                          json=c.MissingPhotosRequest(hashes=hashes)).missing

    def start_upload(self, sha256: str, size: int) -> c.UploadState:
        return self._call("POST", f"/v1/photos/{sha256}/upload", c.UploadState, json=c.UploadStart(size=size))

    def put_chunk(self, sha256: str, index: int, data: bytes) -> c.UploadState:
        headers = {c.CHUNK_HASH_HEADER: hashlib.sha256(data).hexdigest(), "Content-Type": "application/octet-stream"}
        return self._call("PUT", f"/v1/photos/{sha256}/chunks/{index}", c.UploadState, data=data, headers=headers)

    def photo(self, sha256: str) -> bytes:
        response = self._send("GET", f"/v1/photos/{sha256}", auth=True)
        return response.content

    def conflicts(self) -> list[c.Conflict]:
        return self._call("GET", "/v1/conflicts", c.ConflictList).conflicts

    def resolve_conflict(self, conflict_id: str) -> None:
        self._call("POST", f"/v1/conflicts/{conflict_id}/resolve", None)

    # ------------------------------------------------------------------ plumbing

    def _call(self, method: str, path: str, model: type[M] | None, *, json: BaseModel | None = None,
              auth: bool = True, session: requests.Session | None = None, **kwargs: Any) -> Any:
        if json is not None:
            kwargs["data"] = json.model_dump_json().encode("utf-8")
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        response = self._send(method, path, auth=auth, session=session, **kwargs)
        if model is None:
            return None
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise errors.BadAnswer(f"{method} {path}: {exc.error_count()} problems, first: "
                                   f"{exc.errors()[0]['msg']}") from exc

    def _send(self, method: str, path: str, *, auth: bool, session: requests.Session | None = None,
              **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            if not self.token:
                raise errors.SessionExpired()
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = (session or self.http).request(method, self.base_url + path, headers=headers,
                                                      timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise errors.CertificateProblem(_short(exc)) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise errors.NoNetwork(_short(exc)) from exc
        except requests.exceptions.RequestException as exc:
            raise errors.NoNetwork(_short(exc)) from exc
        if response.status_code >= 400:
            raise _error(method, path, response)
        return response


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def _error(method: str, path: str, response: requests.Response) -> errors.SyncError:
    err = _error_for(method, path, response)
    # The contract's machine-readable code, for a caller that acts on one (the engine: a photo
    # over the platform's limit is refused for good instead of stopping every sync).
    err.code = _code_of(response)  # type: ignore[attr-defined]
    return err


def _code_of(response: requests.Response) -> str | None:
    try:
        return c.ErrorBody.model_validate_json(response.content).code
    except ValidationError:
        return None


def _error_for(method: str, path: str, response: requests.Response) -> errors.SyncError:
    status = response.status_code
    try:
        body = c.ErrorBody.model_validate_json(response.content)
    except ValidationError:
        if status >= 500:
            return errors.ServerError(f"HTTP {status}")
        return errors.BadAnswer(f"{method} {path}: HTTP {status}, not a contract error body")
    code = body.code
    log.info("%s %s: %s %s", method, path, status, code)
    if code == c.ErrorCode.CONTRACT_VERSION:
        theirs = body.detail.get("server") or body.detail.get("server_version") or "?"
        return errors.VersionMismatch(mine=c.CONTRACT_VERSION, theirs=theirs)
    if code == c.ErrorCode.WRONG_PASSWORD:
        return errors.WrongPassword()
    if code == c.ErrorCode.TOO_MANY_ATTEMPTS:
        return errors.TooManyAttempts(seconds=int(body.retry_after or 60))
    if code in (c.ErrorCode.UNAUTHENTICATED, c.ErrorCode.TOKEN_EXPIRED, c.ErrorCode.TOKEN_REVOKED):
        return errors.SessionExpired(code)
    if code == c.ErrorCode.USER_DISABLED:
        return errors.UserDisabled()
    if code == c.ErrorCode.FORBIDDEN:
        return errors.Forbidden(body.message.en, what=Text(body.message.zh, body.message.en))
    if status >= 500:
        return errors.ServerError(f"HTTP {status} {code}")
    return errors.SyncError(code, what=Text(f"{body.message.zh}（{code}）", f"{body.message.en} ({code})"))
