"""Running schedules exactly once per occurrence, across restarts and processes.

Each occurrence is a row in `schedule_runs`, unique per (schedule, due time). A process
claims a row with a short lease that it renews while the run goes on, and marks it done or
failed. A claim left `running` by a process that died stops being renewed and is taken over
when its lease ends; the messages the dead run already sent are not sent again (deliveries
are keyed by the occurrence). A run that failed (a mail server down) is tried again a few
times, later, sending only what did not go out. After a stop that spanned several
occurrences only the newest one runs: the others are named in its note, since three
morning digests at once help nobody; a run left behind by then is marked superseded.

A schedule seen for the first time runs from its next occurrence on, not at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.display import english_count
from tolok.notify.alerts import utc_now
from tolok.notify.clock import latest_due, next_due
from tolok.spec.models import Project
from tolok.spec.sharing import Every, Job, Schedule
from tolok.store.sharing import AlertRule, ScheduleRun

log = logging.getLogger("tolok.notify")
LEASE = dt.timedelta(minutes=3)
"""How long a claim holds without renewal; a live run renews it every third of that."""
RUN_ATTEMPTS = 4
"""How many times one occurrence is tried in all; the waits between grow: 5, 10, 20 min."""
RETRY_WAIT = dt.timedelta(minutes=5)
LONGEST_RUN = dt.timedelta(hours=2)
"""A run is renewed this long at most; one that hangs longer is taken over."""
IMPLICIT_ALERTS = "alerts"
Runner = Callable[[str, Schedule, dt.datetime], str | None]
"""Runs one occurrence (name, schedule, due time UTC); returns a note for the log."""


@dataclass(frozen=True)
class Outcome:
    schedule: str
    due_at: dt.datetime
    status: str  # done, failed, seen (first sight), waiting (another process has it)
    note: str | None = None


def schedules_of(project: Project, app_rules: bool = False) -> dict[str, Schedule]:
    """The project's schedules, plus an hourly alert check when there are alert rules (in
    tolok.yaml, or made in the app: `app_rules`) and no schedule of the project checks them
    every hour (alerts are also checked after every refresh the server makes)."""
    found = dict(project.schedules)
    wanted = project.alerts or app_rules
    hourly = [
        s for s in found.values() if s.do in (Job.alerts, Job.refresh) and s.every is Every.hour
    ]
    if wanted and not hourly:
        found.setdefault(IMPLICIT_ALERTS, Schedule(do=Job.alerts, every=Every.hour))
    return found


def has_app_rules(engine: Engine) -> bool:
    with Session(engine) as session:
        return bool(session.scalar(select(func.count()).select_from(AlertRule)))


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        runner: Runner,
        now: Callable[[], dt.datetime] = utc_now,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.engine, self.runner, self.now, self.lease = engine, runner, now, lease
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def run_due(self, project: Project) -> list[Outcome]:
        """Run every occurrence that is due and not yet run (by anyone)."""
        out = []
        for name, schedule in schedules_of(project, has_app_rules(self.engine)).items():
            outcome = self._one(name, schedule, project.timezone)
            if outcome is not None:
                out.append(outcome)
        return out

    def _one(self, name: str, schedule: Schedule, zone: str) -> Outcome | None:
        now = self.now()
        due = latest_due(schedule, now, zone)
        last = self._last(name)
        if last is None:
            first = next_due(schedule, now, zone)
            self._insert(name, due, "seen", None)
            return Outcome(name, due, "seen", f"first seen: runs from {_local(first, zone)}")
        if last.due_at > next_due(schedule, now, zone):
            # Written while some clock was ahead: set aside, or it would silence the
            # schedule until that day comes.
            log.warning("schedule %s: a run dated %s is in the future; set aside", name,
                        last.due_at)  # fmt: skip
            self._set_aside(last, "dated in the future (a clock was ahead)")
            last = None
        elif due < last.due_at:
            return None  # the time moved earlier (a new `at:`, a clock): never run backwards
        elif last.status == "running" and last.lease_until > now:
            return Outcome(name, last.due_at, "waiting") if last.due_at < due else None
        elif last.due_at == due:
            if last.status == "running":
                return self._again(name, schedule, last, "taken over from a run that stopped")
            if last.status == "failed" and self._retry_due(last, now):
                return self._again(name, schedule, last, f"try {last.attempts + 1}")
            return None  # done, seen, or failed for good
        elif last.status == "running":
            self._set_aside(last, f"{_local(due, zone)} ran instead")
        note = _missed(schedule, last.due_at, due, zone) if last else None
        if not self._insert(name, due, "running", note):
            return Outcome(name, due, "waiting")
        return self._run(name, schedule, due, note)

    def _last(self, name: str) -> ScheduleRun | None:
        with Session(self.engine) as session:
            return session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.schedule == name)
                .order_by(ScheduleRun.due_at.desc())
                .limit(1)
            ).first()

    def _retry_due(self, run: ScheduleRun, now: dt.datetime) -> bool:
        if run.attempts >= RUN_ATTEMPTS or run.finished_at is None:
            return False
        return now >= run.finished_at + RETRY_WAIT * (1 << (run.attempts - 1))

    def _again(self, name: str, schedule: Schedule, run: ScheduleRun, why: str) -> Outcome | None:
        if run.attempts >= RUN_ATTEMPTS:
            # Tried enough (a job that kills its process, say): failed for good.
            self._set_aside(run, f"gave up after {run.attempts} attempts", "failed")
            return Outcome(name, run.due_at, "failed", f"gave up after {run.attempts} attempts")
        if not self._take_over(run):
            return None
        note = "; ".join(n for n in (run.note, why) if n)
        return self._run(name, schedule, run.due_at, note)

    def _run(self, name: str, schedule: Schedule, due: dt.datetime, note: str | None) -> Outcome:
        stop = threading.Event()
        renewing = threading.Thread(target=self._renew, args=(name, due, stop), daemon=True)
        renewing.start()
        try:
            told = self.runner(name, schedule, due)
        except Exception as exc:
            log.exception("schedule %s (%s) failed", name, due)
            self._finish(name, due, "failed", f"{type(exc).__name__}: {exc}", note)
            return Outcome(name, due, "failed", str(exc))
        finally:
            stop.set()
        note = "; ".join(n for n in (note, told) if n) or None
        self._finish(name, due, "done", None, note)
        return Outcome(name, due, "done", note)

    def _renew(self, name: str, due: dt.datetime, stop: threading.Event) -> None:
        """Keep the claim while the run goes on (a digest to many people, a long refresh),
        for `LONGEST_RUN` at most: a run that hangs is then taken over by another."""
        started = self.now()
        while not stop.wait(self.lease.total_seconds() / 3):
            if self.now() - started > LONGEST_RUN:
                log.warning("schedule %s (%s) runs longer than %s: no longer renewed", name,
                            due, LONGEST_RUN)  # fmt: skip
                return
            try:
                with Session(self.engine) as session, session.begin():
                    session.execute(
                        update(ScheduleRun)
                        .where(ScheduleRun.schedule == name, ScheduleRun.due_at == due,
                               ScheduleRun.owner == self.owner,
                               ScheduleRun.status == "running")
                        .values(lease_until=self.now() + self.lease)
                    )  # fmt: skip
            except Exception:  # a busy store: try again at the next beat
                log.warning("renewing the claim of %s (%s) failed", name, due, exc_info=True)

    def _insert(self, name: str, due: dt.datetime, status: str, note: str | None) -> bool:
        now = self.now()
        with Session(self.engine) as session:
            session.add(ScheduleRun(
                schedule=name, due_at=due, status=status, owner=self.owner,
                lease_until=now + self.lease, attempts=1, started_at=now,
                finished_at=now if status == "seen" else None, note=note,
            ))  # fmt: skip
            try:
                session.commit()
            except IntegrityError:
                return False  # another process claimed it first
        return True

    def _take_over(self, run: ScheduleRun) -> bool:
        """Claim a run left behind or failed; only one taker wins, and only if the row is
        still as it was read (compare and set on owner, attempts, status and lease)."""
        now = self.now()
        with Session(self.engine) as session:
            claim = (
                update(ScheduleRun)
                .where(ScheduleRun.id == run.id, ScheduleRun.owner == run.owner,
                       ScheduleRun.attempts == run.attempts, ScheduleRun.status == run.status,
                       ScheduleRun.lease_until == run.lease_until)
                .values(owner=self.owner, status="running", lease_until=now + self.lease,
                        attempts=run.attempts + 1, error=None)
            )  # fmt: skip
            changed = session.execute(claim)
            session.commit()
            return bool(getattr(changed, "rowcount", 0))

    def _finish(
        self, name: str, due: dt.datetime, status: str, error: str | None, note: str | None
    ) -> None:
        """Write this process's outcome, if the run is still its own (a run taken over
        while it hung is the taker's to finish)."""
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.schedule == name, ScheduleRun.due_at == due,
                       ScheduleRun.owner == self.owner)
                .values(status=status, error=error, note=note, finished_at=self.now())
            )  # fmt: skip

    def _set_aside(self, run: ScheduleRun, why: str, status: str = "superseded") -> None:
        """Close a run another process left, if nobody changed it since it was read."""
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.id == run.id, ScheduleRun.owner == run.owner,
                       ScheduleRun.attempts == run.attempts, ScheduleRun.status == run.status)
                .values(status=status, note="; ".join(n for n in (run.note, why) if n),
                        finished_at=self.now())
            )  # fmt: skip


def _local(moment: dt.datetime, zone: str) -> str:
    """A UTC time as the project's clock shows it: `2026-11-30 08:00 Asia/Jakarta`."""
    from zoneinfo import ZoneInfo

    local = moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def _missed(schedule: Schedule, last: dt.datetime, due: dt.datetime, zone: str) -> str | None:
    """How many occurrences passed unrun between the last one and this one (a long stop)."""
    count, moment = 0, next_due(schedule, last, zone)
    while moment < due and count < 10_000:
        count += 1
        moment = next_due(schedule, moment, zone)
    return f"{english_count(count, 'earlier occurrence')} missed while stopped" if count else None


def history(engine: Engine, limit: int = 50) -> list[ScheduleRun]:
    with Session(engine) as session:
        query = select(ScheduleRun).order_by(ScheduleRun.started_at.desc()).limit(limit)
        return list(session.scalars(query))
