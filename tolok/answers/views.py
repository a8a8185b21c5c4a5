"""What a KPI's page, its API answer and `tolok show` have in common: the series asked for
(from the store, else computed), with targets, statuses and anomalies, as plain data.

Kept apart from the terminal and the server so that both show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tolok.engine.errors import WarehouseError
from tolok.engine.series import KpiSeries, Point, Request, compare_range
from tolok.engine.stored import StoredAnswer, answer, read
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.joins import all_dimensions
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Grain, Project, TargetSplit
from tolok.track.verdict import PeriodState, Verdict

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
    verdicts: tuple[Verdict, ...] = ()
    """Each point's verdict (`tolok.answers.verdicts`), in the order of `result.points`."""

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
    dimensions = all_dimensions(project)
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
    from tolok.track.targets import reads_actuals

    project = _project(loaded)
    request = request_of(project, query)
    kpi = project.kpis[query.kpi]
    calendar = Calendar.of(project)
    stored = from_store(loaded, request, query.as_reported)
    result = stored.series if stored else computed(loaded, request)
    known = replace(known_of(loaded, request), where=query.where)
    other = request.grain is not kpi.grain and bool(kpi.target or known.targets)
    per_year = calendar.periods_per_year
    if other and reads_actuals(kpi):  # the same slices and filter, at the KPI's grain
        at_own = Request((query.kpi,), kpi.grain, request.by, where=query.where)
        found = from_store(loaded, at_own, False)
        series = found.series if found else computed(loaded, at_own)
        known = replace(known, own=values_by_slice(series))
    if other and kpi.target_split is TargetSplit.seasonal:
        known = replace(known, profile=day_profile_of(loaded, query.kpi))
    if other and per_year(request.grain) < per_year(kpi.grain):
        weights = denominator_of(loaded, query.kpi, request.by, query.where)
        known = replace(known, weights=weights)
    return judged(loaded, SeriesView(project, kpi, result, known, stored))


def judged(loaded: LoadedProject, view: SeriesView) -> SeriesView:
    """The view with each point's verdict, judged on the one clock's today."""
    from tolok.answers.verdicts import needs_rhythm, series_verdicts, settling_of, spans_of
    from tolok.clock import today as today_of

    project, kpi, result = view.project, view.kpi, view.result
    today = today_of(project)
    calendar = Calendar.of(project)
    known = view.known
    if known.profile is None and needs_rhythm(project, kpi, result, today, calendar):
        known = replace(known, profile=day_profile_of(loaded, result.kpi))
    settling = settling_of(project, result.kpi, result.grain, spans_of(loaded), today)
    verdicts = series_verdicts(project, kpi, result, known, today, settling)
    return replace(view, known=known, verdicts=tuple(verdicts))


def series_json(view: SeriesView, as_reported: bool = False) -> dict[str, object]:
    data = as_json(view)
    stored = view.stored
    data["computed_at"] = (
        stored.computed_at.isoformat() + "Z" if stored and stored.computed_at else None
    )
    data["as_reported"] = as_reported
    return data


def reported_json(loaded: LoadedProject, query: SeriesQuery) -> dict[str, object]:
    """The values first reported for `query` (the store's earliest of each period), as
    `series_json(..., as_reported=True)` writes each point's `start`, `slice` and `value`,
    without judging them: a page showing today's values reads them only to mark the periods
    restated since. Raises ViewError when the store cannot answer."""
    project = _project(loaded)
    stored = from_store(loaded, request_of(project, query), True)
    assert stored is not None  # from_store raises instead
    result, money = stored.series, _money(project, project.kpis[query.kpi])
    points = [
        {
            "start": p.period.isoformat(),
            **({"slice": dict(p.slice)} if result.by else {}),
            "value": money(p.value),
        }
        for p in result.points
    ]
    return {"kpi": result.kpi, "points": points}


@dataclass(frozen=True)
class Known:
    """What the store knows beyond the points shown: earlier values by slice (for growth
    rules reaching before the range), and targets people set ((period, slice JSON))."""

    values: dict[tuple[object, ...], dict[dt.date, float | None]]
    targets: dict[tuple[dt.date, str], float]
    profile: DayProfile | None = None  # the KPI's own rhythm, for `target_split: seasonal`
    weights: dict[SliceKey, dict[dt.date, float | None]] | None = None
    """For a ratio KPI shown at a coarser grain: its denominator per slice (`slice_key`) and
    KPI-grain period."""
    own: dict[SliceKey, dict[dt.date, float | None]] | None = None
    """At another grain: the KPI's values per slice at its own grain (for growth rules and
    ramps)."""
    where: str | None = None
    """The series' filter: a filtered series is judged by its own slice's targets, or none."""


SliceKey = tuple[tuple[str, str], ...]
"""A breakdown's slice with its values as text, the same whichever query returned it."""


def slice_key(key: tuple[tuple[str, object], ...]) -> SliceKey:
    return tuple((dimension, str(value)) for dimension, value in key)


def values_by_slice(series: KpiSeries) -> dict[SliceKey, dict[dt.date, float | None]]:
    out: dict[SliceKey, dict[dt.date, float | None]] = {}
    for point in series.points:
        out.setdefault(slice_key(point.slice), {})[point.period] = point.value
    return out


def denominator_of(
    loaded: LoadedProject, name: str, by: tuple[str, ...] = (), where: str | None = None
) -> dict[SliceKey, dict[dt.date, float | None]] | None:
    """A ratio KPI's denominator at the KPI's grain (sessions, for orders / sessions) per
    slice of `by` and with the series' filter, in one query, so that its targets roll up as
    the ratio of the targets they imply; None for other KPIs."""
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
    request = Request((helper,), kpi.grain, by, where=where)
    return values_by_slice(compute(scratch, Warehouse(scratch), request)[helper])


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
    """Each point's target and standing ([] when the KPI has no target at all).

    A series filtered by `where` is judged on its own: by the targets (the YAML's and
    people's) of the slice the filter names exactly, else by none — never by the total's."""
    from tolok.track.status import standing

    known = known or Known({}, {})
    if not kpi.target and not known.targets:
        return []
    by_slice = {
        key: slice_targets(project, kpi, result, known, key, points)
        for key, points in slices_of(result).items()
    }
    out = []
    for point in result.points:
        target = by_slice[point.slice].get(point.period)
        out.append((target, standing(point.value, target, kpi).value))
    return out


def slice_targets(
    project: Project,
    kpi: KPI,
    result: KpiSeries,
    known: Known,
    key: tuple[tuple[str, object], ...],
    points: list[Point],
) -> dict[dt.date, float | None]:
    """The targets of one slice of a series at its grain (None where it has none)."""
    from tolok.track.pace import accrues, is_level
    from tolok.track.targets import judged_slice, people_targets, target_series, targets_at

    periods = [p.period for p in points]
    judged = judged_slice(dict(key), known.where)
    if judged is None:
        return dict.fromkeys(periods)
    calendar = Calendar.of(project)
    people = people_targets(known.targets, judged)
    if result.grain is kpi.grain:
        earlier = known.values.get(tuple(v for _, v in key), {})
        actuals = {**earlier, **{p.period: p.value for p in points}}
        return target_series(kpi, periods, calendar, actuals, judged, people)
    profile = known.profile if kpi.target_split is TargetSplit.seasonal else None
    own = (known.own or {}).get(slice_key(key), {})
    weights = None if known.weights is None else known.weights.get(slice_key(key))
    additive = accrues(project, result.kpi)
    level = is_level(project, result.kpi)
    return targets_at(
        kpi, result.grain, periods, calendar, own, additive, weights, profile, judged, people,
        level,
    )  # fmt: skip


def anomaly_json(anomaly: Anomaly | None) -> dict[str, float] | None:
    if anomaly is None:
        return None
    return {"expected": anomaly.expected, "score": round(anomaly.score, 2)}


def known_of(loaded: LoadedProject, request: Request) -> Known:
    """What the store holds for the series asked for (nothing without a store)."""

    whole = replace(request, start=None, end=None, compare=None)
    stored = read(loaded, whole, False)
    values: dict[tuple[object, ...], dict[dt.date, float | None]] = {}
    for point in stored.points if stored else []:
        values.setdefault(point.slice, {})[point.period] = point.value
    if request.where is not None:
        # The store holds the unfiltered series: a filtered one is judged on its own history.
        values = {}
        if request.start is not None or request.end is not None:
            for shown in computed(loaded, whole).points:
                key = tuple(v for _, v in shown.slice)
                values.setdefault(key, {})[shown.period] = shown.value
    return Known(values, stored.targets if stored else {})


def slices_of(result: KpiSeries) -> dict[tuple[tuple[str, object], ...], list[Point]]:
    out: dict[tuple[tuple[str, object], ...], list[Point]] = {}
    for point in result.points:
        out.setdefault(point.slice, []).append(point)
    return out


def as_json(view: SeriesView) -> dict[str, object]:
    """The series as JSON, each point with its verdict; `computed_at` and `as_reported` are
    added by the caller."""
    project, kpi, result = view.project, view.kpi, view.result
    money = _money(project, kpi)
    return {
        "kpi": result.kpi,
        "title": kpi.title,
        "unit": kpi.unit.value,
        "currency": project.currency if kpi.unit.value == "currency" else None,
        "grain": result.grain.value,
        "by": list(result.by),
        "compare": result.compare,
        "as_of_refreshes": reads_snapshot(project, result.kpi),
        "points": [
            {
                "period": p.label,
                "start": p.period.isoformat(),
                **({"slice": dict(p.slice)} if result.by else {}),
                "value": money(p.value),
                **(
                    {"compare": money(p.compare), "change": change_of(p, v)}
                    if result.compare
                    else {}
                ),
                **verdict_json(v, money),
            }
            for p, v in zip(result.points, view.verdicts, strict=True)
        ],
    }


def reads_snapshot(project: Project, name: str) -> bool:
    """Whether the KPI reads a current-state dataset (`time: none`): its values are the
    ones of each refresh, kept from the first one on, not the data's history."""
    from tolok.compile.errors import CompileError
    from tolok.compile.plan import plan_kpi

    kpi = project.kpis[name]
    try:
        plan = plan_kpi(project, name, kpi.grain, Calendar.of(project))
    except CompileError:
        return False
    return any(project.datasets[d].snapshot for d in plan.datasets)


def change_of(point: Point, verdict: Verdict) -> float | None:
    """The change against the comparison, for whole periods only: a part of a period is
    never compared with a whole one."""
    if verdict.state in (PeriodState.open, PeriodState.partial):
        return None
    return point.change


def _money(project: Project, kpi: KPI) -> Callable[[float | None], float | None]:
    """Money to its currency's minor unit (cents, whole rupiah); other values as they are."""
    from tolok.display import round_money
    from tolok.spec.models import Unit

    if kpi.unit is not Unit.currency:
        return lambda value: value
    return lambda value: round_money(value, project.currency)


def verdict_json(
    verdict: Verdict, money: Callable[[float | None], float | None] = lambda v: v
) -> dict[str, object]:
    """A point's verdict as the JSON of every surface."""
    out: dict[str, object] = {
        "target": money(verdict.target),
        "status": verdict.status.value if verdict.status else None,
        "state": verdict.state.value,
        "open": verdict.state is PeriodState.open,
        "provisional": verdict.state is PeriodState.not_final,
        "partial": verdict.state is PeriodState.partial,
        "anomaly": anomaly_json(verdict.anomaly),
    }
    if verdict.state is PeriodState.open:
        out["elapsed"] = round(verdict.elapsed or 0.0, 4)
        out["heading"] = verdict.heading.value if verdict.heading else None
        out["target_so_far"] = money(verdict.expected)
        out["projected"] = money(verdict.projected)
    if verdict.final_on is not None:
        out["final_on"] = verdict.final_on.isoformat()
    return out


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
