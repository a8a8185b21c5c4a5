"""What a computation answers: each KPI's values per period (and slice), and comparisons."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

from tolok.engine.errors import WarehouseError
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain


@dataclass(frozen=True)
class Request:
    """What to compute: KPIs at a grain, optionally by dimensions, over a range of days."""

    kpis: tuple[str, ...]
    grain: Grain
    by: tuple[str, ...] = ()
    start: dt.date | None = None  # first day shown (its period is the first period)
    end: dt.date | None = None  # last day shown, inclusive
    where: str | None = None
    compare: str | None = None  # "previous", "last_year", or a label range "2025-01..2025-03"


@dataclass(frozen=True)
class Point:
    period: dt.date
    label: str
    slice: tuple[tuple[str, object], ...]
    value: float | None
    compare: float | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.compare is None or self.compare == 0:
            return None
        return (self.value - self.compare) / abs(self.compare)


@dataclass(frozen=True)
class KpiSeries:
    kpi: str
    grain: Grain
    by: tuple[str, ...]
    points: tuple[Point, ...]
    compare: str | None = None


def compare_range(calendar: Calendar, compare: str | None) -> tuple[dt.date, dt.date] | None:
    """`2025-01..2025-03` as its first and last day; None for previous and last_year."""
    if compare is None or compare in ("previous", "last_year"):
        return None
    first, sep, last = compare.partition("..")
    if not sep:
        raise WarehouseError(
            f"unknown comparison '{compare}'", hint="use previous, last_year or FROM..TO"
        )
    try:
        _, start = calendar.parse(first)
        last_grain, end = calendar.parse(last)
    except ValueError as exc:
        raise WarehouseError(f"comparison '{compare}': {exc}") from None
    return start, calendar.end_of(end, last_grain) - dt.timedelta(days=1)


def aligned(main: KpiSeries, earlier: KpiSeries, request: Request) -> KpiSeries:
    """Compare period by period in order: the first shown with the first of the other range."""
    by_slice: dict[tuple[tuple[str, object], ...], list[Point]] = {}
    for point in earlier.points:
        by_slice.setdefault(point.slice, []).append(point)
    seen: dict[tuple[tuple[str, object], ...], int] = {}
    points = []
    for point in main.points:
        index = seen.get(point.slice, 0)
        seen[point.slice] = index + 1
        others = by_slice.get(point.slice, [])
        value = others[index].value if index < len(others) else None
        points.append(replace(point, compare=value))
    return replace(main, points=tuple(points), compare=request.compare)


def with_comparison(
    points: list[Point], calendar: Calendar, grain: Grain, how: str | None
) -> list[Point]:
    """Each point with the value it is compared with: the period before, or a year before."""
    if how not in ("previous", "last_year"):
        return points
    values = {(p.slice, p.period): p.value for p in points}
    out = []
    for point in points:
        if how == "previous":
            earlier = calendar.shift(point.period, grain, -1)
        else:
            earlier = calendar.year_ago(point.period, grain)
        out.append(replace(point, compare=values.get((point.slice, earlier))))
    return out


def number(value: object) -> float | None:
    """A float for output; NaN and infinities (0 / 0, x / 0) are no value."""
    if value is None:
        return None
    result = float(value)  # type: ignore[arg-type]
    return result if math.isfinite(result) else None
