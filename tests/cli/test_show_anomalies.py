"""`tolok show` marks the periods far outside what the KPI usually does."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tolok.cli import app

runner = CliRunner()


def test_a_spike_and_a_drop_are_flagged_and_nothing_else(tmp_path: Path) -> None:
    # 24 months of about 100 orders a month; 2025-05 had 400 (a sale), 2025-10 had 20.
    lines = ["ordered_at,amount"]
    for index in range(24):
        year, month = 2024 + index // 12, index % 12 + 1
        count = {(2025, 5): 400, (2025, 10): 20}.get((year, month), 95 + (index * 7) % 11)
        lines += [f"{year}-{month:02d}-{1 + i % 28:02d},10" for i in range(count)]
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: Anomalies\nwarehouse: duckdb://\n"
        "datasets:\n  orders:\n    source: file:orders.csv\n    time: ordered_at\n"
        "    measures:\n      orders: {agg: count}\n"
        "kpis:\n  orders: {formula: orders, unit: count}\n",
        encoding="utf-8",
    )
    shown = runner.invoke(app, ["show", "orders", "-p", str(tmp_path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    points = json.loads(shown.output)["points"]
    flagged = {p["period"]: p["anomaly"] for p in points if p["anomaly"]}
    assert set(flagged) == {"2025-05", "2025-10"}
    assert flagged["2025-05"]["score"] > 3.5
    assert flagged["2025-10"]["score"] < -3.5
    assert 90 <= flagged["2025-05"]["expected"] <= 110  # the months around it
    text = runner.invoke(app, ["show", "orders", "-p", str(tmp_path)]).output
    row = next(line for line in text.splitlines() if line.startswith("2025-05"))
    assert "▲ high" in row
    csv_out = runner.invoke(app, ["show", "orders", "-p", str(tmp_path), "--format", "csv"])
    assert csv_out.output.splitlines()[0].endswith("anomaly_score")
