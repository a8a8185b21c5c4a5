"""The project's definitions: `validate`, `kpis`, `lint`, `schema`, `init` and the store's
`db upgrade`."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import (
    Format,
    InitTemplate,
    ProjectPath,
    app,
    console,
    load_or_exit,
    print_problems,
)
from tolok.spec import load_project
from tolok.spec.models import KPI, Function, Indicator, Level, Project
from tolok.spec.schema import project_schema


@app.command()
def validate(
    path: ProjectPath = Path("."),
    output: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """Check a project: every problem, with file:line:col and how to fix it. Exit 1 on errors."""
    loaded = load_project(path)
    if output is Format.json:
        typer.echo(loaded.problems.to_json(loaded.root))
    else:
        print_problems(loaded)
    if loaded.problems.errors:
        raise typer.Exit(1)


@app.command()
def kpis(
    path: ProjectPath = Path("."),
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    function: Annotated[Function | None, typer.Option(help="Only this function.")] = None,
    indicator: Annotated[Indicator | None, typer.Option(help="leading or lagging.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only KPIs owned by this person.")] = None,
    goal: Annotated[str | None, typer.Option(help="Only KPIs of this goal.")] = None,
    output: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """List the project's KPIs as a table, with filters."""
    loaded = load_project(path)
    if loaded.project is None or loaded.problems.errors:
        print_problems(loaded)
        raise typer.Exit(1)
    chosen = {
        name: kpi
        for name, kpi in loaded.project.kpis.items()
        if (level is None or kpi.level == level)
        and (function is None or kpi.function == function)
        and (indicator is None or kpi.indicator == indicator)
        and (owner is None or (kpi.owner or "").casefold() == owner.casefold())
        and (goal is None or kpi.goal == goal)
    }
    if output is Format.json:
        rows = [
            {"name": n, **k.model_dump(mode="json", by_alias=True, exclude_none=True)}
            for n, k in chosen.items()
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _print_kpis(loaded.project, chosen)


def _print_kpis(project: Project, chosen: dict[str, KPI]) -> None:
    from tolok.cli.lang import counted, lang_of, words

    columns = [
        "name",
        "title",
        "formula",
        "unit",
        "grain",
        "level",
        "function",
        "indicator",
        "owner",
        "goal",
        "status",
    ]
    rows = [
        [
            name,
            kpi.title or "",
            " ".join(kpi.formula.split()),
            kpi.unit.value,
            kpi.grain.value,
            kpi.level.value if kpi.level else "",
            kpi.function.value if kpi.function else "",
            kpi.indicator.value if kpi.indicator else "",
            kpi.owner or "",
            kpi.goal or "",
            kpi.status.value,
        ]
        for name, kpi in chosen.items()
    ]
    out = console()
    if not out.is_terminal:
        # Plain tab-separated lines: readable, and easy for cut, awk or a spreadsheet. The
        # header keeps the machine's column names (the YAML's keys) in every language, so a
        # script reading it does not break when someone runs `tolok --lang id kpis`.
        for row in [columns, *rows]:
            typer.echo("\t".join(row))
        return
    _, lang = words(project), lang_of(project)
    headings = {"name": _("name"), "title": _("title"), "formula": _("formula"),
                "unit": _("unit"), "grain": _("grain"), "level": _("level"),
                "function": _("function"), "indicator": _("indicator"), "owner": _("owner"),
                "goal": _("goal"), "status": _("status")}  # fmt: skip
    kpis_text = counted(len(chosen), _("{n} KPI"), _("{n} KPIs"), lang)
    from rich.table import Table  # only on a terminal: piped, the rows are plain lines

    table = Table(title=f"{project.name}: {kpis_text}", title_justify="left")
    for column in columns:
        table.add_column(headings[column], overflow="fold")
    said = _value_words(_) if lang != "en" else {}
    shown = [columns.index(c) for c in ("unit", "grain", "level", "function", "indicator",
                                        "status")]  # fmt: skip
    for row in rows:
        table.add_row(*[said.get(v, v) if i in shown else v for i, v in enumerate(row)])
    out.print(table)


def _value_words(_: Callable[..., str]) -> dict[str, str]:
    """The YAML's values (`month`, `operational`) as the board names them, for a person
    reading the table; `--level operational` still takes the YAML's word."""
    return {
        "number": _("number"), "percent": _("percent"), "currency": _("currency"),
        "duration": _("duration"), "count": _("count"),
        "day": _("day"), "week": _("week"), "month": _("month"), "quarter": _("quarter"),
        "year": _("year"), "fiscal_quarter": _("fiscal quarter"),
        "fiscal_year": _("fiscal year"),
        "strategic": _("Strategic"), "operational": _("Operational"),
        "functional": _("Functional"), "leading": _("Leading"), "lagging": _("Lagging"),
        "marketing": _("Marketing"), "sales": _("Sales"), "service": _("Service"),
        "website": _("Website"), "finance": _("Finance"), "hr": _("HR"), "it": _("IT"),
        "operations": _("Operations"),
        "draft": _("draft"), "active": _("active"), "retired": _("retired"),
    }  # fmt: skip


class LintFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


@app.command("lint")
def lint_command(
    path: ProjectPath = Path("."),
    output: Annotated[LintFormat, typer.Option("--format", help="text, json or sarif.")] = (
        LintFormat.text
    ),
    strict: Annotated[
        bool, typer.Option("--strict", help="Every finding is an error (exit 1): for CI.")
    ] = False,
    error: Annotated[
        list[str] | None,
        typer.Option("--error", help="This rule's findings are errors (code or name)."),
    ] = None,
    data: Annotated[
        bool,
        typer.Option(
            "--data/--no-data", help="Use stored history and the data's age (default) or not."
        ),
    ] = True,
    rules: Annotated[bool, typer.Option("--rules", help="List the rules and exit.")] = False,
) -> None:
    """Advice on each KPI: aligned, actionable, realistic, measurable, clear, focused, correct,
    fresh. `validate` keeps errors; lint fails only on findings promoted to errors."""
    from tolok.cli.terminal.lint import print_rules, run_lint

    if rules:
        loaded = load_project(path)
        from tolok.cli.lang import lang_of

        print_rules(lang_of(loaded.project), console())
        return
    loaded = load_or_exit(path)
    if not run_lint(loaded, output.value, strict, error or [], data, console()):
        raise typer.Exit(1)


class SchemaPart(StrEnum):
    project = "project"
    kpis = "kpis"
    goals = "goals"


@app.command()
def schema(
    part: Annotated[
        SchemaPart,
        typer.Option(help="project (tolok.yaml), kpis (kpis/*.yaml) or goals (goals/*.yaml)."),
    ] = SchemaPart.project,
) -> None:
    """Print the JSON Schema of the YAML files, for editor autocompletion."""
    typer.echo(json.dumps(project_schema(part.value), indent=2, ensure_ascii=False))


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="A new or empty folder.")] = Path("."),
    template: Annotated[
        InitTemplate, typer.Option(help="ecommerce, saas, support or marketing.")
    ] = InitTemplate.ecommerce,
    lang: Annotated[str | None, typer.Option("--lang", help="en or id.")] = None,
) -> None:
    """Create a complete project: settings, goals, catalog KPIs with targets, and two years of
    sample data that validate, lint clean and refresh on the first try."""
    from tolok.cli.lang import lang_of
    from tolok.cli.terminal.init import run_init

    if not run_init(folder, template.value, lang or lang_of(), console(), console(True)):
        raise typer.Exit(1)


db = typer.Typer(help="The store: migrations.", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(path: ProjectPath = Path(".")) -> None:
    """Migrate the project's store to the newest revision (creates it when empty)."""
    from tolok.cli.lang import words
    from tolok.said import error_text
    from tolok.store.database import connect, current, head, store_url, upgrade
    from tolok.store.errors import StoreError

    loaded = load_or_exit(path)
    assert loaded.project is not None
    _ = words(loaded.project)
    url = store_url(loaded.project.store, loaded.root)
    try:
        engine = connect(url)
        before = current(engine)
        upgrade(engine)
    except StoreError as exc:
        typer.echo(error_text(exc.message, _), err=True)
        raise typer.Exit(1) from None
    except Exception as exc:
        problem = str(exc).splitlines()[0]
        typer.echo(_("error: cannot upgrade the store: {problem}", problem=problem), err=True)
        raise typer.Exit(1) from None
    if before:
        typer.echo(_("store at revision {head} (was {before})", head=head(), before=before))
    else:
        typer.echo(_("store at revision {head} (was empty)", head=head()))
