"""A realistic target from history: what the KPI has done, and how much better is usual.

The growth rates of the history — against the same period a year before when there are
more than a year of periods, otherwise against the period before — show what the team
has managed. The suggestion asks for the 75th percentile of those rates (the 25th when
down is good): ambitious, but reached a quarter of the time already.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from tolok.spec.models import KPI, Direction, Vs

QUANTILE = 0.75


@dataclass(frozen=True)
class Suggestion:
    vs: Vs
    growth: float  # the suggested growth rule
    low: float  # the middle half of past growth rates
    high: float
    baseline: float  # the last value the rule applies to
    target: float  # baseline * (1 + growth)
    samples: int


def suggest(
    kpi: KPI, history: list[tuple[dt.date, float | None]], per_year: int
) -> Suggestion | None:
    values = [v for _, v in history if v is not None]
    if len(values) < 4:
        return None
    lag = per_year if len(values) > per_year + 3 else 1
    rates = [
        (values[i] - values[i - lag]) / abs(values[i - lag])
        for i in range(lag, len(values))
        if values[i - lag] not in (0, None)
    ]
    if len(rates) < 3:
        return None
    quartiles = statistics.quantiles(rates, n=4)
    low, middle, high = quartiles[0], quartiles[1], quartiles[2]
    if kpi.direction is Direction.up:
        growth = high
    elif kpi.direction is Direction.down:
        growth = low
    else:
        growth = middle
    baseline = values[-lag]
    vs = Vs.last_year if lag > 1 else Vs.previous
    return Suggestion(vs, growth, low, high, baseline, baseline * (1 + growth), len(rates))
