"""Measure results kept between refreshes, so that an incremental refresh reads from the
warehouse only the periods new data touched.

`growth`, `previous`, `rolling` and `to_date` need periods before the first one a refresh
recomputes. Those periods did not change (the watermarks say so), and the store still holds
the measure query's result for them, so they are read from there: a month's refresh after
one new day scans that day's month, not the month before as well.

A query's result is kept under a signature of everything that shapes it: the dataset's
definition, the measures, grain, breakdown and filter, the calendar, the time zone and the
engine. Any change to them is another signature, which the store does not hold, so that
query reads the warehouse whole. Conversions are not kept: their flags depend on another
dataset's later rows, which may change periods before the touched one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tolok.compile.frames import SLICE
from tolok.compile.measures import PERIOD, MeasureQuery
from tolok.spec.models import Agg, Project
from tolok.store.aggregates import AggregateRows, Values
from tolok.store.definitions import digest
from tolok.store.snapshots import SnapshotRows

HeldRows = list[tuple[dt.date, str, Values]]
Reader = Callable[[str, dt.date, dt.date], HeldRows | None]
"""The kept rows of a signature from a period up to another (exclusive); None: none kept."""


@dataclass
class KeptAggregates:
    """What the store holds, read on demand, and what this refresh computed, to keep."""

    read: Reader
    fresh: dict[str, AggregateRows] = field(default_factory=dict)
    snapshots: Callable[[str], HeldRows] | None = None
    """A current-state dataset's kept days (day, slice, values) under a signature."""
    fresh_snapshots: dict[str, SnapshotRows] = field(default_factory=dict)

    def held(self, signature: str, start: dt.date, end: dt.date) -> HeldRows | None:
        """The kept rows for the periods from `start` up to `end`, or None."""
        return self.read(signature, start, end)

    def keep(self, signature: str, dataset: str, since: dt.date | None, rows: HeldRows) -> None:
        """Remember a query's result from `since` on (None: all of it) for the store."""
        held = self.fresh.get(signature)
        if held is not None and (held.since is None or (since is not None and held.since <= since)):
            return  # already kept from earlier on
        self.fresh[signature] = AggregateRows(signature, dataset, since, rows)


def rows_of(frame: pd.DataFrame) -> HeldRows:
    """A measure query's result (period, slice and `m__` columns) as rows to keep."""
    columns = [c for c in frame.columns if c.startswith("m__")]
    numbers = [_numbers(frame[c]) for c in columns]
    return [
        (period, key, dict(zip(columns, values, strict=True)))
        for period, key, *values in zip(
            frame[PERIOD].tolist(), frame[SLICE].tolist(), *numbers, strict=True
        )
    ]


def frame_of(rows: HeldRows, columns: list[str]) -> pd.DataFrame:
    """Kept rows as a measure query's result: period, slice and the `columns` (a value
    not kept is missing)."""
    return pd.DataFrame(
        {
            PERIOD: [period for period, _, _ in rows],
            SLICE: [key for _, key, _ in rows],
            **{
                column: np.array([values.get(column) for _, _, values in rows], dtype="float64")
                for column in columns
            },
        }
    )


def keepable(project: Project, query: MeasureQuery) -> bool:
    """A query whose result for a period depends only on that period's rows."""
    dataset = project.datasets[query.dataset]
    if dataset.is_manual or dataset.snapshot or query.end is not None:
        return False
    return all(dataset.measures[m].agg is not Agg.conversion for m in query.measures)


def signature(project: Project, query: MeasureQuery, engine: str) -> str:
    dataset = project.datasets[query.dataset]
    lookups = sorted(t for t in set(dataset.refs.values()) if t in project.datasets)
    joined = {  # what a join reads (only when there is one: other signatures stay as they were)
        "lookups": {
            t: project.datasets[t].model_dump(mode="json", include={"source", "key"})
            for t in lookups
        }
    }
    return digest(
        {
            "dataset": query.dataset,
            "definition": dataset.model_dump(
                mode="json", by_alias=True, exclude={"description", "lint"}
            ),
            **(joined if lookups else {}),
            **({"snapshot": True} if dataset.snapshot else {}),
            "measures": sorted(query.measures),
            "grain": query.grain.value,
            "by": list(query.by),
            "where": query.where,
            "settings": [project.timezone, project.week_start, project.fiscal_year_start],
            "engine": engine,
        }
    )


def _numbers(column: pd.Series) -> list[float | None]:
    """A result column's values as numbers, a missing one as None."""
    values = column.to_numpy(dtype="float64", na_value=np.nan).tolist()
    return [None if math.isnan(v) else v for v in values]
