"""A KPI's target as a value per period, from the forms the YAML allows.

- `{value: 0.03, from: 2026-01, until: 2026-12}`: the same value for every period from the
  one holding `from` (and up to the one holding `until`).
- `[{period: 2026-10, value: 160}, ...]`: one value for the period of that label.
- `{growth: 0.2, vs: last_year}`: 20% above the KPI's actual value a year before (or the
  period before, with `vs: previous`), from `from` if given.
- `{ramp: {to: 50, by: 2026-12, baseline: 30}, from: 2026-01}`: a straight line from the
  baseline (the actual value of the period before `from` when left out) at `from` to `to`
  at `by`, then `to` after.

A form with `slice: {region: Bali}` is the target of that slice only; forms without one are
the target of the total. Forms apply in the order written, a later one overriding an earlier
one for the periods both cover (so a list can hold a yearly rule and a few exceptions).

Targets are read at the KPI's own grain: values are per period of that grain. At another
grain (`targets_at`) every target — the total's, a slice's, one a person set — rolls up or
splits the same way: each period takes from every KPI-grain period it overlaps the share of
days (or, with a profile, of the KPI's rhythm) they have in common; a KPI that adds up sums
those parts, any other weights them by the shares and by its denominator. A period only partly
covered by periods with a target (a week across the month a target starts) gets a target from
the days that have one: the sum of their parts extended at the same daily rate to the whole
period for a KPI that adds up (a whole week is held against a whole week's target), the
weighted mean of their parts for any other. A period none of whose days has a target has none.

A `where` filter is judged on its own (`where_slice`): it takes the targets of the slice it
names exactly, never the total's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.formula import (
    Boolean,
    Compare,
    FormulaError,
    Logical,
    Name,
    Node,
    Number,
    String,
    parse_formula,
)
from tolok.spec.models import (
    KPI,
    ConstantTarget,
    Grain,
    GrowthTarget,
    RampTarget,
    TargetPoint,
    Vs,
)
from tolok.track.seasonal import DayProfile

Slice = Mapping[str, object]


def target_series(
    kpi: KPI,
    periods: Sequence[dt.date],
    calendar: Calendar,
    actuals: Mapping[dt.date, float | None],
    slice_: Slice | None = None,
    overrides: Mapping[dt.date, float] | None = None,
) -> dict[dt.date, float | None]:
    """The target of each period (first days at the KPI's grain), None where none is set.

    `actuals` are the KPI's values (of the same slice) by period: growth rules and ramps
    without a baseline are relative to them. `overrides` are targets people set for some
    periods of this slice; they win over the YAML.
    """
    grain = kpi.grain
    out: dict[dt.date, float | None] = dict.fromkeys(periods)
    wanted = _texts(slice_ or {})
    for form in kpi.target or []:
        if _texts(form.slice or {}) != wanted:
            continue
        for period in periods:
            value = _value(form, period, grain, calendar, actuals, periods[0])
            if value is not _SKIP:
                out[period] = value  # type: ignore[assignment]
    for period, value in (overrides or {}).items():
        if period in out:
            out[period] = value
    return out


class _Skip:
    """This form says nothing about that period (unlike None: a target of nothing)."""


_SKIP = _Skip()


def _value(
    form: ConstantTarget | TargetPoint | GrowthTarget | RampTarget,
    period: dt.date,
    grain: Grain,
    calendar: Calendar,
    actuals: Mapping[dt.date, float | None],
    series_start: dt.date,
) -> float | _Skip | None:
    if isinstance(form, TargetPoint):
        return form.value if _start(calendar, form.period, grain) == period else _SKIP
    first = _start(calendar, form.from_, grain) if form.from_ else None
    if first is not None and period < first:
        return _SKIP
    if isinstance(form, ConstantTarget):
        last = _start(calendar, form.until, grain) if form.until else None
        return _SKIP if last is not None and period > last else form.value
    if isinstance(form, GrowthTarget):
        if form.vs is Vs.last_year:
            before = calendar.year_ago(period, grain)
        else:
            before = calendar.shift(period, grain, -1)
        base = actuals.get(before)
        return None if base is None else base * (1 + form.growth)
    return _ramp(form, period, grain, calendar, actuals, first or series_start)


def _ramp(
    form: RampTarget,
    period: dt.date,
    grain: Grain,
    calendar: Calendar,
    actuals: Mapping[dt.date, float | None],
    start: dt.date,
) -> float | None:
    """Without `from`, a ramp starts at the first period asked for."""
    end = _start(calendar, form.ramp.by, grain)
    baseline = form.ramp.baseline
    if baseline is None:
        baseline = actuals.get(calendar.shift(start, grain, -1))
        if baseline is None:
            return None
    if period >= end:
        return form.ramp.to
    steps = _periods_between(calendar, start, end, grain)
    done = _periods_between(calendar, start, period, grain)
    if steps <= 0:
        return form.ramp.to
    return baseline + (form.ramp.to - baseline) * done / steps


def _periods_between(calendar: Calendar, start: dt.date, end: dt.date, grain: Grain) -> int:
    count, current = 0, start
    while current < end:
        current = calendar.shift(current, grain, 1)
        count += 1
    return count


def _start(calendar: Calendar, label: str, grain: Grain) -> dt.date:
    """The first day of the KPI-grain period holding the start of the labelled period."""
    try:
        _, day = calendar.parse(label)
    except PeriodError:
        day = dt.date.fromisoformat(label)
    return calendar.start_of(day, grain)


def targets_at(
    kpi: KPI,
    grain: Grain,
    periods: Sequence[dt.date],
    calendar: Calendar,
    own: Mapping[dt.date, float | None],
    additive: bool,
    weights: Mapping[dt.date, float | None] | None = None,
    profile: DayProfile | None = None,
    slice_: Slice | None = None,
    overrides: Mapping[dt.date, float] | None = None,
    level: bool = False,
) -> dict[dt.date, float | None]:
    """Targets at another grain than the KPI's, from its targets at its own grain (those of
    `slice_`, with the `overrides` people set for it); the rule is in the module docstring.

    A quarter of a KPI that adds up is the sum of its months, a day a thirtieth of its month,
    a week across two months a part of each. For a ratio, `weights` are the denominator's
    values at the KPI's grain (of the same slice), which recomputes the ratio from the
    targets it implies for the numerator. `own` are the KPI's values at its own grain (of the
    same slice), for growth rules and ramps. With a `profile` (the KPI's own rhythm,
    `tolok.track.seasonal`), a share is the weight of the common days instead of their count:
    a Saturday of a shop that sells half as much on Saturdays takes half a weekday's part.
    A `level` (MRR, headcount: `over_time: last`) is held against the target of the last
    KPI-grain period it reaches: a quarter's MRR against its last month's.
    """
    if grain is kpi.grain:
        return target_series(kpi, periods, calendar, own, slice_, overrides)
    parts = {p: _parts(calendar, p, grain, kpi.grain, profile) for p in periods}
    covering = sorted({start for found in parts.values() for start in found})
    targets = target_series(kpi, covering, calendar, own, slice_, overrides)
    if level:
        return {p: _latest(targets, parts[p]) for p in periods}
    return {p: _combined(targets, parts[p], additive, weights) for p in periods}


def _latest(
    targets: Mapping[dt.date, float | None], parts: Mapping[dt.date, _Part]
) -> float | None:
    """A level's target: that of the last period it reaches, if it has one."""
    return targets.get(max(parts)) if parts else None


@dataclass(frozen=True)
class _Part:
    """What a period has in common with one KPI-grain period: the days (or the weight of
    the days, with a profile) in common, and those of the whole KPI-grain period."""

    common: float
    whole: float

    @property
    def share(self) -> float:
        return self.common / self.whole if self.whole else 0.0


def _parts(
    calendar: Calendar,
    period: dt.date,
    grain: Grain,
    own_grain: Grain,
    profile: DayProfile | None,
) -> dict[dt.date, _Part]:
    """The KPI-grain periods a period overlaps, by their first days, with the part in common."""
    end = calendar.end_of(period, grain)
    first = calendar.start_of(period, own_grain)
    last = calendar.start_of(end - dt.timedelta(days=1), own_grain)
    out = {}
    for start in _periods_from(calendar, first, last, own_grain):
        stop = calendar.end_of(start, own_grain)
        first_day, last_day = max(start, period), min(stop, end)
        if profile is None:
            out[start] = _Part((last_day - first_day).days, (stop - start).days)
        else:
            out[start] = _Part(profile.mass(first_day, last_day), profile.mass(start, stop))
    return out


def _combined(
    targets: Mapping[dt.date, float | None],
    parts: Mapping[dt.date, _Part],
    additive: bool,
    weights: Mapping[dt.date, float | None] | None,
) -> float | None:
    """One period's target from the parts it has of KPI-grain periods; those without a
    target are left out (a sum is then extended to the whole period at the same rate)."""
    known = {p: float(v) for p in parts if (v := targets.get(p)) is not None}
    if not known:
        return None
    if additive:
        total = sum(v * parts[p].share for p, v in known.items())
        covered = sum(parts[p].common for p in known)
        whole = sum(part.common for part in parts.values())
        if covered == whole:
            return total
        return total * whole / covered if covered else None
    mass = {p: parts[p].share * _weight(weights, p) for p in known}
    weight = sum(mass.values())
    return sum(known[p] * mass[p] for p in known) / weight if weight else None


def _weight(weights: Mapping[dt.date, float | None] | None, period: dt.date) -> float:
    return 1.0 if weights is None else weights.get(period) or 0.0


def _periods_from(calendar: Calendar, first: dt.date, last: dt.date, grain: Grain) -> list[dt.date]:
    out, current = [], first
    while current <= last:
        out.append(current)
        current = calendar.shift(current, grain, 1)
    return out


def reads_actuals(kpi: KPI) -> bool:
    """Whether the KPI's targets depend on its actual values (a growth rule, or a ramp
    without a baseline), so that they cannot be read without them."""
    return any(
        isinstance(form, GrowthTarget)
        or (isinstance(form, RampTarget) and form.ramp.baseline is None)
        for form in kpi.target or []
    )


def where_slice(where: str) -> dict[str, object] | None:
    """The slice a `where` filter names exactly, or None for a filter that names none.

    `region == 'West' and channel == 'web'` (in any order, either side of `==`) names
    {region: West, channel: web}; `region != 'West'`, `amount > 10` or an `or` name no slice,
    so a filtered series with them has no target (never the total's).
    """
    try:
        tree = parse_formula(where)
    except FormulaError:
        return None
    out: dict[str, object] = {}
    for term in _conjuncts(tree):
        pair = _equality(term)
        if pair is None or str(out.get(pair[0], pair[1])) != str(pair[1]):
            return None
        out[pair[0]] = pair[1]
    return out


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, Logical) and node.op == "and":
        return [term for operand in node.operands for term in _conjuncts(operand)]
    return [node]


def _equality(node: Node) -> tuple[str, object] | None:
    if not isinstance(node, Compare) or node.op != "==":
        return None
    for name, literal in ((node.left, node.right), (node.right, node.left)):
        if isinstance(name, Name) and isinstance(literal, String | Number | Boolean):
            return name.name, literal.value
    return None


def judged_slice(key: Slice, where: str | None) -> dict[str, object] | None:
    """The slice whose targets a series is judged by: its breakdown's slice (`key`) and the
    one its `where` filter names; None when the filter names none or contradicts `key`."""
    if not where:
        return dict(key)
    named = where_slice(where)
    if named is None:
        return None
    out = dict(key)
    for dimension, value in named.items():
        if dimension in out and str(out[dimension]) != str(value):
            return None
        out.setdefault(dimension, value)
    return out


def people_targets(
    targets: Mapping[tuple[dt.date, str], float], slice_: Slice
) -> dict[dt.date, float]:
    """The targets people set for one slice ({} for the total), from the store's
    (period, slice JSON) keys."""
    wanted = _texts(slice_)
    return {p: v for (p, key), v in targets.items() if _texts(json.loads(key)) == wanted}


def _texts(slice_: Slice) -> dict[str, str]:
    return {str(k): str(v) for k, v in slice_.items()}
