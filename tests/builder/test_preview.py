"""The builder's preview: an unsaved KPI computed from the data, its last twelve periods
equal to sums done by hand, and nothing written to the YAML or the store."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pytest

from tolok.builder.preview import computed, overlaid
from tolok.spec import edit
from tolok.spec.loader import load_project

PROJECT = """\
name: Preview shop
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv   # the shop's export
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
      order_count: {agg: count}
kpis:
  revenue:
    formula: revenue
"""

# 15 months of orders, 2024-10 to 2025-12: month m (0..14) has m + 1 orders of 10 * (m + 1)
# and 5 each, so that every month differs.
MONTHS = [(2024 + (9 + m) // 12, (9 + m) % 12 + 1) for m in range(15)]


def _rows() -> list[tuple[dt.date, str, float]]:
    rows = []
    for m, (year, month) in enumerate(MONTHS):
        for i in range(m + 1):
            rows.append((dt.date(year, month, 1 + i), "Bali" if i % 2 else "Jawa", 10.0 * (m + 1)))
        rows.append((dt.date(year, month, 20), "Bali", 5.0))
    return rows


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOLOK_TODAY", "2026-06-15")  # the data stopped months ago
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    lines = ["ordered_at,region,amount"]
    lines += [f"{day.isoformat()},{region},{amount}" for day, region, amount in _rows()]
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def _by_hand(value: str) -> dict[dt.date, float]:
    """Per month: the sum of amounts, or the average order, computed in plain Python."""
    sums: dict[dt.date, float] = {}
    counts: dict[dt.date, int] = {}
    for day, _, amount in _rows():
        month = day.replace(day=1)
        sums[month] = sums.get(month, 0.0) + amount
        counts[month] = counts.get(month, 0) + 1
    if value == "sum":
        return sums
    return {m: sums[m] / counts[m] for m in sums}


def test_the_last_twelve_periods_of_an_unsaved_formula_equal_hand_sums(root: Path) -> None:
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    definition = {"title": "Average order", "formula": "revenue / order_count", "unit": "currency"}
    loaded = overlaid(root, "average_order", definition)
    shown = computed(loaded, "average_order").last(12)
    expected = _by_hand("average")
    months = sorted(expected)[-12:]
    assert [v.period for v in shown] == months
    assert [v.value for v in shown] == pytest.approx([expected[m] for m in months])
    # Nothing was written: the YAML as it was, no store, no new file.
    assert {p.name: p.read_bytes() for p in root.iterdir() if p.name in before} == before
    assert not (root / "tolok.db").exists()
    assert not (root / "kpis").exists()
    assert load_project(root).project is not None
    assert "average_order" not in load_project(root).project.kpis  # type: ignore[union-attr]


def test_a_target_gives_each_closed_period_a_status(root: Path) -> None:
    definition = {"formula": "revenue", "target": {"value": 700}}
    shown = computed(overlaid(root, "sales", definition), "sales").last(3)
    sums = _by_hand("sum")
    months = sorted(sums)[-3:]
    assert [v.value for v in shown] == pytest.approx([sums[m] for m in months])
    # 13, 14 and 15 orders of 130, 140, 150 plus 5: 1695, 1965, 2255 against 700.
    assert [v.target for v in shown] == [700, 700, 700]
    assert [str(v.status) for v in shown] == ["on_track"] * 3


def test_measures_added_with_the_kpi_are_laid_over_their_dataset(root: Path) -> None:
    measures = {"orders": {"biggest": {"agg": "max", "expr": "amount"}}}
    loaded = overlaid(root, "biggest_order", {"formula": "biggest"}, measures)
    shown = computed(loaded, "biggest_order").last(2)
    assert [v.value for v in shown] == [140.0, 150.0]
    assert "biggest" not in (root / "tolok.yaml").read_text(encoding="utf-8")


def test_a_typo_is_located_and_nothing_is_computed(root: Path) -> None:
    with pytest.raises(edit.InvalidError) as caught:
        overlaid(root, "typo", {"formula": "revenu / order_count"})
    [problem] = caught.value.problems
    assert problem.problem.code == "TLK011"
    assert problem.path == ("kpis", "typo", "formula")


def test_a_suggestion_comes_from_the_history_up_to_the_last_data(root: Path) -> None:
    found = computed(overlaid(root, "sales", {"formula": "revenue"}), "sales").suggestion()
    assert found is not None
    # 15 monthly values (the empty months to June 2026 are not history): against the month
    # before, the rate reached a quarter of the time (the 75th percentile), from December.
    sums = [v for _, v in sorted(_by_hand("sum").items())]
    rates = [sums[i] / sums[i - 1] - 1 for i in range(1, len(sums))]
    assert found.vs.value == "previous"
    assert found.samples == 14
    assert found.growth == pytest.approx(statistics.quantiles(rates, n=4)[2])
    assert found.target == pytest.approx(sums[-1] * (1 + found.growth))
