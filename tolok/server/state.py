"""What the running server holds: the project (read again when its files change), the
store, the sign-in limits, the debounced refresh after ingestion."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from tolok.auth.ratelimit import Limiter
from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project

log = logging.getLogger("tolok.server")


def _stamp(loaded: LoadedProject) -> dict[Path, float]:
    stamps = {}
    for path in [*loaded.files, loaded.root / "kpis", loaded.root / "goals"]:
        try:
            stamps[path] = path.stat().st_mtime
        except OSError:
            stamps[path] = -1.0
    return stamps


@dataclass
class State:
    root: Path
    engine: Engine
    secure_cookies: bool = False
    loaded: LoadedProject = field(init=False)
    per_account: Limiter = field(default_factory=lambda: Limiter(10, 15 * 60))
    per_address: Limiter = field(default_factory=lambda: Limiter(50, 15 * 60))
    refresher: Refresher | None = None
    _stamps: dict[Path, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.loaded = load_project(self.root)
        self._stamps = _stamp(self.loaded)

    def project(self) -> LoadedProject:
        """The project as its files say now; a change that does not validate is logged and
        the last good version kept, so a typo in YAML does not take the server down."""
        with self._lock:
            if _stamp(self.loaded) != self._stamps:
                fresh = load_project(self.root)
                self._stamps = _stamp(fresh)
                if fresh.ok:
                    self.loaded = fresh
                else:
                    log.warning("project does not validate; serving the last good version")
            return self.loaded


class Refresher:
    """An incremental refresh soon after data comes in: many ingests in a burst, one refresh."""

    def __init__(self, state: State, delay: float = 2.0) -> None:
        self.state, self.delay = state, delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self.runs = 0

    def soon(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._run)
            self._timer.daemon = True
            self._timer.start()

    def _run(self) -> None:
        from tolok.engine.refresh import refresh_into_store
        from tolok.engine.warehouse import Warehouse
        from tolok.store.manual import source

        with self._running:
            loaded = self.state.project()
            try:
                manual = source(self.state.engine)
                refresh_into_store(loaded, Warehouse(loaded, manual=manual), self.state.engine)
                self.runs += 1
            except Exception:
                log.exception("refresh after ingestion failed")

    def wait(self) -> None:
        """Until a pending refresh has run (for tests and shutdown)."""
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.join()
        with self._running:
            pass
