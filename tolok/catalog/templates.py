"""The built-in KPI catalog: templates kept as bilingual YAML data in `kpis/*.yaml`.

A template names the tables it reads (a role such as `orders` or `sessions`), the columns it
needs in each (with their types), the measures over those columns and the KPI formula over
the measures. `tolok catalog add` maps the roles to a project's datasets and the columns to
the project's columns (see `tolok.catalog.add`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import Field, model_validator
from ruamel.yaml import YAML

from tolok.spec.formula import Name, parse_formula, walk
from tolok.spec.models import (
    Agg,
    ColumnType,
    Direction,
    Function,
    Grain,
    Indicator,
    Level,
    Locale,
    Measure,
    Spec,
    Unit,
)


class Text(Spec):
    """The same words in each language tolok speaks."""

    en: str
    id: str

    def __call__(self, locale: Locale | str) -> str:
        return self.id if str(locale) == "id" else self.en


class Column(Spec):
    type: ColumnType
    description: Text
    values: list[str] = Field(
        default_factory=list, description="The values a text column holds, when few."
    )


class Table(Spec):
    """One kind of rows a template reads: orders, sessions, tickets ..."""

    description: Text
    time: str = Field(description="The column that dates each row in the sample data.")
    columns: dict[str, Column] = Field(default_factory=dict)
    dimensions: list[str] = Field(default_factory=list)
    measures: dict[str, Measure]

    @model_validator(mode="after")
    def _columns_known(self) -> Table:
        known = set(self.columns) | {self.time}
        for dim in self.dimensions:
            if dim not in self.columns:
                raise ValueError(f"dimension {dim!r} is not among the table's columns")
        for name, measure in self.measures.items():
            # `to_entity` and `to_where` read the `to` table: the template checks them.
            for text in (measure.expr, measure.where, measure.entity):
                if text is None:
                    continue
                for used in _names(text):
                    if used not in known:
                        raise ValueError(f"measure {name!r} reads {used!r}, not a column here")
        return self


class Template(Spec):
    title: Text
    description: Text
    why: Text = Field(description="Why and when to use it.")
    function: Function
    level: Level
    indicator: Indicator
    unit: Unit
    direction: Direction
    grain: Grain
    formula: str
    tables: dict[str, Table]
    breakdowns: list[str] = Field(
        default_factory=list, description="Dimensions worth breaking the KPI down by."
    )
    aliases: list[str] = Field(default_factory=list)
    article: bool = Field(False, description="One of the examples of the article tolok grew from.")

    @model_validator(mode="after")
    def _formula_reads_measures(self) -> Template:
        measures = self.measures()
        for used in _names(self.formula):
            if used not in measures:
                raise ValueError(f"the formula reads {used!r}, which no table measures")
        if len(self.columns()) != sum(len(t.columns) for t in self.tables.values()):
            raise ValueError("a column name is used in two tables: give each its own name")
        dims = {d for table in self.tables.values() for d in table.dimensions}
        for name in self.breakdowns:
            if name not in dims:
                raise ValueError(f"breakdown {name!r} is not a dimension of a table")
        for table in self.tables.values():
            for measure in table.measures.values():
                if measure.agg is not Agg.conversion:
                    continue
                if measure.to not in self.tables:
                    raise ValueError(f"conversion to {measure.to!r}, which is not a table here")
                later = self.tables[measure.to]
                known = set(later.columns) | {later.time}
                entity = measure.to_entity or measure.entity or ""
                reads = {entity} | (_names(measure.to_where) if measure.to_where else set())
                for column in sorted(reads - known):
                    raise ValueError(f"conversion reads {column!r}, not a column of {measure.to!r}")
        return self

    def measures(self) -> dict[str, tuple[str, Measure]]:
        """Every measure with the role of the table it belongs to."""
        return {
            name: (role, measure)
            for role, table in self.tables.items()
            for name, measure in table.measures.items()
        }

    def columns(self) -> dict[str, tuple[str, Column]]:
        return {
            name: (role, column)
            for role, table in self.tables.items()
            for name, column in table.columns.items()
        }


def _names(text: str) -> set[str]:
    return {n.name for n in walk(parse_formula(text)) if isinstance(n, Name) and not n.qualifier}


@cache
def catalog() -> dict[str, Template]:
    """Every template, by name, in the order the catalog files list them."""
    yaml = YAML(typ="safe")
    out: dict[str, Template] = {}
    folder = resources.files("tolok.catalog") / "kpis"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        data = yaml.load(item.read_text(encoding="utf-8"))
        for name, raw in data.items():
            if name in out:
                raise ValueError(f"catalog template {name!r} is defined twice ({item.name})")
            try:
                out[name] = Template.model_validate(raw)
            except ValueError as exc:
                raise ValueError(f"catalog {item.name}, template {name!r}: {exc}") from exc
    return out


def find(name: str) -> tuple[str, Template] | None:
    """A template by its name or one of its aliases (case does not matter)."""
    wanted = name.strip().lower().replace("-", "_")
    for key, template in catalog().items():
        if wanted == key or wanted in (a.lower() for a in template.aliases):
            return key, template
    return None


def search(
    text: str | None = None,
    function: Function | None = None,
    level: Level | None = None,
    indicator: Indicator | None = None,
) -> list[tuple[str, Template]]:
    """Templates whose name, aliases, titles or descriptions hold every word of `text`."""
    words = (text or "").lower().split()
    found = []
    for name, template in catalog().items():
        if function is not None and template.function is not function:
            continue
        if level is not None and template.level is not level:
            continue
        if indicator is not None and template.indicator is not indicator:
            continue
        haystack = " ".join(
            [
                name.replace("_", " "),
                *template.aliases,
                template.title.en,
                template.title.id,
                template.description.en,
                template.description.id,
            ]
        ).lower()
        if all(word in haystack for word in words):
            found.append((name, template))
    return found
