"""Serving the app with uvicorn so that Ctrl-C stops it within a second.

Uvicorn's graceful shutdown waits for every open connection to finish its answer, and a
board's stream of events (`/events`) never finishes by itself: the server would wait for
it forever. So the server tells the app it is stopping (`State.stopping`, which the stream
reads between its polls) and, should an answer still be running, cancels it after
`GRACE` seconds.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

GRACE = 1
"""Seconds an answer under way gets to finish once the server is asked to stop."""


class Server(uvicorn.Server):
    """Uvicorn's server, which sets the app's `stopping` event when a signal asks it to stop."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.tolok_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        state = getattr(self.tolok_app.state, "tolok", None)
        if state is not None:
            state.stopping.set()
        super().handle_exit(sig, frame)


def serve(app: FastAPI, host: str, port: int, **options: Any) -> None:
    """Serve `app` until a signal stops it; the streams it holds open end at once."""
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False,
        timeout_graceful_shutdown=GRACE, **options,
    )  # fmt: skip
    Server(config, app).run()
