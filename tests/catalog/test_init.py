"""`tolok init` for every template and language: validates, refreshes, lints clean (strict,
with history and data age), and its one change shows an effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.catalog.projects import TEMPLATES
from tolok.cli import app
from tolok.spec import load_project

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_init_validate_refresh_lint(tmp_path: Path, template: str, lang: str) -> None:
    folder = tmp_path / template
    said = run("init", str(folder), "--template", template, "--lang", lang)
    assert ("Created" if lang == "en" else "Dibuat") in said
    run("validate", str(folder))
    loaded = load_project(folder)
    assert loaded.project is not None
    project = loaded.project
    assert project.locale.value == lang
    assert len(project.goals) >= 2
    assert len(project.kpis) >= 5
    for kpi in project.kpis.values():
        assert kpi.owner
        assert kpi.goal in project.goals
        assert kpi.target is not None
        assert kpi.actions
    run("refresh", str(folder))
    clean = runner.invoke(app, ["lint", str(folder), "--strict", "--format", "json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["findings"] == []
    for name, kpi in project.kpis.items():
        shown = json.loads(run("show", name, "-p", str(folder), "--format", "json"))
        values = [p["value"] for p in shown["points"] if p["value"] is not None]
        assert len(values) >= 20 if kpi.grain.value == "month" else len(values) >= 90, name
    # the change the template made on its change day moved its first KPI
    spec = TEMPLATES[template]
    impact = run("impact", "1", "-p", str(folder))
    first = next(line for line in impact.splitlines() if line.startswith("  "))
    assert ("likely" if lang == "en" else "kemungkinan") in first, impact
    assert spec.change(lang) in impact


def test_init_into_a_folder_that_is_not_empty_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path), "--template", "support"])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_with_an_unknown_language(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "x"), "--lang", "fr"])
    assert result.exit_code == 1
    assert "use en or id" in result.output
    assert not (tmp_path / "x").exists()
