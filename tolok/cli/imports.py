"""`tolok import dbt`: a project from another tool's definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import app, console

imports = typer.Typer(help="Make a tolok project from another tool's definitions (dbt).")
app.add_typer(imports, name="import")


@imports.command("dbt")
def import_dbt(
    folder: Annotated[Path, typer.Argument(help="The dbt project's folder (dbt_project.yml).")],
    to: Annotated[Path, typer.Option("--to", help="Where to write the tolok project.")] = Path(
        "tolok-project"
    ),
    warehouse: Annotated[
        str | None,
        typer.Option(
            help="The warehouse URL, when the dbt profile's target is not one tolok reads."
        ),
    ] = None,
    profiles_dir: Annotated[
        Path | None, typer.Option(help="Where profiles.yml is (default: the project, ~/.dbt).")
    ] = None,
) -> None:
    """Datasets, measures and KPIs from a dbt project's semantic models and metrics; prints
    what it mapped and what it could not (file:line, why), then validates the result."""
    from tolok.cli.terminal.imports import run_import_dbt

    run_import_dbt(folder, to, warehouse, profiles_dir, console(), console(stderr=True))
