"""`tolok --help` shows words, not types: `--version` is a flag, without a `<bool>` beside it."""

from __future__ import annotations

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
