"""Why a KPI moved and whether a change worked: `explain`, `annotate`, `impact`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import ProjectOption, app, console, load_or_exit, who


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
    path: ProjectOption = Path("."),
) -> None:
    """Why a KPI moved: each dimension value's (or formula input's) part in its change."""
    from tolok.answers.explanation import Compare
    from tolok.cli.terminal.explain import run_explain

    if compare not in {c.value for c in Compare}:
        raise typer.BadParameter("previous or last_year", param_hint="--compare")
    loaded = load_or_exit(path)
    run_explain(loaded, kpi, period, by or [], console(), console(True), Compare(compare), inputs)


@app.command()
def annotate(
    kpi: Annotated[str, typer.Argument(help="A KPI the change should move.")],
    day: Annotated[str, typer.Argument(help="The day of the change: 2026-03-15.")],
    text: Annotated[str, typer.Argument(help="What was changed.")],
    also: Annotated[
        list[str] | None, typer.Option("--kpi", help="Another KPI it should move.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who (default: $TOLOK_USER, login).")] = None,
    path: ProjectOption = Path("."),
) -> None:
    """Record a change (a campaign, a new checkout) and the KPIs it should move."""
    from tolok.cli.terminal.explain import run_annotate

    loaded = load_or_exit(path)
    run_annotate(loaded, [kpi, *(also or [])], day, text, who(user), console())


@app.command()
def impact(
    annotation: Annotated[int, typer.Argument(help="The annotation's number.")],
    path: ProjectOption = Path("."),
) -> None:
    """Did the change work? Each KPI after it, against a forecast from before it."""
    from tolok.cli.terminal.explain import run_impact

    loaded = load_or_exit(path)
    run_impact(loaded, annotation, console(), console(True))
