"""Measure results laid out for formulas: one row per period, one column per slice.

Every frame of a computation shares the same period spine (every period of the range,
including those with no rows) and the same slices (one per combination of breakdown
values seen in the data, `[]` without a breakdown), so formulas are plain element-wise
arithmetic and time functions are shifts along the rows.

Slices are keyed by the JSON of their dimension values (`["Bali", "web"]`), which keeps
nulls (`[null]`) and mixed types exact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from tolok.compile.errors import CompileError
from tolok.compile.measures import PERIOD, column_of
from tolok.compile.plan import Need, Window
from tolok.spec.calendar import Calendar
from tolok.spec.models import Agg, ConversionAs, Grain, Project

SLICE = "__slice"
ZERO_WHEN_EMPTY = {Agg.sum, Agg.count, Agg.count_distinct, Agg.sum_boolean, Agg.conversion}


def slice_key(values: Sequence[object]) -> str:
    return json.dumps([_plain(v) for v in values], ensure_ascii=False, default=str)


def slice_values(key: str) -> list[object]:
    values: list[object] = json.loads(key)
    return values


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return value


def with_slice_keys(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """A query result with its period as a date and its breakdown values as one key."""
    out = frame.copy()
    out[PERIOD] = pd.to_datetime(out[PERIOD]).dt.date
    if by:
        out[SLICE] = [slice_key(row) for row in out[list(by)].itertuples(index=False)]
    else:
        out[SLICE] = slice_key([])
    return out


def arrow_with_slice_keys(table: pa.Table, by: Sequence[str]) -> pd.DataFrame | None:
    """What `with_slice_keys` makes of the frame Ibis returns for a measure query, straight
    from DuckDB's Arrow result: for periods as dates, breakdown values as texts, whole
    numbers or booleans, and measures as numbers (a missing one as NaN); None for any other
    result, which goes through Ibis."""
    names = table.column_names
    if PERIOD not in names or not plain_period(table.column(PERIOD).type):
        return None
    if not all(plain_key(table.column(name).type) for name in by):
        return None
    measures = [name for name in names if name != PERIOD and name not in by]
    if not all(_plain_number(table.column(name).type) for name in measures):
        return None
    columns: dict[str, object] = {}
    for name, column in zip(names, table.columns, strict=True):
        if pa.types.is_decimal(column.type) and name not in by:
            try:  # a sum of counts by day: DuckDB's HUGEINT
                column = column.cast(pa.int64())
            except pa.ArrowInvalid:
                return None  # past a 64-bit integer: as Ibis converts it
        if name == PERIOD:
            days = column.to_pylist()  # DuckDB truncates a date to a timestamp at midnight
            columns[name] = [d.date() if isinstance(d, dt.datetime) else d for d in days]
        elif name in by and pa.types.is_integer(column.type) and column.null_count:
            # Ibis returns whole numbers with a missing one as floats: 7.0, as kept before
            values = [None if v is None else float(v) for v in column.to_pylist()]
            columns[name] = np.array(values, dtype=object)
        elif name in by:
            columns[name] = np.array(column.to_pylist(), dtype=object)
        elif column.null_count:
            columns[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:
            columns[name] = column.to_numpy()
    keys = zip(*(columns[name] for name in by), strict=True) if by else None
    rows = table.num_rows
    columns[SLICE] = [slice_key(row) for row in keys] if keys else [slice_key([])] * rows
    return pd.DataFrame(columns)


def plain_period(kind: pa.DataType) -> bool:
    """A date, or a time without a zone (a period as DuckDB returns it)."""
    return bool(pa.types.is_date32(kind) or (pa.types.is_timestamp(kind) and kind.tz is None))


def plain_key(kind: pa.DataType) -> bool:
    """Text, whole numbers or booleans (dictionary-encoded ones too)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
    )


def _plain_number(kind: pa.DataType) -> bool:
    """A whole number (DuckDB's HUGEINT, a sum of counts, as a decimal of scale 0) or a
    floating-point one."""
    whole = pa.types.is_decimal(kind) and kind.scale == 0
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or whole)


@dataclass
class MeasureFrames:
    """Per-period results of every measure a computation needs, on a shared spine."""

    project: Project
    calendar: Calendar
    grain: Grain
    periods: list[dt.date]
    slices: list[str]
    results: dict[str, pd.DataFrame]  # dataset -> long frame (period, slice, m__ columns)
    windowed: dict[Need, pd.DataFrame]  # non-decomposable windows, already wide
    starts: dict[str, dt.date] = field(default_factory=dict)
    """The first period each dataset has rows in: before it, a sum or count is not 0 but
    unknown (a KPI's `last_year` in its first year is empty, not a comparison with 0)."""
    _positions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = field(
        default_factory=dict, repr=False
    )

    def wide(self, dataset: str, column: str, fill: float) -> pd.DataFrame:
        frame = self.results.get(dataset)
        if frame is None or column not in frame.columns or frame.empty:
            return self.constant(fill)
        places = self._places(dataset, frame)
        if places is None:  # a period and slice twice: the first value of each, as pandas does
            table = frame.pivot_table(
                index=PERIOD, columns=SLICE, values=column, aggfunc="first", dropna=False
            )
            return self.conform(table, fill, dataset)
        rows, columns, kept = places
        values = np.full((len(self.periods), len(self.slices)), np.nan)
        column_values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        values[rows, columns] = column_values[kept]
        out = pd.DataFrame(values, index=self.periods, columns=self.slices)
        return self._filled(out, fill, dataset)

    def _places(
        self, dataset: str, frame: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where each row of a dataset's results goes on the spine: its row and column, and
        which rows have a place; None when a period and slice come more than once."""
        if dataset not in self._positions:
            period_at = {p: i for i, p in enumerate(self.periods)}
            slice_at = {s: i for i, s in enumerate(self.slices)}
            rows = np.array([period_at.get(p, -1) for p in frame[PERIOD]], dtype=np.int64)
            columns = np.array([slice_at.get(s, -1) for s in frame[SLICE]], dtype=np.int64)
            kept = (rows >= 0) & (columns >= 0)
            cells = rows[kept] * len(self.slices) + columns[kept]
            unique = len(np.unique(cells)) == len(cells)
            self._positions[dataset] = (rows[kept], columns[kept], kept) if unique else None
        return self._positions[dataset]

    def conform(self, table: pd.DataFrame, fill: float, dataset: str | None = None) -> pd.DataFrame:
        out = table.reindex(index=self.periods, columns=self.slices).astype("float64")
        return self._filled(out, fill, dataset)

    def _filled(self, out: pd.DataFrame, fill: float, dataset: str | None) -> pd.DataFrame:
        """Empty cells as `fill`, except before the dataset's first period (unknown)."""
        if np.isnan(fill):
            return out
        values = out.to_numpy(dtype="float64", copy=True)
        values[np.isnan(values)] = fill
        start = self.starts.get(dataset or "")
        if start is not None:
            values[np.array([p < start for p in self.periods], dtype=bool)] = np.nan
        return pd.DataFrame(values, index=out.index, columns=out.columns)

    def constant(self, value: float) -> pd.DataFrame:
        return pd.DataFrame(value, index=self.periods, columns=self.slices, dtype="float64")

    def series(self, need: Need) -> pd.DataFrame:
        """The values of a measure, per period or over a window ending with each period."""
        ref = need.measure
        dataset = self.project.datasets[ref.dataset]
        measure = dataset.measures[ref.measure]
        name = f"{ref.dataset}.{ref.measure}"
        fill = 0.0 if measure.agg in ZERO_WHEN_EMPTY and not dataset.is_manual else np.nan
        if need in self.windowed:
            return self.conform(self.windowed[need], fill, ref.dataset)
        if measure.agg is Agg.conversion and measure.as_ is ConversionAs.rate:
            if need.window is not None:
                raise CompileError(f"measure '{name}' over a window was not computed")
            converted = self.wide(ref.dataset, column_of(ref.measure, "conv"), 0.0)
            started = self.wide(ref.dataset, column_of(ref.measure, "base"), 0.0)
            return converted / started.replace(0, np.nan)
        if measure.agg is Agg.avg:
            total = self.wide(ref.dataset, column_of(ref.measure, "sum"), 0.0)
            count = self.wide(ref.dataset, column_of(ref.measure, "n"), 0.0)
            if need.window is not None:
                total, count = (
                    self.window(total, need.window, "sum"),
                    self.window(count, need.window, "sum"),
                )
            return total / count.replace(0, np.nan)
        values = self.wide(ref.dataset, column_of(ref.measure), fill)
        if need.window is None:
            return values
        if measure.agg in (Agg.sum, Agg.count, Agg.sum_boolean):
            return self.window(values, need.window, "sum")
        if measure.agg in (Agg.min, Agg.max):
            return self.window(values, need.window, measure.agg.value)
        raise CompileError(f"measure '{name}' over a window was not computed")

    def window(self, values: pd.DataFrame, window: Window, how: str) -> pd.DataFrame:
        """Sum (or min, max) of per-period values over the window ending at each period."""
        if window.within is not None:
            groups = [self.calendar.start_of(p, window.within) for p in self.periods]
            grouped = values.groupby(groups, sort=False)
            if how == "min":
                return grouped.cummin()
            return grouped.cummax() if how == "max" else grouped.cumsum()
        rolled = values.rolling(window.trailing, min_periods=window.trailing)
        result: pd.DataFrame = getattr(rolled, how)()
        return result
