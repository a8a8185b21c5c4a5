"""One of several server processes (`tolok serve --workers N`): uvicorn's supervisor starts
each in a new interpreter, which builds its app here from what `tolok serve` put in the
environment (the project's folder, secure cookies).

What the processes share lives in the store, so it holds whichever process answers: sessions
and API tokens, sign-in limits (`auth.ratelimit.StoreLimiter`), idempotency keys, the board's
stamp that server-sent events follow, schedule runs (one per occurrence, by lease) and the
delivery log (one message per person). What each keeps in memory is a cache checked against
the store: the board's values (by the store's stamp), the project (by its files' times).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

PROJECT = "TOLOK_SERVE_PROJECT"
SECURE = "TOLOK_SERVE_SECURE"


def app() -> FastAPI:
    """The app of one worker process (uvicorn's `factory=True`)."""
    from tolok.server.app import create_app
    from tolok.server.logs import configure

    configure()
    return create_app(Path(os.environ[PROJECT]), secure_cookies=os.environ.get(SECURE) == "1")
