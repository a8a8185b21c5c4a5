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
