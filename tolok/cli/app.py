"""The `tolok` command's frame: the Typer app, the options every command shares, and the
helpers the command modules use (a console, a project loaded or a clear exit).

The commands themselves are in the modules beside this one, one per group; the work they
call, and what they print, is in `tolok.cli.terminal`, imported only when a command runs so
that `tolok validate` never pays for a chart or a store.
"""

from __future__ import annotations

import copy
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console

import tolok
from tolok.spec import LoadedProject, load_project

_typed = typer.core.TyperOption.display_type_rich


def _flag_untyped(option: typer.core.TyperOption, ctx: Any) -> str | None:
    """A flag takes no value: the help shows `--full`, not `--full <bool>`."""
    if option.is_flag and not option.count:
        return None
    return _typed(option, ctx)


typer.core.TyperOption.display_type_rich = _flag_untyped  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="tolok",
    help="Key performance indicators as code: define, validate and compute your KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # a docstring's lines flow into one paragraph, `code` as code
)


class Format(StrEnum):
    text = "text"
    json = "json"


class InitTemplate(StrEnum):
    ecommerce = "ecommerce"
    saas = "saas"
    support = "support"
    marketing = "marketing"


ProjectPath = Annotated[
    Path, typer.Argument(help="Project folder (holding tolok.yaml) or the tolok.yaml file.")
]
ProjectOption = Annotated[Path, typer.Option("--project", "-p", help="Project folder.")]


def console(stderr: bool = False) -> Console:
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
    from tolok.cli.lang import choose

    choose(lang)
    ctx.call_on_close(lambda: choose(None))  # for this run only


def load_or_exit(path: Path) -> LoadedProject:
    loaded = load_project(path)
    if loaded.project is None or loaded.problems.errors:
        print_problems(loaded)
        raise typer.Exit(1)
    return loaded


def print_problems(loaded: LoadedProject) -> None:
    """Every problem of `loaded` and a summary line, in the terminal's language: the one
    asked for, else the project's `locale` (as tolok.yaml writes it when the project did not
    load), else English. Places, codes and names stay as written."""
    from tolok.cli.lang import asked, counted
    from tolok.i18n import gettext, voice

    out = console()
    project = loaded.project
    lang = asked() or loaded.written_locale() or "en"
    spoken, _ = voice(lang), gettext(lang)
    for problem in loaded.problems.sorted():
        text = problem.render(loaded.root, loaded.lines(problem.where.file), spoken)
        style = "red" if problem.severity.value == "error" else "yellow"
        head, _sep, rest = text.partition("\n")
        out.print(head, style=f"bold {style}", markup=False)
        if rest:
            out.print(rest, markup=False)
        out.print()
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
    summary = _("{name} is valid: {parts}", name=project.name, parts=", ".join(parts))
    out.print(summary, style="bold green", markup=False)


def who(user: str | None) -> str:
    if user:
        return user
    import getpass
    import os

    return os.environ.get("TOLOK_USER") or getpass.getuser()


def main() -> None:
    """Run the command the arguments name. Typer builds every command from its signature
    before it runs one (a tenth of `tolok validate`'s time): when the arguments name a
    command or a group, the app is built with that one alone; anything else (no command,
    `--help`, a typo Typer suggests a command for) sees them all."""
    name = _named(sys.argv[1:])
    commands = [c for c in app.registered_commands if _command_name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        app()
        return
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    only()


def _named(args: list[str]) -> str | None:
    """The first argument after the app's own options (`--lang id`), or None at any other
    option (`--help`, `--version`): those read the whole app."""
    rest = iter(args)
    for arg in rest:
        if arg == "--lang":
            next(rest, None)
        elif not arg.startswith("--lang="):
            return None if arg.startswith("-") else arg
    return None


def _command_name(command: typer.models.CommandInfo) -> str:
    """The name Typer gives a command: its own, else its function's (`run_due`: run-due)."""
    assert command.callback is not None
    return command.name or typer.main.get_command_name(command.callback.__name__)
