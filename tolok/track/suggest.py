"""A realistic target from history: what the KPI has done, how much better is usual, and
never worse than where it stands now.

The growth rates of the history — against the same period a year before when there are
more than a year of periods, otherwise against the period before — show what the team
has managed. The suggestion asks for the rate it reached a quarter of the time: the 75th
percentile of those rates (the 25th when down is good).

History can run the wrong way, though: a cost that rose 79% a year would be "suggested" to
rise 79% again. So the target a rule implies for the next period is held to the KPI's
*recent level*: never below it when up is good, never above it when down is good. When
history's rate would be worse, the suggestion holds the recent level instead
(`Suggestion.holds`); a band KPI is always asked to hold it.

The recent level is the median of the last three periods. Against the period before, that
is the median of their values. Against a year before, it is taken in the next period's
season — the next period's value a year before, grown by the median of the last three
year-on-year rates — so that December's peak is not asked of January. A rule that would let
the KPI end worse than a year before (a cost that kept rising) is also held to the plain
median of the last three values, whichever is stricter: a step up a year ago is not asked
to happen again.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from tolok.spec.models import KPI, Direction, Vs

QUANTILE = 0.75
RECENT = 3  # periods that make the recent level


@dataclass(frozen=True)
class Suggestion:
    vs: Vs
    growth: float  # the suggested growth rule
    low: float  # the middle half of past growth rates
    high: float
    baseline: float  # the value the rule applies to for the next period
    target: float  # baseline * (1 + growth): the next period's target
    samples: int
    recent: float  # the recent level, in the next period's terms
    reached: float  # the rate history reached a quarter of the time (band: the median)
    holds: bool  # the suggestion holds the recent level (history's rate would be worse)


def suggest(
    kpi: KPI, history: list[tuple[dt.date, float | None]], per_year: int
) -> Suggestion | None:
    """A growth rule for the periods after `history` (consecutive closed periods, oldest
    first); None with fewer than four values or three growth rates, or without a value
    to grow from (a zero or a gap a year before the next period)."""
    values = [v for _, v in history]
    present = sum(v is not None for v in values)
    if present < 4:
        return None
    lag = per_year if present > per_year + 3 else 1
    rates = _rates(values, lag)
    baseline = values[-lag]
    if len(rates) < 3 or not baseline:
        return None
    low, middle, high = statistics.quantiles(rates, n=4)
    reached = {Direction.up: high, Direction.down: low}.get(kpi.direction, middle)
    recent = _recent_level(kpi.direction, values, rates, lag, baseline, reached)
    holds = kpi.direction is Direction.band or _worse(
        kpi.direction, baseline * (1 + reached), recent
    )
    growth = recent / baseline - 1 if holds else reached
    vs = Vs.last_year if lag > 1 else Vs.previous
    target = baseline * (1 + growth)
    return Suggestion(vs, growth, low, high, baseline, target, len(rates), recent, reached, holds)


def _rates(values: Sequence[float | None], lag: int) -> list[float]:
    """Each period's growth against the one `lag` periods before, oldest first."""
    rates = []
    for i in range(lag, len(values)):
        now, before = values[i], values[i - lag]
        if now is not None and before:
            rates.append((now - before) / abs(before))
    return rates


def _recent_level(
    direction: Direction,
    values: Sequence[float | None],
    rates: Sequence[float],
    lag: int,
    baseline: float,
    reached: float,
) -> float:
    """Where the KPI stands, in the next period's terms (see the module's docstring)."""
    level = statistics.median([v for v in values if v is not None][-RECENT:])
    if lag == 1:
        return level
    seasonal = baseline + statistics.median(rates[-RECENT:]) * abs(baseline)
    if _worse(direction, baseline * (1 + reached), baseline):  # worse than a year before
        return min(seasonal, level) if direction is Direction.down else max(seasonal, level)
    return seasonal


def _worse(direction: Direction, value: float, than: float) -> bool:
    """`value` is worse than `than` for the direction, beyond rounding noise."""
    margin = 1e-9 * max(abs(value), abs(than))
    if direction is Direction.up:
        return value < than - margin
    if direction is Direction.down:
        return value > than + margin
    return False
