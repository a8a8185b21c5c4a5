"""Sign-in attempts limited per account and per address: a sliding window in memory.

An attempt is counted before the password is checked (`attempt`), so concurrent guesses
cannot slip past the limit; a sign-in that succeeds gives its attempt back (`refund`), so
only failures use up the budget. Keys with no recent attempt are dropped, so the memory
stays bounded by the attempts of the last window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

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
