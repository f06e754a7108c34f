"""The platform's HTTP API (FastAPI), exactly as sync/contract.py describes it.

`create_app` builds an app over a database URL and a photos directory. The app holds only
its settings and connection pool: every request reads and writes the database, so several
processes can serve one PostgreSQL. A guard in front of the routes checks the contract
version header and bounds request bodies before anything is parsed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from fieldapp import __version__
from sync import contract as c
from sync.server import auth, conflicts, photos, pull, push
from sync.server.auth import Caller
from sync.server.config import Settings
from sync.server.db import Database
from sync.server.errors import ApiError
from sync.server.errors import install as install_errors

SERVER_VERSION = __version__  # the server ships in FieldApp's own distribution (the server extra)
OPEN_PATHS = {"/v1/info", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
Sha = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$")]
Scope = dict[str, Any]


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    return auth.authenticate(request.app.state.db, authorization)


Me = Annotated[Caller, Depends(_caller)]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class Guard:
    """Pure ASGI middleware: the contract header, then the body's size.

    The body is read here, up to its limit, and replayed to the app: a body too large is
    refused with 413 before FastAPI parses any of it, whether or not it announced its length."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, method: str, path: str) -> int:
        if method == "PUT" and "/chunks/" in path:
            return self.settings.chunk_bytes
        if path == "/v1/push":
            return self.settings.max_push_bytes
        return self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path not in OPEN_PATHS:
            got = headers.get(c.CONTRACT_HEADER.lower())
            if got != str(c.CONTRACT_VERSION):
                await self._refuse(send, ApiError(
                    400, c.ErrorCode.CONTRACT_VERSION,
                    f"协议版本不符：客户端 {got or '未声明'}，平台 {c.CONTRACT_VERSION}。请升级 FieldApp 或平台。",
                    f"contract version mismatch: the client speaks {got or 'none'}, the platform "
                    f"{c.CONTRACT_VERSION}. Upgrade FieldApp or the platform.",
                    detail={"client": got, "server": c.CONTRACT_VERSION}))
                return
        limit = self._limit(method, path)
        too_large = ApiError(413, c.ErrorCode.BAD_REQUEST, f"请求体超过 {limit} 字节", f"the request body exceeds {limit} bytes",
                             detail={"limit": limit})
        try:
            if int(headers.get("content-length", "0")) > limit:
                await self._refuse(send, too_large)
                return
        except ValueError:
            await self._refuse(send, ApiError(400, c.ErrorCode.BAD_REQUEST, "Content-Length 无效", "invalid Content-Length"))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(send, too_large)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Any, err: ApiError) -> None:
        payload = json.dumps(err.body().model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": err.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def create_app(db_url: str | None = None, photos_dir: Path | str | None = None, **options: Any) -> FastAPI:
    """The app over `db_url` (default: FIELDAPP_PLATFORM_DB, else ./platform.db) and
    `photos_dir`; `options` are further `Settings` fields (token_ttl, chunk_bytes, …)."""
    settings = Settings.from_env(db=db_url, photos=photos_dir, **options)
    db = Database(settings.db)
    files = photos.PhotoFiles(settings.photos)
    app = FastAPI(title="FieldApp platform", version=SERVER_VERSION,
                  description=f"The reference provincial platform, wire contract v{c.CONTRACT_VERSION} "
                              f"(every call but /v1/info carries `{c.CONTRACT_HEADER}: {c.CONTRACT_VERSION}`).")
    app.state.settings = settings
    app.state.db = db
    install_errors(app)
    app.add_middleware(Guard, settings=settings)

    errors: dict[int | str, dict[str, Any]] = {code: {"model": c.ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 429)}

    @app.get("/v1/info", response_model=c.ServerInfo)
    def info() -> c.ServerInfo:
        return c.ServerInfo(contract_version=c.CONTRACT_VERSION, server_version=SERVER_VERSION,
                            platform_name=settings.platform_name, max_photo_bytes=settings.max_photo_bytes,
                            chunk_bytes=settings.chunk_bytes, streams=[s.value for s in c.Stream])

    @app.post("/v1/auth/login", response_model=c.LoginResponse, responses=errors)
    def login(body: c.LoginRequest) -> c.LoginResponse:
        return auth.login(db, settings, body)

    @app.post("/v1/auth/logout", status_code=204, responses=errors)
    def logout(_me: Me, authorization: Annotated[str | None, Header()] = None) -> Response:
        auth.logout(db, (authorization or "").partition(" ")[2].strip())
        return Response(status_code=204)

    @app.get("/v1/me", response_model=c.UserInfo, responses=errors)
    def me(me: Me) -> c.UserInfo:
        return me.info()

    @app.post("/v1/push", response_model=c.PushResponse, responses=errors)
    def push_(body: c.PushRequest, me: Me) -> c.PushResponse:
        return push.push(db, me, body)

    @app.get("/v1/pull/{stream}", response_model=c.PullResponse, responses=errors)
    def pull_(stream: c.Stream, me: Me, after: Annotated[int, Query(ge=0, le=push.MAX_SQL_INT)] = 0,
              limit: Annotated[int, Query(ge=1, le=c.MAX_PULL)] = c.MAX_PULL) -> c.PullResponse:
        return pull.pull(db, me, stream, after, limit)

    @app.post("/v1/photos/missing", response_model=c.MissingPhotosResponse, responses=errors)
    def missing(body: c.MissingPhotosRequest, _me: Me) -> c.MissingPhotosResponse:
        bad = [h for h in body.hashes if not push.SHA256_RE.fullmatch(h)]
        if bad:
            raise ApiError(400, c.ErrorCode.BAD_REQUEST, "不是有效的 SHA-256", "not a SHA-256", detail={"hashes": bad[:10]})
        return c.MissingPhotosResponse(missing=photos.missing(db, body.hashes))

    @app.post("/v1/photos/{sha}/upload", response_model=c.UploadState, responses=errors)
    def upload(sha: Sha, body: c.UploadStart, _me: Me) -> c.UploadState:
        return photos.start_upload(db, files, sha, body.size, settings.chunk_bytes, settings.max_photo_bytes)

    @app.put("/v1/photos/{sha}/chunks/{index}", response_model=c.UploadState, responses=errors)
    async def chunk(sha: Sha, index: Annotated[int, PathParam(ge=0, le=2**31)], request: Request, me: Me,
                    x_chunk_sha256: Annotated[str | None, Header(alias=c.CHUNK_HASH_HEADER)] = None) -> c.UploadState:
        data = await request.body()
        # The file and database work is blocking: off the event loop, as FastAPI does for def routes.
        return await run_in_threadpool(photos.put_chunk, db, files, me, sha, index, data, x_chunk_sha256,
                                       settings.chunk_bytes)

    @app.get("/v1/photos/{sha}", response_class=FileResponse, responses=errors)
    def photo(sha: Sha, me: Me) -> FileResponse:
        return FileResponse(photos.photo_path(db, files, me, sha), media_type="application/octet-stream")

    @app.get("/v1/conflicts", response_model=c.ConflictList, responses=errors)
    def conflict_list(me: Me) -> c.ConflictList:
        return conflicts.open_conflicts(db, me)

    @app.post("/v1/conflicts/{conflict_id}/resolve", status_code=204, responses=errors)
    def resolve(conflict_id: Annotated[str, PathParam(max_length=36)], me: Me) -> Response:
        conflicts.resolve(db, me, conflict_id)
        return Response(status_code=204)

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and its worker processes: everything from FIELDAPP_PLATFORM_*."""
    return create_app()
