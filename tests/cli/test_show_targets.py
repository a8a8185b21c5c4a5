"""`tolok show`'s targets of slices, of people and of filtered series, at every grain —
a small DuckDB project with an SQLite store, expectations by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.cli import app

runner = CliRunner()

# (month, region, channel, amount): West 26k, 23k, 20k a month; East 40k
ORDERS = [
    ("2014-10", "West", "web", 16000),
    ("2014-10", "West", "store", 10000),
    ("2014-11", "West", "web", 13000),
    ("2014-11", "West", "store", 10000),
    ("2014-12", "West", "web", 10000),
    ("2014-12", "West", "store", 10000),
    *[(month, "East", "store", 40000) for month in ("2014-10", "2014-11", "2014-12")],
]
# (month, region, sessions, of which converted)
SESSIONS = [
    ("2014-10", "West", 100, 10),
    ("2014-11", "West", 300, 30),
    ("2014-12", "West", 100, 10),
    ("2014-10", "East", 300, 30),
    ("2014-11", "East", 100, 10),
    ("2014-12", "East", 100, 10),
]
PROJECT = """\
name: Targets
warehouse: duckdb://
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    dimensions: [region, channel]
    measures:
      revenue: {agg: sum, expr: amount}
  sessions:
    source: file:sessions.csv
    time: started_at
    dimensions: [region]
    measures:
      sessions: {agg: count}
      conversions: {agg: count, where: converted}
kpis:
  revenue:
    formula: revenue
    unit: currency
    target:
      - {value: 60000, from: 2014-10}
      - {value: 25000, from: 2014-10, slice: {region: West}}
  conversion:
    formula: ratio(conversions, sessions)
    unit: percent
    target:
      - {value: 0.5, from: 2014-10}
      - {period: 2014-10, value: 0.1, slice: {region: West}}
      - {period: 2014-11, value: 0.2, slice: {region: West}}
      - {period: 2014-12, value: 0.4, slice: {region: West}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    orders = ["ordered_at,region,channel,amount"]
    orders += [f"{m}-03 10:00,{r},{c},{a}" for m, r, c, a in ORDERS]
    (tmp_path / "orders.csv").write_text("\n".join(orders) + "\n", encoding="utf-8")
    sessions = ["started_at,region,converted"]
    for month, region, count, converted in SESSIONS:
        sessions += [
            f"{month}-10 09:00,{region},{str(i < converted).lower()}" for i in range(count)
        ]
    (tmp_path / "sessions.csv").write_text("\n".join(sessions) + "\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    return tmp_path


def show(project: Path, *args: str) -> list[dict[str, object]]:
    shown = runner.invoke(app, ["show", *args, "-p", str(project), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    points: list[dict[str, object]] = json.loads(shown.stdout)["points"]
    return points


def test_a_slice_target_at_the_quarter(project: Path) -> None:
    points = show(project, "revenue", "--grain", "quarter", "--by", "region")
    got = {p["slice"]["region"]: (p["target"], p["status"]) for p in points}  # type: ignore[index]
    # West: 3 x 25k = 75k against 69k, 92 %; East has no slice target of its own
    assert got == {"West": (pytest.approx(75000), "at_risk"), "East": (None, "no_target")}


def test_targets_set_by_people_roll_up_to_the_quarter(project: Path) -> None:
    for args in (["2014-12", "99000"], ["2014-11", "30000", "--by", "region=West"]):
        done = runner.invoke(app, ["target", "set", "revenue", *args, "-p", str(project)])
        assert done.exit_code == 0, done.output
    [total] = show(project, "revenue", "--grain", "quarter")
    assert total["target"] == pytest.approx(60000 + 60000 + 99000)
    points = show(project, "revenue", "--grain", "quarter", "--by", "region")
    got = {p["slice"]["region"]: p["target"] for p in points}  # type: ignore[index]
    assert got == {"West": pytest.approx(25000 + 30000 + 25000), "East": None}
    # and the same through a filter
    [where] = show(project, "revenue", "--grain", "quarter", "--where", "region == 'West'")
    assert where["target"] == pytest.approx(25000 + 30000 + 25000)


def test_a_ratio_slice_target_weighted_by_the_slices_sessions(project: Path) -> None:
    points = show(project, "conversion", "--grain", "quarter", "--by", "region")
    got = {p["slice"]["region"]: p["target"] for p in points}  # type: ignore[index]
    # West's conversions the targets imply, over West's sessions: (10 + 60 + 40) / 500;
    # by all sessions (400, 400, 200) it would be (40 + 80 + 80) / 1000 = 0.2
    assert got == {"West": pytest.approx(0.22), "East": None}
    [total] = show(project, "conversion", "--grain", "quarter")
    assert total["target"] == pytest.approx(0.5)


def test_the_iso_week_at_the_targets_start(project: Path) -> None:
    # 2014-W40 is 29 September - 5 October; the target starts in October: 5 of its 31 days
    # at 60k / 31 a day, extended to the whole week's 7 days
    [week] = show(
        project, "revenue", "--grain", "week", "--from", "2014-09-29", "--to", "2014-10-05"
    )
    assert week["start"] == "2014-09-29"
    assert week["target"] == pytest.approx(60000 * 7 / 31)
    assert week["value"] == pytest.approx(66000)
    assert week["status"] == "on_track"


def test_a_filter_is_judged_by_its_slice_target(project: Path) -> None:
    points = show(project, "revenue", "--where", "region == 'West'")
    got = [(p["period"], p["value"], p["target"], p["status"]) for p in points]
    # West against its own 25k: 26k (104 %), 23k (92 %), 20k (80 %) — not the total's 60k
    assert got == [
        ("2014-10", 26000, 25000, "on_track"),
        ("2014-11", 23000, 25000, "at_risk"),
        ("2014-12", 20000, 25000, "off_track"),
    ]


def test_a_filter_without_a_slice_target_has_no_target(project: Path) -> None:
    points = show(project, "revenue", "--where", "region == 'West' and channel == 'web'")
    got = [(p["value"], p["target"], p["status"]) for p in points]
    assert got == [(v, None, "no_target") for v in (16000, 13000, 10000)]
