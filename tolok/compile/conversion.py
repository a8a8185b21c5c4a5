"""Conversion measures: of the entities that did one thing (a lead was created), how many
did a later thing (a deal was won) within a window — counted in the first event's period.

Each row of the first dataset gets a flag, `__conv_<measure>`: true when a row of the later
dataset has the same entity and a time from the first event's time to the end of the window.
The flag is an ordinary column, so the measure aggregates like any distinct count: per
period, per slice, over rolling and to-date windows.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from tolok.compile.errors import CompileError
from tolok.compile.rowexpr import RowScope, as_condition, compile_row
from tolok.spec.formula import parse_formula
from tolok.spec.models import Dataset, Measure

TableLookup = Callable[[str], tuple[ir.Table, Dataset]]


def flag_column(measure: str) -> str:
    return f"__conv_{measure}"


def with_conversion_flags(
    rows: ir.Table,
    measures: dict[str, Measure],
    dataset: Dataset,
    lookup: TableLookup | None,
    localise: Callable[[ir.Value, Dataset], ir.Value],
) -> ir.Table:
    """`rows` with one flag column per conversion measure."""
    for name, measure in measures.items():
        if measure.agg.value != "conversion":
            continue
        if lookup is None:
            raise CompileError(f"measure '{name}': no other dataset can be read here")
        rows = _flag(rows, name, measure, dataset, lookup, localise)
    return rows


def _flag(
    rows: ir.Table,
    name: str,
    measure: Measure,
    dataset: Dataset,
    lookup: TableLookup,
    localise: Callable[[ir.Value, Dataset], ir.Value],
) -> ir.Table:
    assert measure.entity is not None
    assert measure.to is not None
    assert measure.within is not None
    assert dataset.time is not None
    later, later_dataset = lookup(measure.to)
    entity = measure.to_entity or measure.entity
    if measure.entity not in rows.columns:
        raise CompileError(f"column '{measure.entity}' is not in the data", path=("entity",))
    if entity not in later.columns:
        key = "to_entity" if measure.to_entity else "to"
        raise CompileError(f"column '{entity}' is not in dataset '{measure.to}'", path=(key,))
    if measure.to_where is not None:
        scope = RowScope(later, lambda v: localise(v, later_dataset))
        later = later.filter(as_condition(compile_row(parse_formula(measure.to_where), scope)))
    assert later_dataset.time is not None
    # Dates become midnight timestamps, so that a window in seconds can be added to them.
    events = later.select(
        __ce=later[entity],
        __ct=localise(later[later_dataset.time], later_dataset).cast("timestamp"),
    )
    starts = rows.select(
        __be=rows[measure.entity], __bt=localise(rows[dataset.time], dataset).cast("timestamp")
    ).distinct()
    window = ibis.interval(seconds=int(measure.within.total_seconds()))
    hits = (
        starts.join(
            events,
            [
                starts["__be"] == events["__ce"],
                events["__ct"] >= starts["__bt"],
                events["__ct"] <= starts["__bt"] + window,
            ],
        )
        .select("__be", "__bt")
        .distinct()
        .mutate(__hit=ibis.literal(True))
    )
    marked = rows.mutate(__bt_row=localise(rows[dataset.time], dataset).cast("timestamp"))
    joined = marked.left_join(
        hits, [marked[measure.entity] == hits["__be"], marked["__bt_row"] == hits["__bt"]]
    )
    flag = joined["__hit"].fill_null(False)
    return joined.select(*[joined[c] for c in rows.columns], **{flag_column(name): flag})
