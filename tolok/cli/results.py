"""Computed values and how they stand: `refresh`, `show`, `status`, `goals`, `history` and
`suggest-target`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import ProjectOption, ProjectPath, app, console, load_or_exit
from tolok.spec.models import Grain


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
    from tolok.cli.terminal.board import print_board, run_refresh
    from tolok.cli.terminal.notify import alerts_after_refresh

    loaded = load_or_exit(path)
    series = run_refresh(loaded, reason, full, console(stderr=True))
    print_board(loaded, series, console())
    if alerts:  # a message that failed is in the delivery log and tried again later
        alerts_after_refresh(loaded, console(stderr=True))
    if series.failed:  # the others are stored and shown; the run still did not succeed
        raise typer.Exit(1)


class ShowFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
def show(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: ProjectOption = Path("."),
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
    from tolok.cli.terminal.board import ShowOptions, run_show

    loaded = load_or_exit(path)
    options = ShowOptions(
        kpi, tuple(by or ()), grain, start, end, compare, where, output, as_reported
    )
    run_show(loaded, options, console(), console(stderr=True))


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
    from tolok.cli.terminal.status import print_status

    loaded = load_or_exit(path)
    print_status(loaded, group.value, console(), console(True))


@app.command()
def goals(path: ProjectPath = Path(".")) -> None:
    """The goal tree: status and progress rolled up from KPIs, and what drives each gap."""
    from tolok.cli.terminal.status import print_goals

    loaded = load_or_exit(path)
    print_goals(loaded, console(), console(True))


@app.command()
def history(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: ProjectOption = Path("."),
) -> None:
    """Every version of a KPI's definition: when, why, and the diff."""
    from tolok.cli.terminal.board import print_history

    loaded = load_or_exit(path)
    print_history(loaded, kpi, console())


@app.command("suggest-target")
def suggest_target(
    kpi: Annotated[str, typer.Argument(help="The KPI's name.")],
    path: ProjectOption = Path("."),
) -> None:
    """A realistic target from the KPI's history: the growth it reached a quarter of the time."""
    from tolok.cli.terminal.status import print_suggestion

    loaded = load_or_exit(path)
    print_suggestion(loaded, kpi, console(), console(True))
