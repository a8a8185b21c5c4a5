"""One error body everywhere: `{"error": {"status", "code", "message", "field"}}`, never a
stack trace. A client can show `message` as is; `field` names the parameter to fix.

An unexpected error is answered here too (a page for a browser, else JSON), inside the
app: Starlette's outermost error middleware re-raises after answering, and the server then
closes the connection, so a client's keep-alive connection would die with every 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tolok.server")

CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.headers = headers or {}
        self.extra = extra or {}


def body(status: int, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": CODES.get(status, "error"),
            "message": message,
            "field": field,
            **extra,
        }
    }


def install(app: FastAPI) -> None:
    app.add_middleware(Unexpected)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        content = body(exc.status, exc.message, exc.field, **exc.extra)
        return JSONResponse(content, exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such page or API route"
        headers = dict(exc.headers or {})
        return JSONResponse(body(exc.status_code, message), exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(where) or None
        message = str(first.get("msg", "invalid request"))
        if field:
            message = f"{field}: {message}"
        bounds = first.get("ctx") or {}
        extra = {}
        if "minimum" in bounds and "maximum" in bounds:  # a number out of range: say which
            extra["allowed"] = {"minimum": bounds["minimum"], "maximum": bounds["maximum"]}
        return JSONResponse(body(422, message, field, **extra), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return await _failed(request, exc)


FAILED = "tolok failed to answer; the server log says why"


async def _failed(request: Request, exc: Exception) -> Response:
    """The answer to an error nobody expected: logged with its trace, answered without."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        from tolok.server.web import error_page, is_page

        if is_page(request):
            return error_page(request, 500, FAILED)
    except Exception:  # the page itself fails (the project does not load): JSON then
        log.warning("the error page failed too", exc_info=True)
    return JSONResponse(body(500, FAILED), 500)


class Unexpected:
    """An unexpected error answered as a 500 and not raised further, so that the server
    keeps the connection open. Plain ASGI, inside the security headers and the access log.
    Not ours to answer: an error of reading the request (a body over the limit, which the
    middleware outside answers), or one after an answer has begun."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        outside: list[BaseException] = []

        async def receiving() -> Message:
            try:
                return await receive()
            except BaseException as exc:
                outside.append(exc)
                raise

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception as exc:
            if started or any(exc is seen for seen in outside):
                raise
            response = await _failed(Request(scope, receive), exc)
            await response(scope, receive, send)
