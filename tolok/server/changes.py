"""The store's stamp (`board.store_stamp`: the newest finished refresh, the newest audited
write), watched once per server process for all of its open streams of events (`/events`).

On PostgreSQL the store announces each change (`NOTIFY tolok_changes`, from triggers that
migration 0014 makes), whichever process made it: a worker, `tolok refresh` from cron,
`tolok enter`. One connection per process listens; the stamp is read again when a change is
announced, and every `POLL_LISTENING` seconds in case an announcement was lost (the listening
connection dropped and was made again). On SQLite the stamp is read every `POLL` seconds.
Either way it is one query per process, not one per open stream each second.

Knows nothing of pages: a stream reads `stamp` (in memory) between its short sleeps.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "tolok_changes"
POLL = 1.0
"""Seconds between two looks at the stamp where nothing announces a change (SQLite)."""
POLL_LISTENING = float(os.environ.get("TOLOK_EVENTS_POLL", "10"))
"""Seconds between two looks while listening: only for an announcement lost."""


class Changes:
    """The stamp as last read, kept up to date by a thread of its own."""

    def __init__(self, engine: Engine, read: Callable[[Engine], str]) -> None:
        self.engine, self._read = engine, read
        self.stamp = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stamp = self._read(self.engine)
        self._thread = threading.Thread(target=self._watch, name="tolok-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _look(self) -> None:
        try:
            stamp = self._read(self.engine)
        except Exception:  # the store away for a moment: the next look tells
            log.warning("reading the store's stamp failed", exc_info=True)
            return
        self.stamp = stamp  # one assignment: a stream reads the old text or the new

    def _watch(self) -> None:
        while not self._stop.is_set():
            if self.engine.dialect.name == "postgresql":
                try:
                    self._listen()
                except Exception:
                    log.warning("listening to the store's changes failed; again in 1 s",
                                exc_info=True)  # fmt: skip
            else:
                self._look()
            self._stop.wait(POLL)

    def _listen(self) -> None:
        """LISTEN on a connection of its own (autocommit, outside the pool) until stopped."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._look()  # what changed before the listening began
            while not self._stop.is_set():
                # back at the first announcement, or after POLL_LISTENING seconds of none
                for _ in connection.notifies(timeout=POLL_LISTENING, stop_after=1):
                    pass
                self._look()
