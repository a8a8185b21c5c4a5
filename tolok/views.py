"""What a KPI's page, its API answer and `tolok show` have in common: the series asked for
(from the store, else computed), with targets, statuses and anomalies, as plain data.

Kept apart from the terminal and the server so that both show the same numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tolok.engine.errors import WarehouseError
from tolok.engine.series import KpiSeries, Point, Request, compare_range
from tolok.engine.stored import StoredAnswer, answer, read
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Grain, Project, Status, TargetSplit
from tolok.store.points import StoredPoint
from tolok.track.status import Standing, attainment, standing
from tolok.track.targets import target_series

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tolok.track.anomalies import Anomaly
    from tolok.track.seasonal import DayProfile


class ViewError(ValueError):
    """A request for a view that cannot be answered as asked; the message says what to fix."""

    def __init__(self, message: str, field: str | None = None, cli: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.cli = cli or message  # the same, in the words of the command line's options


@dataclass(frozen=True)
class SeriesQuery:
    kpi: str
    grain: Grain | None = None
    by: tuple[str, ...] = ()
    start: str | None = None  # a day or a period label: 2026-03-15, 2026-03, 2026-Q1
    end: str | None = None
    where: str | None = None
    compare: str | None = None
    as_reported: bool = False


@dataclass(frozen=True)
class SeriesView:
    project: Project
    kpi: KPI
    result: KpiSeries
    known: Known
    stored: StoredAnswer | None

    @property
    def stale(self) -> bool:
        """Stored values of a definition that changed since (refresh to recompute)."""
        return self.stored is not None and not self.stored.current


def _project(loaded: LoadedProject) -> Project:
    assert loaded.project is not None
    return loaded.project


FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
"""The days a range may name: enough for any business, far from the calendar's ends."""


def parse_day(calendar: Calendar, text: str | None, *, last: bool, field: str) -> dt.date | None:
    """A day or a period label as its first (or, with `last`, its last) day."""
    if text is None:
        return None
    try:
        grain, start = calendar.parse(text)
        day = calendar.end_of(start, grain) - dt.timedelta(days=1) if last else start
    except PeriodError as exc:
        raise ViewError(
            f"{exc}; write a day (2026-03-15) or a period (2026-03, 2026-Q1, 2026, FY2026)",
            field,
        ) from None
    except (OverflowError, ValueError):
        raise ViewError(f"'{text}' is beyond the calendar tolok keeps", field) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ViewError(
            f"'{text}' is outside {FIRST_DAY.year}-{LAST_DAY.year}, the years tolok shows", field
        )
    return day


def request_of(project: Project, query: SeriesQuery) -> Request:
    """The engine request for a query, or a ViewError saying what is wrong with it."""
    from tolok.spec.formula import FormulaError, parse_formula

    if query.kpi not in project.kpis:
        raise ViewError(f"no KPI named '{query.kpi}'", "kpi")
    kpi = project.kpis[query.kpi]
    calendar = Calendar.of(project)
    request = Request(
        (query.kpi,),
        query.grain or kpi.grain,
        query.by,
        parse_day(calendar, query.start, last=False, field="from"),
        parse_day(calendar, query.end, last=True, field="to"),
        query.where,
        query.compare,
    )
    if request.start and request.end and request.start > request.end:
        raise ViewError(
            f"from ({query.start}) comes after to ({query.end})",
            "from",
            f"--from {query.start} comes after --to {query.end}",
        )
    dimensions = {d for dataset in project.datasets.values() for d in dataset.dimensions}
    unknown = [d for d in query.by if d not in dimensions]
    if unknown:
        known = ", ".join(sorted(dimensions)) or "none"
        raise ViewError(f"'{unknown[0]}' is not a dimension (dimensions: {known})", "by",
                        f"--by {unknown[0]}: not a dimension (dimensions: {known})")  # fmt: skip
    repeated = sorted({d for d in query.by if query.by.count(d) > 1})
    if repeated:
        raise ViewError(
            f"by {repeated[0]} is given twice", "by", f"--by {repeated[0]} is given twice"
        )
    if query.where:
        try:
            parse_formula(query.where)
        except FormulaError as exc:
            where = f"where: {exc.message} (at character {exc.span.start + 1})"
            raise ViewError(where, "where") from None
    try:
        compare_range(calendar, query.compare)
    except WarehouseError as exc:
        raise ViewError(f"{exc.message}; {exc.hint or ''}".rstrip("; "), "compare") from None
    return request


def series_view(loaded: LoadedProject, query: SeriesQuery) -> SeriesView:
    """The series asked for, from the store when it holds it, else computed; with what the
    targets need (the KPI's own values, its rhythm, a ratio's denominator). Raises
    ViewError for a bad query, WarehouseError or CompileError for data that cannot be read.
    """
    project = _project(loaded)
    request = request_of(project, query)
    kpi = project.kpis[query.kpi]
    calendar = Calendar.of(project)
    stored = from_store(loaded, request, query.as_reported)
    result = stored.series if stored else computed(loaded, request)
    known = known_of(loaded, request)
    other = request.grain is not kpi.grain and not request.by and bool(kpi.target)
    per_year = calendar.periods_per_year
    if other:
        at_own = Request((query.kpi,), kpi.grain, where=query.where)
        found = from_store(loaded, at_own, False)
        series = found.series if found else computed(loaded, at_own)
        known = replace(known, own={p.period: p.value for p in series.points})
    if other and kpi.target_split is TargetSplit.seasonal:
        known = replace(known, profile=day_profile_of(loaded, query.kpi))
    if other and per_year(request.grain) < per_year(kpi.grain):
        known = replace(known, weights=denominator_of(loaded, query.kpi))
    return SeriesView(project, kpi, result, known, stored)


def series_json(view: SeriesView, as_reported: bool = False) -> dict[str, object]:
    data = as_json(view.project, view.kpi, view.result, view.known)
    stored = view.stored
    data["computed_at"] = (
        stored.computed_at.isoformat() + "Z" if stored and stored.computed_at else None
    )
    data["as_reported"] = as_reported
    return data


@dataclass(frozen=True)
class Known:
    """What the store knows beyond the points shown: earlier values by slice (for growth
    rules reaching before the range), and targets people set ((period, slice JSON))."""

    values: dict[tuple[object, ...], dict[dt.date, float | None]]
    targets: dict[tuple[dt.date, str], float]
    profile: DayProfile | None = None  # the KPI's own rhythm, for `target_split: seasonal`
    weights: dict[dt.date, float | None] | None = None
    """For a ratio KPI shown at a coarser grain: its denominator per KPI-grain period."""
    own: dict[dt.date, float | None] | None = None
    """At another grain: the KPI's values at its own grain (for growth rules and ramps)."""


def denominator_of(loaded: LoadedProject, name: str) -> dict[dt.date, float | None] | None:
    """A ratio KPI's denominator at the KPI's grain (sessions, for orders / sessions), so
    that its targets roll up as the ratio of the targets they imply; None for other KPIs."""
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.formula import Binary, Call, FormulaError, parse_formula

    project = _project(loaded)
    kpi = project.kpis[name]
    try:
        tree = parse_formula(kpi.formula)
    except FormulaError:
        return None
    if isinstance(tree, Binary) and tree.op == "/":
        below = tree.right
    elif isinstance(tree, Call) and tree.func == "ratio" and len(tree.args) == 2:
        below = tree.args[1]
    else:
        return None
    text = kpi.formula[below.span.start : below.span.end]
    helper = "__denominator"
    kpis = {**project.kpis, helper: KPI(formula=text, grain=kpi.grain)}
    scratch = replace(loaded, project=project.model_copy(update={"kpis": kpis}))
    series = compute(scratch, Warehouse(scratch), Request((helper,), kpi.grain))[helper]
    return {p.period: p.value for p in series.points}


def day_profile_of(loaded: LoadedProject, name: str) -> DayProfile | None:
    """A KPI's weekday and month rhythm, from its whole daily history (a live query)."""
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.track.seasonal import day_profile

    series = compute(loaded, Warehouse(loaded), Request((name,), Grain.day))[name]
    return day_profile({p.period: p.value for p in series.points})


def targets_of(
    project: Project, kpi: KPI, result: KpiSeries, known: Known | None = None
) -> list[tuple[float | None, str]]:
    """Each point's target and standing ([] when the KPI has no target at all)."""
    from tolok.track.pace import is_additive
    from tolok.track.status import standing
    from tolok.track.targets import target_series, targets_at

    known = known or Known({}, {})
    if not kpi.target and not known.targets:
        return []
    calendar = Calendar.of(project)
    additive = is_additive(project, result.kpi)
    by_slice: dict[tuple[tuple[str, object], ...], dict[dt.date, float | None]] = {}
    for key, points in slices_of(result).items():
        earlier = known.values.get(tuple(v for _, v in key), {})
        actuals = {**earlier, **{p.period: p.value for p in points}}
        periods = [p.period for p in points]
        if result.grain is kpi.grain:
            shown = json.dumps(dict(key), ensure_ascii=False, sort_keys=True, default=str)
            people = {p: v for (p, k), v in known.targets.items() if k == shown}
            by_slice[key] = target_series(kpi, periods, calendar, actuals, dict(key), people)
        elif not key:
            profile = known.profile if kpi.target_split is TargetSplit.seasonal else None
            own = known.own or {}
            by_slice[key] = targets_at(
                kpi, result.grain, periods, calendar, own, additive, known.weights, profile
            )
        else:
            by_slice[key] = dict.fromkeys(periods)
    out = []
    for point in result.points:
        target = by_slice[point.slice].get(point.period)
        out.append((target, standing(point.value, target, kpi).value))
    return out


def unusual_of(project: Project, result: KpiSeries, known: Known) -> list[Anomaly | None]:
    """Each point's anomaly (a value far outside what the KPI usually does), or None.

    The earlier values the store holds count as history, so a narrow `--from` range still
    has enough periods to judge by."""
    from tolok.track.anomalies import anomalies

    calendar = Calendar.of(project)
    season = 7 if result.grain is Grain.day else calendar.periods_per_year(result.grain)
    found: dict[tuple[tuple[tuple[str, object], ...], dt.date], Anomaly] = {}
    for key, points in slices_of(result).items():
        earlier = known.values.get(tuple(v for _, v in key), {})
        history = {**earlier, **{p.period: p.value for p in points}}
        for anomaly in anomalies(sorted(history.items()), season=season):
            found[(key, anomaly.period)] = anomaly
    return [found.get((p.slice, p.period)) for p in result.points]


def anomaly_json(anomaly: Anomaly | None) -> dict[str, float] | None:
    if anomaly is None:
        return None
    return {"expected": anomaly.expected, "score": round(anomaly.score, 2)}


def known_of(loaded: LoadedProject, request: Request) -> Known:
    """What the store holds for the series asked for (nothing without a store)."""
    from tolok.engine.stored import read

    stored = read(loaded, replace(request, start=None, end=None, compare=None), False)
    values: dict[tuple[object, ...], dict[dt.date, float | None]] = {}
    for point in stored.points if stored else []:
        values.setdefault(point.slice, {})[point.period] = point.value
    return Known(values, stored.targets if stored else {})


def slices_of(result: KpiSeries) -> dict[tuple[tuple[str, object], ...], list[Point]]:
    out: dict[tuple[tuple[str, object], ...], list[Point]] = {}
    for point in result.points:
        out.setdefault(point.slice, []).append(point)
    return out


def as_json(project: Project, kpi: KPI, result: KpiSeries, known: Known) -> dict[str, object]:
    """The series as JSON; `computed_at` and `as_reported` are added by the caller."""
    targets = targets_of(project, kpi, result, known)
    unusual = unusual_of(project, result, known)
    return {
        "kpi": result.kpi,
        "title": kpi.title,
        "unit": kpi.unit.value,
        "currency": project.currency if kpi.unit.value == "currency" else None,
        "grain": result.grain.value,
        "by": list(result.by),
        "compare": result.compare,
        "points": [
            {
                "period": p.label,
                "start": p.period.isoformat(),
                **({"slice": dict(p.slice)} if result.by else {}),
                "value": p.value,
                **({"compare": p.compare, "change": p.change} if result.compare else {}),
                **({"target": targets[i][0], "status": targets[i][1]} if targets else {}),
                "anomaly": anomaly_json(unusual[i]),
            }
            for i, p in enumerate(result.points)
        ],
    }


def from_store(loaded: LoadedProject, request: Request, as_reported: bool) -> StoredAnswer | None:
    found = answer(loaded, request, as_reported)
    if as_reported and found is None:
        why = (
            "reads stored values: run `tolok refresh` first, and ask for a grain and "
            "breakdown a refresh computes, without a filter"
        )
        raise ViewError(f"as_reported {why}", None, f"--as-reported {why}")
    return found


def computed(loaded: LoadedProject, request: Request) -> KpiSeries:
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.store.manual import source as manual_source

    store = existing_store(loaded)
    manual = manual_source(store) if store is not None else None
    return compute(loaded, Warehouse(loaded, manual=manual), request)[request.kpis[0]]


def existing_store(loaded: LoadedProject) -> Engine | None:
    """The project's store, unless it is an SQLite file that does not exist yet."""
    from tolok.store.database import open_store, store_url
    from tolok.store.reader import sqlite_path

    project = _project(loaded)
    path = sqlite_path(project.store, loaded.root)
    if path is not None and not path.exists():
        return None
    return open_store(store_url(project.store, loaded.root))


@dataclass(frozen=True)
class KpiState:
    """A KPI's last closed period against its target, and its stored series."""

    points: list[StoredPoint]
    latest: StoredPoint | None
    target: float | None
    attainment: float | None
    standing: Standing


def kpi_states(
    loaded: LoadedProject, today: dt.date, at: dt.date | None = None
) -> dict[str, KpiState]:
    """Every active KPI's state, read from the store (no points before the first refresh):
    its last closed period, or with `at` the period of each KPI's grain holding that day."""
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    out: dict[str, KpiState] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        stored = read(loaded, Request((name,), kpi.grain), False)
        points = stored.points if stored else []
        actuals = {p.period: p.value for p in points}
        closed = [p for p in points if calendar.end_of(p.period, kpi.grain) <= today]
        latest = closed[-1] if closed else None
        if at is not None:
            wanted = calendar.start_of(at, kpi.grain)
            latest = next((p for p in points if p.period == wanted), None)
        value = latest.value if latest else None
        target = None
        people = {p: v for (p, k), v in (stored.targets if stored else {}).items() if k == "{}"}
        if latest is not None:
            targets = target_series(kpi, [latest.period], calendar, actuals, None, people)
            target = targets[latest.period]
        share = attainment(value, target, kpi) if value is not None and target else None
        out[name] = KpiState(points, latest, target, share, standing(value, target, kpi))
    return out
