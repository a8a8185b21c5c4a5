"""`tolok --help` shows words, not types: a flag (`--version`, `--full`, `--help`) has no
`<bool>` beside it, in any command's help."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from tolok import __version__
from tolok.cli import app


def test_version_is_a_flag_without_a_type_in_the_help() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    [line] = [t for t in shown.output.splitlines() if "--version" in t]
    assert "Print the version." in line
    assert "<bool>" not in line
    printed = runner.invoke(app, ["--version"])
    assert printed.exit_code == 0
    assert printed.output.strip() == f"tolok {__version__}"


def _commands(group: Any, path: list[str]) -> list[list[str]]:
    found = []
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append([*path, name])
        if hasattr(command, "list_commands"):
            found += _commands(command, [*path, name])
    return found


def test_no_flag_shows_a_type_in_any_help() -> None:
    runner = CliRunner()
    commands = _commands(typer.main.get_command(app), [])
    assert ["refresh"] in commands
    assert ["user", "add"] in commands
    for words in [[], *commands]:
        shown = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "120"})
        assert shown.exit_code == 0, (words, shown.output)
        assert "--help" in shown.output
        assert "<bool>" not in shown.output, (words, shown.output)
    refresh = runner.invoke(app, ["refresh", "--help"], env={"COLUMNS": "120"}).output
    assert "--full" in refresh
    assert "<str>" in refresh  # --reason takes a value: its type stays
