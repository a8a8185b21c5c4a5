"""Did a change work? A KPI after a change, against what its history before predicted.

The counterfactual is a forecast (`forecast.py`) from the periods before the change over
the periods since. The effect is the mean gap between what happened and that forecast; its
interval comes from the forecast's own interval (the gap to its upper and lower bounds),
so a change that moved the KPI by less than the forecast's uncertainty reads as "no clear
effect" rather than a win.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain
from tolok.track.forecast import forecast


@dataclass(frozen=True)
class Impact:
    periods: int  # periods after the change that were compared
    effect: float  # mean of actual - forecast
    low: float  # the interval of the effect
    high: float
    level: int

    @property
    def clear(self) -> bool:
        return self.low > 0 or self.high < 0


def impact(
    history: list[tuple[dt.date, float | None]],
    change: dt.date,
    grain: Grain,
    calendar: Calendar,
    level: int = 90,
) -> Impact | None:
    """The effect of a change made on `change` (a day) on the periods that followed.

    Periods before the one holding the change are the history; those after it are compared
    (the period of the change itself is mixed, so it is left out). None when there is too
    little on either side.
    """
    start = calendar.start_of(change, grain)
    before = [(p, v) for p, v in history if p < start]
    after = [(p, v) for p, v in history if p > start and v is not None]
    if not before or not after:
        return None
    horizon = len(_periods(calendar, start, after[-1][0], grain))
    predicted = forecast(before, grain, calendar, horizon + 1, level)
    if not predicted:
        return None
    by_period = {f.period: f for f in predicted}
    gaps, lows, highs = [], [], []
    for period, value in after:
        expected = by_period.get(period)
        if expected is None or value is None:
            continue
        gaps.append(value - expected.mean)
        lows.append(value - expected.high)
        highs.append(value - expected.low)
    if not gaps:
        return None
    n = len(gaps)
    return Impact(n, sum(gaps) / n, sum(lows) / n, sum(highs) / n, level)


def _periods(calendar: Calendar, start: dt.date, last: dt.date, grain: Grain) -> list[dt.date]:
    out, current = [], calendar.shift(start, grain, 1)
    while current <= last:
        out.append(current)
        current = calendar.shift(current, grain, 1)
    return out


def verdict(result: Impact, what: str, show: str, low: str, high: str) -> str:
    """Plain words: "likely raised conversion rate by 0.4 to 1.1 points" or no clear effect.

    `show`, `low` and `high` are the effect and its bounds as the caller formats them.
    """
    if result.low > 0:
        return f"likely raised {what} by {low} to {high} (about {show})"
    if result.high < 0:
        lowered = f"{_unsigned(high)} to {_unsigned(low)} (about {_unsigned(show)})"
        return f"likely lowered {what} by {lowered}"
    return f"no clear effect on {what}: between {low} and {high}"


def _unsigned(text: str) -> str:
    return text.lstrip("-\u2212")
