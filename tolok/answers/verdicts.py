"""The verdicts every surface reads: a KPI's periods judged once (`tolok.track.verdict`) with
what they depend on — today from the one clock (`tolok.clock`), how long a period may still
change (conversion windows, `final_after`), which days the data covers, how far a rolling
window reaches back.

`tolok show`, the series API, the KPI page, the board, `/review`, `tolok status`, `goals`,
alert checks, digests and reports all take their status, heading and anomalies from here:
the same period gets the same verdict wherever it is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Agg, Grain, Project, Status, TargetSplit
from tolok.store.points import StoredPoint
from tolok.track.status import Standing
from tolok.track.verdict import PeriodState, Series, Settling, Verdict, judge

if TYPE_CHECKING:
    from tolok.answers.views import Known
    from tolok.engine.series import KpiSeries
    from tolok.store.coverage import Span
    from tolok.track.seasonal import DayProfile


def settling_of(
    project: Project, name: str, grain: Grain, spans: Mapping[str, Span], today: dt.date
) -> Settling:
    """What judging KPI `name`'s periods at `grain` depends on besides the calendar;
    `spans` are the days each dataset covers (`tolok.store.coverage.dataset_spans`).

    The last day of data counts only once the data has stopped — no new rows for longer
    than two periods of the KPI's grain (the board says "no new data since …" after one):
    rows alone do not say how far an export reaches (five deals a month leave days without
    a row, a monthly export arrives weeks after its month)."""
    from tolok.compile.errors import CompileError
    from tolok.compile.plan import plan_kpi
    from tolok.spec.formula import FormulaError

    calendar = Calendar.of(project)
    kpi = project.kpis[name]
    try:
        plan = plan_kpi(project, name, grain, calendar)
    except (CompileError, FormulaError):
        return Settling()
    allowance = kpi.final_after or dt.timedelta(0)
    reach, to_date = 0, None
    for need in plan.needs:
        measure = project.datasets[need.measure.dataset].measures[need.measure.measure]
        if measure.agg is Agg.conversion and measure.within is not None:
            allowance = max(allowance, _whole_days(measure.within))
        if need.window is not None:
            reach = max(reach, need.window.trailing - 1)
            to_date = need.window.within or to_date
    firsts = [spans[d][0] for d in plan.datasets if d in spans]
    lasts = [spans[d][1] for d in plan.datasets if d in spans]
    first = max((d for d in firsts if d is not None), default=None)
    last = min((d for d in lasts if d is not None), default=None)
    start = calendar.start_of(today, kpi.grain)
    if last is not None and today - last <= 2 * (calendar.end_of(start, kpi.grain) - start):
        last = None  # still arriving: the period under way is open, not partial
    return Settling(allowance, first, last, reach, to_date)


def _whole_days(span: dt.timedelta) -> dt.timedelta:
    """A window of 30 days ends 30 days after the period: rounded up to whole days."""
    days = span.days + (1 if span - dt.timedelta(days=span.days) else 0)
    return dt.timedelta(days=days)


def series_verdicts(
    project: Project,
    kpi: KPI,
    result: KpiSeries,
    known: Known,
    today: dt.date,
    settling: Settling,
) -> list[Verdict]:
    """Each point's verdict, in the order of `result.points`."""
    from tolok.answers.views import slices_of, targets_of
    from tolok.track.pace import accrues, grows_unevenly, is_level, sums_over_window

    calendar = Calendar.of(project)
    additive = accrues(project, result.kpi)
    targets = targets_of(project, kpi, result, known)
    target_of = {
        (p.slice, p.period): targets[i][0] if targets else None for i, p in enumerate(result.points)
    }
    profile = _rhythm(kpi, additive, known.profile, result.grain)
    readable = not grows_unevenly(project, result.kpi)
    windowed = sums_over_window(project, result.kpi)
    level = is_level(project, result.kpi)
    found: dict[tuple[object, dt.date], Verdict] = {}
    for key, points in slices_of(result).items():
        earlier = known.values.get(tuple(v for _, v in key), {})
        shown = {p.period for p in points}
        series = Series(
            kpi,
            result.grain,
            [(p.period, p.value, target_of[(key, p.period)]) for p in points],
            additive,
            sorted((d, v) for d, v in earlier.items() if d not in shown),
            profile,
            readable,
            windowed,
            level,
        )
        for verdict in judge(series, calendar, today, settling):
            found[(key, verdict.period)] = verdict
    return [found[(p.slice, p.period)] for p in result.points]


def _rhythm(
    kpi: KPI, additive: bool, profile: DayProfile | None, grain: Grain
) -> DayProfile | None:
    """The rhythm that weighs the open period's days: only with `target_split: seasonal`."""
    if kpi.target_split is not TargetSplit.seasonal or not additive or grain is Grain.day:
        return None
    return profile


def needs_rhythm(
    project: Project, kpi: KPI, result: KpiSeries, today: dt.date, calendar: Calendar
) -> bool:
    """Whether judging the series needs the KPI's rhythm: a seasonal target split, a KPI
    that adds up, and an open period to pro-rate (the rhythm is a live daily query)."""
    from tolok.track.pace import accrues

    if kpi.target_split is not TargetSplit.seasonal or result.grain is Grain.day:
        return False
    if not any(calendar.end_of(p.period, result.grain) > today for p in result.points):
        return False
    return accrues(project, result.kpi)


def spans_of(loaded: LoadedProject) -> dict[str, Span]:
    """The days each dataset covers, as the store last saw them (none without a store)."""
    from tolok.store.coverage import dataset_spans

    return dataset_spans(loaded)


@dataclass(frozen=True)
class KpiState:
    """A KPI's last judged period (closed, final, whole) against its target, the period
    under way, and its stored series with every period's verdict."""

    points: list[StoredPoint]
    latest: StoredPoint | None
    target: float | None
    attainment: float | None
    standing: Standing
    verdict: Verdict | None = None  # the latest's
    open: Verdict | None = None  # the period today falls in
    verdicts: tuple[Verdict, ...] = ()  # each of `points`'


def kpi_states(
    loaded: LoadedProject, today: dt.date, at: dt.date | None = None
) -> dict[str, KpiState]:
    """Every active KPI's state, read from the store (no points before the first refresh):
    its last judged period, or with `at` the period of each KPI's grain holding that day."""
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    spans = spans_of(loaded)
    out: dict[str, KpiState] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is Status.active:
            settling = settling_of(project, name, kpi.grain, spans, today)
            out[name] = _state(loaded, name, kpi, calendar, today, settling, at)
    return out


def _state(
    loaded: LoadedProject,
    name: str,
    kpi: KPI,
    calendar: Calendar,
    today: dt.date,
    settling: Settling,
    at: dt.date | None,
) -> KpiState:
    from tolok.answers.views import Known, day_profile_of
    from tolok.engine.series import KpiSeries, Point, Request
    from tolok.engine.stored import read

    project = loaded.project
    assert project is not None
    stored = read(loaded, Request((name,), kpi.grain), False)
    points = [p for p in (stored.points if stored else []) if not p.slice]
    series = KpiSeries(name, kpi.grain, (), tuple(
        Point(p.period, calendar.label(p.period, kpi.grain), (), p.value) for p in points
    ))  # fmt: skip
    known = Known({}, stored.targets if stored else {})
    if needs_rhythm(project, kpi, series, today, calendar):
        known = replace(known, profile=day_profile_of(loaded, name))
    verdicts = series_verdicts(project, kpi, series, known, today, settling)
    judged = [i for i, v in enumerate(verdicts) if v.judged]
    index = judged[-1] if judged else None
    if at is not None:
        wanted = calendar.start_of(at, kpi.grain)
        index = next((i for i, p in enumerate(points) if p.period == wanted), None)
    now = next((v for v in verdicts if v.state is PeriodState.open), None)
    if index is None:
        return KpiState(points, None, None, None, Standing.no_data, None, now, tuple(verdicts))
    verdict = verdicts[index]
    status = verdict.status or Standing.no_data
    return KpiState(
        points, points[index], verdict.target, verdict.attainment, status, verdict, now,
        tuple(verdicts),
    )  # fmt: skip
