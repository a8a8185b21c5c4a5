"""What `tolok catalog` prints: the templates, one in full, and the result of `add`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tolok.catalog.add import CatalogError, plan, write
from tolok.catalog.templates import Template, catalog, find, search
from tolok.cli.lang import lang_of, words
from tolok.i18n import gettext, voice
from tolok.said import error_text
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Function, Indicator, Level, Measure

WORDS = {
    "name": {"en": "name", "id": "nama"},
    "title": {"en": "KPI", "id": "KPI"},
    "function": {"en": "function", "id": "fungsi"},
    "level": {"en": "level", "id": "tingkat"},
    "indicator": {"en": "indicator", "id": "indikator"},
    "unit": {"en": "unit", "id": "satuan"},
    "direction": {"en": "better when", "id": "lebih baik bila"},
    "grain": {"en": "grain", "id": "periode"},
    "formula": {"en": "formula", "id": "rumus"},
    "why": {"en": "why and when", "id": "mengapa dan kapan"},
    "needs": {"en": "needs", "id": "membutuhkan"},
    "found": {"en": "{n} templates", "id": "{n} templat"},
    "found one": {"en": "1 template", "id": "1 templat"},
    "none": {"en": "no template matches", "id": "tidak ada templat yang cocok"},
    "add": {"en": "add it", "id": "tambahkan"},
    "article": {"en": "an example from the article", "id": "contoh dari artikel"},
}


def _w(key: str, lang: str) -> str:
    return WORDS[key]["id" if lang == "id" else "en"]


def print_catalog(
    text: str | None,
    function: Function | None,
    level: Level | None,
    indicator: Indicator | None,
    lang: str,
    out: Console,
) -> None:
    found = search(text, function, level, indicator)
    if not found:
        out.print(_w("none", lang), markup=False)
        return
    header = [_w(key, lang) for key in ("name", "title", "function", "level", "indicator", "unit")]
    rows = [
        [name, template.title(lang), template.function.value, template.level.value,
         template.indicator.value, template.unit.value]
        for name, template in found
    ]  # fmt: skip
    if not out.is_terminal:
        # Plain tab-separated lines, whole names: as `tolok kpis` prints them for cut or awk.
        for row in [header, *rows]:
            typer.echo("\t".join(row))
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print(_w("found one" if len(found) == 1 else "found", lang).format(n=len(found)),
              markup=False)  # fmt: skip


def print_template(name: str, lang: str, out: Console, err: Console) -> bool:
    hit = find(name)
    if hit is None:
        names = list(catalog())
        close = difflib.get_close_matches(name.lower(), names, n=5, cutoff=0.6)
        for word in name.replace("_", " ").split():
            close += [n for n, _ in search(word) if n not in close]
        _ = gettext(lang)
        err.print(_("error: no template named {name}", name=repr(name)), markup=False)
        if close:
            err.print("  " + _("did you mean: {names}", names=", ".join(close[:5])),
                      markup=False)  # fmt: skip
        return False
    key, template = hit
    out.print(f"{key}: {template.title(lang)}", style="bold", markup=False)
    out.print(template.description(lang), markup=False)
    if template.article:
        out.print(f"({_w('article', lang)})", markup=False)
    out.print()
    facts = [
        ("function", template.function.value),
        ("level", template.level.value),
        ("indicator", template.indicator.value),
        ("unit", template.unit.value),
        ("direction", template.direction.value),
        ("grain", template.grain.value),
        ("formula", template.formula),
    ]
    for word, value in facts:
        out.print(f"  {_w(word, lang)}: {value}", markup=False)
    out.print()
    out.print(f"{_w('why', lang)}: {template.why(lang)}", markup=False)
    out.print()
    out.print(f"{_w('needs', lang)}:", style="bold", markup=False)
    for role, table in template.tables.items():
        out.print(f"  {role}: {table.description(lang)}", markup=False)
        for column, spec in table.columns.items():
            out.print(f"    {column} ({spec.type.value}): {spec.description(lang)}", markup=False)
        for measure, definition in table.measures.items():
            out.print(f"    = {measure}: {_describe_measure(definition)}", markup=False)
    out.print()
    out.print(f"{_w('add', lang)}: {_example_add(key, template)}", markup=False)
    return True


def _describe_measure(measure: Measure) -> str:
    parts = [measure.agg.value]
    if measure.expr:
        parts.append(f"of {measure.expr}")
    if measure.entity:
        parts.append(f"of {measure.entity} to {measure.to} within {measure.within}")
    if measure.where:
        parts.append(f"where {measure.where}")
    return " ".join(parts)


def _example_add(name: str, template: Template) -> str:
    roles = list(template.tables)
    if len(roles) == 1:
        datasets = "--dataset DATASET"
    else:
        datasets = " ".join(f"--dataset {r}=DATASET" for r in roles)
    columns = " ".join(f"--map {c}=COLUMN" for c in template.columns())
    return f"tolok catalog add {name} {datasets} {columns}".rstrip()


def run_add(
    loaded: LoadedProject,
    name: str,
    datasets: list[str],
    maps: list[str],
    options: tuple[str | None, str | None, str | None, Path | None],
    out: Console,
    err: Console,
) -> bool:
    """Add a template to the project; False (after saying why) when it cannot be done."""
    kpi_name, owner, goal, kpi_file = options
    assert loaded.project is not None
    _ = words(loaded.project)
    hit = find(name)
    if hit is None:
        err.print(_("error: no template named {name} (see `tolok catalog`)", name=repr(name)),
                  markup=False)  # fmt: skip
        return False
    key, template = hit
    try:
        chosen = _pairs(datasets, "--dataset", allow_bare=True, _=_)
        columns = _pairs(maps, "--map", allow_bare=False, _=_)
        result = plan(key, template, loaded.project, chosen, columns, kpi_name, owner, goal)
    except CatalogError as exc:
        err.print(error_text(str(exc), _), markup=False)
        return False
    target = None if kpi_file is None else (loaded.root / kpi_file).resolve()
    problems = write(loaded, result, target)
    if problems:
        err.print(_("error: {kpi} was not added: the project would not validate (nothing was "
                    "changed):", kpi=result.kpi_name), markup=False)  # fmt: skip
        spoken = voice(lang_of(loaded.project))
        for problem in problems:  # the problems themselves are spec's, worded in the language
            err.print("  " + problem.headline(loaded.root, spoken), markup=False)
            hint = problem.hint_in(spoken)
            if hint:
                err.print("    " + _("hint: {hint}", hint=hint), markup=False)
        err.print("  " + _("map the template's columns to yours with --map COLUMN=YOURS"),
                  markup=False)  # fmt: skip
        return False
    out.print(_("added KPI {kpi}: {formula}", kpi=result.kpi_name, formula=result.kpi["formula"]),
              markup=False)  # fmt: skip
    for dataset, measures in result.new_measures.items():
        for measure, definition in measures.items():
            named = dataset + "." + measure
            out.print("  " + _("new measure {measure}: {definition}", measure=named,
                               definition=definition), markup=False)  # fmt: skip
    for measure, existing in result.reused.items():
        out.print("  " + _("{measure}: uses the existing measure {existing}", measure=measure,
                           existing=existing), markup=False)  # fmt: skip
    return True


def _pairs(
    values: list[str], option: str, allow_bare: bool, _: Callable[..., str]
) -> dict[str, str]:
    out: dict[str, str] = {}
    wrong = _("{option} {value}: write it as NAME=VALUE")
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            if not allow_bare:
                raise CatalogError(wrong.format(option=option, value=repr(value)))
            key, rest = "", value
        if not rest.strip() or (sep and not key.strip()):
            raise CatalogError(wrong.format(option=option, value=repr(value)))
        out[key.strip()] = rest.strip()
    return out
