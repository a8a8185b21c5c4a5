"""The pages' static files — tolok's style sheet and script, and Plotly from the installed
`plotly` package — as answers a browser can keep.

Each file is read, fingerprinted and compressed once per process (gzip, and brotli when the
`brotli` package is there) and kept in memory: plotly.min.js is 4.8 MB as it ships, 1.2 MB
as brotli, and compressing it costs about half a second, so never per request. A page links
a file as `/static/NAME?v=FINGERPRINT` (`url`): that address names one content and is kept
by browsers for a year without asking again. Any other address of the file (no `v`, an old
one) is kept too but checked each time, answered by a 304 while it has not changed. A file
edited while the server runs is read again (its size and modification time are checked).

Knows nothing of pages, sessions or projects.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.responses import Response

try:  # optional at run time: without it, gzip
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    brotli = None

STATIC = Path(__file__).parent / "static"
KINDS = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FOREVER = "public, max-age=31536000, immutable"
CHECK = "public, no-cache"  # kept, but asked again (If-None-Match) before each use
OURS = ("tolok.css", "tolok.js", "build-data.js", "build-kpi.js", "build-rules.js")
"""tolok's own files: the style sheet, the pages' script, and the builder's scripts."""
LARGE = 1024 * 1024
"""Brotli's best quality (11) takes 8 s on plotly.min.js; 9 takes 0.4 s for 10% more bytes."""


def source(name: str) -> Path | None:
    """Where the file `name` is read from, None for a name that is not served."""
    if name == "plotly.min.js":
        import plotly  # type: ignore[import-untyped]

        return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if name in OURS:
        return STATIC / name
    return None


@dataclass
class Asset:
    """One file's bytes as read, its fingerprint, and its compressed forms once made."""

    kind: str
    body: bytes
    stamp: tuple[int, int]  # (size, mtime in ns) when read
    tag: str = ""
    coded: dict[str, bytes] = field(default_factory=dict)  # by content coding

    def __post_init__(self) -> None:
        self.tag = hashlib.sha256(self.body).hexdigest()[:16]

    def etag(self, coding: str | None) -> str:
        """A different tag per coding: the compressed bytes are another representation."""
        return f'"{self.tag}-{coding}"' if coding else f'"{self.tag}"'

    def encoded(self, coding: str | None) -> bytes:
        if coding is None:
            return self.body
        found = self.coded.get(coding)
        if found is None:
            with _LOCK:
                found = self.coded.get(coding)
                if found is None:
                    found = self.coded[coding] = _compress(self.body, coding)
        return found


_KEPT: dict[str, Asset] = {}
_LOCK = threading.Lock()


def asset(name: str) -> Asset | None:
    """The file `name` as kept, read again when it changed on disk; None when not served."""
    path = source(name)
    if path is None:
        return None
    info = path.stat()
    stamp = (info.st_size, info.st_mtime_ns)
    kept = _KEPT.get(name)
    if kept is None or kept.stamp != stamp:
        kept = _KEPT[name] = Asset(KINDS[path.suffix], path.read_bytes(), stamp)
    return kept


def url(name: str) -> str:
    """The address that names the file's present content, for a page to link:
    `/static/tolok.css?v=3f1c0d9a2b7e4c51`."""
    found = asset(name)
    if found is None:
        raise KeyError(name)
    return f"/static/{name}?v={found.tag}"


def codings() -> tuple[str, ...]:
    """The content codings this process writes, the preferred first."""
    return ("br", "gzip") if brotli is not None else ("gzip",)


def chosen_coding(accept_encoding: str) -> str | None:
    """The coding to answer in for a request's `Accept-Encoding`, None for the bytes as they
    are: the first of `codings()` the client accepts (a `q` above 0, by name or by `*`).

    >>> chosen_coding("gzip, deflate"), chosen_coding("gzip;q=0, identity"), chosen_coding("")
    ('gzip', None, None)
    """
    accepted: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name:
            accepted[name] = q
    for coding in codings():
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def answer(name: str, version: str | None, accept_encoding: str, if_none_match: str) -> Response:
    """The answer to GET /static/`name`; raises KeyError for a file that is not served."""
    found = asset(name)
    if found is None:
        raise KeyError(name)
    coding = chosen_coding(accept_encoding)
    headers = {
        "cache-control": FOREVER if version == found.tag else CHECK,
        "etag": found.etag(coding),
        "vary": "Accept-Encoding",
    }
    if _matches(if_none_match, found, coding):
        return Response(status_code=304, headers=headers)
    if coding is not None:
        headers["content-encoding"] = coding
    return Response(found.encoded(coding), media_type=found.kind, headers=headers)


def _matches(if_none_match: str, found: Asset, coding: str | None) -> bool:
    """Whether the client holds this content already (in any coding: a tag it got before the
    server wrote brotli still names the same file). Weak tags compare as strong ones do."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    held = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return any(found.etag(c) in held for c in (None, *codings(), coding))


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        assert brotli is not None
        quality = 9 if len(body) > LARGE else 11
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality))
    return gzip.compress(body, compresslevel=9, mtime=0)
