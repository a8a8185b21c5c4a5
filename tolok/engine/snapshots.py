"""A current-state dataset (`time: none`) over time: each refresh's result is its day's,
and a period's value is the one of its last day with a result (whatever the slice: a slice
with no rows that day had none, as of that day). The data keeps no history; the store does,
from the first refresh on."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tolok.compile.frames import SLICE
from tolok.compile.measures import PERIOD
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain

AS_OF = "__as_of"
"""The column a snapshot's rows are dated by: the day of the refresh."""


def as_of_periods(
    days: pd.DataFrame,
    grain: Grain,
    calendar: Calendar,
    start: dt.date | None,
    end: dt.date | None,
) -> pd.DataFrame:
    """Results per day (PERIOD is the day) as results per period of `grain`: each period's
    last day, from `start` to `end` (exclusive) when given."""
    if days.empty:
        return days
    out = days.copy()
    out["__day"] = days[PERIOD]
    out[PERIOD] = [calendar.start_of(day, grain) for day in days[PERIOD]]
    last = out.groupby(PERIOD)["__day"].transform("max")
    out = out[out["__day"] == last].drop(columns="__day")
    if start is not None:
        out = out[out[PERIOD] >= calendar.start_of(start, grain)]
    if end is not None:
        out = out[out[PERIOD] < end]
    return out.sort_values([PERIOD, SLICE]).reset_index(drop=True)
