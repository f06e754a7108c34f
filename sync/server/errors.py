"""Errors the platform answers with: every one an `ErrorBody` (code, message in both languages).

Handlers turn FastAPI's and Starlette's own errors (validation, unknown path, wrong method,
unreadable body) and anything unexpected into the same shape, so a client never has to parse
an HTML page or a stack trace, and no malformed request gets a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.contract import ErrorBody, ErrorCode, Message

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An expected refusal: raised anywhere in a request, answered as its ErrorBody."""

    def __init__(self, status: int, code: ErrorCode | str, zh: str, en: str, *,
                 detail: dict[str, Any] | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {en}")
        self.status = status
        self.code = str(code)
        self.zh = zh
        self.en = en
        self.detail = detail or {}
        self.retry_after = retry_after

    @property
    def message(self) -> Message:
        return Message(zh=self.zh, en=self.en)

    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, detail=self.detail, retry_after=self.retry_after)


def error_response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def api_error_response(exc: ApiError) -> JSONResponse:
    headers = {"Retry-After": str(max(1, int(exc.retry_after + 0.999)))} if exc.retry_after else None
    return error_response(exc.status, exc.body(), headers)


def bad_request(zh: str, en: str, **detail: Any) -> ApiError:
    return ApiError(400, ErrorCode.BAD_REQUEST, zh, en, detail=detail)


def not_found(what_zh: str, what_en: str) -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, f"找不到{what_zh}", f"{what_en} not found")


def forbidden(zh: str = "无权执行此操作", en: str = "not allowed") -> ApiError:
    return ApiError(403, ErrorCode.FORBIDDEN, zh, en)


# Starlette's own statuses (routing, body parsing) and the code each is answered with.
_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN}
_HTTP_TEXTS = {
    404: ("没有这个地址", "no such path"),
    405: ("此地址不接受该请求方法", "method not allowed on this path"),
    413: ("请求体过大", "request body too large"),
    415: ("不支持的内容类型", "unsupported content type"),
}


def _validation_detail(exc: RequestValidationError) -> dict[str, Any]:
    # Only where and what: echoing the input back could repeat a password or a whole batch.
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:200]}
              for e in exc.errors()[:20]]
    return {"errors": errors}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return api_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        err = bad_request("请求格式不正确", "malformed request", **_validation_detail(exc))
        return api_error_response(err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code if 400 <= exc.status_code < 500 else 400
        zh, en = _HTTP_TEXTS.get(status, ("请求无法处理", "the request cannot be handled"))
        code = _HTTP_CODES.get(status, ErrorCode.BAD_REQUEST)
        return error_response(status, ErrorBody(code=code, message=Message(zh=zh, en=en)))

    @app.exception_handler(sqlalchemy.exc.TimeoutError)
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        # Every pooled connection is waiting (on PostgreSQL, for the feed lock): not a fault of
        # the request nor of the server's code — the client's retry with backoff gets through.
        log.warning("busy on %s %s: %s", request.method, request.url.path, exc)
        body = ErrorBody(code=ErrorCode.SERVER_BUSY, retry_after=2, message=Message(
            zh="平台繁忙，请稍后重试", en="the platform is busy; retry shortly"))
        return error_response(503, body, {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The details go to the server's log, never to the client.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, ErrorBody(code=ErrorCode.SERVER_ERROR, message=Message(
            zh="平台内部错误，请稍后重试或联系管理员", en="internal error of the platform; retry later or tell its administrator")))
