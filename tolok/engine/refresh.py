"""Refresh: every active KPI at its own grain and declared breakdowns, kept in the store.

KPIs of one grain, breakdown and starting period form one batch, so each dataset is read
once per batch however many KPIs use it. An incremental refresh (the default) looks at the
datasets' watermarks and recomputes, per KPI, only from the first period new data touched
to the end; a KPI whose definition changed, or whose data changed in a way a watermark
cannot place, is recomputed whole, and so is everything with `full=True`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from tolok.compile.plan import plan_kpi
from tolok.engine.failures import Failure, failure_of, is_global, observe_failure
from tolok.engine.joins import read_names
from tolok.engine.series import KpiSeries, Point, Request
from tolok.engine.watermarks import Touch, last_days, observe
from tolok.spec.calendar import Calendar
from tolok.spec.joins import split
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Project, Status
from tolok.store.aggregates import Values, drop_aggregates, held_aggregates, save_aggregates
from tolok.store.results import (
    SeriesRows,
    load_totals,
    mark_failed,
    now,
    save,
    start_refresh,
)
from tolok.store.schema import Result, Watermark
from tolok.store.snapshots import held_snapshots, save_snapshots
from tolok.store.versions import latest_versions, recomputing, record_versions

if TYPE_CHECKING:  # a refresh with nothing to do imports nothing that computes (Ibis, pandas)
    from tolok.engine.aggregates import KeptAggregates
    from tolok.engine.warehouse import Warehouse

log = logging.getLogger("tolok.engine")

Progress = Callable[[str, int, int], None]
"""Told what is being read, how many batches are done and how many there are."""


@dataclass(frozen=True)
class Refreshed:
    totals: dict[str, KpiSeries]  # KPI -> its series, in the project's order
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries]  # (KPI, dimensions) -> series
    failed: dict[str, Failure] = field(default_factory=dict)
    """KPIs that could not be computed, with why and where: the others were (see
    `failures`)."""


@dataclass
class Plan:
    """What a refresh recomputes: per KPI, everything (None) or from a day on."""

    since: dict[str, dt.date | None] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def refresh(
    loaded: LoadedProject,
    warehouse: Warehouse,
    progress: Progress | None = None,
    since: dict[str, dt.date | None] | None = None,
    kept: KeptAggregates | None = None,
) -> Refreshed:
    """Compute active KPIs, in total and by each declared breakdown.

    `since` limits the work: only the KPIs it names, each from that day's period on (or
    whole, for None). Without it, every active KPI is computed whole. `kept` gives measure
    results of earlier periods from the store and collects the new ones (see aggregates).
    A KPI that fails is in `failed`, in none of the series, and the others are computed.
    """
    project = loaded.project
    assert project is not None
    batches: dict[tuple[Grain, tuple[str, ...], dt.date | None], list[str]] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active or (since is not None and name not in since):
            continue
        start = since.get(name) if since is not None else None
        for by in [(), *[tuple(d) for d in kpi.breakdowns]]:
            batches.setdefault((kpi.grain, by, start), []).append(name)
    totals: dict[str, KpiSeries] = {}
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries] = {}
    failed: dict[str, Failure] = {}
    if not batches:  # nothing to compute: none of what computes is imported
        if progress is not None:
            progress("done", 0, 0)
        return Refreshed({}, {}, {})
    from tolok.engine.failures import compute_each
    from tolok.engine.shapes import FINEST_FIRST, Shapes

    # The finest shapes first: the coarser ones add up from them what adds up (`shapes`).
    ordered_batches = sorted(
        batches.items(), key=lambda b: (FINEST_FIRST.index(b[0][0]), -len(b[0][1]))
    )
    shapes = Shapes()
    for done, ((grain, by, start), names) in enumerate(ordered_batches):
        label = grain.value + (f" by {' x '.join(by)}" if by else "")

        def step(dataset: str, label: str = label, done: int = done) -> None:
            if progress is not None:
                progress(f"{label}: reading {dataset}", done, len(batches))

        request = Request(tuple(names), grain, by, start=start)
        computed = compute_each(loaded, warehouse, request, step, kept, failed, shapes)
        for name, series in computed.items():
            if by:
                breakdowns[(name, by)] = series
            else:
                totals[name] = series
    if progress is not None:
        progress("done", len(batches), len(batches))
    ordered = {n: totals[n] for n in project.kpis if n in totals and n not in failed}
    kept_breakdowns = {key: s for key, s in breakdowns.items() if key[0] not in failed}
    return Refreshed(ordered, kept_breakdowns, failed)


@dataclass(frozen=True)
class Stored:
    refresh_id: int
    rows: int
    new_versions: dict[str, int]  # KPI -> version number, for KPIs whose definition changed
    restated: list[str]
    recomputed: dict[str, dt.date | None]  # KPI -> from which day (None: whole)
    unchanged: list[str]
    failed: dict[str, Failure] = field(default_factory=dict)


def refresh_into_store(
    loaded: LoadedProject,
    warehouse: Warehouse,
    store: Engine,
    reason: str | None = None,
    progress: Progress | None = None,
    full: bool = False,
    board: bool = True,
) -> tuple[Refreshed, Stored]:
    """Compute what changed, then write versions, values and watermarks in one transaction.

    The series handed back are every active KPI's as stored now; with `board=False`, only
    those this refresh recomputed (for a caller that reads the store itself).

    Killed while computing, a refresh leaves only its `running` mark; killed while writing,
    the transaction is rolled back. Either way the store holds the last complete refresh,
    and the watermarks still describe the data that refresh saw.

    A KPI that fails (its data, its formula) is in `failed` and keeps its stored values
    and version; the others are stored. The datasets it reads keep their watermarks, so
    the next refresh computes it again from the same data.
    """
    project = loaded.project
    assert project is not None
    refresh_id = start_refresh(store, reason)
    try:
        refreshed, stored = _refresh_into_store(
            loaded, warehouse, store, refresh_id, reason, progress, full
        )
    except BaseException:
        mark_failed(store, refresh_id)
        raise
    return (_board(loaded, store, refreshed) if board else refreshed), stored


def _refresh_into_store(
    loaded: LoadedProject,
    warehouse: Warehouse,
    store: Engine,
    refresh_id: int,
    reason: str | None,
    progress: Progress | None,
    full: bool,
) -> tuple[Refreshed, Stored]:
    project = loaded.project
    assert project is not None
    active = [n for n, k in project.kpis.items() if k.status is Status.active]
    with Session(store) as session:
        latest = latest_versions(session, active)
        before = {n: latest[n].number if n in latest else 0 for n in active}
        previous = {w.dataset: json.loads(w.state) for w in session.scalars(select(Watermark))}
        held = set(session.execute(select(Result.kpi, Result.grain, Result.breakdown).distinct()))
        declared = _declared_series(project, active)
        missing = {kpi for kpi, grain, breakdown in declared - held}
        newest = select(Result.kpi, Result.grain, func.max(Result.period)).where(
            Result.breakdown == ""
        )
        last: dict[str, dt.date] = {
            kpi: period
            for kpi, grain, period in session.execute(newest.group_by(Result.kpi, Result.grain))
            if kpi in project.kpis and grain == project.kpis[kpi].grain.value
        }
        whole = recomputing(session, project, active, latest) | missing
    uses, failed = _datasets(loaded, active)
    states, touches, unread = _observe(loaded, warehouse, uses, previous)
    failed.update(unread)
    warehouse.last_days = {d: last_days(warehouse, d, state) for d, state in states.items()}
    if not full:
        warehouse.added = {d: t.added for d, t in touches.items() if t.added is not None}
    plan = _plan({n: d for n, d in uses.items() if n not in failed}, touches, whole, full)
    calendar = Calendar.of(project)
    for name, day in plan.since.items():
        # New data may lie after a gap: the periods between the last stored one and the
        # touched day appear too (as 0), so recompute from the end of the last stored one.
        if day is not None and name in last:
            after = calendar.end_of(last[name], project.kpis[name].grain)
            plan.since[name] = min(day, after)
    kept = _kept(store) if plan.since else None  # nothing to compute: none of its modules
    refreshed = refresh(loaded, warehouse, progress, plan.since, kept)
    failed.update(refreshed.failed)
    grown = _new_slices(store, refreshed, plan.since)
    if grown:
        # The touched periods do not show the same dimension values as the stored ones (a
        # value new to the data, or one absent lately): every period has a row per value,
        # so those breakdowns are recomputed whole.
        again = refresh(loaded, warehouse, progress, dict.fromkeys(grown), kept)
        failed.update(again.failed)
        refreshed = Refreshed(
            {**refreshed.totals, **again.totals}, {**refreshed.breakdowns, **again.breakdowns}
        )
        plan.since.update(dict.fromkeys(grown))
    refreshed = _without(refreshed, failed)
    for name, failure in failed.items():
        log.info("KPI %s not computed: %s", name, failure.message)
        plan.since.pop(name, None)
    held_back = {d for name in failed for d in uses.get(name, {})}
    states = {d: state for d, state in states.items() if d not in held_back}
    with Session(store) as session, session.begin():
        computed = [n for n in active if n not in failed]
        versions = record_versions(session, project, computed, reason)
        rows = save(session, refresh_id, _rows(refreshed, plan.since, project), versions)
        _drop_undeclared(session, declared)
        _save_watermarks(session, states, refresh_id)
        fresh = kept.fresh if kept is not None else {}
        save_aggregates(session, refresh_id, fresh.values())
        save_snapshots(session, refresh_id, kept.fresh_snapshots.values() if kept else [])
        changed = {d for d, touch in touches.items() if not touch.untouched}
        drop_aggregates(session, None if full else changed, set(fresh))
        new_versions = {
            n: r.version.number for n, r in versions.items() if r.version.number != before[n]
        }
        restated = [n for n, r in versions.items() if r.restated]
    return refreshed, Stored(
        refresh_id, rows, new_versions, restated, plan.since, plan.unchanged, failed
    )


def _datasets(
    loaded: LoadedProject, active: list[str]
) -> tuple[dict[str, dict[str, dt.timedelta]], dict[str, Failure]]:
    """The datasets each KPI reads, conversions' later events included, with how far back
    a new row of each can change the KPI: a later event on day D completes conversions
    of entities that started up to `within` before D. A KPI that cannot be planned (a
    project never validated) fails alone."""
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    out: dict[str, dict[str, dt.timedelta]] = {}
    failed: dict[str, Failure] = {}
    for name in active:
        try:
            plan = plan_kpi(project, name, project.kpis[name].grain, calendar)
        except Exception as exc:
            failed[name] = failure_of(loaded, name, exc)
            continue
        used = out.setdefault(name, {})
        breakdowns = [d for by in project.kpis[name].breakdowns for d in by]
        for need in plan.needs:
            used.setdefault(need.measure.dataset, dt.timedelta(0))
            dataset = project.datasets[need.measure.dataset]
            measure = dataset.measures[need.measure.measure]
            if measure.to:
                reach = (measure.within or dt.timedelta(0)) + dt.timedelta(days=1)
                used[measure.to] = max(used.get(measure.to, dt.timedelta(0)), reach)
            read = read_names(dataset, [need.measure.measure], breakdowns, None)
            for target in {split(n)[0] or "" for n in read} & set(dataset.refs.values()):
                used.setdefault(target, dt.timedelta(0))  # a lookup: changed, read whole
    return out, failed


def _observe(
    loaded: LoadedProject,
    warehouse: Warehouse,
    uses: dict[str, dict[str, dt.timedelta]],
    previous: dict[str, dict[str, object]],
) -> tuple[dict[str, dict[str, object]], dict[str, Touch], dict[str, Failure]]:
    """Each dataset's watermark; a dataset that cannot be looked at fails the KPIs that
    read it, not the refresh."""
    states: dict[str, dict[str, object]] = {}
    touches: dict[str, Touch] = {}
    failed: dict[str, Failure] = {}
    for dataset in sorted(set().union(*uses.values())):
        try:
            states[dataset], touches[dataset] = observe(warehouse, dataset, previous.get(dataset))
        except Exception as exc:
            if is_global(warehouse, exc):
                raise
            for name, datasets in uses.items():
                if dataset in datasets and name not in failed:
                    failed[name] = observe_failure(loaded, name, dataset, exc)
    return states, touches, failed


def _without(refreshed: Refreshed, failed: dict[str, Failure]) -> Refreshed:
    totals = {n: s for n, s in refreshed.totals.items() if n not in failed}
    breakdowns = {k: s for k, s in refreshed.breakdowns.items() if k[0] not in failed}
    return Refreshed(totals, breakdowns, {**refreshed.failed, **failed})


def _plan(
    uses: dict[str, dict[str, dt.timedelta]],
    touches: dict[str, Touch],
    whole: set[str],
    full: bool,
) -> Plan:
    plan = Plan()
    for name, datasets in uses.items():
        touched = [(touches[d], reach) for d, reach in datasets.items() if d in touches]
        if full or name in whole or any(t.full for t, _ in touched):
            plan.since[name] = None
            continue
        days = [t.since - reach for t, reach in touched if t.since is not None]
        if days:
            plan.since[name] = min(days)
        else:
            plan.unchanged.append(name)
    return plan


def _kept(store: Engine) -> KeptAggregates:
    from tolok.engine.aggregates import KeptAggregates

    return KeptAggregates(partial(_held_aggregates, store), snapshots=partial(_snapshots, store))


def _held_aggregates(
    store: Engine, signature: str, start: dt.date, end: dt.date
) -> list[tuple[dt.date, str, Values]] | None:
    with store.connect() as connection:
        return held_aggregates(connection, signature, start, end)


def _snapshots(store: Engine, signature: str) -> list[tuple[dt.date, str, Values]]:
    with store.connect() as connection:
        return held_snapshots(connection, signature)


def _declared_series(project: Project, active: list[str]) -> set[tuple[str, str, str]]:
    """(KPI, grain, breakdown) of every series a refresh keeps."""
    out = set()
    for name in active:
        kpi = project.kpis[name]
        for by in [(), *[tuple(d) for d in kpi.breakdowns]]:
            out.add((name, kpi.grain.value, ",".join(by)))
    return out


def _drop_undeclared(session: Session, declared: set[tuple[str, str, str]]) -> None:
    """Series no longer declared (another grain, a dropped breakdown, a KPI removed or
    set to draft) would otherwise answer `show` with values no refresh updates."""
    held = set(session.execute(select(Result.kpi, Result.grain, Result.breakdown).distinct()))
    for kpi, grain, breakdown in held - declared:
        session.execute(
            delete(Result).where(
                Result.kpi == kpi, Result.grain == grain, Result.breakdown == breakdown
            )
        )


def _new_slices(store: Engine, refreshed: Refreshed, since: dict[str, dt.date | None]) -> set[str]:
    """KPIs recomputed from a day on whose breakdowns show other dimension values than the
    stored ones."""
    grown: set[str] = set()
    if not refreshed.breakdowns:
        return grown
    from tolok.compile.frames import slice_key

    with Session(store) as session:
        for (name, by), series in refreshed.breakdowns.items():
            if since.get(name) is None:
                continue
            stored = set(
                session.scalars(
                    select(Result.slice)
                    .where(
                        Result.kpi == name,
                        Result.grain == series.grain.value,
                        Result.breakdown == ",".join(by),
                    )
                    .distinct()
                )
            )
            seen = {slice_key([v for _, v in p.slice]) for p in series.points}
            if seen != stored:
                grown.add(name)
    return grown


def _rows(
    refreshed: Refreshed, since: dict[str, dt.date | None], project: Project
) -> list[SeriesRows]:
    out: list[SeriesRows] = []
    everything = [((name, ()), series) for name, series in refreshed.totals.items()]
    if not everything and not refreshed.breakdowns:
        return out
    from tolok.compile.frames import slice_key

    calendar = Calendar.of(project)
    for (name, by), series in [*everything, *refreshed.breakdowns.items()]:
        rows = [
            (p.period, slice_key([value for _, value in p.slice]), p.value) for p in series.points
        ]
        day = since.get(name)
        start = calendar.start_of(day, series.grain) if day is not None else None
        out.append(SeriesRows(name, series.grain.value, by, rows, start))
    return out


def _save_watermarks(
    session: Session, states: dict[str, dict[str, object]], refresh_id: int
) -> None:
    if not states:
        return
    connection = session.connection()
    connection.execute(delete(Watermark).where(Watermark.dataset.in_(states)))
    stamp = now()
    connection.execute(
        insert(Watermark),
        [
            {
                "dataset": dataset,
                "state": json.dumps(state, sort_keys=True, default=str),
                "refresh_id": refresh_id,
                "updated_at": stamp,
            }
            for dataset, state in states.items()
        ],
    )


def _board(loaded: LoadedProject, store: Engine, refreshed: Refreshed) -> Refreshed:
    """Every active KPI's stored series: what an incremental refresh did not recompute
    is as the store holds it."""
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    active = {n: k for n, k in project.kpis.items() if k.status is Status.active}
    stored = load_totals(store, {name: kpi.grain.value for name, kpi in active.items()})
    totals: dict[str, KpiSeries] = {}
    for name, kpi in active.items():
        points = tuple(
            Point(p.period, calendar.label(p.period, kpi.grain), (), p.value) for p in stored[name]
        )
        totals[name] = KpiSeries(name, kpi.grain, (), points)
    return Refreshed(totals, refreshed.breakdowns, refreshed.failed)
