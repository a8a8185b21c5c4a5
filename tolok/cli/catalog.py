"""`tolok catalog`: browse the built-in KPI templates, read one, add one to the project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import ProjectOption, app, console, load_or_exit
from tolok.spec.models import Function, Indicator, Level

catalog = typer.Typer(
    help="The built-in KPI catalog: browse it, read a template, add one to the project.",
    invoke_without_command=True,
)
app.add_typer(catalog, name="catalog")
Lang = Annotated[
    str | None, typer.Option("--lang", help="en or id (default: tolok --lang, $TOLOK_LANG or en).")
]


def catalog_lang(lang: str | None) -> str:
    from tolok.cli.lang import lang_of

    return lang or lang_of()


@catalog.callback()
def catalog_list(
    ctx: typer.Context,
    function: Annotated[Function | None, typer.Option(help="Only this function.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    indicator: Annotated[Indicator | None, typer.Option(help="leading or lagging.")] = None,
    lang: Lang = None,
) -> None:
    """List the templates (filters: --function, --level, --indicator)."""
    if ctx.invoked_subcommand is None:
        from tolok.cli.terminal.catalog import print_catalog

        print_catalog(None, function, level, indicator, catalog_lang(lang), console())


@catalog.command("search")
def catalog_search(
    text: Annotated[str, typer.Argument(help="Words to look for (all of them).")],
    function: Annotated[Function | None, typer.Option(help="Only this function.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    indicator: Annotated[Indicator | None, typer.Option(help="leading or lagging.")] = None,
    lang: Lang = None,
) -> None:
    """Templates whose name, title or description hold every word of TEXT."""
    from tolok.cli.terminal.catalog import print_catalog

    print_catalog(text, function, level, indicator, catalog_lang(lang), console())


@catalog.command("show")
def catalog_show(
    name: Annotated[str, typer.Argument(help="The template's name.")], lang: Lang = None
) -> None:
    """One template in full: what it means, why to use it, the columns it needs."""
    from tolok.cli.terminal.catalog import print_template

    if not print_template(name, catalog_lang(lang), console(), console(True)):
        raise typer.Exit(1)


@catalog.command("add")
def catalog_add(
    name: Annotated[str, typer.Argument(help="The template's name (see `tolok catalog`).")],
    dataset: Annotated[
        list[str],
        typer.Option("--dataset", help="The dataset to read; ROLE=DATASET for each table."),
    ],
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=YOURS: the template's column in your data."),
    ] = None,
    kpi_name: Annotated[str | None, typer.Option("--name", help="The KPI's name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who answers for it.")] = None,
    goal: Annotated[str | None, typer.Option(help="The goal it serves.")] = None,
    kpi_file: Annotated[
        Path | None, typer.Option("--file", help="Write the KPI into this YAML file.")
    ] = None,
    path: ProjectOption = Path("."),
) -> None:
    """Write a template into the project's YAML as a KPI, keeping comments and layout."""
    from tolok.cli.terminal.catalog import run_add

    loaded = load_or_exit(path)
    options = (kpi_name, owner, goal, kpi_file)
    if not run_add(loaded, name, dataset, maps or [], options, console(), console(True)):
        raise typer.Exit(1)
