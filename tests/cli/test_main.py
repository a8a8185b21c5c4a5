"""`tolok`'s entry point builds the command its arguments name alone (Typer builds every
command it is given before running one): what a user sees is what the whole app says."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE
from tolok.cli import app, main
from tolok.cli.app import _named

COMMANDS = len(app.registered_commands), len(app.registered_groups)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["validate", "x"], "validate"),
        (["--lang", "id", "kpis"], "kpis"),
        (["--lang=id", "catalog", "search", "churn"], "catalog"),
        (["--help"], None),
        (["--version", "kpis"], None),
        (["--", "kpis"], None),
        ([], None),
    ],
)
def test_the_command_named(args: list[str], named: str | None) -> None:
    assert _named(args) == named


@pytest.mark.parametrize(
    "args",
    [
        ["--lang", "en", "validate", str(EXAMPLE)],
        ["kpis", str(EXAMPLE), "--format", "json"],
        ["catalog", "search", "churn"],
        ["kpis", "--help"],
        ["kpi"],  # a typo: the whole app suggests `kpis`
        ["--help"],
    ],
)
def test_main_says_what_the_whole_app_says(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = CliRunner().invoke(app, args, prog_name="tolok")
    monkeypatch.setattr("sys.argv", ["tolok", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    said = capsys.readouterr()
    assert (exited.value.code or 0) == whole.exit_code
    assert said.out + said.err == whole.output
    assert (len(app.registered_commands), len(app.registered_groups)) == COMMANDS
