"""Sign-in attempts limited per account and per address: a sliding window, in the store
(`StoreLimiter`, what a server uses: every process on the store counts together) or in memory
(`Limiter`).

An attempt is counted before the password is checked (`attempt`), so concurrent guesses
cannot slip past the limit; a sign-in that succeeds gives its attempt back (`refund`), so
only failures use up the budget. Keys with no recent attempt are dropped, so the memory
stays bounded by the attempts of the last window.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

from tolok.store.people import SigninAttempt

MAX_KEYS = 100_000


class Limiter:
    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        cutoff = self.clock() - self.window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _wait(self, hits: deque[float] | None) -> float:
        if hits is None or len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[0] + self.window - self.clock())

    def blocked_for(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        with self._lock:
            return self._wait(self._recent(key))

    def attempt(self, key: str) -> float:
        """Count an attempt unless `key` is blocked; the seconds to wait (0: go ahead)."""
        with self._lock:
            hits = self._recent(key)
            wait = self._wait(hits)
            if wait > 0:
                return wait
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._sweep()
                hits = self._hits[key] = deque()
            hits.append(self.clock())
            return 0.0

    def hit(self, key: str) -> None:
        self.attempt(key)

    def refund(self, key: str) -> None:
        """Give back the latest attempt of `key` (it succeeded): counted first, so that
        guesses in flight meet the limit, and forgotten once it proved to be no guess."""
        with self._lock:
            hits = self._recent(key)
            if hits:
                hits.pop()
                if not hits:
                    del self._hits[key]

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _sweep(self) -> None:
        for key in list(self._hits):
            self._recent(key)
        while len(self._hits) >= MAX_KEYS:  # all recent: forget the oldest
            oldest = min(self._hits, key=lambda k: self._hits[k][-1])
            del self._hits[oldest]


class Limits(Protocol):
    """What the sign-in asks of a limiter."""

    def blocked_for(self, key: str) -> float: ...
    def attempt(self, key: str) -> float: ...
    def refund(self, key: str) -> None: ...
    def clear(self, key: str) -> None: ...


class StoreLimiter:
    """`Limiter`'s window kept in the store's `signin_attempts`, so that several server
    processes on one store (`tolok serve --workers N`, or servers behind a load balancer)
    count one budget: a guesser spreading attempts over them meets the same limit.

    An attempt is looked at and counted in one transaction. On PostgreSQL the key's
    transaction-level advisory lock makes concurrent attempts on one key wait for each other;
    SQLite has one writer at a time anyway. Rows older than the window are deleted as attempts
    come, so the table holds the attempts of the last window only."""

    def __init__(
        self,
        engine: Engine,
        limit: int,
        window: float,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        from tolok.auth.accounts import now

        self.engine, self.limit, self.window = engine, limit, dt.timedelta(seconds=window)
        self.clock = clock or now

    def _lock(self, session: Session, key: str) -> None:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    def _wait(self, session: Session, key: str, at: dt.datetime) -> float:
        recent = select(func.count(), func.min(SigninAttempt.at)).where(
            SigninAttempt.key == key, SigninAttempt.at > at - self.window
        )
        count, oldest = session.execute(recent).one()
        if count < self.limit or oldest is None:
            return 0.0
        return max(0.0, (oldest + self.window - at).total_seconds())

    def blocked_for(self, key: str) -> float:
        with Session(self.engine) as session:
            return self._wait(session, key, self.clock())

    def attempt(self, key: str) -> float:
        at = self.clock()
        with Session(self.engine) as session, session.begin():
            self._lock(session, key)
            session.execute(delete(SigninAttempt).where(SigninAttempt.at <= at - self.window))
            wait = self._wait(session, key, at)
            if wait == 0:
                session.add(SigninAttempt(key=key, at=at))
            return wait

    def hit(self, key: str) -> None:
        self.attempt(key)

    def refund(self, key: str) -> None:
        with Session(self.engine) as session, session.begin():
            self._lock(session, key)
            latest = select(func.max(SigninAttempt.id)).where(SigninAttempt.key == key)
            newest = session.scalar(latest)
            if newest is not None:
                session.execute(delete(SigninAttempt).where(SigninAttempt.id == newest))

    def clear(self, key: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(delete(SigninAttempt).where(SigninAttempt.key == key))
