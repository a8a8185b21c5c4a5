"""The open period and provisional periods as `tolok show`, `tolok status` and the refresh
board read them, at a pinned clock (TOLOK_TODAY): a small DuckDB project, figures by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.cli import app

runner = CliRunner()
PROJECT = """\
name: Open
warehouse: duckdb://
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    measures:
      revenue: {agg: sum, expr: amount}
  trials:
    source: file:trials.csv
    time: started_at
    measures:
      trials: {agg: count}
      paid: {agg: conversion, entity: account, to: payments, within: 30 days}
  payments:
    source: file:payments.csv
    time: paid_at
    measures:
      payments: {agg: count}
kpis:
  revenue:
    formula: revenue
    unit: currency
    target: {value: 3100, from: 2026-09}
  late_revenue:
    formula: revenue
    final_after: 3 days
  revenue_3m:
    formula: rolling(revenue, 3)
    target: {value: 9300, from: 2026-09}
  conversion:
    formula: paid / trials
    unit: percent
    target: {value: 0.5, from: 2026-09}
"""


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """100 of revenue a day from 1 September to 5 December 2026; a trial every day, every
    second one paying 10 days later."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-06")
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    days = _days(dt.date(2026, 9, 1), dt.date(2026, 12, 5))
    orders = ["ordered_at,amount", *[f"{d}T10:00:00,100" for d in days]]
    (tmp_path / "orders.csv").write_text("\n".join(orders) + "\n", encoding="utf-8")
    trials = ["started_at,account", *[f"{d}T09:00:00,A{i}" for i, d in enumerate(days)]]
    (tmp_path / "trials.csv").write_text("\n".join(trials) + "\n", encoding="utf-8")
    paying = [(d + dt.timedelta(days=10), f"A{i}") for i, d in enumerate(days) if i % 2 == 0]
    payments = ["paid_at,account", *[f"{d}T12:00:00,{a}" for d, a in paying if d <= days[-1]]]
    (tmp_path / "payments.csv").write_text("\n".join(payments) + "\n", encoding="utf-8")
    refreshed = runner.invoke(app, ["refresh", str(tmp_path)])
    assert refreshed.exit_code == 0, refreshed.output
    return tmp_path


def _points(project: Path, kpi: str, *extra: str) -> dict[str, dict[str, object]]:
    shown = runner.invoke(app, ["show", kpi, "-p", str(project), "--format", "json", *extra])
    assert shown.exit_code == 0, shown.output
    return {p["period"]: p for p in json.loads(shown.stdout)["points"]}


def test_the_open_month_is_shown_so_far_and_judged_by_its_heading(project: Path) -> None:
    points = _points(project, "revenue")
    december = points["2026-12"]
    # Five of December's 31 days have passed: 500 so far against 3,100 x 5/31 = 500.
    assert december["value"] == 500
    assert (december["state"], december["open"]) == ("open", True)
    assert december["elapsed"] == pytest.approx(5 / 31, abs=1e-4)
    assert december["target_so_far"] == pytest.approx(500)
    assert december["projected"] == pytest.approx(3100)
    assert december["heading"] == december["status"] == "on_track"
    assert december["anomaly"] is None
    assert points["2026-11"]["status"] == "on_track"  # 3,000 of 3,100: 97%
    assert points["2026-11"]["state"] == "closed"


def test_a_quarter_under_way_pro_rates_the_quarter_target(project: Path) -> None:
    q4 = _points(project, "revenue", "--grain", "quarter")["2026-Q4"]
    # Q4: 9,300 (3 x 3,100); 66 of its 92 days have passed: 6,671.74 so far; 6,600 is 98.9%.
    assert q4["value"] == 6600
    assert q4["target"] == pytest.approx(9300)
    assert q4["target_so_far"] == pytest.approx(round(9300 * 66 / 92, 2))
    assert q4["heading"] == "on_track"


def test_a_conversion_window_keeps_november_provisional(project: Path) -> None:
    points = _points(project, "conversion")
    november = points["2026-11"]
    # Trials of November can still convert until 30 December; on 6 December it is not final.
    assert (november["state"], november["provisional"], november["status"]) == (
        "not_final", True, None,
    )  # fmt: skip
    assert november["final_on"] == "2026-12-31"
    assert points["2026-10"]["state"] == "closed"
    # October: every second trial paid within 10 days: 16 of 31.
    assert points["2026-10"]["value"] == pytest.approx(16 / 31)
    assert points["2026-10"]["status"] == "on_track"
    assert points["2026-12"]["state"] == "open"
    assert points["2026-12"]["heading"] is None  # no heading while trials still convert
    status = runner.invoke(app, ["status", str(project)])
    rows = {line.split("\t")[1]: line.split("\t") for line in status.stdout.splitlines()[1:]}
    assert rows["conversion"][2] == "2026-10"  # its last judged month, as in show


def test_final_after_waits_for_late_rows(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-03")
    assert _points(project, "late_revenue")["2026-11"]["state"] == "not_final"
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-04")
    assert _points(project, "late_revenue")["2026-11"]["state"] == "closed"


def test_the_refresh_board_shows_the_last_closed_month_and_the_open_one_beside_it(
    project: Path,
) -> None:
    board = runner.invoke(app, ["refresh", str(project)])
    lines = board.stdout.splitlines()
    header = lines[0].split("\t")
    row = dict(
        zip(header, next(r.split("\t") for r in lines if r.startswith("revenue")), strict=True)
    )
    assert (row["period"], row["value"], row["status"]) == ("2026-11", "$3,000", "on track")
    assert (row["open period"], row["so far"], row["heading"]) == (
        "2026-12 (16%)",
        "$500",
        "on track",
    )


def test_a_filtered_series_is_judged_on_its_own_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """West sells a tenth of East, steadily: a narrow range of West alone is no drop, though
    the store's history (of the whole company) is ten times larger."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-06")
    (tmp_path / "tolok.yaml").write_text(
        "name: Regions\nwarehouse: duckdb://\ndatasets:\n  orders:\n    source: file:o.csv\n"
        "    time: ordered_at\n    dimensions: [region]\n"
        "    measures: {revenue: {agg: sum, expr: amount}}\n"
        "kpis:\n  revenue: {formula: revenue}\n",
        encoding="utf-8",
    )
    days = _days(dt.date(2025, 6, 1), dt.date(2026, 12, 5))
    rows = [f"{d},{r},{a}" for d in days for r, a in (("West", 100), ("East", 1000))]
    (tmp_path / "o.csv").write_text("ordered_at,region,amount\n" + "\n".join(rows) + "\n")
    assert runner.invoke(app, ["refresh", str(tmp_path)]).exit_code == 0
    west = _points(tmp_path, "revenue", "--where", "region == 'West'", "--from", "2026-10")
    assert west["2026-11"]["value"] == 3000
    assert [p["anomaly"] for p in west.values()] == [None, None, None]
    assert west["2026-11"]["status"] == "no_target"


def test_rows_without_a_time_belong_to_no_period(tmp_path: Path) -> None:
    """Tickets not resolved yet have no resolution time: they are in no month's count (the
    refresh used to stop with a traceback)."""
    (tmp_path / "tolok.yaml").write_text(
        "name: T\nwarehouse: duckdb://\ndatasets:\n  tickets:\n    source: file:t.csv\n"
        "    time: resolved_at\n    measures: {resolved: {agg: count}}\n"
        "kpis:\n  resolved: {formula: resolved}\n",
        encoding="utf-8",
    )
    rows = (
        "id,resolved_at\n1,2026-10-02T10:00:00\n2,\n3,2026-10-20T10:00:00\n4,2026-11-03T09:00:00\n"
    )
    (tmp_path / "t.csv").write_text(rows, encoding="utf-8")
    refreshed = runner.invoke(app, ["refresh", str(tmp_path)])
    assert refreshed.exit_code == 0, refreshed.output
    points = _points(tmp_path, "resolved")
    assert {p: v["value"] for p, v in points.items()} == {"2026-10": 2, "2026-11": 1}


def test_the_month_data_stopped_in_is_partial_once_it_has_stopped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data ends on 5 December. On 20 December it may still be arriving: December is
    open; on 20 January too (a month's export may come weeks later): December is judged.
    By 20 February nothing came for longer than two months: December (5 of 31 days) is
    partial, November still whole."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-20")
    assert _points(project, "revenue")["2026-12"]["state"] == "open"
    monkeypatch.setenv("TOLOK_TODAY", "2027-01-20")
    assert _points(project, "revenue")["2026-12"]["state"] == "closed"
    monkeypatch.setenv("TOLOK_TODAY", "2027-02-20")
    points = _points(project, "revenue")
    assert (points["2026-12"]["state"], points["2026-12"]["status"]) == ("partial", None)
    assert points["2026-11"]["state"] == "closed"


def test_an_open_rolling_window_is_pro_rated_over_the_window(project: Path) -> None:
    december = _points(project, "revenue_3m")["2026-12"]
    # October 3,100 + November 3,000 + five days of December 500 = 6,600; 66 of the
    # window's 92 days have passed: 9,300 x 66/92 = 6,671.74 so far, 99%: on track.
    assert december["value"] == 6600
    assert december["target_so_far"] == pytest.approx(9300 * 66 / 92, abs=0.01)
    assert december["heading"] == "on_track"
