"""What the running server holds: the project (read again when its files change), the
store, the sign-in limits, one connection to the warehouse for ingestion (let go of when
no rows came in for a while, so that `tolok refresh` can open a DuckDB file), the debounced
refresh after ingestion."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from tolok.auth.ratelimit import Limits, StoreLimiter
from tolok.engine.locks import server_idle
from tolok.server.board import BoardCache
from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project

if TYPE_CHECKING:
    from tolok.engine.ingest import Incoming, IngestReport
    from tolok.server.changes import Changes
    from tolok.server.ticker import Ticker

log = logging.getLogger("tolok.server")


def _watched(*versions: LoadedProject) -> tuple[str, ...]:
    """The files (and folders, for files added) whose change means reading the project
    again: those of every version given (the one served, and a newer one that did not
    validate), and tolok.yaml even when it could not be read; plain strings, as they are
    looked at on every request."""
    paths: dict[str, None] = {}
    for loaded in versions:
        for path in [loaded.root / "tolok.yaml", *loaded.files]:
            paths[str(path)] = None
        paths.update({str(loaded.root / "kpis"): None, str(loaded.root / "goals"): None})
    return tuple(paths)


def _stamp(paths: tuple[str, ...]) -> tuple[float, ...]:
    stamps = []
    for path in paths:
        try:
            stamps.append(os.stat(path).st_mtime)
        except OSError:
            stamps.append(-1.0)
    return tuple(stamps)


@dataclass
class State:
    root: Path
    engine: Engine
    secure_cookies: bool = False
    loaded: LoadedProject = field(init=False)
    per_account: Limits = field(init=False)
    """Sign-in attempts: 10 failures per account in 15 minutes, 50 per address, counted in
    the store by every server process on it."""
    per_address: Limits = field(init=False)
    refresher: Refresher | None = None
    ticker: Ticker | None = None
    changes: Changes | None = None
    """The store's stamp, watched once for every stream of events (see `changes`)."""
    _watching: tuple[str, ...] = ()
    _stamps: tuple[float, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _writing: threading.Lock = field(default_factory=threading.Lock)
    keyed: threading.Lock = field(default_factory=threading.Lock)
    """Held by an ingestion with an Idempotency-Key from its look-up to its answer kept."""
    _warehouse: Any = None  # the Ibis backend ingestion writes through, kept open
    _warehouse_url: str | None = None
    _known_tables: dict[Any, Any] = field(default_factory=dict)  # while it is open
    idle: float = field(default_factory=server_idle)
    """The warehouse connection is closed after this many seconds without ingestion."""
    _used: float = 0.0  # monotonic time of the last ingestion
    _releaser: threading.Timer | None = None
    principals: dict[str, Any] = field(default_factory=dict)
    """API tokens checked lately, by digest (see `security._bearer`)."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the server is asked to stop: open streams of events end (see `stopping`)."""

    board: BoardCache = field(init=False)

    def __post_init__(self) -> None:
        self.loaded = load_project(self.root)
        self._watching = _watched(self.loaded)
        self._stamps = _stamp(self._watching)
        self.board = BoardCache(self.engine)
        self.per_account = StoreLimiter(self.engine, 10, 15 * 60)
        self.per_address = StoreLimiter(self.engine, 50, 15 * 60)

    def project(self) -> LoadedProject:
        """The project as its files say now; a change that does not validate is logged and
        the last good version kept, so a typo in YAML does not take the server down."""
        with self._lock:
            if _stamp(self._watching) != self._stamps:
                fresh = load_project(self.root)
                if fresh.ok:
                    self.loaded = fresh
                    self._watching = _watched(fresh)
                else:  # read again only when changed again, not on every request
                    log.warning("project does not validate; serving the last good version")
                    self._watching = _watched(self.loaded, fresh)
                self._stamps = _stamp(self._watching)
            return self.loaded

    def rewritten(self) -> None:
        """The project's files were written here (the definitions API): the next request
        reads them again, even when their times did not move (a change within the file
        system's clock tick)."""
        with self._lock:
            self._stamps = ()

    def ingest(
        self, loaded: LoadedProject, name: str, incoming: Incoming, key: str | None
    ) -> IngestReport:
        """Rows into a dataset's table through the one warehouse connection the server keeps
        (opening one costs more than writing a thousand rows). One ingestion at a time: a
        DuckDB connection serves one thread at a time, and its file one writer."""
        from tolok.engine.ingest import IngestError, ingest
        from tolok.engine.warehouse import Warehouse

        assert loaded.project is not None
        with self._writing:
            if self._warehouse_url != loaded.project.warehouse:
                self._close_warehouse()
            warehouse = Warehouse(loaded, _warehouse=self._warehouse,
                                  known_tables=self._known_tables)  # fmt: skip
            sound = False  # the connection still serves: a success, or bad rows
            try:
                report = ingest(loaded, warehouse, name, incoming, idempotency_key=key)
                sound = True
            except IngestError:
                sound = True
                raise
            finally:
                if not sound:
                    self._close_warehouse()  # a broken connection is not kept
                elif warehouse._warehouse is not None:
                    self._warehouse = warehouse._warehouse
                    self._warehouse_url = loaded.project.warehouse
                    self._keep_until_idle()
            return report

    def open_warehouse(self, wait: float | None = 0) -> str:
        """Connect (and load the ingestion code) before the first rows arrive, so that the
        first request does not pay for it: "ok", "busy" (another program holds a DuckDB
        file) or "unreachable" (logged; readiness reports it, and ingestion tries again)."""
        import tolok.engine.ingest  # noqa: F401  (Ibis, pandas, pyarrow: a second to import)
        from tolok.engine.locks import WarehouseBusyError
        from tolok.engine.warehouse import Warehouse

        loaded = self.project()
        assert loaded.project is not None
        with self._writing:
            if self._warehouse is not None:
                return "ok"
            try:
                self._warehouse = Warehouse(loaded, wait=wait).backend()
                self._warehouse_url = loaded.project.warehouse
            except WarehouseBusyError as exc:
                log.warning("%s", exc.message)
                return "busy"
            except Exception:
                log.warning("cannot connect to the warehouse yet", exc_info=True)
                return "unreachable"
            self._keep_until_idle()
            return "ok"

    def check_warehouse(self) -> str:
        """Readiness: "ok" while ingestion's connection is open, else whether one opens now
        (and is closed at once: a probe every few seconds must not keep a DuckDB file from
        `tolok refresh`); "busy" when another program holds the file."""
        from tolok.engine.locks import WarehouseBusyError
        from tolok.engine.warehouse import Warehouse

        if self._warehouse is not None:
            return "ok"
        warehouse = Warehouse(self.project(), wait=0)
        try:
            warehouse.backend()
        except WarehouseBusyError:
            return "busy"
        except Exception as exc:
            log.warning("warehouse unreachable: %s", str(exc).splitlines()[0][:500])
            return "unreachable"
        finally:
            warehouse.close()
        return "ok"

    def _keep_until_idle(self) -> None:
        """(With `_writing` held.) The connection is closed `idle` seconds from now, unless
        rows come in meanwhile: one timer at a time, which looks again when it fires."""
        self._used = time.monotonic()
        if self._releaser is None or not self._releaser.is_alive():
            self._release_in(self.idle)

    def _release_in(self, seconds: float) -> None:
        self._releaser = threading.Timer(seconds, self._release_if_idle)
        self._releaser.daemon = True
        self._releaser.start()

    def _release_if_idle(self) -> None:
        with self._writing:
            if self._warehouse is None:
                return
            left = self._used + self.idle - time.monotonic()
            if left > 0:
                self._release_in(left)
                return
            self._close_warehouse()
            log.info("warehouse connection closed after %g s without ingestion", self.idle)

    @property
    def warehouse_open(self) -> bool:
        return self._warehouse is not None

    def close(self) -> None:
        with self._writing:
            if self._releaser is not None:
                self._releaser.cancel()
            self._close_warehouse()
        if self.refresher is not None:
            self.refresher.close()

    def _close_warehouse(self) -> None:
        backend, self._warehouse, self._warehouse_url = self._warehouse, None, None
        self._known_tables.clear()
        if backend is not None:
            try:
                backend.disconnect()
            except Exception:
                log.warning("closing the warehouse connection failed", exc_info=True)


class Refresher:
    """An incremental refresh soon after data comes in: many ingests in a burst, one refresh."""

    def __init__(self, state: State, delay: float = 2.0, longest: float | None = None) -> None:
        from tolok.engine.warehouse import KeptWarehouse
        from tolok.store.manual import source

        self.state, self.delay = state, delay
        self.longest = longest if longest is not None else max(30.0, 10 * delay)
        """A steady stream of ingests postpones the refresh at most this long."""
        self._timer: threading.Timer | None = None
        self._since = 0.0
        self._lock = threading.Lock()
        self.running = threading.Lock()
        self.telling = threading.Lock()  # held while alerts on a refresh's values go out
        """Held while a refresh runs: the schedules' refreshes take it too, so the server
        never runs two refreshes at once."""
        self.runs = 0
        self.kept = KeptWarehouse(manual=source(state.engine))
        """The warehouse refreshes use, from one to the next (see `KeptWarehouse`): taken
        with `running` held."""

    def soon(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._timer is not None and self._timer.is_alive():
                if now - self._since >= self.longest:
                    return  # the refresh already waiting runs as planned
                self._timer.cancel()
            else:
                self._since = now
            self._timer = threading.Timer(self.delay, self._run)
            self._timer.daemon = True
            self._timer.start()

    def _run(self) -> None:
        from tolok.engine.locks import WarehouseBusyError
        from tolok.engine.refresh import refresh_into_store

        self.running.acquire()
        refreshed = False
        try:
            loaded = self.state.project()
            try:
                with self.kept.use(loaded) as warehouse:
                    refresh_into_store(loaded, warehouse, self.state.engine, board=False)
                self.runs += 1
                refreshed = True
            except WarehouseBusyError as exc:  # a `tolok refresh` has the file: try later
                log.warning("refresh after ingestion postponed: %s", exc.message)
                self.soon()
            except Exception:
                log.exception("refresh after ingestion failed")
        finally:
            self.telling.acquire()  # before the refresh lock goes: `wait` sees no gap
            self.running.release()
        try:  # outside the refresh lock: a slow mail server holds up no refresh
            if refreshed and self.state.ticker is not None:
                self.state.ticker.after_refresh()
        finally:
            self.telling.release()

    def close(self) -> None:
        """Let go of the kept warehouse (at shutdown)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        with self.running:
            self.kept.close()

    def wait(self) -> None:
        """Until a pending refresh has run (for tests and shutdown)."""
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.join()
        with self.running:
            pass
        with self.telling:
            pass
