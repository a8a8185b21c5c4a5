"""Schedules on a controlled clock: each occurrence runs once, through restarts, crashes
half-way and long stops; a first sight waits for the next occurrence."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.notify.conftest import SmtpServer
from tolok.notify.channels import Sender
from tolok.notify.clock import latest_due, next_due
from tolok.notify.messages import Message, Recipient, Way
from tolok.notify.schedule import Scheduler, note_text
from tolok.spec.models import Project
from tolok.spec.sharing import Schedule
from tolok.store.sharing import ScheduleRun

PEOPLE = ["ani@example.com", "budi@example.com", "citra@example.com"]


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Died(BaseException):
    """The process stopping half-way (a deploy, a killed container): nothing catches it."""


class Digest:
    """A runner that mails each person, and can be made to die after some of them."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.calls: list[dt.datetime] = []
        self.die_after: int | None = None

    def __call__(self, name: str, schedule: Schedule, due: dt.datetime) -> str:
        self.calls.append(due)
        for i, person in enumerate(PEOPLE):
            if self.die_after is not None and i == self.die_after:
                self.die_after = None
                raise Died
            message = Message("digest", f"Digest {due:%Y-%m-%d}", "Your KPIs")
            self.sender.send(f"schedule:{name}:{due.isoformat()}", _person(person), message)
        return f"digest to {len(PEOPLE)}"


def _person(email: str) -> Recipient:
    return Recipient("team", Way.email, email, "en")


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    """A fresh store on SQLite and on the real PostgreSQL: leases, claims and retries rely on
    the database's unique constraints and compare-and-set updates."""
    from tolok.store.database import connect, upgrade

    engine = connect(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _mailing(store: Engine, smtp: SmtpServer, start: dt.datetime) -> tuple[Project, Clock, Digest]:
    """The project mailing through `smtp`, a clock at `start` and a digest job sending."""
    project = _project().model_copy(update={"email": smtp.email()})
    return project, Clock(start), Digest(Sender(store, project.email, backoff=0.0))


def _project() -> Project:
    return Project.model_validate({
        "name": "Toko", "timezone": "Asia/Jakarta",
        "email": {"host": "127.0.0.1", "sender": "tolok@tokomaju.id"},
        "schedules": {"morning": {"do": "digest", "every": "day", "at": "08:00",
                                  "to": ["team@example.com"]}},
    })  # fmt: skip


def _received(smtp: SmtpServer) -> list[tuple[str, str]]:
    return sorted((str(m["To"]), str(m["Subject"])) for m in smtp.messages)


def test_a_restart_in_the_middle_of_a_run_neither_skips_nor_doubles_it(
    store: Engine, smtp: SmtpServer
) -> None:
    project = _project().model_copy(update={"email": smtp.email()})
    clock = Clock(dt.datetime(2026, 11, 27, 0, 30))  # 07:30 in Jakarta (UTC+7)
    digest = Digest(Sender(store, project.email, backoff=0.0))
    first = Scheduler(store, digest, clock)

    [seen] = first.run_due(project)  # first sight: it waits for 08:00
    assert seen.status == "seen"
    assert digest.calls == []
    assert first.run_due(project) == []

    clock.now = dt.datetime(2026, 11, 27, 1, 0, 20)  # 08:00:20 in Jakarta
    digest.die_after = 2
    with pytest.raises(Died):
        first.run_due(project)  # two of three mailed, then the process dies
    assert len(smtp.messages) == 2

    second = Scheduler(store, digest, clock)  # the restarted process
    clock.now += dt.timedelta(minutes=1)
    assert second.run_due(project) == []  # the dead run's lease still holds: no double run
    clock.now += dt.timedelta(minutes=3)  # nobody renewed it: the lease ran out
    [outcome] = second.run_due(project)
    assert outcome.status == "done"
    assert outcome.note is not None
    assert "taken over" in outcome.note
    due = dt.datetime(2026, 11, 27, 1, 0)
    assert digest.calls == [due, due]
    assert _received(smtp) == [(p, "Digest 2026-11-27") for p in PEOPLE]  # each once
    assert second.run_due(project) == []
    assert Scheduler(store, digest, clock).run_due(project) == []

    clock.now = dt.datetime(2026, 11, 28, 1, 0, 5)  # the next morning: one run
    [outcome] = second.run_due(project)
    assert outcome.status == "done"
    assert len(smtp.messages) == 6
    assert second.run_due(project) == []


def test_a_long_stop_runs_the_newest_occurrence_once_and_names_the_missed(
    store: Engine, smtp: SmtpServer
) -> None:
    project, clock, digest = _mailing(store, smtp, dt.datetime(2026, 11, 27, 0, 30))
    Scheduler(store, digest, clock).run_due(project)  # seen
    clock.now = dt.datetime(2026, 11, 30, 3, 0)  # stopped over three mornings
    [outcome] = Scheduler(store, digest, clock).run_due(project)
    assert outcome.due_at == dt.datetime(2026, 11, 30, 1, 0)
    assert outcome.note is not None
    assert outcome.note.startswith("3 earlier occurrences missed")
    assert digest.calls == [dt.datetime(2026, 11, 30, 1, 0)]
    assert len(smtp.messages) == 3


def test_two_schedulers_at_once_run_an_occurrence_once(store: Engine, smtp: SmtpServer) -> None:
    project, clock, digest = _mailing(store, smtp, dt.datetime(2026, 11, 27, 0, 30))
    one, other = Scheduler(store, digest, clock), Scheduler(store, digest, clock)
    one.run_due(project)
    clock.now = dt.datetime(2026, 11, 27, 1, 1)
    outcomes = one.run_due(project) + other.run_due(project)
    assert [o.status for o in outcomes] == ["done"]
    with Session(store) as session:
        runs = session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at)).all()
    assert [(r.status, r.attempts) for r in runs] == [("seen", 1), ("done", 1)]


DAY = {"every": "day", "at": "08:00"}
WEEK = {"every": "week", "on": "monday", "at": "09:30"}
MONTH = {"every": "month", "on": 31, "at": "07:00"}
HOUR = {"every": "hour", "at": ":15"}


@pytest.mark.parametrize(
    ("spec", "now", "latest", "following"),
    [
        (DAY, (2026, 11, 28, 0, 30), (2026, 11, 27, 1), (2026, 11, 28, 1)),
        (WEEK, (2026, 11, 28, 0, 0), (2026, 11, 23, 2, 30), (2026, 11, 30, 2, 30)),
        (MONTH, (2026, 12, 1, 0, 0), (2026, 11, 30, 0), (2026, 12, 31, 0)),
        (HOUR, (2026, 11, 28, 0, 20), (2026, 11, 28, 0, 15), (2026, 11, 28, 1, 15)),
    ],
)
def test_occurrences_in_the_project_time_zone(
    spec: dict[str, object],
    now: tuple[int, ...],
    latest: tuple[int, ...],
    following: tuple[int, ...],
) -> None:
    schedule = Schedule.model_validate({"do": "alerts", **spec})
    at = dt.datetime(*now)  # type: ignore[arg-type]
    assert latest_due(schedule, at, "Asia/Jakarta") == dt.datetime(*latest)  # type: ignore[arg-type]
    assert next_due(schedule, at, "Asia/Jakarta") == dt.datetime(*following)  # type: ignore[arg-type]


class Flaky(Digest):
    """A digest whose first person's mail server refuses the first time."""

    def __init__(self, sender: Sender, smtp: SmtpServer) -> None:
        super().__init__(sender)
        self.smtp = smtp

    def __call__(self, name: str, schedule: Schedule, due: dt.datetime) -> str:
        from tolok.notify.jobs import UndeliveredError

        self.calls.append(due)
        failed = 0
        for person in PEOPLE:
            message = Message("digest", f"Digest {due:%Y-%m-%d}", "Your KPIs")
            key = f"schedule:{name}:{due.isoformat()}"
            failed += self.sender.send(key, _person(person), message) == "failed"
        if failed:
            raise UndeliveredError(f"{failed} failed")
        return "all sent"


def test_a_run_whose_mail_failed_is_tried_again_later_for_those_missed(
    store: Engine, smtp: SmtpServer
) -> None:
    project = _project().model_copy(update={"email": smtp.email()})
    clock = Clock(dt.datetime(2026, 11, 27, 0, 30))
    runner = Flaky(Sender(store, project.email, backoff=0.0, attempts=1), smtp)
    scheduler = Scheduler(store, runner, clock)
    scheduler.run_due(project)  # seen
    clock.now = dt.datetime(2026, 11, 27, 1, 0, 10)
    smtp.script("451 4.3.0 try again later")  # the first message is refused, once
    [outcome] = scheduler.run_due(project)
    assert outcome.status == "failed"
    assert len(smtp.messages) == 2
    clock.now += dt.timedelta(minutes=1)
    assert scheduler.run_due(project) == []  # not before its wait
    clock.now += dt.timedelta(minutes=5)
    [again] = scheduler.run_due(project)
    assert again.status == "done"
    assert again.note is not None
    assert "try 2" in again.note
    assert _received(smtp) == [(p, "Digest 2026-11-27") for p in PEOPLE]  # each once


def test_an_earlier_time_never_runs_a_past_occurrence_again(store: Engine) -> None:
    project = _project()
    clock = Clock(dt.datetime(2026, 11, 27, 2, 0))  # 09:00 in Jakarta: 08:00 is past
    digest = Digest(Sender(store, None))
    Scheduler(store, digest, clock).run_due(project)  # seen: today's 08:00
    clock.now = dt.datetime(2026, 11, 27, 0, 0)  # another host's clock, an hour behind
    assert Scheduler(store, digest, clock).run_due(project) == []
    assert digest.calls == []


def test_a_run_left_behind_is_superseded_by_a_newer_occurrence(
    store: Engine, smtp: SmtpServer
) -> None:
    project, clock, digest = _mailing(store, smtp, dt.datetime(2026, 11, 27, 0, 30))
    Scheduler(store, digest, clock).run_due(project)
    clock.now = dt.datetime(2026, 11, 27, 1, 0, 10)
    digest.die_after = 0
    with pytest.raises(Died):
        Scheduler(store, digest, clock).run_due(project)
    clock.now = dt.datetime(2026, 11, 28, 1, 0, 10)  # back the next morning
    [outcome] = Scheduler(store, digest, clock).run_due(project)
    assert outcome.due_at == dt.datetime(2026, 11, 28, 1, 0)
    with Session(store) as session:
        runs = session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at)).all()
    assert [r.status for r in runs] == ["seen", "superseded", "done"]


NEW_YORK = "America/New_York"


def test_occurrences_across_summer_time_are_compared_in_real_time() -> None:
    daily = Schedule.model_validate({"do": "alerts", "every": "day", "at": "02:30"})
    # 8 March 2026: New York's clocks jump from 02:00 to 03:00; 02:30 does not exist.
    gap_day = dt.datetime(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert latest_due(daily, gap_day, NEW_YORK) == dt.datetime(2026, 3, 7, 7, 30)
    assert next_due(daily, gap_day, NEW_YORK) == dt.datetime(2026, 3, 8, 7, 30)  # 03:30 EDT
    hourly = Schedule.model_validate({"do": "alerts", "every": "hour", "at": ":15"})
    # 1 November 2026: 01:00-02:00 happens twice (EDT, then EST): both 01:15s run.
    first = dt.datetime(2026, 11, 1, 5, 20)  # 01:20 EDT
    assert latest_due(hourly, first, NEW_YORK) == dt.datetime(2026, 11, 1, 5, 15)
    assert next_due(hourly, first, NEW_YORK) == dt.datetime(2026, 11, 1, 6, 15)  # 01:15 EST
    later = dt.datetime(2026, 11, 1, 6, 20)
    assert next_due(daily, later, NEW_YORK) > later  # never a "next run" in the past


def test_a_stale_take_over_of_a_finished_run_fails(store: Engine, smtp: SmtpServer) -> None:
    """B read the run while A held it; A finished; B's claim must not run it again."""
    project, clock, digest = _mailing(store, smtp, dt.datetime(2026, 11, 27, 0, 30))
    a = Scheduler(store, digest, clock)
    a.run_due(project)  # seen
    clock.now = dt.datetime(2026, 11, 27, 1, 0, 10)
    assert a._insert("morning", dt.datetime(2026, 11, 27, 1, 0), "running", None)
    clock.now += dt.timedelta(minutes=4)  # A's lease looks expired to B
    b = Scheduler(store, digest, clock)
    seen_by_b = b._last("morning")
    assert seen_by_b is not None
    a._finish("morning", seen_by_b.due_at, "done", None, None)  # A was alive after all
    assert b._take_over(seen_by_b) is False
    assert digest.calls == []


def test_a_run_that_kills_its_process_is_given_up_after_its_attempts(store: Engine) -> None:
    project = _project()
    clock = Clock(dt.datetime(2026, 11, 27, 0, 30))
    digest = Digest(Sender(store, None))
    Scheduler(store, digest, clock).run_due(project)  # seen
    clock.now = dt.datetime(2026, 11, 27, 1, 0, 10)
    outcomes = []
    for _ in range(6):  # each process dies in the run; the next takes over after the lease
        digest.die_after = 0
        with contextlib.suppress(Died):
            outcomes += Scheduler(store, digest, clock).run_due(project)
        clock.now += dt.timedelta(minutes=4)
    assert len(digest.calls) == 4  # RUN_ATTEMPTS
    assert [o.status for o in outcomes] == ["failed"]
    with Session(store) as session:
        run = session.scalars(select(ScheduleRun).where(ScheduleRun.status == "failed")).one()
    assert "gave up after 4 attempts" in (note_text(run.note) or "")  # stored in no language


def test_a_run_dated_in_the_future_is_set_aside(store: Engine) -> None:
    project = _project()
    digest = Digest(Sender(store, None))
    ahead = Clock(dt.datetime(2027, 11, 27, 2, 0))  # a host whose clock was a year ahead
    Scheduler(store, digest, ahead).run_due(project)
    right = Clock(dt.datetime(2026, 11, 28, 0, 30))
    [outcome] = Scheduler(store, digest, right).run_due(project)
    assert outcome.due_at == dt.datetime(2026, 11, 27, 1, 0)  # runs again from now on
    with Session(store) as session:
        statuses = [
            r.status for r in session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at))
        ]
    assert statuses[-1] == "superseded"


def test_a_long_run_keeps_its_claim(store: Engine) -> None:
    """The claim is renewed while the run goes on, so nobody takes it over (real time: a
    lease of 0.6 s renewed every 0.2 s, a run of 1.5 s)."""
    import time

    project = _project()
    lease = dt.timedelta(seconds=0.6)

    def slow(name: str, schedule: Schedule, due: dt.datetime) -> str:
        time.sleep(1.5)
        return "slow"

    first = Scheduler(store, slow, lease=lease)
    first.run_due(project)  # seen
    due = latest_due(project.schedules["morning"], dt.datetime.now(dt.UTC).replace(tzinfo=None),
                     project.timezone)  # fmt: skip
    with Session(store) as session, session.begin():  # make today's run due: last seen before
        run = session.scalars(select(ScheduleRun)).one()
        run.due_at = due - dt.timedelta(days=1)
    runner = threading.Thread(target=first.run_due, args=(project,))
    runner.start()
    time.sleep(1.0)  # past the first lease: only a renewal keeps it
    other = Scheduler(store, Digest(Sender(store, None)), lease=lease)
    assert [o.status for o in other.run_due(project)] in ([], ["waiting"])
    runner.join()
    with Session(store) as session:
        done = session.scalars(select(ScheduleRun).where(ScheduleRun.due_at == due)).one()
    assert (done.status, done.attempts) == ("done", 1)
