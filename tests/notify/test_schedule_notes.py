"""A schedule run's note is kept in no language and worded when read: the terminal and the
pages say it in the reader's language; a note stored in English words before (an older
tolok) still reads as it was written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tolok.notify.schedule import Scheduler, joined, note_text, said
from tolok.spec.models import Project
from tolok.spec.sharing import Schedule
from tolok.store.sharing import ScheduleRun


@pytest.fixture
def store(tmp_path: object) -> Iterator[Engine]:
    from tolok.store.database import connect, upgrade

    engine = connect(f"sqlite:///{tmp_path}/tolok.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def _project() -> Project:
    return Project.model_validate({
        "name": "Toko", "timezone": "Asia/Jakarta",
        "schedules": {"pagi": {"do": "alerts", "every": "day", "at": "08:00"}},
    })  # fmt: skip


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _job(name: str, schedule: Schedule, due: dt.datetime) -> str:
    return said("alerts", opened=1, resolved=0, sent=2, failed=0, held=0)


def test_a_run_stores_a_neutral_note_worded_in_each_language(store: Engine) -> None:
    clock = Clock(dt.datetime(2026, 11, 27, 0, 30))  # 07:30 in Jakarta
    scheduler = Scheduler(store, _job, clock)
    [seen] = scheduler.run_due(_project())
    assert seen.text() == "first seen: runs from 2026-11-27 08:00 Asia/Jakarta"
    assert seen.text("id") == "baru terlihat: berjalan mulai 2026-11-27 08:00 Asia/Jakarta"
    clock.now = dt.datetime(2026, 11, 30, 1, 5)  # 08:05 on the 30th: 27, 28, 29 missed
    [ran] = scheduler.run_due(_project())
    with Session(store) as session:
        stored = session.scalars(select(ScheduleRun.note).where(ScheduleRun.status == "done"))
        [note] = list(stored)
    assert note == ran.said
    assert note_text(note) == (
        "3 earlier occurrences missed while stopped; "
        "1 alert opened, 0 resolved, 2 messages sent, 0 failed, 0 held"
    )
    assert note_text(note, "id") == (
        "3 jadwal sebelumnya terlewat selama berhenti; "
        "1 peringatan dibuka, 0 selesai, 2 pesan terkirim, 0 gagal, 0 ditahan"
    )
    assert ran.note == note_text(note)  # for the server's log


def test_an_old_english_note_reads_as_written_and_joins_new_ones(store: Engine) -> None:
    old = "3 earlier occurrences missed while stopped; digest to 2 recipients"
    assert note_text(old) == old
    assert note_text(old, "id") == old
    assert note_text(None, "id") is None
    both = joined(old, said("try", n=2))
    assert note_text(both) == f"{old}; try 2"
    assert note_text(both, "id") == f"{old}; percobaan ke-2"
    with Session(store) as session, session.begin():
        session.add(ScheduleRun(schedule="pagi", due_at=dt.datetime(2026, 11, 1), status="done",
                                owner="x", lease_until=dt.datetime(2026, 11, 1), attempts=1,
                                started_at=dt.datetime(2026, 11, 1), note=old))  # fmt: skip
        session.execute(update(ScheduleRun).values(finished_at=dt.datetime(2026, 11, 1)))
    with Session(store) as session:
        [kept] = list(session.scalars(select(ScheduleRun.note)))
    assert note_text(kept, "id") == old


def test_counts_in_indonesian_digits_and_english_plurals() -> None:
    many = said("refreshed", n=1234)
    assert note_text(many) == "refreshed 1,234 KPIs"
    assert note_text(many, "id") == "1.234 KPI diperbarui"
    assert note_text(said("refreshed", n=1)) == "refreshed 1 KPI"
    delivered = joined(said("delivered", to="dewi@toko.id", outcome="already sent"),
                       said("written", path="/srv/laporan/pagi.pdf"))  # fmt: skip
    assert note_text(delivered) == "dewi@toko.id: already sent; written to /srv/laporan/pagi.pdf"
    assert note_text(delivered, "id") == (
        "dewi@toko.id: sudah terkirim; ditulis ke /srv/laporan/pagi.pdf"
    )
