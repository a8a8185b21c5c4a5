"""What tolok sends: `report`, `run-due`, `alerts check|list`, `deliveries`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import ProjectPath, app, console, load_or_exit


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
    from tolok.cli.terminal.report import run_report

    loaded = load_or_exit(path)
    from tolok.cli.lang import asked

    if lang is not None and lang not in ("en", "id"):
        raise typer.BadParameter("--lang is en or id")
    lang = lang or asked()
    if not run_report(loaded, goal, period, output_format.value, output, lang, console(),
                      console(True)):  # fmt: skip
        raise typer.Exit(1)


@app.command("run-due")
def run_due(path: ProjectPath = Path(".")) -> None:
    """Run the schedules that are due (refreshes, alert checks, digests, reports) once, for
    cron; `tolok serve` runs them itself. An occurrence runs once even if both do."""
    from tolok.cli.terminal.notify import run_due_once

    load_or_exit(path)
    if not run_due_once(path, console(), console(True)):
        raise typer.Exit(1)


alerts = typer.Typer(help="Alert rules: check them now, see the open alerts.", no_args_is_help=True)
app.add_typer(alerts, name="alerts")


@alerts.command("check")
def alerts_check(path: ProjectPath = Path(".")) -> None:
    """Check every alert rule against the stored values now and send what is due."""
    from tolok.cli.terminal.notify import run_alert_check

    if not run_alert_check(load_or_exit(path), console()):
        raise typer.Exit(1)


@alerts.command("list")
def alerts_list(path: ProjectPath = Path(".")) -> None:
    """The alerts open now."""
    from tolok.cli.terminal.notify import print_open_alerts

    print_open_alerts(load_or_exit(path), console())


@app.command()
def deliveries(
    path: ProjectPath = Path("."),
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    failed: Annotated[bool, typer.Option("--failed", help="Only those that failed.")] = False,
) -> None:
    """The delivery log: every alert, digest and report message, sent or failed."""
    from tolok.cli.terminal.notify import print_deliveries

    print_deliveries(load_or_exit(path), limit, failed, console())
