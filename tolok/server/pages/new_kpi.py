"""The "Add a KPI" page: a new KPI from a catalog template mapped onto a dataset, or from
scratch, with the same form as the definition editor (`pages/definitions.py`).

It knows the project's datasets (their columns and measures), the catalog's templates in
the reader's language (the /catalog page's words: `pages/catalog.py`) with the tables and
columns each reads, and who may save. It writes nothing: its script asks the builder's API
(`api_builder.py`) to check, preview, plan and save.
"""

from __future__ import annotations

import csv
import re
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine

from tolok.catalog.templates import catalog
from tolok.i18n import voice
from tolok.server.api_definitions import EDIT, read_only
from tolok.server.pages.catalog import entry_of
from tolok.server.pages.definitions import (
    DEFAULTS,
    Choice,
    Choices,
    DefinitionForm,
    choices,
    form_of,
)
from tolok.server.web import Context
from tolok.spec import edit


class DatasetOut(BaseModel):
    name: str
    time: str | None
    columns: list[str]  # as the YAML declares them, with its time and dimensions
    measures: list[str]


class RoleOut(BaseModel):
    role: str
    description: str
    columns: list[Choice]  # a template column and its description


class TemplateOut(BaseModel):
    name: str
    title: str
    description: str
    function: str
    words: str  # what the search looks in: names, aliases, titles, descriptions, function
    roles: list[RoleOut]


class NewKpiPage(Choices):
    form: DefinitionForm
    dataset: str | None  # preselected (`?dataset=`)
    template: str | None  # preselected (`?template=`)
    datasets: list[DatasetOut]
    templates: list[TemplateOut]
    fingerprints: dict[str, str]
    can_save: bool
    read_only: str | None
    not_allowed: str | None


def data(
    ctx: Context, engine: Engine, dataset: str | None, template: str | None = None
) -> NewKpiPage:
    """The empty form (a new KPI is a draft until its owner makes it active), the datasets
    and the catalog."""
    loaded = ctx.loaded
    project = ctx.project
    refused = read_only(loaded)
    said = None
    if refused is not None:
        said = refused.worded(voice(ctx.lang) if ctx.lang != "en" else None)
    allowed = ctx.principal is not None and ctx.principal.can(EDIT)
    not_allowed = None if allowed else ctx._("Editors and admins may add a KPI; your role may not.")
    chosen = dataset if dataset in project.datasets else None
    return NewKpiPage(
        form=form_of(ctx, {"status": "draft"}),
        dataset=chosen,
        template=template if template in catalog() else None,
        datasets=[_dataset(ctx, name) for name in project.datasets],
        templates=[_template(ctx, name) for name in catalog()],
        fingerprints=edit.fingerprints(loaded),
        **choices(ctx, engine).model_dump(),
        can_save=allowed and refused is None,
        read_only=said,
        not_allowed=not_allowed,
    )


def _dataset(ctx: Context, name: str) -> DatasetOut:
    spec = ctx.project.datasets[name]
    entry = ctx.loaded.entries.get(("datasets", name))
    written = edit.as_json(entry.node) if entry is not None else {}
    declared = written.get("columns") if isinstance(written, dict) else None
    columns = list(declared) if isinstance(declared, dict) else []
    for column in [*_header(ctx, spec.file_pattern), spec.time, *spec.dimensions,
                   *_read(spec.measures)]:  # fmt: skip
        if isinstance(column, str) and column and column not in columns:
            columns.append(column)
    return DatasetOut(name=name, time=spec.time, columns=columns, measures=list(spec.measures))


def _header(ctx: Context, pattern: str | None) -> list[str]:
    """The columns of a dataset's CSV file, as its first line names them (one file, in the
    project's folder); none for other sources, which say theirs in `columns:` or measures."""
    if pattern is None or not pattern.lower().endswith(".csv") or any(c in pattern for c in "*?["):
        return []
    root = ctx.loaded.root.resolve()
    path = (root / pattern).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            first = next(csv.reader(file), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    return [c for c in first if c][:500]


def _read(measures: dict[str, Any]) -> list[str]:
    """The columns a dataset's measures read (its `expr` names), when no `columns:` says."""
    found: list[str] = []
    for measure in measures.values():
        for text in (getattr(measure, "expr", None), getattr(measure, "entity", None)):
            if isinstance(text, str):
                found += [w for w in re.findall(r"[A-Za-z_]\w*", text) if w not in found]
    return found


def _template(ctx: Context, name: str) -> TemplateOut:
    template = catalog()[name]
    entry = entry_of(name, template, ctx.lang)
    words = " ".join([
        name.replace("_", " "), *template.aliases, template.title.en, template.title.id,
        template.description.en, template.description.id, entry.function,
    ]).lower()  # fmt: skip
    roles = [
        RoleOut(
            role=role,
            description=table.description(ctx.lang),
            columns=[
                Choice(value=c, label=column.description(ctx.lang))
                for c, column in table.columns.items()
            ],
        )
        for role, table in template.tables.items()
    ]
    return TemplateOut(name=name, title=entry.title, description=entry.description,
                       function=entry.function, words=words, roles=roles)  # fmt: skip


__all__ = ["DEFAULTS", "NewKpiPage", "data"]
