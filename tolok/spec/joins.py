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

from tolok.spec.models import Dataset, Project


def qualified(dataset: str, column: str) -> str:
    return f"{dataset}.{column}"


def split(name: str) -> tuple[str | None, str]:
    """`customers.segment` as ("customers", "segment"); a plain name has no qualifier."""
    qualifier, dot, column = name.partition(".")
    return (qualifier, column) if dot and qualifier and column else (None, name)


def reachable(project: Project, name: str) -> list[str]:
    """The dimensions the dataset `name` can be broken down or filtered by, as a person
    would pick them: its own, then those of the lookups it refers to (qualified)."""
    dataset = project.datasets[name]
    out = list(dataset.dimensions)
    for target in dataset.refs.values():
        lookup = project.datasets.get(target)
        if lookup is not None and target != name:
            out += [qualified(target, column) for column in lookup.dimensions]
    return out


def reaches(project: Project, name: str, dimension: str) -> bool:
    """Whether dataset `name` reaches `dimension`; its own dimensions also qualified by its
    own name, as a dataset that refers to it names them (`customers.segment` on customers)."""
    target, column = split(dimension)
    if target == name:
        return column in project.datasets[name].dimensions
    return dimension in reachable(project, name)


def all_dimensions(project: Project) -> set[str]:
    """Every dimension any dataset reaches, plain or qualified."""
    return {
        d
        for name, dataset in project.datasets.items()
        for d in [*reachable(project, name), *(qualified(name, c) for c in dataset.dimensions)]
    }


def lookup_key(lookup: Dataset) -> str | None:
    """The one column a lookup is identified by, which refs point at."""
    return lookup.key[0] if len(lookup.key) == 1 else None
