"""Coarser results from finer ones, within one refresh.

A refresh computes each KPI at its grain, in total and by each breakdown, and a project
often has KPIs at several grains over the same data. A measure that adds up over rows (a
sum, a count, an average as its sum and count, a minimum, a maximum) has its total by month
in its results by month and region, and its result by quarter in its results by month: the
finer result, added up, is the coarser one. So the data is read once per dataset for those
measures, at the finest shape the refresh asks for, and not once per shape.

What does not add up is read as before: distinct counts (a customer buying in two months
is one customer in the quarter), levels (`over_time: last`), conversions, and anything
read over a rolling window. A finer result serves a coarser one only when each of its
periods lies within one coarser period (months in quarters and years, fiscal or not; days
in anything; never weeks in months), it covers the same range of days with the same
query-time filter, and its breakdown includes the coarser one's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from tolok.compile.frames import SLICE, slice_key, slice_values
from tolok.compile.measures import ADDS_UP as HOW
from tolok.compile.measures import PERIOD, MeasureQuery, added_up
from tolok.spec.calendar import Calendar
from tolok.spec.models import Dataset, Grain, OverTime

ADDS_UP = set(HOW)
FINEST_FIRST = [Grain.day, Grain.week, Grain.month, Grain.quarter, Grain.fiscal_quarter,
                Grain.year, Grain.fiscal_year]  # fmt: skip


def adds_up(spec: Dataset, measure: str) -> bool:
    """A measure whose result over a coarser period or slice is its finer results added up."""
    return spec.measures[measure].agg in ADDS_UP and spec.over_time(measure) is OverTime.sum


def columns(spec: Dataset, measure: str) -> dict[str, str]:
    """A measure's result columns and how each adds up: `sum`, `min` or `max` (an average
    is kept as its sum and its count)."""
    how = added_up(measure, spec.measures[measure].agg)
    assert how is not None, f"{measure} does not add up"
    return how


@dataclass
class Shapes:
    """The measure results one refresh has read, per dataset, to add coarser ones up from."""

    read: dict[str, list[tuple[MeasureQuery, pd.DataFrame]]] = field(default_factory=dict)
    derived: int = 0  # how many queries were answered by adding up (for tests and benches)

    def keep(self, query: MeasureQuery, frame: pd.DataFrame) -> None:
        self.read.setdefault(query.dataset, []).append((query, frame))

    def split(
        self, spec: Dataset, calendar: Calendar, query: MeasureQuery
    ) -> tuple[pd.DataFrame | None, MeasureQuery | None]:
        """The part of `query` added up from a finer result read before, and what is left
        to read (None when nothing is)."""
        wanted = [m for m in query.measures if adds_up(spec, m)]
        best: tuple[MeasureQuery, pd.DataFrame] | None = None
        for finer, frame in self.read.get(query.dataset, []):
            if not _serves(finer, query, frame, calendar):
                continue
            have = [m for m in wanted if m in finer.measures]
            if have and (best is None or len(have) > len(set(wanted) & set(best[0].measures))):
                best = (finer, frame)
        if best is None:
            return None, query
        finer, frame = best
        shared = tuple(m for m in wanted if m in finer.measures)
        added = _added_up(spec, calendar, finer, frame, replace(query, measures=shared))
        self.derived += 1
        rest = tuple(m for m in query.measures if m not in shared)
        return added, (replace(query, measures=rest) if rest else None)


def _serves(finer: MeasureQuery, query: MeasureQuery, frame: pd.DataFrame, cal: Calendar) -> bool:
    if finer == query or (finer.grain, finer.by) == (query.grain, query.by):
        return False
    if (finer.start, finer.end, finer.where) != (query.start, query.end, query.where):
        return False
    if not set(query.by) <= set(finer.by):
        return False
    if FINEST_FIRST.index(finer.grain) > FINEST_FIRST.index(query.grain):
        return False
    if finer.start is not None and cal.start_of(finer.start, query.grain) != finer.start:
        return False  # the first coarser period would be cut
    return all(_within(cal, p, finer.grain, query.grain) for p in frame[PERIOD].unique())


def _within(calendar: Calendar, start: dt.date, finer: Grain, coarser: Grain) -> bool:
    """Whether the finer period starting on `start` lies within one coarser period."""
    last = calendar.end_of(start, finer) - dt.timedelta(days=1)
    return calendar.start_of(start, coarser) == calendar.start_of(last, coarser)


def _added_up(
    spec: Dataset, calendar: Calendar, finer: MeasureQuery, frame: pd.DataFrame, query: MeasureQuery
) -> pd.DataFrame:
    how: dict[str, str] = {}
    for measure in query.measures:
        how.update(columns(spec, measure))
    positions = [finer.by.index(name) for name in query.by]
    keys = {}
    for key in frame[SLICE].unique():
        values = slice_values(key)
        keys[key] = slice_key([values[i] for i in positions])
    periods = {p: calendar.start_of(p, query.grain) for p in frame[PERIOD].unique()}
    fine = pd.DataFrame(
        {PERIOD: frame[PERIOD].map(periods), SLICE: frame[SLICE].map(keys)}
        | {c: frame[c] for c in how}
    )
    grouped = fine.groupby([PERIOD, SLICE], sort=True, dropna=False)
    parts = {
        c: grouped[c].sum(min_count=1) if way == "sum" else grouped[c].agg(way)
        for c, way in how.items()
    }
    return pd.DataFrame(parts).reset_index()
