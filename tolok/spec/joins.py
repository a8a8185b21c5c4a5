"""Dimensions reached through keys.

A dataset names the lookup datasets it refers to by the column that holds their key:

    orders:    {refs: {customer_id: customers, product_id: products}, ...}
    customers: {source: ..., key: [customer_id], dimensions: [segment]}

and may then be broken down or filtered by their dimensions, qualified by the lookup's name:
`customers.segment`, `products.category`. Each row of `orders` meets at most one row of
`customers` (many-to-one: the key is unique there, which is checked when it is read), so a
breakdown never counts a row twice.

Why `refs` (a column and the dataset it points to) rather than MetricFlow's entity names
declared on both sides: a foreign key read as written in SQL, one line on the side that
refers, with nothing to match by name; a lookup keeps its own column names, and the
qualified name says where a dimension comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from tolok.spec.models import Dataset, Project


@dataclass(frozen=True)
class Reach:
    """How a dataset reaches a dimension: its own column, or one of a lookup it refers to
    through `via`, its column holding the lookup's key."""

    column: str
    target: str | None = None
    via: str | None = None


def qualified(dataset: str, column: str) -> str:
    return f"{dataset}.{column}"


def split(name: str) -> tuple[str | None, str]:
    """`customers.segment` as ("customers", "segment"); a plain name has no qualifier."""
    qualifier, dot, column = name.partition(".")
    return (qualifier, column) if dot and qualifier and column else (None, name)


def reachable(project: Project, name: str) -> dict[str, Reach]:
    """Every dimension the dataset `name` can be broken down or filtered by: its own (also
    qualified by its own name, as a dataset that refers to it would name them) and those
    of the lookups it refers to."""
    dataset = project.datasets[name]
    out: dict[str, Reach] = {}
    for column in dataset.dimensions:
        out[column] = Reach(column)
        out[qualified(name, column)] = Reach(column)
    for via, target in dataset.refs.items():
        lookup = project.datasets.get(target)
        if lookup is None or target == name:
            continue
        for column in lookup.dimensions:
            out.setdefault(qualified(target, column), Reach(column, target, via))
    return out


def all_dimensions(project: Project) -> set[str]:
    """Every dimension any dataset reaches, plain or qualified."""
    return {d for name in project.datasets for d in reachable(project, name)}


def reach_of(project: Project, dataset: str, name: str) -> Reach | None:
    """How `dataset` reaches the dimension or filter column `name` (None: it does not)."""
    return reachable(project, dataset).get(name)


def lookup_key(lookup: Dataset) -> str | None:
    """The one column a lookup is identified by, which refs point at."""
    return lookup.key[0] if len(lookup.key) == 1 else None
