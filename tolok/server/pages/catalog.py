"""The catalog of KPI templates in the reader's language, and how one would map onto the
project's datasets: the measures and the KPI `tolok catalog add` would write, as YAML."""

from __future__ import annotations

import io
import shlex
from typing import Any

from pydantic import BaseModel

from tolok.catalog.templates import Template, catalog, search
from tolok.server.web import Context
from tolok.spec.models import Function, Indicator, Level


class Entry(BaseModel):
    name: str
    title: str
    description: str
    function: str
    level: str
    indicator: str
    unit: str
    article: bool


class CatalogPage(BaseModel):
    q: str | None
    function: str | None
    level: str | None
    indicator: str | None
    functions: list[str]
    levels: list[str]
    indicators: list[str]
    entries: list[Entry]
    total: int


class ColumnOut(BaseModel):
    name: str
    type: str
    description: str
    mapped: str  # the project's column it is read from


class TableOut(BaseModel):
    role: str
    description: str
    dataset: str | None  # the project's dataset chosen for it
    columns: list[ColumnOut]


class TemplatePage(BaseModel):
    entry: Entry
    why: str
    formula: str
    tables: list[TableOut]
    datasets: list[str]  # the project's datasets with a time column
    yaml: str | None  # what adding it would write
    problem: str | None  # why it cannot be added as chosen
    command: str


def entry_of(name: str, template: Template, lang: str) -> Entry:
    return Entry(
        name=name,
        title=template.title(lang),
        description=template.description(lang),
        function=template.function.value,
        level=template.level.value,
        indicator=template.indicator.value,
        unit=template.unit.value,
        article=template.article,
    )


def data(
    ctx: Context, q: str | None, function: str | None, level: str | None, indicator: str | None
) -> CatalogPage:
    found = search(
        q,
        Function(function) if function else None,
        Level(level) if level else None,
        Indicator(indicator) if indicator else None,
    )
    return CatalogPage(
        q=q,
        function=function,
        level=level,
        indicator=indicator,
        functions=[f.value for f in Function],
        levels=[v.value for v in Level],
        indicators=[i.value for i in Indicator],
        entries=[entry_of(n, t, ctx.lang) for n, t in found],
        total=len(catalog()),
    )


def template_data(
    ctx: Context, name: str, template: Template, chosen: dict[str, str], columns: dict[str, str]
) -> TemplatePage:
    """The template, mapped onto the datasets `chosen` per table role (by default, a dataset
    named like the role) and the project's `columns` per template column."""
    from tolok.catalog.add import CatalogError, plan

    project = ctx.project
    usable = [n for n, d in project.datasets.items() if d.time is not None]
    picks = {
        role: chosen.get(role) or (role if role in usable else None) for role in template.tables
    }
    tables = [
        TableOut(
            role=role,
            description=table.description(ctx.lang),
            dataset=picks[role],
            columns=[
                ColumnOut(
                    name=c,
                    type=col.type.value,
                    description=col.description(ctx.lang),
                    mapped=columns.get(c, c),
                )
                for c, col in table.columns.items()
            ],
        )
        for role, table in template.tables.items()
    ]
    yaml, problem = None, None
    given = {role: d for role, d in picks.items() if d}
    renamed = {c: m for c, m in columns.items() if m and m != c}
    try:
        result = plan(name, template, project, given, renamed)
        yaml = _yaml(result.new_measures, result.kpi_name, result.kpi)
    except CatalogError as exc:
        problem = str(exc)
    command = ["tolok", "catalog", "add", name]
    for role, dataset in given.items():
        command += ["--dataset", f"{role}={dataset}" if len(template.tables) > 1 else dataset]
    for column, mapped in renamed.items():
        command += ["--map", f"{column}={mapped}"]
    return TemplatePage(
        entry=entry_of(name, template, ctx.lang),
        why=template.why(ctx.lang),
        formula=template.formula,
        tables=tables,
        datasets=usable,
        yaml=yaml,
        problem=problem,
        command=shlex.join(command),
    )


def _yaml(measures: dict[str, dict[str, dict[str, Any]]], name: str, kpi: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    document: dict[str, object] = {}
    if measures:
        document["datasets"] = {d: {"measures": m} for d, m in measures.items()}
    document["kpis"] = {name: kpi}
    out = io.StringIO()
    writer = YAML()
    writer.default_flow_style = False
    writer.dump(document, out)
    return out.getvalue()
