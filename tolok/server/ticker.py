"""The schedules inside `tolok serve`: a thread that runs what is due every half minute, and
an alert check after each refresh the server makes. The store keeps each occurrence, so a
cron `tolok run-due` next to the server never runs one twice."""

from __future__ import annotations

import logging
import os
import threading

from tolok.engine.warehouse import Warehouse
from tolok.server.state import State
from tolok.spec.loaded import LoadedProject

log = logging.getLogger("tolok.server")


class Ticker:
    def __init__(self, state: State, every: float | None = None) -> None:
        from tolok.notify.channels import Sender
        from tolok.notify.jobs import Jobs
        from tolok.notify.schedule import Scheduler

        self.state = state
        self.every = every or float(os.environ.get("TOLOK_SCHEDULE_EVERY", "30"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        project = state.project().project
        assert project is not None
        self.sender = Sender(state.engine, project.email)
        self.jobs = Jobs(state.project, state.engine, self.sender, self._warehouse)
        if state.refresher is not None:
            self.jobs.refreshing = state.refresher.running
            self.jobs.kept = state.refresher.kept
        self.scheduler = Scheduler(state.engine, self.jobs)

    def _warehouse(self, loaded: LoadedProject) -> Warehouse:
        from tolok.store.manual import source

        return Warehouse(loaded, manual=source(self.state.engine))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tolok-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        self.tick()  # at start: what came due while the server was down runs now
        while not self._stop.wait(self.every):
            self.tick()

    def tick(self) -> None:
        try:
            loaded = self.state.project()
            assert loaded.project is not None
            self.sender.email = loaded.project.email  # edits to tolok.yaml apply
            for outcome in self.scheduler.run_due(loaded.project):
                level = logging.DEBUG if outcome.status == "waiting" else logging.INFO
                log.log(level, "schedule %s due %s: %s %s", outcome.schedule, outcome.due_at,
                         outcome.status, outcome.note or "")  # fmt: skip
        except Exception:
            log.exception("running the schedules failed")

    def after_refresh(self) -> None:
        """Check alerts on the values a refresh just wrote."""
        try:
            note = self.jobs.alerts(self.state.project())
            log.info("alerts after refresh: %s", note)
        except Exception:
            log.exception("checking alerts after a refresh failed")
