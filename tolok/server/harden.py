"""What every answer of `tolok serve` gets on its way out: security headers (a
Content-Security-Policy among them), HEAD answered as GET without the body, the `Allow` of
a 405 naming every method of the path, request bodies held to a size, and one access-log
line per request. Knows nothing of pages or the API: a table of route methods is given."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tolok.server import errors

access = logging.getLogger("tolok.access")

PLOTLY_STYLES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
                 "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='")  # fmt: skip
"""The two `<style>` elements plotly.min.js (4.1) adds to a page, allowed by their hashes
alone: an empty one it fills through the CSS object model (which no policy governs), and
the style sheet of its map library. No other style written into a page applies; a browser
test (tests/browser/test_csp_browser.py) says when a new Plotly needs another."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' " + PLOTLY_STYLES + "; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
"""No script or style written into a page runs: scripts and style sheets come from
/static, the figures are JSON data blocks, the board's live updates come from this site."""
HARDENING = (("content-security-policy", CSP), ("x-content-type-options", "nosniff"),
             ("x-frame-options", "DENY"), ("referrer-policy", "same-origin"),
             ("cross-origin-opener-policy", "same-origin"))  # fmt: skip


class Harden:
    """Security headers on every answer, and one access-log line per request (method, path,
    status, ms, client). HEAD is answered as the GET of the same path, headers and all, without
    its body; a 405 names in `Allow` every method of the path. Plain ASGI:
    `@app.middleware("http")` would add a task and a queue to every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        large = scope["path"].endswith("/rows") or scope["path"] == "/api/v1/uploads"
        limit = INGEST_BODY if large else BODY  # rows ingested, a file uploaded to the builder
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            status = 413
            await _too_large(send, limit)
            _log(scope, status, started)
            return
        received = 0
        head = scope["method"] == "HEAD"  # answered as a GET without its body
        inner = {**scope, "method": "GET"} if head else scope
        ended = False

        async def receiving() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                framable = _framable(headers)
                for name, value in HARDENING:
                    if not (framable and name == "x-frame-options"):
                        headers.setdefault(name, value)
                if status == 405:  # every method of the path, not only the first route's
                    headers["allow"] = _allowed(scope)
            elif head and message["type"] == "http.response.body":
                if ended:  # the rest of a stream: the server has answered already
                    return
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(inner, receiving, sending)
        except BodyTooLargeError:
            status = 413
            await _too_large(send, limit)
        finally:
            _log(scope, status, started)


def framed_by(origins: list[str]) -> str:
    """The policy of an embed (`/e/…`): the pages of `origins` may frame it, no other, and
    nothing else is eased. With no origins, none may: `frame-ancestors 'none'`."""
    ancestors = " ".join(origins) if origins else "'none'"
    return CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


def _framable(headers: MutableHeaders) -> bool:
    """The answer set its own policy and it lets some site frame it (an embed): then no
    `X-Frame-Options: DENY`, which would refuse what the policy allows."""
    policy = headers.get("content-security-policy")
    return policy is not None and "frame-ancestors 'none'" not in policy


def route_methods(routes: list[Any]) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each route's path, as its pattern, and its methods (HEAD wherever GET is)."""
    table = []
    for route in routes:
        pattern, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if pattern is not None and methods:
            table.append((pattern, frozenset(methods | ({"HEAD"} if "GET" in methods else set()))))
    return table


def _allowed(scope: Scope) -> str:
    """The methods some route answers at the request's path, for the `Allow` header of a
    405: FastAPI makes a route per method and names only the first route's."""
    found: set[str] = set()
    for pattern, methods in scope["app"].state.methods:
        if pattern.match(scope["path"]):
            found |= methods
    return ", ".join(sorted(found))


BODY = 1024 * 1024  # a request body, but for ingestion
INGEST_BODY = 50 * 1024 * 1024


class BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    text = json.dumps(
        errors.body(413, f"the request body is over {limit // 1024 // 1024} MB; send less")
    ).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(text)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": text})


def _log(scope: Scope, status: int, started: float) -> None:
    """One access-log line; the secret of a share link or an embed never reaches the log."""
    path = scope["path"]
    if path.startswith(("/s/", "/e/")):
        tail = "/series" if path.endswith("/series") else ".json" if path.endswith(".json") else ""
        path = path[:3] + "{secret}" + tail
    client = scope.get("client")
    access.info(
        "request",
        extra={"method": scope["method"], "path": path, "status": status,
               "ms": round((time.perf_counter() - started) * 1000, 1),
               "client": client[0] if client else None},
    )  # fmt: skip


def docs_policy(page: bytes) -> str:
    """The policy of /docs: Swagger UI comes from its CDN and starts with a script written
    into the page, allowed by its hash alone."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in re.findall(rb"<script>(.*?)</script>", page, re.S)
    ]
    cdn = "https://cdn.jsdelivr.net"
    return (
        f"default-src 'self'; script-src 'self' {cdn} {' '.join(hashes)}; "
        f"style-src 'self' {cdn} 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
