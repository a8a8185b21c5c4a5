"""KPI series answered from the store, without touching the warehouse: what `tolok show`
uses when the last refresh holds what is asked for. Light to import: an SQLite store is
read with the standard library, a PostgreSQL one through SQLAlchemy, imported on demand."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from dataclasses import dataclass

from tolok.engine.series import KpiSeries, Point, Request, with_comparison
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Status
from tolok.store import reader
from tolok.store.definitions import compute_hash
from tolok.store.points import StoredPoint


@dataclass(frozen=True)
class StoredAnswer:
    series: KpiSeries
    computed_at: dt.datetime | None
    current: bool  # the YAML still says what the stored values were computed from


@dataclass(frozen=True)
class StoredSeries:
    """What the store holds for one KPI."""

    series: list[tuple[str, tuple[str, ...]]]  # (grain, breakdown) pairs
    points: list[StoredPoint]
    latest_hash: str | None  # of what changes values (a new title does not)
    targets: dict[tuple[dt.date, str], float]  # set by people: (period, slice JSON) -> value


def read(loaded: LoadedProject, request: Request, as_reported: bool) -> StoredSeries | None:
    """The stored values for a request, or None when there is no store yet."""
    project = loaded.project
    assert project is not None
    [kpi] = request.kpis
    key = (request.grain.value, request.by)
    path = reader.sqlite_path(project.store, loaded.root)
    if path is not None:
        if not path.exists():
            return None
        with closing(reader.connect(path)) as connection:
            if reader.revision(connection) is None:
                return None
            held = reader.stored_series(connection, kpi)
            points = reader.load(connection, kpi, *key, as_reported) if key in held else []
            targets = reader.person_targets(connection, kpi)
            return StoredSeries(held, points, reader.latest_hash(connection, kpi), targets)
    return _read_server(loaded, kpi, key, as_reported)


def _read_server(
    loaded: LoadedProject, kpi: str, key: tuple[str, tuple[str, ...]], as_reported: bool
) -> StoredSeries:
    from sqlalchemy.orm import Session

    from tolok.store.database import shared_store, store_url
    from tolok.store.results import load, stored_series
    from tolok.store.targets import person_targets
    from tolok.store.versions import latest_version

    assert loaded.project is not None
    store = shared_store(store_url(loaded.project.store, loaded.root))
    held = stored_series(store, kpi)
    points = load(store, kpi, *key, as_reported) if key in held else []
    with Session(store) as session:
        latest = latest_version(session, kpi)
        targets = person_targets(session, kpi)
    return StoredSeries(held, points, latest.compute_hash if latest else None, targets)


def answer(loaded: LoadedProject, request: Request, as_reported: bool) -> StoredAnswer | None:
    """The request answered from stored values, or None when the store cannot answer it."""
    project = loaded.project
    assert project is not None
    if request.where is not None or request.compare not in (None, "previous", "last_year"):
        return None
    if project.kpis[request.kpis[0]].status is not Status.active:
        return None  # refreshes leave draft and retired KPIs alone: compute on the spot
    stored = read(loaded, request, as_reported)
    if stored is None or not stored.points:
        return None
    calendar = Calendar.of(project)
    made = [
        Point(
            p.period,
            calendar.label(p.period, request.grain),
            tuple(zip(request.by, p.slice, strict=True)),
            p.value,
        )
        for p in stored.points
    ]
    compared = with_comparison(made, calendar, request.grain, request.compare)
    first = calendar.start_of(request.start, request.grain) if request.start else dt.date.min
    last = calendar.start_of(request.end, request.grain) if request.end else dt.date.max
    kept = tuple(p for p in compared if first <= p.period <= last)
    [kpi] = request.kpis
    series = KpiSeries(kpi, request.grain, request.by, kept, request.compare)
    current = stored.latest_hash == compute_hash(project, kpi)
    return StoredAnswer(series, max(p.computed_at for p in stored.points), current)
