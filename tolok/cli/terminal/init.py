"""`tolok init`: write a project from a template, record its one change, say what to try."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

from babel.dates import format_date
from rich.console import Console

from tolok.catalog.add import CatalogError
from tolok.catalog.init import create
from tolok.cli.lang import counted
from tolok.i18n import gettext
from tolok.said import error_text
from tolok.spec.loader import load_project
from tolok.spec.models import Project


def run_init(folder: Path, template: str, lang: str, out: Console, err: Console) -> bool:
    from tolok.cli.terminal.explain import run_annotate

    try:
        created = create(folder, template, lang)
    except CatalogError as exc:
        err.print(error_text(str(exc), gettext(lang)), markup=False)
        return False
    loaded = load_project(folder)
    assert loaded.project is not None
    quiet = Console(file=open(Path("/dev/null"), "w"))  # noqa: SIM115
    run_annotate(
        loaded, created.change_kpis, created.change_day.isoformat(), created.change, "tolok init",
        quiet,
    )  # fmt: skip
    quiet.file.close()
    project = loaded.project
    for line in _next_lines(folder, project, sum(created.rows.values()), created.change_day,
                            created.change, lang):  # fmt: skip
        out.print(line, markup=False)
    return True


def _next_lines(
    folder: Path, project: Project, rows: int, day: dt.date, change: str, lang: str
) -> list[str]:
    """What was made, and commands to try that work from where the user is: the folder is
    named in each (`tolok refresh shop`), or left out when it is the current one."""
    _ = gettext(lang)
    first = next(iter(project.kpis))
    dims = [d for k in project.kpis.values() for b in k.breakdowns for d in b]
    where = _where(folder)
    arg, opt = (f" {where}", f" -p {where}") if where else ("", "")
    explain = f"tolok explain {first}" + (f" --by {shlex.quote(dims[0])}" if dims else "") + opt
    tries = [
        (f"tolok refresh{arg}", _("compute every KPI and keep the history")),
        (f"tolok status{arg}", _("each KPI against its target, with pace and forecast")),
        (f"tolok goals{arg}", _("the goals and how far along they are")),
        (f"tolok impact 1{opt}", _("did the change work?")),
        (explain, _("why it moved")),
        (f"tolok lint{arg}", _("advice on the KPIs (clean to start with)")),
        ("tolok catalog", _("more KPIs to add")),
    ]
    width = max(len(command) for command, _said in tries) + 2
    shown_day = day.isoformat() if lang == "en" else format_date(day, "d MMM y", locale=lang)
    kpis = counted(len(project.kpis), _("{n} KPI"), _("{n} KPIs"), lang)
    goals = counted(len(project.goals), _("{n} goal"), _("{n} goals"), lang)
    lines = counted(rows, _("{n} row"), _("{n} rows"), lang)
    return [
        _("Created {folder}: {kpis}, {goals}, {rows} of sample data over two years.",
          folder=folder, kpis=kpis, goals=goals, rows=lines),
        _("On {day} the team made a change: {change}. It is recorded as annotation 1.",
          day=shown_day, change=change),
        "",
        _("Try:"),
        *[f"  {command.ljust(width)}{said}" for command, said in tries],
    ]  # fmt: skip


def _where(folder: Path) -> str:
    """The folder as the user can name it from here: relative when it is inside the current
    folder, absolute otherwise; empty when it is the current folder itself."""
    here = Path.cwd().resolve()
    place = folder.resolve()
    if place == here:
        return ""
    shown = place.relative_to(here) if place.is_relative_to(here) else place
    return shlex.quote(str(shown))
