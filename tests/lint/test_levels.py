"""TLK134: a level (MRR, a balance, headcount) added up over time is flagged where it is
written; flows named after a level (new MRR, stock received) and levels read with
`over_time` are not; nor is anything the catalog or the `init` templates ship."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.lint.test_rules import CLEAN, line_of, write
from tolok.catalog.templates import catalog
from tolok.lint import lint
from tolok.lint.levels import looks_like_level, summed_level
from tolok.spec import load_project


def _findings(tmp_path: Path, measures: dict[str, Any], key: list[str] | None = None) -> list:
    """TLK134's findings on the clean project with a `balances` dataset of `measures`."""
    (tmp_path / "balances.csv").write_text(
        "day,account_id,opening_balance,closing_balance,mrr,new_mrr,units_on_hand\n"
        "2026-01-31,a1,90,100,10,10,5\n2026-02-28,a1,100,120,12,2,4\n",
        encoding="utf-8",
    )
    spec = copy.deepcopy(CLEAN)
    balances: dict[str, Any] = {"source": "file:balances.csv", "time": "day"}
    if key is not None:
        balances["key"] = key
    spec["datasets"]["balances"] = {**balances, "measures": measures}
    loaded = load_project(write(tmp_path, spec))
    assert loaded.ok, [p.headline(tmp_path) for p in loaded.problems.errors]
    return [f for f in lint(loaded) if f.rule.code == "TLK134"]


def test_a_summed_balance_is_flagged_at_its_expr_with_the_fix(tmp_path: Path) -> None:
    measures = {"balance": {"agg": "sum", "expr": "closing_balance"}}
    [found] = _findings(tmp_path, measures, key=["account_id", "day"])
    assert found.where.line == line_of(tmp_path, "expr: closing_balance")
    assert found.subject == "dataset:balances"
    assert "closing_balance" in found.message("en")
    assert "add `over_time: last` to balance" in found.fix("en")
    # one row per account and day: the fix says which row counts
    assert "[account_id, day]" in found.fix("en")
    assert "account_id's last row" in found.fix("en")
    assert "menjumlahkan closing_balance" in found.message("id")
    assert "tambahkan `over_time: last` pada balance" in found.fix("id")
    assert "baris terakhir tiap account_id" in found.fix("id")


def test_a_measure_named_after_its_column_is_flagged_at_its_agg(tmp_path: Path) -> None:
    [found] = _findings(tmp_path, {"mrr": {"agg": "sum"}})
    assert found.where.line == line_of(tmp_path, "      mrr:+1")
    assert "key" not in found.fix("en")  # no entity in a key: nothing to say about it


def test_a_level_named_at_the_start_is_read_first(tmp_path: Path) -> None:
    [found] = _findings(tmp_path, {"opening": {"agg": "sum", "expr": "opening_balance"}})
    assert "add `over_time: first` to opening" in found.fix("en")
    assert "di awal setiap periode" in found.fix("id")


def test_flows_and_levels_read_over_time_are_fine(tmp_path: Path) -> None:
    measures = {
        "new_mrr": {"agg": "sum"},  # a movement of MRR: it adds up
        "mrr_end": {"agg": "sum", "expr": "mrr", "over_time": "last"},
        "stock": {"agg": "sum", "expr": "units_on_hand", "over_time": "average"},
        "accounts": {"agg": "count"},
        "highest": {"agg": "max", "expr": "closing_balance"},
        "mrr_gain": {"agg": "sum", "expr": "mrr - new_mrr"},
        "mrr_months": {"agg": "sum", "expr": "mrr", "over_time": "sum"},  # said on purpose
    }
    assert _findings(tmp_path, measures) == []


def test_it_can_be_switched_off_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "balances.csv").write_text("day,mrr\n2026-01-31,10\n", encoding="utf-8")
    spec = copy.deepcopy(CLEAN)
    spec["datasets"]["balances"] = {
        "source": "file:balances.csv",
        "time": "day",
        "measures": {"mrr_months": {"agg": "sum", "expr": "mrr"}},
        "lint": {"off": {"TLK134": "we sum MRR over months on purpose: MRR-months"}},
    }
    loaded = load_project(write(tmp_path, spec))
    assert loaded.ok
    assert not [f for f in lint(loaded) if f.rule.code == "TLK134"]


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("end_mrr", True),
        ("start_mrr", True),
        ("ARR", True),
        ("closingBalance", True),
        ("head_count", True),
        ("stock_on_hand", True),
        ("open_tickets", True),
        ("active_subscriptions", True),
        ("total_assets", True),
        ("new_mrr", False),
        ("expansion_mrr", False),
        ("churned_mrr", False),
        ("net_new_mrr", False),
        ("mrr_change", False),
        ("balance_delta", False),
        ("stock_in", False),
        ("inventory_received", False),
        ("seats_added", False),
        ("amount", False),
        ("tickets", False),
        ("stockholder", False),
    ],
)
def test_which_names_look_like_a_level(name: str, level: bool) -> None:
    assert looks_like_level(name) is level


def test_nothing_the_catalog_ships_sums_a_level() -> None:
    """Every catalog KPI's measures, as `tolok catalog add` writes them (the `init`
    templates are linted whole, `--strict`, in tests/catalog/test_init.py)."""
    found = [
        (name, measure, column)
        for template in catalog().values()
        for table in template.tables.values()
        for name, measure in table.measures.items()
        if (column := summed_level(name, measure)) is not None
    ]
    assert found == []
