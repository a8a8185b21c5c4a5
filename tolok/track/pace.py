"""The open period: how far it has run, whether the KPI keeps pace, where it will end.

For a KPI that adds up over time (a sum or a count, or sums and differences of them), the
value so far is held against the target pro-rated to the share of the period that has
passed, and the period's end is projected at the current run rate. A ratio or an average
needs no pro-rating: its value so far is already its best estimate of the whole period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tolok.spec.calendar import Calendar
from tolok.spec.formula import (
    Binary,
    Call,
    FormulaError,
    Name,
    Node,
    Number,
    Unary,
    parse_formula,
)
from tolok.spec.models import KPI, Agg, Grain, OverTime, Project
from tolok.spec.refs import KpiRef, MeasureRef, Scope
from tolok.track.seasonal import DayProfile
from tolok.track.status import Standing, standing

ADDITIVE_AGGS = {Agg.sum, Agg.count, Agg.sum_boolean}


@dataclass(frozen=True)
class Pace:
    elapsed: float  # share of the period passed, 0 to 1
    expected: float | None  # the target pro-rated to now
    projected: float | None  # where the period will end at this pace
    on_pace: Standing  # value so far against the pro-rated target
    heading: Standing  # projected end against the whole target


def elapsed(
    period: dt.date,
    grain: Grain,
    calendar: Calendar,
    today: dt.date,
    profile: DayProfile | None = None,
) -> float:
    """Share of the period before `today` (0 before it starts, 1 once it is over): of its
    days, or of its weight by the KPI's own rhythm when a `profile` is given."""
    return passed(period, calendar.end_of(period, grain), today, profile)


def passed(
    start: dt.date, end: dt.date, today: dt.date, profile: DayProfile | None = None
) -> float:
    """Share of the days from `start` up to `end` before `today` (weighed by the KPI's
    rhythm when it has one): of a period, or of a rolling window."""
    now = min(max(today, start), end)
    if profile is not None:
        whole = profile.mass(start, end)
        if whole > 0:
            return profile.mass(start, now) / whole
    total = (end - start).days
    return (now - start).days / total if total else 1.0


def is_additive(project: Project, name: str) -> bool:
    """A KPI whose value over a period is the sum of its values over parts of it."""
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return False
    return _additive(tree, project, Scope.of(project), {name})


def _additive(node: Node, project: Project, scope: Scope, seen: set[str]) -> bool:
    match node:
        case Number():
            return False  # a constant does not grow with the period
        case Name():
            found = scope.resolve(node)
            if isinstance(found, MeasureRef):
                dataset = project.datasets[found.dataset]
                measure = dataset.measures[found.measure]
                flow = dataset.over_time(found.measure) is OverTime.sum
                return measure.agg in ADDITIVE_AGGS and flow
            if isinstance(found, KpiRef) and found.name not in seen:
                tree = parse_formula(project.kpis[found.name].formula)
                return _additive(tree, project, scope, seen | {found.name})
            return False
        case Unary(op=op, operand=operand):
            return op in ("-", "+") and _additive(operand, project, scope, seen)
        case Binary(op=op, left=left, right=right):
            both = _additive(left, project, scope, seen) and _additive(right, project, scope, seen)
            return op in ("+", "-") and both
    return False


def accrues(project: Project, name: str) -> bool:
    """A KPI that grows through its period as rows come in: one that adds up
    (`is_additive`), or a flow over a level — customers who cancelled over those paying at
    the start, revenue per customer at the end. Its period under way is held against the
    target pro-rated to the time passed, and a quarter's target is the sum of its months'.
    (Not across slices: a ratio's parts by plan do not add up to the whole.)"""
    if is_additive(project, name):
        return True
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return False
    match tree:
        case Binary(op="/", left=above, right=below) | Call(func="ratio", args=(above, below)):
            scope = Scope.of(project)
            flow = _additive(above, project, scope, {name})
            return flow and _of_levels(below, project, scope, {name})
    return False


def is_level(project: Project, name: str) -> bool:
    """A KPI that is a level (MRR, headcount), sums of levels or a ratio of two (revenue per
    paying customer): measures read at a moment (`over_time: last` or `first`, or
    averaged), not added up over a period."""
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return False
    return _of_levels(tree, project, Scope.of(project), {name})


def _of_levels(node: Node, project: Project, scope: Scope, seen: set[str]) -> bool:
    match node:
        case Name():
            found = scope.resolve(node)
            if isinstance(found, MeasureRef):
                dataset = project.datasets[found.dataset]
                return dataset.over_time(found.measure) is not OverTime.sum
            if isinstance(found, KpiRef) and found.name not in seen:
                tree = parse_formula(project.kpis[found.name].formula)
                return _of_levels(tree, project, scope, seen | {found.name})
            return False
        case Unary(operand=operand):
            return _of_levels(operand, project, scope, seen)
        case Binary(op=op, left=left, right=right) if op in ("+", "-", "/"):
            sides = (left, right)
            return all(_of_levels(side, project, scope, seen) for side in sides)
        case Call(func="ratio", args=(above, below)):
            sides = (above, below)
            return all(_of_levels(side, project, scope, seen) for side in sides)
    return False


def sums_over_window(project: Project, name: str) -> bool:
    """A KPI that is a sum over a window of periods — `rolling(revenue, 3)`, `to_date(x)` of
    something that adds up: its value in a period under way is the window's so far."""
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return False
    if not isinstance(tree, Call) or not tree.args:
        return False
    summed = (tree.func == "rolling" and len(tree.args) == 2) or tree.func == "to_date"
    return summed and _additive(tree.args[0], project, Scope.of(project), {name})


def grows_unevenly(project: Project, name: str) -> bool:
    """A KPI that is a distinct count (or sums of them): it grows through a period, but not
    in step with its days — a month's active users are not four weeks' users added up — so
    its value so far says neither where it ends nor how it stands."""
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return False
    return _distinct(tree, project, Scope.of(project), {name})


def _distinct(node: Node, project: Project, scope: Scope, seen: set[str]) -> bool:
    match node:
        case Name():
            found = scope.resolve(node)
            if isinstance(found, MeasureRef):
                agg = project.datasets[found.dataset].measures[found.measure].agg
                return agg is Agg.count_distinct
            if isinstance(found, KpiRef) and found.name not in seen:
                tree = parse_formula(project.kpis[found.name].formula)
                return _distinct(tree, project, scope, seen | {found.name})
            return False
        case Unary(operand=operand):
            return _distinct(operand, project, scope, seen)
        case Binary(op=op, left=left, right=right) if op in ("+", "-"):
            return _distinct(left, project, scope, seen) or _distinct(right, project, scope, seen)
        case Binary(op="*", left=left, right=right):
            sides = (left, right)
            if any(isinstance(side, Number) for side in sides):
                return any(_distinct(side, project, scope, seen) for side in sides)
    return False


def pace(kpi: KPI, additive: bool, value: float | None, target: float | None, share: float) -> Pace:
    """How the open period is doing, `share` of the way through it."""
    if not additive:
        state = standing(value, target, kpi)
        return Pace(share, target, value, state, state)
    expected = target * share if target is not None else None
    projected = value / share if value is not None and share > 0 else None
    return Pace(
        share,
        expected,
        projected,
        standing(value, expected, kpi) if share > 0 else Standing.no_data,
        standing(projected, target, kpi),
    )
