"""The example project must validate cleanly: it is what a new user sees first."""

from __future__ import annotations

from tests.conftest import EXAMPLE
from tolok.spec import load_project
from tolok.spec.models import Function


def test_toko_validates_with_zero_errors_and_zero_warnings() -> None:
    loaded = load_project(EXAMPLE)
    assert loaded.problems.items == []
    assert loaded.ok


def test_toko_covers_the_articles_kpi_families() -> None:
    loaded = load_project(EXAMPLE)
    assert loaded.project is not None
    project = loaded.project
    functions = {kpi.function for kpi in project.kpis.values()}
    assert {Function.marketing, Function.sales, Function.service, Function.website} <= functions
    assert 10 <= len(project.kpis) <= 20
    assert set(project.datasets) == {"orders", "sessions", "tickets", "survey", "ad_spend"}
    assert project.datasets["ad_spend"].is_manual
    # The goal tree has roots and children.
    parents = {goal.parent for goal in project.goals.values()}
    assert None in parents
    assert parents - {None}
    assert all(kpi.goal in project.goals for kpi in project.kpis.values() if kpi.goal)
