"""Sample data for `tolok init`: two years of rows that behave like a real business.

Daily volume = base x yearly trend x month-of-year season x weekday effect, with Poisson
noise; a few anomaly days (a flash sale, an outage); and one change with a real effect from
a given day on (e.g. free shipping lifts conversion). Every template's generator returns
plain columns (numpy arrays) per dataset, written as Parquet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Share of a year's volume by month (1 = average): a mid-year dip, a strong December and
# (for Indonesian shops) a Ramadan/Lebaran lift around April.
SEASON = np.array([0.95, 0.9, 1.0, 1.12, 1.05, 0.92, 0.9, 0.95, 0.98, 1.02, 1.1, 1.25])
WEEKDAY = np.array([1.05, 1.0, 1.0, 1.02, 1.1, 0.85, 0.8])  # Monday first


@dataclass
class Days:
    """The calendar the rows fall on, and what happened on which day."""

    first: dt.date
    last: dt.date
    change: dt.date
    anomalies: dict[dt.date, float] = field(default_factory=dict)

    @classmethod
    def ending(cls, last: dt.date, rng: np.random.Generator) -> Days:
        first = last.replace(year=last.year - 2) + dt.timedelta(days=1)
        change = last - dt.timedelta(days=150)  # five months of "after"
        count = (last - first).days + 1
        picks = rng.choice(np.arange(30, count - 30), size=4, replace=False)
        factors = (3.0, 2.2, 0.25, 0.4)  # two sales, an outage, a half-day
        anomalies = {
            first + dt.timedelta(days=int(d)): f for d, f in zip(picks, factors, strict=True)
        }
        return cls(first, last, change, anomalies)

    def all(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def rates(self, base: float, growth: float, seasonal: bool = True) -> np.ndarray:
        """Expected rows per day: base x trend (`growth` a year) x season x weekday x anomaly."""
        days = self.all()
        years = np.array([(d - self.first).days / 365.25 for d in days])
        rate = base * (1 + growth) ** years
        if seasonal:
            rate = rate * SEASON[[d.month - 1 for d in days]]
        rate = rate * WEEKDAY[[d.weekday() for d in days]]
        out: np.ndarray = rate * np.array([self.anomalies.get(d, 1.0) for d in days])
        return out

    def after_change(self, days: np.ndarray) -> np.ndarray:
        flags: np.ndarray = days >= np.datetime64(self.change)
        return flags


def rows_per_day(days: Days, rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row's day (as datetime64[D]) for Poisson counts around `rate`."""
    counts = rng.poisson(rate)
    start = np.datetime64(days.first)
    return np.repeat(start + np.arange(len(rate)).astype("timedelta64[D]"), counts)


def moments(day: np.ndarray, rng: np.random.Generator, busy_hour: float = 14.0) -> np.ndarray:
    """A time of day for each row: mostly daytime, around `busy_hour`."""
    hours = np.clip(rng.normal(busy_hour, 3.5, size=len(day)), 0, 23.99)
    seconds = (hours * 3600).astype("int64")
    out: np.ndarray = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    return out


def pick(
    values: list[str], weights: list[float], size: int, rng: np.random.Generator
) -> np.ndarray:
    p = np.array(weights, dtype=float)
    chosen: np.ndarray = rng.choice(np.array(values, dtype=object), size=size, p=p / p.sum())
    return chosen


def write_parquet(path: Path, columns: dict[str, np.ndarray]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, values in columns.items():
        if values.dtype.kind == "M":
            arrays[name] = pa.array(values.astype("datetime64[s]"))
        elif values.dtype == object:
            arrays[name] = pa.array(values.tolist(), type=pa.string())
        else:
            arrays[name] = pa.array(values)
    table = pa.table(arrays)
    pq.write_table(table, path)
    return int(table.num_rows)
