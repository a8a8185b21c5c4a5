"""`tolok import dbt`'s work and what it prints: the mapping, what was left out and why,
then the new project validated as `tolok validate` would."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tolok.cli.lang import lang_of, words
from tolok.i18n import voice


def run_import_dbt(
    folder: Path,
    to: Path,
    warehouse: str | None,
    profiles: Path | None,
    out: Console,
    errors: Console,
) -> None:
    from tolok.cli.app import print_problems
    from tolok.importers.dbt import DbtError, read_dbt, write
    from tolok.spec import load_project

    _, spoken = words(), voice(lang_of())
    try:
        imported = read_dbt(folder, warehouse, profiles)
        written = write(imported, to)
    except DbtError as exc:
        errors.print(_("error: {problem}", problem=exc.said.worded(spoken)), markup=False)
        raise typer.Exit(1) from None
    out.print(_("Mapped:"), style="bold", markup=False)
    for note in imported.mapped:
        out.print(
            f"  {note.where}  {note.what.worded(spoken)} → {note.said.worded(spoken)}", markup=False
        )
        if note.differs is not None:
            differs = _("unlike MetricFlow: {how}", how=note.differs.worded(spoken))
            out.print(f"      {differs}", style="yellow", markup=False)
    if imported.skipped:
        out.print(_("Not mapped:"), style="bold yellow", markup=False)
        for note in imported.skipped:
            out.print(
                f"  {note.where}  {note.what.worded(spoken)}: {note.said.worded(spoken)}",
                markup=False,
            )
    out.print(_("wrote {path}", path=written), markup=False)
    loaded = load_project(to)
    print_problems(loaded)
    if loaded.project is None or loaded.problems.errors or not imported.mapped:
        raise typer.Exit(1)
