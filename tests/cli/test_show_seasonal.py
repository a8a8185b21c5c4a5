"""`target_split: seasonal` in `tolok show`: daily targets follow the KPI's weekly rhythm."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.cli import app

runner = CliRunner()


@pytest.mark.parametrize(("split", "monday", "saturday"), [
    ("seasonal", 600 * 2 / 52, 600 / 52),  # weekdays weigh 2, weekend days 1: 22*2 + 8 = 52
    ("days", 20.0, 20.0),  # 600 / 30 days
])  # fmt: skip
def test_daily_targets_of_a_monthly_target(
    tmp_path: Path, split: str, monday: float, saturday: float
) -> None:
    lines = ["ordered_at,amount"]
    day = dt.date(2026, 3, 2)  # a Monday; 17 weeks of 10 orders a weekday, 5 a weekend day
    for _ in range(17 * 7):
        lines += [f"{day.isoformat()} 10:00,1"] * (10 if day.weekday() < 5 else 5)
        day += dt.timedelta(days=1)
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: Split\nwarehouse: duckdb://\n"
        "datasets:\n  orders:\n    source: file:orders.csv\n    time: ordered_at\n"
        "    measures:\n      orders: {agg: count}\n"
        "kpis:\n  orders:\n    formula: orders\n    unit: count\n"
        f"    target: {{value: 600, from: 2026-06}}\n    target_split: {split}\n",
        encoding="utf-8",
    )
    args = ["show", "orders", "-p", str(tmp_path), "--grain", "day", "--format", "json"]
    shown = runner.invoke(app, [*args, "--from", "2026-06-01", "--to", "2026-06-06"])
    assert shown.exit_code == 0, shown.output
    targets = {p["period"]: p["target"] for p in json.loads(shown.output)["points"]}
    assert targets["2026-06-01"] == pytest.approx(monday)
    assert targets["2026-06-06"] == pytest.approx(saturday)


def test_a_ratio_target_rolls_up_as_the_ratio_of_the_targets_it_implies(tmp_path: Path) -> None:
    sessions = {"2026-01": 100, "2026-02": 100, "2026-03": 300}
    rows = ["started_at,converted"]
    for month, count in sessions.items():
        rows += [
            f"{month}-{1 + i % 28:02d},{'true' if i % 5 == 0 else 'false'}" for i in range(count)
        ]
    (tmp_path / "sessions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: Rollup\nwarehouse: duckdb://\n"
        "datasets:\n  sessions:\n    source: file:sessions.csv\n    time: started_at\n"
        "    measures:\n      sessions: {agg: count}\n"
        "      orders: {agg: count, where: converted}\n"
        "kpis:\n  conversion:\n    formula: ratio(orders, sessions)\n    unit: percent\n"
        "    target:\n      - {period: 2026-01, value: 0.1}\n"
        "      - {period: 2026-02, value: 0.2}\n      - {period: 2026-03, value: 0.3}\n",
        encoding="utf-8",
    )
    args = ["show", "conversion", "-p", str(tmp_path), "--grain", "quarter", "--format", "json"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    [quarter] = json.loads(shown.output)["points"]
    # the orders the targets imply, over the sessions: (10 + 20 + 90) / 500 = 0.24
    # (an average of the three targets by days would give 0.2)
    assert quarter["target"] == pytest.approx(0.24)


def test_a_growth_target_at_a_coarser_grain_reads_the_kpis_own_history(tmp_path: Path) -> None:
    amounts = {"2025-01": 100, "2025-02": 200, "2025-03": 300, "2026-01": 150, "2026-02": 50}
    rows = ["ordered_at,amount"] + [f"{m}-10,{a}" for m, a in amounts.items()]
    (tmp_path / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: Growth\nwarehouse: duckdb://\n"
        "datasets:\n  orders:\n    source: file:orders.csv\n    time: ordered_at\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n  revenue:\n    formula: revenue\n    unit: currency\n"
        "    target: {growth: 0.1, vs: last_year}\n",
        encoding="utf-8",
    )
    args = ["show", "revenue", "-p", str(tmp_path), "--grain", "quarter", "--format", "json"]
    shown = runner.invoke(app, [*args, "--from", "2026-Q1"])
    assert shown.exit_code == 0, shown.output
    [quarter] = json.loads(shown.output)["points"]
    # each month 10% over the same month of 2025: 1.1 * (100 + 200 + 300) = 660
    assert quarter["target"] == pytest.approx(660)
    assert quarter["value"] == pytest.approx(200)
