"""A KPI's own rhythm within a period, learnt from its daily history: which weekdays and
which months carry more of it. Used to split a target to finer periods and to pro-rate it
inside the open period ("by the KPI's own seasonality"), instead of evenly by days.

- Weekday factors: each full week's days against that week's mean (so a trend does not
  leak in), the median per weekday over at least eight weeks.
- Month factors: each month's daily mean against the daily mean of the thirteen months
  centred on it (a full year either side of it, so trend cancels out), averaged per calendar
  month; only with every calendar month seen once, else all 1.
Both are scaled to a mean of 1. A day's weight is its weekday factor times its month factor.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

MIN_WEEKS = 8


@dataclass(frozen=True)
class DayProfile:
    weekday: tuple[float, ...]  # Monday first, mean 1
    month: tuple[float, ...]  # January first, mean 1

    def weight(self, day: dt.date) -> float:
        return self.weekday[day.weekday()] * self.month[day.month - 1]

    def mass(self, start: dt.date, end: dt.date) -> float:
        """The weight of the days from `start` up to (not including) `end`."""
        total, day = 0.0, start
        while day < end:
            total += self.weight(day)
            day += dt.timedelta(days=1)
        return total


def day_profile(daily: Mapping[dt.date, float | None]) -> DayProfile | None:
    """The profile of a daily history of an additive KPI; None when under eight full weeks."""
    weekday = _weekday_factors(daily)
    if weekday is None:
        return None
    return DayProfile(weekday, _month_factors(daily) or (1.0,) * 12)


def _weekday_factors(daily: Mapping[dt.date, float | None]) -> tuple[float, ...] | None:
    ratios: list[list[float]] = [[] for _ in range(7)]
    mondays = sorted(d for d in daily if d.weekday() == 0)
    for monday in mondays:
        week = [daily.get(monday + dt.timedelta(days=i)) for i in range(7)]
        known = [v for v in week if v is not None]
        if len(known) < 7 or sum(known) <= 0:
            continue
        mean = sum(known) / 7
        for index, value in enumerate(known):
            ratios[index].append(value / mean)
    if len(ratios[0]) < MIN_WEEKS:
        return None
    return _scaled([statistics.median(r) for r in ratios])


def _month_factors(daily: Mapping[dt.date, float | None]) -> tuple[float, ...] | None:
    means: dict[tuple[int, int], float] = {}
    counts: dict[tuple[int, int], int] = {}
    for day, value in daily.items():
        if value is None:
            continue
        key = (day.year, day.month)
        means[key] = means.get(key, 0.0) + value
        counts[key] = counts.get(key, 0) + 1
    daily_mean = {k: means[k] / counts[k] for k in means}
    per_month: list[list[float]] = [[] for _ in range(12)]
    for year, month in daily_mean:
        around = [_shift(year, month, k) for k in range(-6, 7)]
        if all(k in daily_mean for k in around):
            level = sum(daily_mean[k] for k in around) / len(around)
            if level > 0:
                per_month[month - 1].append(daily_mean[(year, month)] / level)
    if not all(per_month):
        return None
    return _scaled([sum(r) / len(r) for r in per_month])


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _scaled(factors: list[float]) -> tuple[float, ...]:
    mean = sum(factors) / len(factors)
    return tuple(f / mean if mean else 1.0 for f in factors)
