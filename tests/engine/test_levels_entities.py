"""Levels of a dataset with an entity in its key (`key: [account_id, day]`) on every
backend: each account's balance on its own last (first) day with rows in the period,
added up per period and region — an account that moved region counts once, in the region
of its last row. Expected values from the fixture rows in plain Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from tests.engine.fixture_data import BALANCES
from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Settings

Row = tuple[dt.date, str, str, float]

MEASURES = {
    "end_balance": "{agg: sum, expr: balance, over_time: last}",
    "start_balance": "{agg: sum, expr: balance, over_time: first}",
    "accounts": "{agg: count, over_time: last}",
    # `where` picks among the rows it keeps: an account's last row with a balance
    "funded_rows": "{agg: count, where: balance > 0, over_time: last}",
    # a condition on the last row itself: whether the account is funded at the end
    "funded_at_end": "{agg: sum, expr: 'case(balance > 0, 1, 0)', over_time: last}",
    "average_balance": "{agg: sum, expr: balance, over_time: average}",
}


def _project(folder: Path, url: str, key: str = "[account_id, day]") -> Path:
    measures = "\n".join(f"      {name}: {spec}" for name, spec in MEASURES.items())
    kpis = "\n".join(f"  {name}_kpi: {{formula: {name}}}" for name in MEASURES)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"name: Balances\nwarehouse: {url}\ndatasets:\n  balances:\n"
        f"    source: tolok_balances\n    time: day\n    key: {key}\n"
        f"    dimensions: [region]\n    measures:\n{measures}\nkpis:\n{kpis}\n",
        encoding="utf-8",
    )
    return folder


def _edge_rows(rows: list[Row], grain: Grain, last: bool) -> dict[tuple[str, str], list[Row]]:
    """Per period and account, its rows on its own last (first) day in the period."""
    calendar = Calendar.of(Settings(name="x"))
    by_account: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        label = calendar.label(calendar.start_of(row[0], grain), grain)
        by_account[(label, row[1])].append(row)
    out = {}
    for key, found in by_account.items():
        edge = (max if last else min)(r[0] for r in found)
        out[key] = [r for r in found if r[0] == edge]
    return out


def _amount(name: str, row: Row) -> float:
    if name in ("accounts", "funded_rows"):
        return 1.0
    if name == "funded_at_end":
        return float(row[3] > 0)
    return row[3]


def _expected(grain: Grain, by_region: bool) -> dict[str, dict[object, float]]:
    """Each account's rows on its own edge day in the period, added up per period (and
    region of those rows); `average` is the average of the daily totals over the days
    with data, with or without an entity."""
    out: dict[str, dict[object, float]] = defaultdict(lambda: defaultdict(float))
    funded = [r for r in BALANCES if r[3] > 0]
    for name, rows, last in (
        ("end_balance", BALANCES, True),
        ("start_balance", BALANCES, False),
        ("accounts", BALANCES, True),
        ("funded_rows", funded, True),
        ("funded_at_end", BALANCES, True),
    ):
        for (label, _), picked in _edge_rows(rows, grain, last).items():
            for row in picked:
                out[name][(label, row[2]) if by_region else label] += _amount(name, row)
    calendar = Calendar.of(Settings(name="x"))
    daily: dict[object, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for day, _, region, balance in BALANCES:
        label = calendar.label(calendar.start_of(day, grain), grain)
        daily[(label, region) if by_region else label][day] += balance
    for key, days in daily.items():
        out["average_balance"][key] = sum(days.values()) / len(days)
    return out


def _values(url: str, folder: Path, request: Request, by_region: bool) -> dict[str, dict]:
    loaded = load_project(_project(folder, url))
    assert loaded.ok, [p.message for p in loaded.problems.items]
    result = compute(loaded, Warehouse(loaded), request)
    return {
        name: {
            (p.label, p.slice[0][1]) if by_region else p.label: p.value
            for p in result[f"{name}_kpi"].points
            if p.value is not None
        }
        for name in MEASURES
        if f"{name}_kpi" in request.kpis
    }


@pytest.mark.parametrize("grain", [Grain.month, Grain.quarter, Grain.year])
@pytest.mark.parametrize("by_region", [False, True])
def test_each_entity_is_read_on_its_own_last_day(
    warehouse_url: str, tmp_path: Path, grain: Grain, by_region: bool
) -> None:
    names = tuple(f"{name}_kpi" for name in MEASURES)
    by = ("region",) if by_region else ()
    request = Request(names, grain, by, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    got = _values(warehouse_url, tmp_path / "balances", request, by_region)
    expected = _expected(grain, by_region)
    for name in MEASURES:
        wanted = expected[name]
        assert {k: v for k, v in got[name].items() if k in wanted} == pytest.approx(wanted), name
        assert all(v == 0 for k, v in got[name].items() if k not in wanted), name


def test_the_quarters_by_hand(warehouse_url: str, tmp_path: Path) -> None:
    """The rule in numbers. Q1 ends with A1 150 (15 March, now in Jawa), A2 70 (3 Feb),
    A3 0 (closed on 1 March): 220. Q3 ends with A1 170 (7 July: no later row in Q3),
    A2 90 (12 Aug), A4 45 (30 Sep, moved to Sumatera): 305 — not the 45 of 30 September
    alone, which is what the period's last day gives without an entity in the key."""
    request = Request(
        ("end_balance_kpi", "accounts_kpi", "funded_rows_kpi", "funded_at_end_kpi"),
        Grain.quarter,
        ("region",),
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
    )
    got = _values(warehouse_url, tmp_path / "hand", request, by_region=True)
    ends = {k: v for k, v in got["end_balance"].items() if v}
    assert ends == {
        ("2026-Q1", "Jawa"): 220,
        ("2026-Q2", "Jawa"): 240,
        ("2026-Q3", "Jawa"): 260,
        ("2026-Q3", "Sumatera"): 45,
        ("2026-Q4", "Jawa"): 95,
    }
    # A1 counts once in Q1, in Jawa; A3's closing row keeps it in Bali with 0
    assert got["accounts"][("2026-Q1", "Jawa")] == 2
    assert got["accounts"][("2026-Q1", "Bali")] == 1
    # `where` chooses the rows first: A3's last row with a balance is 3 February's (30),
    # so it counts; whether it is funded at its last row (1 March: 0) is an `expr`
    assert got["funded_rows"][("2026-Q1", "Bali")] == 1
    assert got["funded_at_end"].get(("2026-Q1", "Bali"), 0) == 0


def test_without_an_entity_the_periods_last_day_counts(warehouse_url: str, tmp_path: Path) -> None:
    """`key: [day]` names no entity: Q3 ends on 30 September, with A4's 45 alone."""
    folder = _project(tmp_path / "no_entity", warehouse_url, key="[day]")
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    request = Request(("end_balance_kpi",), Grain.quarter, start=dt.date(2026, 7, 1))
    got = compute(loaded, Warehouse(loaded), request)["end_balance_kpi"]
    assert {p.label: p.value for p in got.points}["2026-Q3"] == 45


def test_an_entitys_level_over_a_rolling_window(warehouse_url: str, tmp_path: Path) -> None:
    """rolling(end_balance, 2): each account's last row in the two months. April's window
    (March-April): A1 150, A2 80, A3 0 — not the 80 of 2 April alone; May's (April-May):
    A2 80, A1 160."""
    folder = _project(tmp_path / "rolling", warehouse_url)
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(
        text + "  two: {formula: 'rolling(end_balance, 2)'}\n", "utf-8"
    )
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    request = Request(("two",), Grain.month, start=dt.date(2026, 4, 1), end=dt.date(2026, 5, 31))
    got = {p.label: p.value for p in compute(loaded, Warehouse(loaded), request)["two"].points}
    assert (got["2026-04"], got["2026-05"]) == (230, 240)
