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

A run's note is kept language-neutral (`said`: a JSON list of `{"say": key, …values}`) and
worded when it is read (`note_text`), in the reader's language; a note written before that,
in English words, reads as it was written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.i18n import gettext
from tolok.notify.alerts import utc_now
from tolok.notify.clock import latest_due, next_due
from tolok.spec.models import Project
from tolok.spec.sharing import Every, Job, Schedule
from tolok.store.sharing import ScheduleRun, has_alert_rules

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
"""Runs one occurrence (name, schedule, due time UTC); returns a note for the log (made
with `said`, or plain text)."""


@dataclass(frozen=True)
class Outcome:
    schedule: str
    due_at: dt.datetime
    status: str  # done, failed, seen (first sight), waiting (another process has it)
    said: str | None = None
    """The note, language-neutral: word it with `text(lang)`."""

    @property
    def note(self) -> str | None:
        """The note in English (for logs)."""
        return note_text(self.said)

    def text(self, lang: str = "en") -> str | None:
        return note_text(self.said, lang)


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
    return has_alert_rules(engine)


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
            return Outcome(name, due, "seen", said("first_seen", at=_local(first, zone)))
        if last.due_at > next_due(schedule, now, zone):
            # Written while some clock was ahead: set aside, or it would silence the
            # schedule until that day comes.
            log.warning("schedule %s: a run dated %s is in the future; set aside", name,
                        last.due_at)  # fmt: skip
            self._set_aside(last, said("future"))
            last = None
        elif due < last.due_at:
            return None  # the time moved earlier (a new `at:`, a clock): never run backwards
        elif last.status == "running" and last.lease_until > now:
            return Outcome(name, last.due_at, "waiting") if last.due_at < due else None
        elif last.due_at == due:
            if last.status == "running":
                return self._again(name, schedule, last, said("taken_over"))
            if last.status == "failed" and self._retry_due(last, now):
                return self._again(name, schedule, last, said("try", n=last.attempts + 1))
            return None  # done, seen, or failed for good
        elif last.status == "running":
            self._set_aside(last, said("ran_instead", at=_local(due, zone)))
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
            gave_up = said("gave_up", n=run.attempts)
            self._set_aside(run, gave_up, "failed")
            return Outcome(name, run.due_at, "failed", gave_up)
        if not self._take_over(run):
            return None
        note = joined(run.note, why)
        return self._run(name, schedule, run.due_at, note)

    def _run(self, name: str, schedule: Schedule, due: dt.datetime, note: str | None) -> Outcome:
        stop = threading.Event()
        renewing = threading.Thread(target=self._renew, args=(name, due, stop), daemon=True)
        renewing.start()
        try:
            told = self.runner(name, schedule, due)
        except Exception as exc:
            log.exception("schedule %s (%s) failed", name, due)
            neutral = _said_by(exc)  # what the job said of it (mail that did not go out)
            error = neutral or f"{type(exc).__name__}: {exc}"
            self._finish(name, due, "failed", error, note)
            return Outcome(name, due, "failed", neutral or joined(str(exc)))
        finally:
            stop.set()
        note = joined(note, told)
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
                .values(status=status, note=joined(run.note, why),
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
    return said("missed", n=count) if count else None


def history(engine: Engine, limit: int = 50) -> list[ScheduleRun]:
    with Session(engine) as session:
        query = select(ScheduleRun).order_by(ScheduleRun.started_at.desc()).limit(limit)
        return list(session.scalars(query))


def said(key: str, **values: object) -> str:
    """A note in no language: `key` and its values, worded by `note_text` when read.

    >>> note_text(said("missed", n=3))
    '3 earlier occurrences missed while stopped'
    """
    return json.dumps([{"say": key, **values}], ensure_ascii=False)


def joined(*notes: str | None) -> str | None:
    """Notes one after the other, as one note (None when there is none); a note in plain
    words (one written before notes were kept neutral, a job's own text) is kept as it is."""
    parts = [part for note in notes if note for part in _parts(note)]
    return json.dumps(parts, ensure_ascii=False) if parts else None


def note_text(note: str | None, lang: str = "en") -> str | None:
    """A stored note worded in `lang`: `3 jadwal sebelumnya terlewat saat berhenti`."""
    if not note:
        return None
    return "; ".join(_worded(part, lang) for part in _parts(note))


def _parts(note: str) -> list[dict[str, object]]:
    if note.startswith("[{"):
        try:
            found = json.loads(note)
        except ValueError:
            found = None
        if isinstance(found, list) and all(isinstance(p, dict) and "say" in p for p in found):
            return found
    return [{"say": "text", "text": note}]


def _said_by(exc: Exception) -> str | None:
    note = str(exc)
    return note if note.startswith("[{") and _parts(note)[0]["say"] != "text" else None


def _worded(part: dict[str, object], lang: str) -> str:
    _ = gettext(lang)
    key = str(part.get("say"))
    values = {k: v for k, v in part.items() if k != "say"}
    if key == "text":
        return str(values.get("text", ""))
    counts = {k: _count_text(v, lang) for k, v in values.items() if isinstance(v, int)}
    shown = {**values, **counts}
    if key == "delivered":
        outcome = str(values.get("outcome", ""))
        shown["outcome"] = _outcome_words(_).get(outcome, outcome)
    wording = _wordings(_, lang, values).get(key)
    return wording.format(**shown) if wording else f"{key} {values}"


def _count_text(value: int, lang: str) -> str:
    from babel.numbers import format_decimal

    return str(format_decimal(value, "#,##0", locale=lang))


def _plural(count: object, one: str, many: str) -> str:
    return one if count == 1 else many


def _wordings(_: Callable[..., str], lang: str, values: dict[str, object]) -> dict[str, str]:
    """Each note's words; English counts agree with their nouns (`1 KPI`, `2 KPIs`)."""
    n = values.get("n")
    return {
        "first_seen": _("first seen: runs from {at}"),
        "future": _("dated in the future (a clock was ahead)"),
        "taken_over": _("taken over from a run that stopped"),
        "try": _("try {n}"),
        "gave_up": _("gave up after {n} attempts"),
        "ran_instead": _("{at} ran instead"),
        "missed": _plural(n, _("{n} earlier occurrence missed while stopped"),
                          _("{n} earlier occurrences missed while stopped")),
        "refreshed": _plural(n, _("refreshed {n} KPI"), _("refreshed {n} KPIs")),
        "alerts": _plural(values.get("opened"), _("{opened} alert opened"),
                          _("{opened} alerts opened"))
        + _(", {resolved} resolved, ")
        + _plural(values.get("sent"), _("{sent} message sent"), _("{sent} messages sent"))
        + _(", {failed} failed, {held} held"),
        "digest": _plural(values.get("sent"), _("digest to {sent} recipient"),
                          _("digest to {sent} recipients"))
        + (_(", {refused} refused") if values.get("refused") else "")
        + (_(", {failed} failed") if values.get("failed") else ""),
        "delivered": "{to}: {outcome}",
        "written": _("written to {path}"),
        "nobody": _("nobody to send to"),
    }  # fmt: skip


def _outcome_words(_: Callable[..., str]) -> dict[str, str]:
    return {"sent": _("sent"), "already sent": _("already sent"), "failed": _("failed"),
            "in flight": _("in flight"),
            "refused": _("refused")}  # fmt: skip
