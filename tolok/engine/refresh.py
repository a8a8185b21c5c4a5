"""A full refresh: every active KPI at its own grain, and by its declared breakdowns.

KPIs of one grain (and one breakdown) form one batch, so each dataset is read once per batch
however many KPIs use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tolok.compile.frames import slice_key
from tolok.engine.compute import KpiSeries, Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Status
from tolok.store.results import SeriesRows, save, start_refresh
from tolok.store.versions import latest_version, record_versions


@dataclass(frozen=True)
class Refreshed:
    totals: dict[str, KpiSeries]  # KPI -> its series, in the project's order
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries]  # (KPI, dimensions) -> series


Progress = Callable[[str, int, int], None]
"""Told what is being read, how many batches are done and how many there are."""


def refresh(
    loaded: LoadedProject,
    warehouse: Warehouse,
    progress: Progress | None = None,
) -> Refreshed:
    """Compute every active KPI, in total and by each breakdown it declares."""
    project = loaded.project
    assert project is not None
    batches: dict[tuple[Grain, tuple[str, ...]], list[str]] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        batches.setdefault((kpi.grain, ()), []).append(name)
        for dimensions in kpi.breakdowns:
            batches.setdefault((kpi.grain, tuple(dimensions)), []).append(name)
    totals: dict[str, KpiSeries] = {}
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries] = {}
    for done, ((grain, by), names) in enumerate(batches.items()):
        label = grain.value + (f" by {' x '.join(by)}" if by else "")

        def step(dataset: str, label: str = label, done: int = done) -> None:
            if progress is not None:
                progress(f"{label}: reading {dataset}", done, len(batches))

        result = compute(loaded, warehouse, Request(tuple(names), grain, by), step)
        for name, series in result.items():
            if by:
                breakdowns[(name, by)] = series
            else:
                totals[name] = series
    if progress is not None:
        progress("done", len(batches), len(batches))
    ordered = {name: totals[name] for name in project.kpis if name in totals}
    return Refreshed(ordered, breakdowns)


@dataclass(frozen=True)
class Stored:
    refresh_id: int
    rows: int
    new_versions: dict[str, int]  # KPI -> version number, for KPIs whose definition changed
    restated: list[str]


def refresh_into_store(
    loaded: LoadedProject,
    warehouse: Warehouse,
    store: Engine,
    reason: str | None = None,
    progress: Progress | None = None,
) -> tuple[Refreshed, Stored]:
    """Compute, then write versions and values in one transaction.

    Killed while computing, a refresh leaves only its `running` mark; killed while writing,
    the transaction is rolled back. Either way the store holds the last complete refresh.
    """
    project = loaded.project
    assert project is not None
    refresh_id = start_refresh(store, reason)
    refreshed = refresh(loaded, warehouse, progress)
    names = list(refreshed.totals)
    with Session(store) as session, session.begin():
        before = {n: getattr(latest_version(session, n), "number", 0) for n in names}
        versions = record_versions(session, project, names, reason)
        rows = save(session, refresh_id, _rows(refreshed), versions)
        changed = {
            name: recorded.version.number
            for name, recorded in versions.items()
            if recorded.version.number != before[name]
        }
        restated = [name for name, recorded in versions.items() if recorded.restated]
    return refreshed, Stored(refresh_id, rows, changed, restated)


def _rows(refreshed: Refreshed) -> list[SeriesRows]:
    out = []
    everything = [((name, ()), series) for name, series in refreshed.totals.items()]
    for (name, by), series in [*everything, *refreshed.breakdowns.items()]:
        rows = [
            (p.period, slice_key([value for _, value in p.slice]), p.value) for p in series.points
        ]
        out.append(SeriesRows(name, series.grain.value, by, rows))
    return out
