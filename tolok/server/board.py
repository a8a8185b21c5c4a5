"""The board's data (KPI cards, the goal tree) kept between requests: building it reads the
store once per KPI, and it only changes when the store or the project does.

An entry holds while the same project is loaded (the server reloads it when its files'
stamps change), the day is the same (a period closes at midnight in the project's zone),
and the store's stamp is the same: the finished refreshes and the newest audit entry.
Every write that changes what the board shows is one of those: refreshes write the values
and definitions, people's targets are written with an audit entry.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select

from tolok.spec.loaded import LoadedProject
from tolok.store.schema import AuditEntry, Refresh

T = TypeVar("T")


_STAMP = select(  # the newest finished refresh (done or failed: a failed one costs a build)
    select(func.max(Refresh.finished_at)).scalar_subquery(),  # indexed: no scan
    select(func.max(AuditEntry.id)).scalar_subquery(),
)
_COMPILED: dict[str, str] = {}  # by dialect: the statement above, compiled once by SQLAlchemy


def store_stamp(engine: Engine) -> tuple[Any, ...]:
    """What changes whenever a refresh finishes or anything audited is written. Asked on
    every request, so the statement is compiled once (it has no parameters) and run on the
    pool's driver connection itself: SQLAlchemy's result machinery cost as much as the
    query."""
    name = engine.dialect.name
    if name not in _COMPILED:
        _COMPILED[name] = str(_STAMP.compile(dialect=engine.dialect))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(_COMPILED[name])
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, rolled back
    assert row is not None
    return tuple(row)


@dataclass
class _Entry:
    loaded: LoadedProject  # held, so that its id is not reused while the entry lives
    key: tuple[Any, ...]
    value: Any


class BoardCache:
    """Values built from the project and the store, rebuilt when either changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.builds = 0  # how many times a value was built (for tests)
        self._entries: dict[str, _Entry] = {}
        self._families: dict[str, dict[str, None]] = {}  # names by family, oldest first
        self._lock = threading.RLock()  # a build may get another value

    def peek(
        self, what: str, loaded: LoadedProject, today: dt.date, stamp: tuple[Any, ...] | None
    ) -> Any | None:
        """The value named `what` if the one kept still holds, else None; never builds, never
        waits (for the event loop: a miss goes to `get` in a worker thread). `stamp`: the
        store's, when the request read it already (checking its token)."""
        key = (id(loaded), today, stamp if stamp is not None else store_stamp(self.engine))
        entry = self._entries.get(what)
        if entry is not None and entry.loaded is loaded and entry.key == key:
            return entry.value
        return None

    def get(self, what: str, loaded: LoadedProject, today: dt.date, build: Callable[[], T]) -> T:
        """The value named `what`, built by `build` unless the one kept still holds. One
        build at a time: fifty requests arriving together wait for one build, not fifty."""
        key = (id(loaded), today, store_stamp(self.engine))
        entry = self._entries.get(what)
        if entry is not None and entry.loaded is loaded and entry.key == key:
            value: T = entry.value
            return value
        with self._lock:
            entry = self._entries.get(what)
            if entry is not None and entry.loaded is loaded and entry.key == key:
                value = entry.value
                return value
            value = build()
            self.builds += 1
            self._entries[what] = _Entry(loaded, key, value)
            return value

    def get_few(
        self,
        what: str,
        loaded: LoadedProject,
        today: dt.date,
        build: Callable[[], T],
        family: str,
        room: int,
    ) -> T:
        """As `get`, for values of which any number may be asked (a KPI's series at any
        grain, range and breakdown): at most `room` of `family` are kept, the least
        recently asked for dropped first."""
        with self._lock:
            value = self.get(what, loaded, today, build)
            order = self._families.setdefault(family, {})
            order.pop(what, None)
            order[what] = None  # the newest last
            while len(order) > room:
                oldest = next(iter(order))
                del order[oldest]
                self._entries.pop(oldest, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._families.clear()
