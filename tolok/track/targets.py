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

Targets are read at the KPI's own grain: values are per period of that grain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from tolok.spec.calendar import Calendar, PeriodError
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
    wanted = {str(k): str(v) for k, v in (slice_ or {}).items()}
    for form in kpi.target or []:
        given = {str(k): str(v) for k, v in (form.slice or {}).items()}
        if given != wanted:
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
) -> dict[dt.date, float | None]:
    """Targets at another grain than the KPI's, from its targets at its own grain.

    Each period takes from every KPI-grain period it overlaps the share of days they have in
    common. A KPI that adds up sums those shares of the targets: a quarter is the sum of its
    months, a day a thirtieth of its month, a week across two months a part of each. Any
    other KPI takes their mean, weighted by the shares and by `weights` — for a ratio, the
    denominator's values at the KPI's grain, which recomputes the ratio from the targets it
    implies for the numerator. A period with any overlapped target missing has none.
    `own` are the KPI's actual values at its own grain (for growth rules and ramps).
    With a `profile` (the KPI's own rhythm, `tolok.track.seasonal`), a share is the weight
    of the common days instead of their count: a Saturday of a shop that sells half as much
    on Saturdays takes half a weekday's part of the month's target.
    """
    if grain is kpi.grain:
        return target_series(kpi, periods, calendar, own)
    out: dict[dt.date, float | None] = {}
    for period in periods:
        end = calendar.end_of(period, grain)
        first = calendar.start_of(period, kpi.grain)
        last = calendar.start_of(end - dt.timedelta(days=1), kpi.grain)
        covering = _periods_from(calendar, first, last, kpi.grain)
        targets = target_series(kpi, covering, calendar, own)
        shares = {}
        for start in covering:
            stop = calendar.end_of(start, kpi.grain)
            first_day, last_day = max(start, period), min(stop, end)
            if profile is None:
                shares[start] = (last_day - first_day).days / (stop - start).days
            else:
                whole = profile.mass(start, stop)
                shares[start] = profile.mass(first_day, last_day) / whole if whole else 0.0
        out[period] = _combined(targets, shares, additive, weights)
    return out


def _combined(
    targets: Mapping[dt.date, float | None],
    shares: Mapping[dt.date, float],
    additive: bool,
    weights: Mapping[dt.date, float | None] | None,
) -> float | None:
    if any(v is None for v in targets.values()):
        return None
    values = {p: float(v) for p, v in targets.items() if v is not None}
    if additive:
        return sum(values[p] * shares[p] for p in values)
    weight = {p: (weights.get(p) if weights is not None else 1.0) or 0.0 for p in values}
    mass = {p: shares[p] * weight[p] for p in values}
    total = sum(mass.values())
    if total == 0:
        return None
    return sum(values[p] * mass[p] for p in values) / total


def _periods_from(calendar: Calendar, first: dt.date, last: dt.date, grain: Grain) -> list[dt.date]:
    out, current = [], first
    while current <= last:
        out.append(current)
        current = calendar.shift(current, grain, 1)
    return out
