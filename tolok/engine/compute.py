"""Computing KPIs: plan the measures, run one query per dataset, evaluate the formulas.

A batch of KPIs at one grain and breakdown reads each dataset once: the measures every KPI
of the batch needs from a dataset go into a single aggregation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tolok import clock
from tolok.compile.conversion import TableLookup
from tolok.compile.errors import CompileError
from tolok.compile.evaluate import Evaluator
from tolok.compile.frames import (
    SLICE,
    MeasureFrames,
    arrow_with_slice_keys,
    slice_key,
    slice_values,
    with_slice_keys,
)
from tolok.compile.measures import (
    PERIOD,
    Context,
    MeasureQuery,
    column_of,
    compile_bounds,
    compile_distinct_values,
    compile_measures,
    compile_windowed,
    filters_rows,
)
from tolok.compile.plan import KpiPlan, Need, plan_kpi
from tolok.engine.aggregates import HeldRows, KeptAggregates, frame_of, keepable, rows_of, signature
from tolok.engine.distinct import VALUE, Cell, Held, cells_of, counts_of, exact, marks
from tolok.engine.errors import WarehouseError
from tolok.engine.joins import joined, read_names
from tolok.engine.series import (
    KpiSeries,
    Point,
    Request,
    aligned,
    compare_range,
    number,
    with_comparison,
)
from tolok.engine.shapes import ADDS_UP, Shapes
from tolok.engine.snapshots import AS_OF, as_of_periods
from tolok.engine.warehouse import Warehouse, local_day
from tolok.spec.calendar import Calendar
from tolok.spec.formula import Name, parse_formula, walk
from tolok.spec.joins import qualified, reachable, reaches
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Agg, Dataset, Grain, OverTime, Project
from tolok.spec.refs import Scope
from tolok.spec.source import locate_in_scalar
from tolok.store.aggregates import Values
from tolok.store.snapshots import SnapshotRows

DECOMPOSABLE = ADDS_UP
"""Measures whose result over more rows is their results over each part, combined: across
periods (windows) and across files (new files)."""
FAR_AHEAD = dt.date(9999, 1, 1)
WORTH = 4
"""New files are combined with the kept results only when the files the touched periods
read hold at least this many times their bytes (bench/incremental.py: with fewer, a day's
Parquet files, reading them again is as quick as combining)."""


@dataclass
class Batch:
    """Everything one request reads, shared by the KPIs it computes."""

    loaded: LoadedProject
    warehouse: Warehouse
    request: Request
    calendar: Calendar
    kept: KeptAggregates | None = None
    plans: dict[str, KpiPlan] = field(default_factory=dict)
    signatures: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)  # lookups whose key was found unique
    shapes: Shapes | None = None  # results read before in this refresh, to add up from

    @property
    def project(self) -> Project:
        assert self.loaded.project is not None
        return self.loaded.project

    def signature(self, query: MeasureQuery) -> str:
        """What shapes a query's results, whatever its range (grain, breakdown and filter are
        the batch's): see `aggregates.signature`."""
        key = (query.dataset, query.measures)
        if key not in self.signatures:
            engine = self.warehouse.backend_name(query.dataset)
            self.signatures[key] = signature(self.project, query, engine)
        return self.signatures[key]


def compute(
    loaded: LoadedProject,
    warehouse: Warehouse,
    request: Request,
    progress: Callable[[str], None] | None = None,
    kept: KeptAggregates | None = None,
    shapes: Shapes | None = None,
) -> dict[str, KpiSeries]:
    """The series of every KPI in the request.

    With `kept`, measure results of periods before the first one asked for come from the
    store where it holds them, and what the queries computed is handed back in it to keep.
    With `shapes`, measures that add up are added up from a finer result read before for
    another request of the same refresh where one serves, and what is read is kept there.
    """
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    other = compare_range(calendar, request.compare)
    if other is not None:
        main = compute(loaded, warehouse, replace(request, compare=None), progress)
        earlier = compute(
            loaded, warehouse, replace(request, start=other[0], end=other[1], compare=None)
        )
        return {name: aligned(main[name], earlier[name], request) for name in main}
    batch = Batch(loaded, warehouse, request, calendar, kept, shapes=shapes)
    for name in request.kpis:
        try:
            batch.plans[name] = plan_kpi(project, name, request.grain, batch.calendar)
        except CompileError as exc:
            raise _located(batch, exc, ("kpis", name, "formula")) from exc
    first, last = _range(batch)
    fetch_first = _fetch_start(batch, first)
    fetch_end = batch.calendar.end_of(last, request.grain) if last else None
    results, spans = _run_queries(batch, (fetch_first, first), fetch_end, progress)
    periods, slices = _spine(batch, results, spans, fetch_first, last)
    windowed = _run_windowed(batch, periods, fetch_first, fetch_end)
    starts = {d: _first_period(batch, d, span[0], fetch_first) for d, span in spans.items()}
    frames = MeasureFrames(
        project, batch.calendar, request.grain, periods, slices, results, windowed, starts
    )
    evaluator = Evaluator(frames, Scope.of(project))
    out: dict[str, KpiSeries] = {}
    for name, plan in batch.plans.items():
        values = evaluator.kpi(name)
        if request.by:
            # Only the slices of the KPI's own datasets, not of others in the batch.
            own = {k for d in plan.datasets if d in results for k in results[d][SLICE]}
            values = values[[key for key in values.columns if key in own]]
        shown = _shown_periods(batch, plan, periods, spans, first, last)
        out[name] = _series(batch, name, values, shown)
    return out


def _range(batch: Batch) -> tuple[dt.date | None, dt.date | None]:
    grain, calendar = batch.request.grain, batch.calendar
    first = calendar.start_of(batch.request.start, grain) if batch.request.start else None
    last = calendar.start_of(batch.request.end, grain) if batch.request.end else None
    return first, last


def _fetch_start(batch: Batch, first: dt.date | None) -> dt.date | None:
    """History before the first period shown, as much as the formulas need: n periods for
    growth, previous and rolling, a year for last_year, back to the start of the enclosing
    period for to_date, one period or a year more for a comparison."""
    if first is None:
        return None
    grain, calendar = batch.request.grain, batch.calendar
    lookback = max((plan.lookback for plan in batch.plans.values()), default=0)
    lookback += {"previous": 1, "last_year": calendar.periods_per_year(grain) + 1}.get(
        batch.request.compare or "", 0
    )
    earlier = calendar.shift(first, grain, -lookback)
    for plan in batch.plans.values():
        for need in plan.needs:
            if need.window is not None and need.window.within is not None:
                earlier = min(earlier, calendar.start_of(earlier, need.window.within))
    return earlier


def _first_period(
    batch: Batch, dataset: str, first_seen: dt.date, fetched_from: dt.date | None
) -> dt.date:
    """The first period the dataset has rows in. A query reads only from `fetched_from`;
    when its first rows come later, ask the data whether there are earlier ones."""
    grain = batch.request.grain
    if fetched_from is None or first_seen <= batch.calendar.start_of(fetched_from, grain):
        return first_seen
    spec = batch.project.datasets[dataset]
    if spec.snapshot:
        return first_seen  # its first day is its first refresh
    if spec.is_manual:
        days = [v.period for v in batch.warehouse.manual_values(dataset)]
        return batch.calendar.start_of(min(days), grain) if days else first_seen
    table = batch.warehouse.table(dataset)
    day = local_day(batch.warehouse, dataset, table)
    found = batch.warehouse.execute(table.aggregate(first=day.min()), dataset)["first"][0]
    if found is None or found != found:
        return first_seen
    return batch.calendar.start_of(pd.Timestamp(found).date(), grain)


def _needs_by_dataset(batch: Batch) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for plan in batch.plans.values():
        for need in plan.needs:
            out.setdefault(need.measure.dataset, set()).add(need.measure.measure)
    return out


def _run_queries(
    batch: Batch,
    start: tuple[dt.date | None, dt.date | None],
    end: dt.date | None,
    progress: Callable[[str], None] | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[dt.date, dt.date]]]:
    """Each dataset's measures from `start` (the first period fetched, and the first one
    shown) to `end`."""
    results: dict[str, pd.DataFrame] = {}
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    fetched, shown = start
    for dataset, measures in sorted(_needs_by_dataset(batch).items()):
        if progress:
            progress(dataset)
        query = _query(batch, dataset, tuple(sorted(measures)), fetched, end)
        if batch.project.datasets[dataset].is_manual:
            manual = _manual_table(batch, dataset)
            if manual is None:
                continue
            frame = _execute(batch, dataset, query, None, manual)
        elif batch.project.datasets[dataset].snapshot:
            frame = _snapshot(batch, query)
        else:
            frame = _measures(batch, query, shown)
        if frame.empty:
            continue
        results[dataset] = frame
        spans[dataset] = (min(frame[PERIOD]), max(frame[PERIOD]))
    return results, spans


def _snapshot(batch: Batch, query: MeasureQuery) -> pd.DataFrame:
    """A current-state dataset's measures: today's from the data, dated today, and earlier
    days' from the store (this refresh's is handed back to keep)."""
    import ibis

    dataset, project = query.dataset, batch.project
    spec = project.datasets[dataset]
    today = clock.today(project)
    table = batch.warehouse.table(dataset)
    names = read_names(spec, query.measures, query.by, query.where)
    table = joined(batch.warehouse, dataset, table, names, batch.checked)
    dated = (table.mutate(**{AS_OF: ibis.literal(today)}), spec.model_copy(update={"time": AS_OF}))
    daily = replace(query, grain=Grain.day, start=None, end=None)
    frame = _execute(batch, dataset, daily, None, dated)
    kept = batch.kept
    if kept is not None and kept.snapshots is not None:
        key = signature(project, daily, batch.warehouse.backend_name(dataset))
        held = [row for row in kept.snapshots(key) if row[0] != today]
        rows = rows_of(frame)
        kept.fresh_snapshots[key] = SnapshotRows(key, dataset, today, [(k, v) for _, k, v in rows])
        if held:
            columns = [c for c in frame.columns if c.startswith("m__")]
            frame = frame_of([*held, *rows], columns)
    return as_of_periods(frame, query.grain, batch.calendar, query.start, query.end)


def _with_bounds(
    batch: Batch, query: MeasureQuery, table: ir.Table, ctx: Context, frame: pd.DataFrame
) -> pd.DataFrame:
    """A result whose measures all keep only some rows (a shared `where`) lacks the
    periods and slices without such rows. Those of the dataset's rows (in `table`, the
    files the query read) are added with no values (a count shows 0 there): a KPI of
    refunds reaches the last month of the data, with 0 refunds, as it would beside any
    other measure of the dataset. Kept with the result, they come along when it is
    brought up to date from new files. The first and last period and each slice are
    enough: the spine spans the periods, and every slice has every period."""
    dataset = query.dataset

    def build() -> list[ir.Table]:
        try:
            return compile_bounds(table, query, ctx)
        except CompileError as exc:
            raise _located(batch, exc, ("datasets", dataset)) from exc

    prepared = ("bounds", batch.signature(query), query, batch.calendar, table.op())
    ends, *slices = batch.warehouse.run(dataset, prepared, build)
    periods = []
    for end in (ends["__first"].iloc[0], ends["__last"].iloc[0]):
        if end is None or pd.isna(end):
            return frame  # no rows at all
        day = end.date() if isinstance(end, dt.datetime) else end
        periods.append(batch.calendar.start_of(day, query.grain))
    # A slice the result has keeps its key (`[7]` stays `[7]` where the slices read 7.0).
    known = {tuple(slice_values(key)): key for key in frame[SLICE].unique()}
    keys = [slice_key([])]
    if slices:
        whole = [table[name].type().is_integer() for name in query.by]
        columns = [slices[0][name].tolist() for name in query.by]
        keys = []
        for row in zip(*columns, strict=True):
            values = [
                int(v) if integer and isinstance(v, float) and v.is_integer() else v
                for v, integer in zip(row, whole, strict=True)
            ]
            key = slice_key(values)
            keys.append(known.get(tuple(slice_values(key)), key))
    have = set(zip(frame[PERIOD], frame[SLICE], strict=True))
    extra = [
        {PERIOD: period, SLICE: key}
        for key in dict.fromkeys(keys)
        for period in dict.fromkeys(periods)
        if (period, key) not in have
    ]
    if not extra:
        return frame
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)


def _measures(batch: Batch, query: MeasureQuery, shown: dt.date | None) -> pd.DataFrame:
    """A dataset's measures over the query's range: with aggregates kept in the store, the
    periods before the first one shown come from there and the rest from the warehouse."""
    kept, project = batch.kept, batch.project
    if kept is None or not keepable(project, query):
        return _whole(batch, query)
    key = batch.signature(query)
    if shown is None or query.start is None:
        frame = _whole(batch, query)
        kept.keep(key, query.dataset, None, rows_of(frame))
        return frame
    added = _added(batch, query, shown)
    held = kept.held(key, query.start, shown if added is None else FAR_AHEAD)
    if held is None:
        return _execute(batch, query.dataset, query, None)
    earlier = [row for row in held if row[0] < shown]
    if added is not None:
        later = [row for row in held if row[0] >= shown]
        recent = _brought_up_to_date(batch, query, later, added, shown)
        kept.keep(key, query.dataset, shown, recent)
        return frame_of([*earlier, *recent], _columns(project.datasets[query.dataset], query))
    frame = _execute(batch, query.dataset, replace(query, start=shown), None)
    kept.keep(key, query.dataset, shown, rows_of(frame))
    if not earlier:
        return frame
    columns = [c for c in frame.columns if c.startswith("m__")]
    return pd.concat(
        [frame_of(earlier, columns), frame[[PERIOD, SLICE, *columns]]], ignore_index=True
    )


def _whole(batch: Batch, query: MeasureQuery) -> pd.DataFrame:
    """A dataset's measures over the query's whole range: those that add up from a finer
    result this refresh read before (`shapes`), the others from the warehouse."""
    shapes = batch.shapes
    if shapes is None:
        return _execute(batch, query.dataset, query, None)
    spec = batch.project.datasets[query.dataset]
    added, rest = shapes.split(spec, batch.calendar, query)
    read = None if rest is None else _execute(batch, query.dataset, rest, None)
    if read is not None and rest is not None:
        shapes.keep(rest, read)
    if added is None:
        assert read is not None
        return read
    if read is None:
        return added
    measures = [c for c in read.columns if c.startswith("m__")]
    return added.merge(read[[PERIOD, SLICE, *measures]], on=[PERIOD, SLICE], how="outer")


def _added(batch: Batch, query: MeasureQuery, shown: dt.date) -> tuple[Path, ...] | None:
    """The dataset's new files, when they are its only change, every measure of the query
    adds up across files (sums, counts, averages, minimums, maximums; distinct counts too
    where distinct values are kept from a refresh to the next), and they are a small
    part of the files the periods from `shown` on read (at most 1/WORTH of their bytes:
    below that, reading those files costs less than combining); else None."""
    added = batch.warehouse.added.get(query.dataset)
    spec = batch.project.datasets[query.dataset]
    kinds = {spec.measures[m].agg for m in query.measures}
    if batch.warehouse.distinct is not None:  # distinct values are kept (see `distinct`)
        kinds.discard(Agg.count_distinct)
    levels = any(spec.over_time(m) is not OverTime.sum for m in query.measures)
    if added is None or not kinds <= DECOMPOSABLE or levels:
        return None  # a level (over_time: last) is read again: a new day moves the last one
    read = batch.warehouse.files_from(query.dataset, shown)
    if any(f.suffix.lower() != ".parquet" for f in (*read, *added)):
        return None  # DuckDB guesses a CSV's or JSON's types from the files read together
    if sum(f.stat().st_size for f in read) < WORTH * sum(f.stat().st_size for f in added):
        return None
    return added


def _brought_up_to_date(
    batch: Batch, query: MeasureQuery, held: HeldRows, added: tuple[Path, ...], shown: dt.date
) -> HeldRows:
    """The periods from `shown` on when the dataset's only change is the files `added`: what
    the store keeps for them (`held`, the result as of the files there were), combined with
    the new files' own result, per period and slice."""
    if not added:
        return held
    spec = batch.project.datasets[query.dataset]
    reducers = _reducers(spec, query)
    # Distinct counts come from the values kept (below), not from the new files' own count.
    adding = tuple(m for m in query.measures if spec.measures[m].agg is not Agg.count_distinct)
    ranged = replace(query, measures=adding or query.measures, start=shown)
    new = _execute(batch, query.dataset, ranged, None, only=added)
    combined: dict[tuple[dt.date, str], Values] = {}
    for period, key, values in (*held, *rows_of(new)):
        have = combined.get((period, key))
        if have is None:
            combined[(period, key)] = {c: values.get(c) for c in reducers}
            continue
        for column, agg in reducers.items():
            one, other = have[column], values.get(column)
            if one is None or other is None:  # a side without the row adds nothing
                have[column] = other if one is None else one
            elif agg is Agg.sum:
                have[column] = one + other
            else:
                have[column] = min(one, other) if agg is Agg.min else max(one, other)
    distinct = [m for m in query.measures if spec.measures[m].agg is Agg.count_distinct]
    for name in distinct:
        counts = _kept_counts(batch, query, name, added, shown)
        for (period, key), values in combined.items():
            values[column_of(name)] = float(counts.get((period, tuple(slice_values(key))), 0))
    return [(period, key, values) for (period, key), values in sorted(combined.items())]


def _kept_counts(
    batch: Batch, query: MeasureQuery, name: str, added: tuple[Path, ...], shown: dt.date
) -> dict[Cell, int]:
    """A distinct count per period and slice from `shown` on, from the values kept as of
    the files before `added` and the values in `added`; where none are kept (or the kept
    ones no longer hold), from the values of every file the periods read, kept for the
    next refresh. Values of a type not kept (see `distinct.exact`), or too many to keep,
    are counted by the warehouse."""
    keeper = batch.warehouse.distinct
    assert keeper is not None
    key = (batch.signature(query), name)
    if key not in keeper.inexact and keeper.unkept.get(key) != shown:
        try:
            counts = _counted_from_values(batch, query, name, added, shown, key)
        except BaseException:
            keeper.forget(key)  # sets half brought up to date
            raise
        if counts is not None:
            return counts
    frame = _execute(batch, query.dataset, replace(query, measures=(name,), start=shown), None)
    numbers = frame[column_of(name)].to_numpy(dtype="float64", na_value=np.nan)
    return {
        (period, tuple(slice_values(cell))): int(count)
        for period, cell, count in zip(frame[PERIOD], frame[SLICE], numbers, strict=True)
        if not np.isnan(count)
    }


def _counted_from_values(
    batch: Batch,
    query: MeasureQuery,
    name: str,
    added: tuple[Path, ...],
    shown: dt.date,
    key: Hashable,
) -> dict[Cell, int] | None:
    """See `_kept_counts`; None where the warehouse counts."""
    keeper = batch.warehouse.distinct
    assert keeper is not None
    read = batch.warehouse.files_from(query.dataset, shown)
    held = keeper.current(key, shown, read, added)
    if held is not None:
        files = {f: mark for f, mark in held.files.items() if f in read}
        files.update(marks(added))  # before reading them: a later change is seen
        new = _distinct_values(batch, query, name, shown, added)
        if new is not None and new.schema.field(VALUE).type == held.kind:
            values = {cell: v for cell, v in held.values.items() if cell[0] >= shown}
            for cell, more in cells_of(new, query.by).items():
                values.setdefault(cell, set()).update(more)
            if not keeper.keep(key, Held(shown, files, values, held.kind)):
                keeper.unkept[key] = shown
            return {cell: len(v) for cell, v in values.items()}
        keeper.forget(key)  # the new files hold another type: all of them read again
    files = marks(read)
    table = _distinct_values(batch, query, name, shown, None)
    if table is None:
        keeper.inexact.add(key)
        return None
    if table.num_rows > keeper.room(key):  # not pulled into sets only to be dropped
        keeper.unkept[key] = shown
        return counts_of(table, query.by)
    cells = cells_of(table, query.by)
    if not keeper.keep(key, Held(shown, files, cells, table.schema.field(VALUE).type)):
        keeper.unkept[key] = shown
    return {cell: len(v) for cell, v in cells.items()}


def _distinct_values(
    batch: Batch, query: MeasureQuery, name: str, shown: dt.date, only: tuple[Path, ...] | None
) -> pa.Table | None:
    """The values a distinct count measure counts, per period and slice from `shown` on
    (`distinct.VALUE`), in the dataset's files (or those `only`); None when they are of a
    type not kept."""
    dataset = query.dataset
    spec = batch.project.datasets[dataset]
    table = batch.warehouse.table(dataset, shown, only)
    names = read_names(spec, (name,), query.by, query.where)
    table = joined(batch.warehouse, dataset, table, names, batch.checked)
    ranged = replace(query, start=shown)
    ctx = _context(batch, dataset)

    def build() -> ir.Table:
        try:
            return compile_distinct_values(table, ranged, name, ctx, VALUE)
        except CompileError as exc:
            raise _located(batch, exc, ("datasets", dataset)) from exc

    key = ("distinct", batch.signature(query), name, ranged, batch.calendar, table.op())
    result = batch.warehouse.arrow(dataset, key, build)
    return result if exact(result.schema.field(VALUE).type) else None


def _columns(spec: Dataset, query: MeasureQuery) -> list[str]:
    """The result columns of a query whose measures add up across files."""
    distinct = [m for m in query.measures if spec.measures[m].agg is Agg.count_distinct]
    return [*_reducers(spec, query), *(column_of(m) for m in distinct)]


def _reducers(spec: Dataset, query: MeasureQuery) -> dict[str, Agg]:
    """How each result column of the query adds up across rows: min, max, or a sum (counts
    and both parts of an average included). Distinct counts do not add up: not here."""
    out: dict[str, Agg] = {}
    for name in query.measures:
        agg = spec.measures[name].agg
        if agg is Agg.count_distinct:
            continue
        if agg is Agg.avg:
            out[column_of(name, "sum")] = out[column_of(name, "n")] = Agg.sum
        else:
            out[column_of(name)] = agg if agg in (Agg.min, Agg.max) else Agg.sum
    return out


def _query(
    batch: Batch,
    dataset: str,
    measures: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
) -> MeasureQuery:
    return MeasureQuery(
        dataset, measures, batch.request.grain, batch.request.by, start, end, batch.request.where
    )


MANUAL_TIME = "__period_start"


def _manual_table(batch: Batch, dataset: str) -> tuple[ir.Table, Dataset] | None:
    """Typed-in values as rows: one per period and slice as entered, a column per measure.

    A value counts at the request's grain when its period lies within one period of that
    grain: March's ad spend counts in March, Q1 and 2026, not in any one week of March.
    """
    import ibis

    spec = batch.project.datasets[dataset]
    grain, calendar = batch.request.grain, batch.calendar
    rows = []
    for value in batch.warehouse.manual_values(dataset):
        last = calendar.end_of(value.period, value.grain) - dt.timedelta(days=1)
        if calendar.start_of(value.period, grain) != calendar.start_of(last, grain):
            continue
        key = {MANUAL_TIME: value.period, **{d: value.slice.get(d) for d in spec.dimensions}}
        rows.append({**key, "__measure": value.measure, "__value": value.value})
    if not rows:
        return None
    long = pd.DataFrame(rows)
    keys = [MANUAL_TIME, *spec.dimensions]
    wide = long.pivot_table(
        index=keys, columns="__measure", values="__value", aggfunc="sum", dropna=False
    ).reset_index()
    for measure in spec.measures:
        if measure not in wide.columns:
            wide[measure] = np.nan
    wide = wide.dropna(subset=list(spec.measures), how="all")
    schema = {MANUAL_TIME: "date", **dict.fromkeys(spec.dimensions, "string")}
    table = ibis.memtable(wide, schema={**schema, **dict.fromkeys(spec.measures, "float64")})
    return table, spec.model_copy(update={"time": MANUAL_TIME})


def _execute(
    batch: Batch,
    dataset: str,
    query: MeasureQuery,
    windows: list[tuple[dt.date, dt.date, dt.date]] | None,
    manual: tuple[ir.Table, Dataset] | None = None,
    only: tuple[Path, ...] | None = None,
) -> pd.DataFrame:
    warehouse = batch.warehouse
    _check_dimensions(batch, dataset)
    since = query.start if windows is None else None
    table, spec = manual or (
        warehouse.table(dataset, since, only),
        batch.project.datasets[dataset],
    )
    if manual is None:
        names = read_names(spec, query.measures, query.by, query.where)
        table = joined(warehouse, dataset, table, names, batch.checked)
    ctx = _context(batch, dataset, spec)

    def build() -> list[ir.Table]:
        try:
            if windows is None:
                return list(compile_measures(table, query, ctx).tables)
            return list(compile_windowed(table, query, ctx, windows).tables)
        except CompileError as exc:
            raise _located(batch, exc, ("datasets", dataset)) from exc

    key = _prepared_key(batch, query, table) if windows is None and manual is None else None
    keys = [PERIOD, *query.by]
    frame: pd.DataFrame | None = None
    parts = warehouse.run(dataset, key, build, partial(arrow_with_slice_keys, by=query.by))
    if len(parts) == 1 and SLICE in parts[0].columns:
        frame = parts[0]  # made from DuckDB's result as it is
    else:
        for part in parts:
            part = _normalise_keys(part, keys)
            frame = part if frame is None else frame.merge(part, on=keys, how="outer")
        assert frame is not None
        frame = with_slice_keys(frame, query.by)
    if frame[PERIOD].isna().any():
        frame = frame[frame[PERIOD].notna()]  # rows without a time belong to no period
    if manual is None and windows is None and filters_rows(spec, query.measures):
        return _with_bounds(batch, query, table, ctx, frame)
    return frame


def _context(batch: Batch, dataset: str, spec: Dataset | None = None) -> Context:
    return Context(
        spec or batch.project.datasets[dataset],
        batch.calendar,
        batch.warehouse.dialect(dataset),
        batch.project.timezone,
        _lookup(batch, dataset),
    )


def _prepared_key(batch: Batch, query: MeasureQuery, table: ir.Table) -> Hashable | None:
    """What shapes a measure query's SQL, for the warehouse to compile it once: the
    dataset's definition and settings (as kept results are signed), the query, the calendar
    and the table read (its name and columns). Conversions read other datasets too: not
    kept."""
    spec = batch.project.datasets[query.dataset]
    if any(spec.measures[m].agg is Agg.conversion for m in query.measures):
        return None
    return (batch.signature(query), query, batch.calendar, table.op())


def _lookup(batch: Batch, dataset: str) -> TableLookup:
    """Other datasets' rows for conversions, when they live where this one does."""

    def lookup(name: str) -> tuple[ir.Table, Dataset]:
        if not batch.warehouse.same_place(dataset, name):
            raise CompileError(
                f"dataset '{name}' is not where dataset '{dataset}' is (a file and a warehouse "
                "table): a conversion needs both in one place"
            )
        return batch.warehouse.table(name), batch.project.datasets[name]

    return lookup


def _normalise_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Breakdown values with None for missing ones (the period is made a date later, by
    `with_slice_keys`)."""
    if len(keys) == 1:
        return frame
    out = frame.copy()
    for key in keys[1:]:
        column = out[key].astype(object)
        out[key] = column.mask(column.isna(), None)
    return out


def _check_dimensions(batch: Batch, dataset: str) -> None:
    """Breakdowns and query-time filters use dimensions the dataset declares or reaches
    through its refs."""
    project = batch.project
    listed = ", ".join(reachable(project, dataset)) or "none"
    if batch.request.where:
        for name in _filter_names(batch.request.where):
            if not reaches(project, dataset, name):
                raise WarehouseError(
                    f"cannot filter on '{name}': dataset '{dataset}' does not have it as a "
                    f"dimension (dimensions: {listed})",
                    batch.loaded.locate("datasets", dataset),
                    "filter on a dimension every dataset of the KPI shares",
                )
    for dimension in batch.request.by:
        if not reaches(project, dataset, dimension):
            raise WarehouseError(
                f"cannot break down by '{dimension}': dataset '{dataset}' does not have it "
                f"(dimensions: {listed})",
                batch.loaded.locate("datasets", dataset),
                "break down by a dimension every dataset of the KPI shares",
            )


def _filter_names(where: str) -> list[str]:
    return [
        n.name if n.qualifier is None else qualified(n.qualifier, n.name)
        for n in walk(parse_formula(where))
        if isinstance(n, Name)
    ]


def _spine(
    batch: Batch,
    results: dict[str, pd.DataFrame],
    spans: dict[str, tuple[dt.date, dt.date]],
    first: dt.date | None,
    last: dt.date | None,
) -> tuple[list[dt.date], list[str]]:
    starts = [span[0] for span in spans.values()]
    ends = [span[1] for span in spans.values()]
    begin = first or (min(starts) if starts else None)
    finish = last or (max(ends) if ends else None)
    if begin is None or finish is None:
        today = clock.today(batch.project)  # nothing to show: the period under way, empty
        begin = finish = batch.calendar.start_of(today, batch.request.grain)
    periods = batch.calendar.spine(begin, finish, batch.request.grain)
    if not batch.request.by:
        return periods, [slice_key([])]
    keys = sorted({k for frame in results.values() for k in frame[SLICE].unique()})
    return periods, keys


def _run_windowed(
    batch: Batch, periods: list[dt.date], start: dt.date | None, end: dt.date | None
) -> dict[Need, pd.DataFrame]:
    """Distinct counts and medians over rolling / to-date windows, recomputed from rows."""
    out: dict[Need, pd.DataFrame] = {}
    grain, calendar = batch.request.grain, batch.calendar
    for plan in batch.plans.values():
        for need in plan.needs:
            window = need.window
            dataset = batch.project.datasets[need.measure.dataset]
            measure = dataset.measures[need.measure.measure]
            flow = dataset.over_time(need.measure.measure) is OverTime.sum
            adds_up = measure.agg in DECOMPOSABLE and flow
            if window is None or adds_up or need in out:
                continue
            if dataset.is_manual:
                continue
            spans = [
                (p, window.start(calendar, p, grain), calendar.end_of(p, grain)) for p in periods
            ]
            query = _query(batch, need.measure.dataset, (need.measure.measure,), None, end)
            frame = _execute(batch, need.measure.dataset, query, spans)
            out[need] = _pivot(frame, need)
    return out


def _pivot(frame: pd.DataFrame, need: Need) -> pd.DataFrame:
    name = need.measure.measure

    def wide(column: str) -> pd.DataFrame:
        return frame.pivot_table(index=PERIOD, columns=SLICE, values=column, aggfunc="first")

    if column_of(name, "conv") in frame.columns:  # a conversion rate
        return wide(column_of(name, "conv")) / wide(column_of(name, "base")).replace(0, np.nan)
    return wide(column_of(name))


def _shown_periods(
    batch: Batch,
    plan: KpiPlan,
    periods: list[dt.date],
    spans: dict[str, tuple[dt.date, dt.date]],
    first: dt.date | None,
    last: dt.date | None,
) -> list[dt.date]:
    """The range asked for; without one, the span of the KPI's own data."""
    own = [spans[d] for d in plan.datasets if d in spans]
    begin = first or (min(s[0] for s in own) if own else None)
    finish = last or (max(s[1] for s in own) if own else None)
    if begin is None or finish is None:
        return [periods[-1]] if periods else []
    return [p for p in periods if begin <= p <= finish]


def _series(batch: Batch, name: str, values: pd.DataFrame, shown: list[dt.date]) -> KpiSeries:
    """Points over the whole spine (so that comparisons reach back), then the shown ones."""
    by, grain, calendar = batch.request.by, batch.request.grain, batch.calendar
    points = [
        Point(
            period,
            calendar.label(period, grain),
            tuple(zip(by, slice_values(str(key)), strict=True)),
            number(values.at[period, key]),
        )
        for period in values.index
        for key in values.columns
    ]
    compared = with_comparison(points, calendar, grain, batch.request.compare)
    wanted = set(shown)
    kept = tuple(p for p in compared if p.period in wanted)
    return KpiSeries(name, grain, by, kept, batch.request.compare)


def _located(batch: Batch, exc: CompileError, fallback: tuple[str, ...]) -> WarehouseError:
    path = exc.path or fallback
    section, name, *rest = path
    loaded = batch.loaded
    try:
        where = loaded.locate(section, name, *rest)
        raw = loaded.raw(section, name, *rest)
    except (KeyError, TypeError):
        return WarehouseError(exc.message, loaded.locate(section, name))
    if exc.node is not None and isinstance(raw, str):
        # Point at the very name in the formula, as the spec's own errors do.
        where = locate_in_scalar(
            loaded.entries[(section, name)].file, where, raw, exc.node.span.start
        )
    return WarehouseError(exc.message, where)


__all__ = ["KpiSeries", "Point", "Request", "compare_range", "compute"]
