"""A dataset's rows with the lookup columns a query reads (`customers.segment`), joined
through the keys its `refs` name (see `tolok.spec.joins`).

Only the columns a query reads are joined, and only of the lookups it reaches, so a query
that needs none reads the dataset alone. The join is a LEFT JOIN below the aggregation: a
row whose key has no match keeps its place, with no value for the lookup's columns (a
breakdown shows it as missing), and the warehouse scans the dataset once. Before the first
join, the lookup's key is checked to be unique there: a duplicate would count rows twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tolok.engine.errors import WarehouseError
from tolok.spec.formula import Name, parse_formula, walk
from tolok.spec.joins import lookup_key, qualified, reachable, split
from tolok.spec.models import Dataset, Project

if TYPE_CHECKING:  # `read_names` is asked before anything is computed: it needs neither
    import ibis.expr.types as ir

    from tolok.engine.warehouse import Warehouse


def read_names(
    dataset: Dataset, measures: Iterable[str], by: Iterable[str], where: str | None
) -> set[str]:
    """The qualified names (`customers.segment`) a query over `dataset` reads: breakdowns,
    the query's filter, and its measures' expressions and filters."""
    texts = [where] if where else []
    for name in measures:
        measure = dataset.measures[name]
        texts += [t for t in (measure.expr, measure.where) if t]
    out = {b for b in by if split(b)[0] is not None}
    for text in texts:
        for node in walk(parse_formula(text)):
            if isinstance(node, Name) and node.qualifier is not None:
                out.add(qualified(node.qualifier, node.name))
    return out


def joined(
    warehouse: Warehouse,
    name: str,
    table: ir.Table,
    names: set[str],
    checked: set[str],
) -> ir.Table:
    """`table` (the rows of dataset `name`) with a column for each qualified name in
    `names`: its own columns under its own name, lookups' columns joined through `refs`.
    `checked` holds the lookups whose key was found unique (this call adds to it)."""
    project = warehouse.loaded.project
    assert project is not None
    if not names:
        return table
    dataset = project.datasets[name]
    own = {n: split(n)[1] for n in names if split(n)[0] == name and n not in table.columns}
    if own:
        table = table.mutate(**{n: table[column] for n, column in own.items()})
    wanted: dict[str, list[str]] = {}
    for full in sorted(names - own.keys()):
        target, column = split(full)
        if target is None or full in table.columns:
            continue
        if target not in dataset.refs.values():
            raise _not_reached(warehouse, project, name, full)
        wanted.setdefault(target, []).append(column)
    for target, columns in wanted.items():
        via = next(v for v, t in dataset.refs.items() if t == target)
        table = _join(warehouse, name, table, via, target, columns, checked)
    return table


def _join(
    warehouse: Warehouse,
    name: str,
    table: ir.Table,
    via: str,
    target: str,
    columns: list[str],
    checked: set[str],
) -> ir.Table:
    project = warehouse.loaded.project
    assert project is not None
    where = warehouse.loaded.locate("datasets", name, "refs", via)
    lookup_spec = project.datasets.get(target)
    key = lookup_key(lookup_spec) if lookup_spec is not None else None
    if lookup_spec is None or key is None:
        raise WarehouseError(
            f"dataset '{name}' refers to '{target}' through '{via}', but "
            + (
                "no dataset has that name"
                if lookup_spec is None
                else f"'{target}' declares no one-column `key` to join on"
            ),
            where,
            f"give dataset '{target}' `key: [its id column]`",
        )
    if not warehouse.same_place(name, target):
        raise WarehouseError(
            f"dataset '{target}' is not where dataset '{name}' is (a file and a warehouse "
            "table): a join through refs needs both in one place",
            where,
        )
    if via not in table.columns:
        raise WarehouseError(
            f"dataset '{name}': column '{via}' (in refs) is not in the data "
            f"(columns: {', '.join(table.columns)})",
            where,
        )
    lookup = warehouse.table(target)
    missing = [c for c in [key, *columns] if c not in lookup.columns]
    if missing:
        raise WarehouseError(
            f"dataset '{target}' has no column '{missing[0]}' "
            f"(columns: {', '.join(lookup.columns)})",
            warehouse.loaded.locate("datasets", target),
        )
    if target not in checked:
        _check_unique(warehouse, target, lookup, key)
        checked.add(target)
    right_key = lookup[key]
    if right_key.type() != table[via].type():
        right_key = right_key.cast(table[via].type())
    marker = f"__key_{target}"
    right = lookup.select(
        **{marker: right_key}, **{qualified(target, c): lookup[c] for c in columns}
    )
    both = table.left_join(right, table[via] == right[marker])
    return both.select(*table.columns, *(qualified(target, c) for c in columns))


def _check_unique(warehouse: Warehouse, target: str, lookup: ir.Table, key: str) -> None:
    """A key found twice in a lookup would count a row once per match: refused, with an
    example, rather than a silent fan-out."""
    import ibis

    counted = lookup.filter(lookup[key].notnull()).group_by(key).aggregate(__n=ibis._.count())
    twice = counted.filter(counted["__n"] > 1).order_by(key).limit(1)
    found = warehouse.execute(twice, target)
    if found.empty:
        return
    value, times = found[key].iloc[0], int(found["__n"].iloc[0])
    raise WarehouseError(
        f"dataset '{target}': key '{key}' is not unique — '{value}' appears "
        f"{times} times, so a row referring to it would be counted {times} times",
        warehouse.loaded.locate("datasets", target, "key"),
        f"keep one row per {key} in '{target}' (or refer to a table that has one)",
    )


def _not_reached(warehouse: Warehouse, project: Project, name: str, full: str) -> WarehouseError:
    known = [d for d in reachable(project, name) if "." in d]
    return WarehouseError(
        f"dataset '{name}' does not reach '{full}' (it reaches: {', '.join(known) or 'none'})",
        warehouse.loaded.locate("datasets", name),
        f"add `refs: {{column: {split(full)[0]}}}` to dataset '{name}'",
    )
