"""The `tolok` command: thin wrappers that parse arguments, call the packages, print."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import tolok
from tolok.spec import LoadedProject, load_project
from tolok.spec.models import KPI, Function, Grain, Indicator, Level
from tolok.spec.schema import project_schema

app = typer.Typer(
    name="tolok",
    help="Key performance indicators as code: define, validate and compute your KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"


class SchemaPart(StrEnum):
    project = "project"
    kpis = "kpis"
    goals = "goals"


ProjectPath = Annotated[
    Path, typer.Argument(help="Project folder (holding tolok.yaml) or the tolok.yaml file.")
]


def _console(stderr: bool = False) -> Console:
    """Colour and boxes on a terminal; plain text when piped or captured."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tolok {tolok.__version__}")
        raise typer.Exit()


def _lang(value: str | None) -> str | None:
    if value is not None and value not in ("en", "id"):
        raise typer.BadParameter("en or id")
    return value


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(  # a flag: metavar="" keeps Typer from showing "<bool>" beside it
            "--version", callback=_version, is_eager=True, metavar="", help="Print the version."
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            envvar="TOLOK_LANG",
            callback=_lang,
            help="en or id: the language of what tolok prints (default: the project's).",
        ),
    ] = None,
) -> None:
    """tolok: key performance indicators as code."""
    from tolok.terminal_lang import choose

    choose(lang)
    ctx.call_on_close(lambda: choose(None))  # for this run only


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
        _print_problems(loaded)
    if loaded.problems.errors:
        raise typer.Exit(1)


def _print_problems(loaded: LoadedProject) -> None:
    from tolok.terminal_lang import counted, lang_of, words

    out = _console()
    for problem in loaded.problems.sorted():
        text = problem.render(loaded.root, loaded.lines(problem.where.file))
        style = "red" if problem.severity.value == "error" else "yellow"
        head, _sep, rest = text.partition("\n")
        out.print(head, style=f"bold {style}", markup=False)
        if rest:
            out.print(rest, markup=False)
        out.print()
    project = loaded.project
    lang, _ = lang_of(project), words(project)
    errors, warnings = len(loaded.problems.errors), len(loaded.problems.warnings)
    warned = counted(warnings, _("{n} warning"), _("{n} warnings"), lang)
    if errors:
        erred = counted(errors, _("{n} error"), _("{n} errors"), lang)
        out.print(f"{erred}, {warned}", style="bold red", markup=False)
        return
    assert project is not None
    parts = [
        counted(len(project.kpis), _("{n} KPI"), _("{n} KPIs"), lang),
        counted(len(project.datasets), _("{n} dataset"), _("{n} datasets"), lang),
        counted(len(project.goals), _("{n} goal"), _("{n} goals"), lang),
    ] + ([warned] if warnings else [])
    out.print(f"ok: {project.name}: {', '.join(parts)}", style="bold green", markup=False)


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
        _print_problems(loaded)
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
    _print_kpis(loaded.project.name, chosen)


def _print_kpis(project: str, chosen: dict[str, KPI]) -> None:
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
    out = _console()
    if not out.is_terminal:
        # Plain tab-separated lines: readable, and easy for cut, awk or a spreadsheet.
        for row in [columns, *rows]:
            typer.echo("\t".join(row))
        return
    table = Table(title=f"{project}: {len(chosen)} KPIs", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _load_or_exit(path: Path) -> LoadedProject:
    loaded = load_project(path)
    if loaded.project is None or loaded.problems.errors:
        _print_problems(loaded)
        raise typer.Exit(1)
    return loaded


@app.command()
def refresh(
    path: ProjectPath = Path("."),
    reason: Annotated[
        str | None, typer.Option(help="Why definitions changed, kept with their new version.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute everything, not only what data touched.")
    ] = False,
    alerts: Annotated[
        bool, typer.Option(help="Check the alert rules on the new values and send what is due.")
    ] = True,
) -> None:
    """Compute the active KPIs from what new data touched, keep the values, print the board;
    then check the alert rules, if there are any, on the new values."""
    from tolok.terminal import print_board, run_refresh
    from tolok.terminal_notify import alerts_after_refresh

    loaded = _load_or_exit(path)
    series = run_refresh(loaded, reason, full, _console(stderr=True))
    print_board(loaded, series, _console())
    if alerts:  # a message that failed is in the delivery log and tried again later
        alerts_after_refresh(loaded, _console(stderr=True))
    if series.failed:  # the others are stored and shown; the run still did not succeed
        raise typer.Exit(1)


class StatusGroup(StrEnum):
    goal = "goal"
    level = "level"
    function = "function"
    indicator = "indicator"


@app.command()
def status(
    path: ProjectPath = Path("."),
    group: Annotated[
        StatusGroup, typer.Option("--by", help="Group by goal, level, function or indicator.")
    ] = StatusGroup.goal,
) -> None:
    """Each KPI's last closed period: value, target, attainment and status (from the store)."""
    from tolok.terminal_status import print_status

    loaded = _load_or_exit(path)
    print_status(loaded, group.value, _console(), _console(True))


@app.command()
def goals(path: ProjectPath = Path(".")) -> None:
    """The goal tree: status and progress rolled up from KPIs, and what drives each gap."""
    from tolok.terminal_status import print_goals

    loaded = _load_or_exit(path)
    print_goals(loaded, _console(), _console(True))


@app.command()
def explain(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    period: Annotated[
        str | None, typer.Option(help="The period to explain (default: the last closed one).")
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="The dimension whose values explain it.")
    ] = None,
    compare: Annotated[
        str, typer.Option(help="Against the period before (previous) or a year before (last_year).")
    ] = "previous",
    inputs: Annotated[
        bool, typer.Option("--inputs", help="Each input of its formula's part in the change.")
    ] = False,
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Why a KPI moved: each dimension value's (or formula input's) part in its change."""
    from tolok.explanation import Compare
    from tolok.terminal_explain import run_explain

    if compare not in {c.value for c in Compare}:
        raise typer.BadParameter("previous or last_year", param_hint="--compare")
    loaded = _load_or_exit(path)
    run_explain(loaded, kpi, period, by or [], _console(), _console(True), Compare(compare), inputs)


@app.command()
def annotate(
    kpi: Annotated[str, typer.Argument(help="A KPI the change should move.")],
    day: Annotated[str, typer.Argument(help="The day of the change: 2026-03-15.")],
    text: Annotated[str, typer.Argument(help="What was changed.")],
    also: Annotated[
        list[str] | None, typer.Option("--kpi", help="Another KPI it should move.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who (default: $TOLOK_USER, login).")] = None,
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Record a change (a campaign, a new checkout) and the KPIs it should move."""
    from tolok.terminal_explain import run_annotate

    loaded = _load_or_exit(path)
    run_annotate(loaded, [kpi, *(also or [])], day, text, _who(user), _console())


@app.command()
def impact(
    annotation: Annotated[int, typer.Argument(help="The annotation's number.")],
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Did the change work? Each KPI after it, against a forecast from before it."""
    from tolok.terminal_explain import run_impact

    loaded = _load_or_exit(path)
    run_impact(loaded, annotation, _console(), _console(True))


@app.command("suggest-target")
def suggest_target(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """A realistic target from the KPI's history: the growth it reached a quarter of the time."""
    from tolok.terminal_status import print_suggestion

    loaded = _load_or_exit(path)
    print_suggestion(loaded, kpi, _console(), _console(True))


@app.command()
def history(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Every version of a KPI's definition: when, why, and the diff."""
    from tolok.terminal import print_history

    loaded = _load_or_exit(path)
    print_history(loaded, kpi, _console())


def _who(user: str | None) -> str:
    if user:
        return user
    import getpass
    import os

    return os.environ.get("TOLOK_USER") or getpass.getuser()


@app.command()
def enter(
    dataset: Annotated[str, typer.Argument(help="A dataset with `source: manual`.")],
    values: Annotated[
        list[str] | None, typer.Argument(help="MEASURE PERIOD VALUE, e.g. spend 2026-03 1500000")
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="A dimension's value: platform=google.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="A CSV with columns measure, period, value and any dimensions."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Who enters the values (default: $TOLOK_USER, login).")
    ] = None,
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Type in values of a manual dataset: one, or a CSV of them. Edits are audited."""
    from tolok.terminal_entry import run_enter

    loaded = _load_or_exit(path)
    run_enter(loaded, dataset, values or [], by or [], file, _who(user), _console(), _console(True))


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, .xlsx or JSON-lines file.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset to append to.")],
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows", help="Write the good rows; the bad ones go to FILE.rejected.csv."
        ),
    ] = False,
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Append a file's rows to a dataset's warehouse table, checked row by row, no duplicates."""
    from tolok.terminal_entry import run_ingest

    if not file.is_file():
        typer.echo(f"error: no file {file}", err=True)
        raise typer.Exit(1)
    loaded = _load_or_exit(path)
    run_ingest(loaded, dataset, file, skip_bad_rows, _console(), _console(True))


@app.command()
def audit(
    subject: Annotated[str, typer.Argument(help="Only entries about this (a prefix).")] = "",
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """The audit log: who changed what, when, from what to what."""
    from tolok.terminal_entry import print_audit

    loaded = _load_or_exit(path)
    print_audit(loaded, subject, _console())


target = typer.Typer(help="Targets people set, over the YAML's.", no_args_is_help=True)
app.add_typer(target, name="target")


@target.command("set")
def target_set(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    period: Annotated[str, typer.Argument(help="The period: 2026-03, 2026-Q1, …")],
    value: Annotated[str, typer.Argument(help="The target.")],
    by: Annotated[
        list[str] | None, typer.Option("--by", help="For one slice: region=Bali.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who (default: $TOLOK_USER, login).")] = None,
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Set a KPI's target for one period (and slice); it wins over the YAML's. Audited."""
    from tolok.terminal_entry import run_set_target

    loaded = _load_or_exit(path)
    run_set_target(loaded, kpi, period, value, by or [], _who(user), _console(), _console(True))


class InitTemplate(StrEnum):
    ecommerce = "ecommerce"
    saas = "saas"
    support = "support"
    marketing = "marketing"


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
    from tolok.terminal_init import run_init
    from tolok.terminal_lang import lang_of

    if not run_init(folder, template.value, lang or lang_of(), _console(), _console(True)):
        raise typer.Exit(1)


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
    from tolok.terminal_lint import print_rules, run_lint

    if rules:
        loaded = load_project(path)
        from tolok.terminal_lang import lang_of

        print_rules(lang_of(loaded.project), _console())
        return
    loaded = _load_or_exit(path)
    if not run_lint(loaded, output.value, strict, error or [], data, _console()):
        raise typer.Exit(1)


catalog = typer.Typer(
    help="The built-in KPI catalog: browse it, read a template, add one to the project.",
    invoke_without_command=True,
)
app.add_typer(catalog, name="catalog")
Lang = Annotated[
    str | None, typer.Option("--lang", help="en or id (default: tolok --lang, $TOLOK_LANG or en).")
]


def _catalog_lang(lang: str | None) -> str:
    from tolok.terminal_lang import lang_of

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
        from tolok.terminal_catalog import print_catalog

        print_catalog(None, function, level, indicator, _catalog_lang(lang), _console())


@catalog.command("search")
def catalog_search(
    text: Annotated[str, typer.Argument(help="Words to look for (all of them).")],
    function: Annotated[Function | None, typer.Option(help="Only this function.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    indicator: Annotated[Indicator | None, typer.Option(help="leading or lagging.")] = None,
    lang: Lang = None,
) -> None:
    """Templates whose name, title or description hold every word of TEXT."""
    from tolok.terminal_catalog import print_catalog

    print_catalog(text, function, level, indicator, _catalog_lang(lang), _console())


@catalog.command("show")
def catalog_show(
    name: Annotated[str, typer.Argument(help="The template's name.")], lang: Lang = None
) -> None:
    """One template in full: what it means, why to use it, the columns it needs."""
    from tolok.terminal_catalog import print_template

    if not print_template(name, _catalog_lang(lang), _console(), _console(True)):
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
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
) -> None:
    """Write a template into the project's YAML as a KPI, keeping comments and layout."""
    from tolok.terminal_catalog import run_add

    loaded = _load_or_exit(path)
    options = (kpi_name, owner, goal, kpi_file)
    if not run_add(loaded, name, dataset, maps or [], options, _console(), _console(True)):
        raise typer.Exit(1)


@app.command()
def serve(
    path: ProjectPath = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option(help="Cookies only over HTTPS (set behind a TLS proxy; $TOLOK_SECURE)."),
    ] = False,
) -> None:
    """Run the server: sign-in, the JSON API (/api/v1, described at /docs), share links."""
    import os

    from tolok.terminal_serve import run_serve

    loaded = _load_or_exit(path)
    secure = secure_cookies or os.environ.get("TOLOK_SECURE", "") in ("1", "true", "yes")
    host = os.environ.get("TOLOK_HOST", host)
    port = int(os.environ.get("TOLOK_PORT", port))
    run_serve(loaded, host, port, secure, _console())


@app.command()
def demo(
    template: Annotated[
        InitTemplate, typer.Option(help="ecommerce, saas, support or marketing.")
    ] = InitTemplate.ecommerce,
    lang: Annotated[str | None, typer.Option("--lang", help="en or id.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (the next free one if taken).")] = (
        8000
    ),
    folder: Annotated[
        Path | None, typer.Option(help="Where to create the project (a temporary folder).")
    ] = None,
) -> None:
    """Try tolok: a sample shop, refreshed, its board served on localhost with a demo account."""
    from tolok.terminal_demo import run_demo
    from tolok.terminal_lang import choose, lang_of

    lang = lang or lang_of()
    choose(lang)  # the project's language is the terminal's too
    if not run_demo(template.value, lang, host, port, folder, _console(), _console(True)):
        raise typer.Exit(1)


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"


@app.command()
def report(
    path: ProjectPath = Path("."),
    goal: Annotated[str | None, typer.Option(help="Only this goal and the goals under it.")] = (
        None
    ),
    period: Annotated[
        str | None,
        typer.Option(help="A period (2026-10, 2026-Q3) or a day; default: the last closed one."),
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="md, html, pdf or xlsx.")
    ] = ReportFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The file to write.")] = (
        None
    ),
    lang: Annotated[
        str | None, typer.Option("--lang", help="en or id (default: the project's).")
    ] = (None),
) -> None:
    """A report of the board or a goal for a period: each KPI's value, target, status, change
    and a chart of its last periods. Markdown and HTML print unless --output is given; PDF
    (printed by Chromium) and Excel are written to a file."""
    from tolok.terminal_report import run_report

    loaded = _load_or_exit(path)
    from tolok.terminal_lang import asked

    if lang is not None and lang not in ("en", "id"):
        raise typer.BadParameter("--lang is en or id")
    lang = lang or asked()
    if not run_report(loaded, goal, period, output_format.value, output, lang, _console(),
                      _console(True)):  # fmt: skip
        raise typer.Exit(1)


@app.command("run-due")
def run_due(path: ProjectPath = Path(".")) -> None:
    """Run the schedules that are due (refreshes, alert checks, digests, reports) once, for
    cron; `tolok serve` runs them itself. An occurrence runs once even if both do."""
    from tolok.terminal_notify import run_due_once

    _load_or_exit(path)
    if not run_due_once(path, _console(), _console(True)):
        raise typer.Exit(1)


alerts = typer.Typer(help="Alert rules: check them now, see the open alerts.", no_args_is_help=True)
app.add_typer(alerts, name="alerts")


@alerts.command("check")
def alerts_check(path: ProjectPath = Path(".")) -> None:
    """Check every alert rule against the stored values now and send what is due."""
    from tolok.terminal_notify import run_alert_check

    if not run_alert_check(_load_or_exit(path), _console()):
        raise typer.Exit(1)


@alerts.command("list")
def alerts_list(path: ProjectPath = Path(".")) -> None:
    """The alerts open now."""
    from tolok.terminal_notify import print_open_alerts

    print_open_alerts(_load_or_exit(path), _console())


@app.command()
def deliveries(
    path: ProjectPath = Path("."),
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    failed: Annotated[bool, typer.Option("--failed", help="Only those that failed.")] = False,
) -> None:
    """The delivery log: every alert, digest and report message, sent or failed."""
    from tolok.terminal_notify import print_deliveries

    print_deliveries(_load_or_exit(path), limit, failed, _console())


user = typer.Typer(help="Accounts on the server.", no_args_is_help=True)
app.add_typer(user, name="user")
Project = Annotated[Path, typer.Option("--project", "-p", help="Project folder.")]


@user.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="Their e-mail address (the sign-in name).")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    team: Annotated[list[str] | None, typer.Option(help="A team they are in.")] = None,
    locale: Annotated[
        str | None,
        typer.Option(help="en or id: their messages' language (else the project's)."),
    ] = None,
    path: Project = Path("."),
) -> None:
    """Create an account; its password is printed once."""
    from tolok.terminal_serve import run_user

    if locale is not None and locale not in ("en", "id"):
        raise typer.BadParameter("--locale is en or id")
    run_user(_load_or_exit(path), "add", email, role, name, team or [], _console(), locale)


@user.command("list")
def user_list(path: Project = Path(".")) -> None:
    """Every account: e-mail, name, role, disabled."""
    from tolok.terminal_serve import run_user

    run_user(_load_or_exit(path), "list", "", "", "", [], _console())


@user.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")], path: Project = Path(".")
) -> None:
    """Disable an account: its sessions end and its tokens stop working."""
    from tolok.terminal_serve import run_user

    run_user(_load_or_exit(path), "disable", email, "", "", [], _console())


@user.command("enable")
def user_enable(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")], path: Project = Path(".")
) -> None:
    """Enable a disabled account again."""
    from tolok.terminal_serve import run_user

    run_user(_load_or_exit(path), "enable", email, "", "", [], _console())


@user.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")], path: Project = Path(".")
) -> None:
    """A new password for an account, printed once; its sessions end."""
    from tolok.terminal_serve import run_user

    run_user(_load_or_exit(path), "reset-password", email, "", "", [], _console())


db = typer.Typer(help="The store: migrations.", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(path: ProjectPath = Path(".")) -> None:
    """Migrate the project's store to the newest revision (creates it when empty)."""
    from tolok.store.database import connect, current, head, store_url, upgrade
    from tolok.store.errors import StoreError

    loaded = _load_or_exit(path)
    assert loaded.project is not None
    url = store_url(loaded.project.store, loaded.root)
    try:
        engine = connect(url)
        before = current(engine)
        upgrade(engine)
    except StoreError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except Exception as exc:
        typer.echo(f"error: cannot upgrade the store: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"store at revision {head()} (was {before or 'empty'})")


class ShowFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
def show(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Break down by a dimension (repeatable).")
    ] = None,
    grain: Annotated[Grain | None, typer.Option(help="Another grain than the KPI's.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First period or day: 2026-01, 2026-Q1, …")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last period or day.")] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="previous, last_year, or another range: 2025-01..2025-03."),
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="Filter on dimensions, e.g. \"Region == 'Bali'\".")
    ] = None,
    output: Annotated[ShowFormat, typer.Option("--format")] = ShowFormat.table,
    as_reported: Annotated[
        bool,
        typer.Option("--as-reported", help="Values as first reported, before definition changes."),
    ] = False,
) -> None:
    """A KPI's values per period: change, comparison, breakdown, sparkline."""
    from tolok.terminal import ShowOptions, run_show

    loaded = _load_or_exit(path)
    options = ShowOptions(
        kpi, tuple(by or ()), grain, start, end, compare, where, output, as_reported
    )
    run_show(loaded, options, _console(), _console(stderr=True))


@app.command()
def schema(
    part: Annotated[
        SchemaPart,
        typer.Option(help="project (tolok.yaml), kpis (kpis/*.yaml) or goals (goals/*.yaml)."),
    ] = SchemaPart.project,
) -> None:
    """Print the JSON Schema of the YAML files, for editor autocompletion."""
    typer.echo(json.dumps(project_schema(part.value), indent=2, ensure_ascii=False))


def main() -> None:
    app()
