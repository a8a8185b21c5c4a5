"""Bringing data and targets in by hand: `enter`, `ingest`, `target set`, and the `audit` log
of what people changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import ProjectOption, app, console, load_or_exit, who


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
    path: ProjectOption = Path("."),
) -> None:
    """Type in values of a manual dataset: one, or a CSV of them. Edits are audited."""
    from tolok.cli.terminal.entry import run_enter

    loaded = load_or_exit(path)
    run_enter(loaded, dataset, values or [], by or [], file, who(user), console(), console(True))


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
    path: ProjectOption = Path("."),
) -> None:
    """Append a file's rows to a dataset's warehouse table, checked row by row, no duplicates."""
    from tolok.cli.lang import words
    from tolok.cli.terminal.entry import run_ingest

    loaded = load_or_exit(path)
    if not file.is_file():
        _ = words(loaded.project)
        typer.echo(_("error: no file {file}", file=file), err=True)
        raise typer.Exit(1)
    run_ingest(loaded, dataset, file, skip_bad_rows, console(), console(True))


@app.command()
def audit(
    subject: Annotated[str, typer.Argument(help="Only entries about this (a prefix).")] = "",
    path: ProjectOption = Path("."),
) -> None:
    """The audit log: who changed what, when, from what to what."""
    from tolok.cli.terminal.entry import print_audit

    loaded = load_or_exit(path)
    print_audit(loaded, subject, console())


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
    path: ProjectOption = Path("."),
) -> None:
    """Set a KPI's target for one period (and slice); it wins over the YAML's. Audited."""
    from tolok.cli.terminal.entry import run_set_target

    loaded = load_or_exit(path)
    run_set_target(loaded, kpi, period, value, by or [], who(user), console(), console(True))
