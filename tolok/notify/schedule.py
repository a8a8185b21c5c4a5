"""Running schedules exactly once per occurrence, across restarts and processes.

Each occurrence is a row in `schedule_runs`, unique per (schedule, due time). A process
claims a row with a lease and marks it done or failed; a claim left `running` by a process
that died is taken over when its lease ends (at once when the process is known dead on this
machine), and the messages it already sent are not sent again (deliveries are keyed by the
occurrence). After a stop that spanned several occurrences only the newest one runs: the
others are named in its note, since three morning digests at once help nobody.

A schedule seen for the first time runs from its next occurrence on, not at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.notify.alerts import utc_now
from tolok.notify.clock import latest_due, next_due
from tolok.spec.models import Project
from tolok.spec.sharing import Every, Job, Schedule
from tolok.store.sharing import ScheduleRun

log = logging.getLogger("tolok.notify")
LEASE = dt.timedelta(minutes=30)
IMPLICIT_ALERTS = "alerts"
Runner = Callable[[str, Schedule, dt.datetime], str | None]
"""Runs one occurrence (name, schedule, due time UTC); returns a note for the log."""


@dataclass(frozen=True)
class Outcome:
    schedule: str
    due_at: dt.datetime
    status: str  # done, failed, seen (first sight), waiting (another process has it)
    note: str | None = None


def schedules_of(project: Project) -> dict[str, Schedule]:
    """The project's schedules, plus an hourly alert check when it has alert rules and no
    schedule of its own checks them (alerts are also checked after every refresh)."""
    found = dict(project.schedules)
    if project.alerts and not any(s.do is Job.alerts for s in found.values()):
        found.setdefault(IMPLICIT_ALERTS, Schedule(do=Job.alerts, every=Every.hour))
    return found


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
        for name, schedule in schedules_of(project).items():
            outcome = self._one(name, schedule, project.timezone)
            if outcome is not None:
                out.append(outcome)
        return out

    def _one(self, name: str, schedule: Schedule, zone: str) -> Outcome | None:
        now = self.now()
        due = latest_due(schedule, now, zone)
        with Session(self.engine) as session:
            last = session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.schedule == name)
                .order_by(ScheduleRun.due_at.desc())
                .limit(1)
            ).first()
            if last is None:
                first = next_due(schedule, now, zone)
                self._insert(name, due, "seen", None)
                return Outcome(name, due, "seen", f"first seen: runs from {_local(first, zone)}")
            if last.status == "running" and not self._abandoned(last, now):
                return Outcome(name, last.due_at, "waiting") if last.due_at < due else None
            if last.due_at == due and last.status != "running":
                return None  # done, failed, or first seen: nothing until the next one
            taken_over = last.due_at == due
        note: str | None = None
        if taken_over:
            if not self._take_over(name, due, now):
                return None
            note = "taken over from a run that stopped half-way"
        else:
            note = _missed(schedule, last.due_at, due, zone)
            if not self._insert(name, due, "running", note):
                return Outcome(name, due, "waiting")
        return self._run(name, schedule, due, note)

    def _run(self, name: str, schedule: Schedule, due: dt.datetime, note: str | None) -> Outcome:
        try:
            told = self.runner(name, schedule, due)
        except Exception as exc:
            log.exception("schedule %s (%s) failed", name, due)
            self._finish(name, due, "failed", f"{type(exc).__name__}: {exc}", note)
            return Outcome(name, due, "failed", str(exc))
        note = "; ".join(n for n in (note, told) if n) or None
        self._finish(name, due, "done", None, note)
        return Outcome(name, due, "done", note)

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

    def _take_over(self, name: str, due: dt.datetime, now: dt.datetime) -> bool:
        """Claim a run another process left; only one taker wins (compare and set)."""
        with Session(self.engine) as session:
            run = session.scalars(
                select(ScheduleRun).where(ScheduleRun.schedule == name, ScheduleRun.due_at == due)
            ).one()
            previous = run.owner
            claim = (
                update(ScheduleRun)
                .where(ScheduleRun.id == run.id, ScheduleRun.owner == previous)
                .values(owner=self.owner, lease_until=now + self.lease, attempts=run.attempts + 1)
            )
            changed = session.execute(claim)
            session.commit()
            return bool(getattr(changed, "rowcount", 0))

    def _finish(
        self, name: str, due: dt.datetime, status: str, error: str | None, note: str | None
    ) -> None:
        with Session(self.engine) as session:
            run = session.scalars(
                select(ScheduleRun).where(ScheduleRun.schedule == name, ScheduleRun.due_at == due)
            ).one()
            run.status, run.error, run.note, run.finished_at = status, error, note, self.now()
            session.commit()

    def _abandoned(self, run: ScheduleRun, now: dt.datetime) -> bool:
        """A run whose process is gone: its lease ended, or it died on this machine."""
        if run.lease_until <= now:
            return True
        host, pid = [*run.owner.split(":"), "", ""][:2]
        if run.owner == self.owner or host != socket.gethostname() or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return False  # another scheduler of this very process: it is alive
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


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
    return f"{count} earlier occurrence(s) missed while stopped" if count else None


def history(engine: Engine, limit: int = 50) -> list[ScheduleRun]:
    with Session(engine) as session:
        query = select(ScheduleRun).order_by(ScheduleRun.started_at.desc()).limit(limit)
        return list(session.scalars(query))
