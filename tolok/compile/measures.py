"""Measures of one dataset, aggregated per period (and slice) in as few scans as possible.

All the measures of a dataset needed at one grain and breakdown go into one `GROUP BY`,
so a dataset is read once however many KPIs use it. Measure filters become conditional
aggregates; a filter shared by every measure of the batch goes into `WHERE` instead, where
the warehouse can skip rows early. Distinct counts use `COUNT(DISTINCT CASE ...)`, which
DuckDB runs much faster than `COUNT(DISTINCT ...) FILTER (...)`.

`avg` is computed as a sum and a count so that it rolls up and windows correctly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from tolok.compile.buckets import bucket
from tolok.compile.conversion import TableLookup, flag_column, with_conversion_flags
from tolok.compile.dialect import Dialect
from tolok.compile.errors import CompileError
from tolok.compile.rowexpr import RowScope, as_condition, compile_row
from tolok.spec.calendar import Calendar
from tolok.spec.formula import parse_formula, quote_name
from tolok.spec.models import Agg, ConversionAs, Dataset, Grain, Measure, OverTime

PERIOD = "__period"


def column_of(measure: str, part: str = "") -> str:
    """The result column of a measure (or of one part of it: `sum`, `n`)."""
    return f"m__{measure}" + (f"__{part}" if part else "")


@dataclass(frozen=True)
class MeasureQuery:
    """What to aggregate: measures of one dataset at a grain, by dimensions, over a range."""

    dataset: str
    measures: tuple[str, ...]
    grain: Grain
    by: tuple[str, ...] = ()
    start: dt.date | None = None  # first day, inclusive, wall-clock
    end: dt.date | None = None  # day after the last, exclusive
    where: str | None = None  # a row condition chosen at query time (dimension filters)


@dataclass(frozen=True)
class Compiled:
    """One Ibis query per group of measures that can share a scan."""

    tables: tuple[ir.Table, ...]


@dataclass(frozen=True)
class Context:
    dataset: Dataset
    calendar: Calendar
    dialect: Dialect
    project_zone: str
    lookup: TableLookup | None = None  # other datasets' rows, for conversion measures

    def localise(self, value: ir.Value, dataset: Dataset) -> ir.Value:
        return self.dialect.local_time(value, dataset.timezone, self.project_zone)


def compile_measures(table: ir.Table, query: MeasureQuery, ctx: Context) -> Compiled:
    """The aggregation queries for `query` over the dataset's rows in `table`."""
    rows, local, when, shared = _rows(table, query, ctx)
    # Grouped by the period expression itself, not a column added first: the same SQL with
    # one nested SELECT less, which Ibis compiles in half the time.
    period = bucket(when, query.grain, ctx.calendar, ctx.dialect)
    keys = {PERIOD: period, **{name: rows[name] for name in query.by}}
    daily = None
    if query.grain is not Grain.day:
        day = when.date() if isinstance(when, ir.TimestampValue) else when

        def period_of(value: ir.DateValue) -> ir.DateValue:
            return bucket(value, query.grain, ctx.calendar, ctx.dialect)

        daily = Daily(day, period_of)
    return _aggregations(rows, local, keys, query, ctx, shared, daily)


@dataclass(frozen=True)
class Daily:
    """How to sum up by day first: the rows' local day, and the period of a day.

    Measures that add up (sums, counts, averages as both, minimums, maximums) are grouped
    by day and slice first and the days then by period: the period's expression (a month's
    or week's first day) is computed once per day instead of once per row, which halves a
    scan of 30 M rows on DuckDB (BENCHMARKS.md)."""

    day: ir.DateValue
    period_of: Callable[[ir.DateValue], ir.DateValue]


ADDS_UP: dict[Agg, str] = {
    Agg.sum: "sum", Agg.count: "sum", Agg.sum_boolean: "sum", Agg.avg: "sum",
    Agg.min: "min", Agg.max: "max",
}  # fmt: skip
"""The kinds of measure whose result over a coarser period or slice is their finer
results added up, and how (an average as its sum and its count, both summed)."""


def added_up(measure: str, agg: Agg) -> dict[str, str] | None:
    """How each result column of a measure adds up from finer results (days to months,
    months to quarters, regions to the total): `sum`, `min` or `max`; None for a measure
    that does not add up (distinct counts, quantiles, conversions)."""
    how = ADDS_UP.get(agg)
    if how is None:
        return None
    if agg is Agg.avg:
        return {column_of(measure, "sum"): how, column_of(measure, "n"): how}
    return {column_of(measure): how}


def _grouped(
    rows: ir.Table,
    keys: dict[str, ir.Value],
    metrics: dict[str, ir.Scalar],
    rollups: dict[str, str] | None,
    daily: Daily | None,
) -> ir.Table:
    """`metrics` over `rows` by `keys`; by day first where every metric adds up."""
    if daily is None or rollups is None or not metrics:
        return rows.group_by(**keys).aggregate(**metrics)
    sliced = {name: value for name, value in keys.items() if name != PERIOD}
    days = rows.group_by(__day=daily.day, **sliced).aggregate(**metrics)
    again = {name: getattr(days[name], rollups[name])().cast(days[name].type()) for name in metrics}
    by = {PERIOD: daily.period_of(days["__day"]), **{name: days[name] for name in sliced}}
    return days.group_by(**by).aggregate(**again)


def compile_windowed(
    table: ir.Table,
    query: MeasureQuery,
    ctx: Context,
    windows: list[tuple[dt.date, dt.date, dt.date]],
) -> Compiled:
    """Measures that cannot be added up across periods (distinct counts, medians), each
    computed over a window of days per period: `windows` holds (period, first day, day
    after the last). Rows are joined to the windows that hold them, then aggregated."""
    rows, local, when, shared = _rows(table, query, ctx)
    day = when.date() if isinstance(when, ir.TimestampValue) else when
    rows = rows.mutate(__day=day)
    spine = ibis.memtable(
        {
            PERIOD: [w[0] for w in windows],
            "__from": [w[1] for w in windows],
            "__to": [w[2] for w in windows],
        }
    )
    spine = spine.cast({PERIOD: "date", "__from": "date", "__to": "date"})
    joined = rows.join(spine, [rows["__day"] >= spine["__from"], rows["__day"] < spine["__to"]])
    keys = {name: joined[name] for name in (PERIOD, *query.by)}
    return _aggregations(joined, local, keys, query, ctx, shared)


def compile_distinct_values(
    table: ir.Table, query: MeasureQuery, measure: str, ctx: Context, value_column: str
) -> ir.Table:
    """The distinct values a `count_distinct` measure counts, per period and slice (the
    query's range, filter and the measure's own `where` applied; missing values left out):
    what its count is the size of."""
    rows, local, _, shared = _rows(table, replace(query, measures=(measure,)), ctx)
    spec = ctx.dataset.measures[measure]
    if spec.agg is not Agg.count_distinct:
        raise CompileError(f"measure '{measure}' is not a distinct count")
    try:
        value, condition = _value_and_condition(measure, spec, shared, RowScope(rows, local))
    except CompileError as exc:
        path = ("datasets", query.dataset, "measures", measure, *exc.path)
        raise CompileError(f"measure '{measure}': {exc.message}", exc.node, path) from exc
    assert value is not None
    kept = rows.filter(value.notnull(), *([condition] if condition is not None else []))
    when = local(kept[ctx.dataset.time])
    period = bucket(when, query.grain, ctx.calendar, ctx.dialect)
    keys = {PERIOD: period, **{name: kept[name] for name in query.by}}
    return kept.select(**keys, **{value_column: value}).distinct()


def filters_rows(dataset: Dataset, measures: tuple[str, ...]) -> bool:
    """Whether the measures' query keeps only the rows of their shared `where` (see
    `_rows`): periods and slices without such rows are then missing from its result."""
    return _shared_filter({name: dataset.measures[name] for name in measures}) is not None


def compile_bounds(table: ir.Table, query: MeasureQuery, ctx: Context) -> list[ir.Table]:
    """The first and last local time (`__first`, `__last`) of the rows in the query's
    range and filter, whatever the measures' own filters; with a breakdown, also the
    slices those rows hold. (A minimum and maximum of the time column itself: DuckDB
    answers it from a Parquet file's statistics where it can.)"""
    rows, _, when, _ = _rows(table, replace(query, measures=()), ctx)
    ends = rows.aggregate(__first=when.min(), __last=when.max())
    if not query.by:
        return [ends]
    return [ends, rows.select(*query.by).distinct()]


def _rows(
    table: ir.Table, query: MeasureQuery, ctx: Context
) -> tuple[ir.Table, Callable[[ir.Value], ir.Value], ir.Value, str | None]:
    """The dataset's rows after the range, query filter and shared measure filter."""
    if ctx.dataset.time is None:
        raise CompileError(f"dataset '{query.dataset}' has no time column")
    if ctx.dataset.time not in table.columns:
        raise CompileError(
            f"time column '{ctx.dataset.time}' is not in the data "
            f"(columns: {', '.join(table.columns)})",
            path=("datasets", query.dataset, "time"),
        )

    def local(value: ir.Value) -> ir.Value:
        return ctx.dialect.local_time(value, ctx.dataset.timezone, ctx.project_zone)

    scope = RowScope(table, local)
    when = local(table[ctx.dataset.time])
    conditions = _range(when, query)
    if query.where:
        conditions.append(as_condition(compile_row(parse_formula(query.where), scope)))
    measures = {name: ctx.dataset.measures[name] for name in query.measures}
    shared = _shared_filter(measures)
    if shared is not None:
        try:
            conditions.append(as_condition(compile_row(parse_formula(shared), scope)))
        except CompileError as exc:
            first = next(iter(measures))
            path = ("datasets", query.dataset, "measures", first, "where")
            raise CompileError(f"measure '{first}': {exc.message}", exc.node, path) from exc
    rows = table.filter(*conditions) if conditions else table
    rows = with_conversion_flags(rows, measures, ctx.dataset, ctx.lookup, ctx.localise)
    when = local(rows[ctx.dataset.time])
    return rows, local, when, shared


def _aggregations(
    rows: ir.Table,
    local: Callable[[ir.Value], ir.Value],
    keys: dict[str, ir.Value],
    query: MeasureQuery,
    ctx: Context,
    shared: str | None,
    daily: Daily | None = None,
) -> Compiled:
    """One aggregation per group of measures sharing a scan, grouped by `keys` (result
    column -> value over `rows`); by day first (`daily`) where every measure adds up."""
    metrics: dict[str, ir.Scalar] = {}
    rollups: dict[str, str] | None = {}
    tables: list[ir.Table] = []
    # Over a bounded range (an incremental refresh reads a period or two) a scan of its own
    # costs more in round trips than it saves: a subset's distinct count then goes next to
    # the other measures, counted the same (CASE WHEN), on the same rows and keys.
    own_scans = query.start is None or all(
        _in_own_table(ctx.dataset.measures[name], shared, ctx.dialect) for name in query.measures
    )
    for name in query.measures:
        measure = ctx.dataset.measures[name]
        try:
            value, condition = _value_and_condition(name, measure, shared, RowScope(rows, local))
        except CompileError as exc:
            path = ("datasets", query.dataset, "measures", name, *exc.path)
            raise CompileError(f"measure '{name}': {exc.message}", exc.node, path) from exc
        if measure.agg in (Agg.median, Agg.percentile) and not ctx.dialect.quantiles:
            tables.append(_quantile_by_window(rows, keys, name, measure, value, condition))
            continue
        if measure.over_time is not OverTime.sum:
            day = local(rows[ctx.dataset.time])
            day = day.date() if isinstance(day, ir.TimestampValue) else day
            entity = level_entity(ctx.dataset)
            tables.append(_level(rows, keys, day, name, measure, value, condition, entity))
            continue
        if measure.agg is Agg.count_distinct and condition is not None and own_scans:
            # A distinct count of a subset is cheapest with the subset in WHERE; next to
            # other measures that costs a scan of its own, which still wins (BENCHMARKS.md).
            assert value is not None
            subset = rows.filter(condition)
            tables.append(subset.group_by(**keys).aggregate(**{column_of(name): value.nunique()}))
            continue
        metrics.update(_aggregate(name, measure, value, condition, rows))
        how = added_up(name, measure.agg)
        if rollups is not None and how is not None:
            rollups.update(how)
        else:
            rollups = None  # a distinct count or a quantile does not add up from days
    if metrics or not tables:
        tables.insert(0, _grouped(rows, keys, metrics, rollups, daily))
    return Compiled(tuple(tables))


def _in_own_table(measure: Measure, shared: str | None, dialect: Dialect) -> bool:
    """Whether a measure is aggregated apart from the others (by default)."""
    if measure.agg in (Agg.median, Agg.percentile) and not dialect.quantiles:
        return True
    return measure.agg is Agg.count_distinct and measure.where not in (None, shared)


def _range(when: ir.Value, query: MeasureQuery) -> list[ir.Value]:
    out: list[ir.Value] = []
    for bound, is_start in ((query.start, True), (query.end, False)):
        if bound is None:
            continue
        literal = (
            ibis.literal(bound)
            if isinstance(when, ir.DateValue)
            else ibis.literal(dt.datetime.combine(bound, dt.time()))
        )
        out.append(when >= literal if is_start else when < literal)
    return out


def _shared_filter(measures: dict[str, Measure]) -> str | None:
    """The `where` every measure of the batch has, if they all have the same one."""
    filters = {m.where for m in measures.values()}
    if len(filters) == 1:
        return next(iter(filters))
    return None


def _value_and_condition(
    name: str, measure: Measure, shared: str | None, scope: RowScope
) -> tuple[ir.Value | None, ir.BooleanValue | None]:
    expr = measure.expr
    if expr is None and measure.agg not in (Agg.count, Agg.conversion):
        expr = quote_name(name)
    part = "expr" if measure.expr is not None else ""
    value = _compile_part(expr, scope, part) if expr is not None else None
    condition = None
    if measure.where is not None and measure.where != shared:
        compiled = _compile_part(measure.where, scope, "where")
        try:
            condition = as_condition(compiled)
        except CompileError:
            raise CompileError("`where` is not a condition", path=("where",)) from None
    return value, condition


def _compile_part(text: str, scope: RowScope, part: str) -> ir.Value:
    try:
        return compile_row(parse_formula(text), scope)
    except CompileError as exc:
        raise CompileError(exc.message, exc.node, (part,) if part else ()) from exc


def _aggregate(
    name: str,
    measure: Measure,
    value: ir.Value | None,
    condition: ir.BooleanValue | None,
    rows: ir.Table,
) -> dict[str, ir.Scalar]:
    agg = measure.agg
    if agg is Agg.conversion:
        return _conversion(name, measure, condition, rows)
    if agg is Agg.count:
        counted = rows.count(where=condition) if value is None else value.count(where=condition)
        return {column_of(name): counted}
    assert value is not None
    if agg is Agg.count_distinct:
        kept = value if condition is None else ibis.cases((condition, value))
        return {column_of(name): kept.nunique()}
    if agg is Agg.sum_boolean:
        flags = ibis.cases((_boolean(value), 1), else_=0)
        return {column_of(name): flags.sum(where=condition)}
    number = _numeric(name, value)
    if agg is Agg.avg:
        return {
            column_of(name, "sum"): number.sum(where=condition),
            column_of(name, "n"): number.count(where=condition),
        }
    reducers: dict[Agg, Callable[[], ir.Scalar]] = {
        Agg.sum: lambda: number.sum(where=condition),
        Agg.min: lambda: number.min(where=condition),
        Agg.max: lambda: number.max(where=condition),
        Agg.median: lambda: number.quantile(0.5, where=condition),
        Agg.percentile: lambda: number.quantile(measure.p or 0.5, where=condition),
    }
    return {column_of(name): reducers[agg]()}


def _conversion(
    name: str, measure: Measure, condition: ir.BooleanValue | None, rows: ir.Table
) -> dict[str, ir.Scalar]:
    assert measure.entity is not None
    entity = rows[measure.entity]
    flag = rows[flag_column(name)]
    converted = ibis.cases((flag if condition is None else flag & condition, entity)).nunique()
    if measure.as_ is ConversionAs.count:
        return {column_of(name): converted}
    started = entity.nunique() if condition is None else ibis.cases((condition, entity)).nunique()
    return {column_of(name, "conv"): converted, column_of(name, "base"): started}


def level_entity(dataset: Dataset) -> tuple[str, ...]:
    """The columns that tell a level's entities apart (an account, a product): the
    dataset's `key` without its time column. Empty without such a key."""
    return tuple(column for column in dataset.key if column != dataset.time)


def _level(
    rows: ir.Table,
    keys: dict[str, ir.Value],
    day: ir.Value,
    name: str,
    measure: Measure,
    value: ir.Value | None,
    condition: ir.BooleanValue | None,
    entity: tuple[str, ...] = (),
) -> ir.Table:
    """A level over a period (MRR, headcount, a balance). With an `entity` (the key's
    columns besides time), each entity's value on its own last (first) day with rows in
    the period, added up per slice; without one, each day's total, then the one of the
    last (first) day with data in the period (of any slice: a slice without rows that day
    is 0). `average` is the average of the daily totals over the days with data.
    A monthly snapshot dated on the 1st at quarter grain is the quarter's last month."""
    kept = rows.filter(condition) if condition is not None else rows
    if entity and measure.over_time is not OverTime.average:
        return _level_by_entity(kept, keys, day, name, measure, value, entity)
    if measure.agg is Agg.count:
        total = kept.count() if value is None else value.count()
    else:
        assert value is not None
        total = _numeric(name, value).sum()
    daily = kept.group_by(**keys, __day=day).aggregate(__level=total.cast("float64"))
    if measure.over_time is OverTime.average:
        return daily.group_by(list(keys)).aggregate(**{column_of(name): daily["__level"].mean()})
    # The last (first) day of the period, whatever the slice: a plan with no rows on 30
    # September has no MRR at the end of the quarter, not its August MRR.
    picked = _on_edge(daily, [PERIOD], measure.over_time)
    return picked.select(*keys, **{column_of(name): picked["__level"]})


def _on_edge(rows: ir.Table, within: list[str], over_time: OverTime) -> ir.Table:
    """The rows on the last (first, for `over_time: first`) `__day` of each group of the
    `within` columns."""
    whole = ibis.window(group_by=[rows[column] for column in within])
    edge = rows["__day"].max() if over_time is OverTime.last else rows["__day"].min()
    marked = rows.mutate(__edge=edge.over(whole))
    return marked.filter(marked["__day"] == marked["__edge"])


def _level_by_entity(
    kept: ir.Table,
    keys: dict[str, ir.Value],
    day: ir.Value,
    name: str,
    measure: Measure,
    value: ir.Value | None,
    entity: tuple[str, ...],
) -> ir.Table:
    """Each entity's rows on its last (first) day with rows in the period, added up per
    period and slice. The window is the period and the entity, not the slice: an account
    that moved region in the quarter counts once, in the region of its last row."""
    if measure.agg is Agg.count:
        amount = ibis.literal(1) if value is None else value.notnull().cast("int64")
    else:
        assert value is not None
        amount = _numeric(name, value)
    missing = [column for column in entity if column not in kept.columns]
    if missing:
        raise CompileError(
            f"measure '{name}' reads each {', '.join(entity)} apart (the dataset's key), "
            f"but column '{missing[0]}' is not in the data"
        )
    apart = {f"__entity{i}": kept[column] for i, column in enumerate(entity)}
    base = kept.select(**keys, **apart, __day=day, __amount=amount.cast("float64"))
    picked = _on_edge(base, [PERIOD, *apart], measure.over_time)
    return picked.group_by(list(keys)).aggregate(**{column_of(name): picked["__amount"].sum()})


def _quantile_by_window(
    rows: ir.Table,
    keys: dict[str, ir.Value],
    name: str,
    measure: Measure,
    value: ir.Value | None,
    condition: ir.BooleanValue | None,
) -> ir.Table:
    """An exact, interpolated quantile with window functions, for warehouses without a
    quantile aggregate (MySQL/MariaDB): the same result as PostgreSQL's percentile_cont."""
    assert value is not None
    p = 0.5 if measure.agg is Agg.median else (measure.p or 0.5)
    kept = rows.filter(value.notnull(), *([condition] if condition is not None else []))
    ranked = kept.select(**keys, __v=_numeric(name, value).cast("float64"))
    window = ibis.window(group_by=[ranked[k] for k in keys], order_by=ranked["__v"])
    whole = ibis.window(group_by=[ranked[k] for k in keys])
    ranked = ranked.mutate(
        __rank=ibis.row_number().over(window), __n=ranked["__v"].count().over(whole)
    )
    position = (ranked["__n"] - 1) * p
    picked = ranked.filter(
        (ranked["__rank"] == position.floor()) | (ranked["__rank"] == position.ceil())
    )
    low, high = picked["__v"].min(), picked["__v"].max()
    fraction = ((picked["__n"] - 1) * p - ((picked["__n"] - 1) * p).floor()).max()
    return picked.group_by(list(keys)).aggregate(**{column_of(name): low + (high - low) * fraction})


def _numeric(name: str, value: ir.Value) -> ir.NumericValue:
    if isinstance(value, ir.BooleanValue):
        return value.cast("int64")
    if not isinstance(value, ir.NumericValue):
        raise CompileError(f"measure '{name}' aggregates {value.type()}, not numbers")
    return value


def _boolean(value: ir.Value) -> ir.BooleanValue:
    try:
        return as_condition(value)
    except CompileError:
        raise CompileError(f"sum_boolean needs a condition, found {value.type()}") from None
