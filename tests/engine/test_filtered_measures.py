"""A KPI whose measures all keep only some rows (a shared `where`) covers the periods and
slices of its dataset's rows, with 0 where none of them match: the months after the last
refund show 0 refunds, whether the KPI is computed alone or beside other measures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain
from tolok.store.database import open_store
from tolok.store.results import load

PROJECT = """\
name: Refunds
timezone: UTC
warehouse: duckdb://
datasets:
  tickets:
    source: file:tickets.csv
    time: at
    dimensions: [region]
    measures:
      refunds: {agg: count, where: "status == 'refunded'"}
      refunded: {agg: count_distinct, expr: customer, where: "status == 'refunded'"}
      lost: {agg: count, where: "status == 'lost'"}
      tickets: {agg: count}
kpis:
  refunds: {formula: refunds, breakdowns: [region]}
  refunded: {formula: refunded}
  lost: {formula: lost}
  share: {formula: refunds / tickets}
"""
TICKETS = [
    (dt.datetime(2026, 1, 5, 10), "c1", "Bali", "refunded"),
    (dt.datetime(2026, 1, 6, 10), "c2", "Jawa", "ok"),
    (dt.datetime(2026, 2, 3, 10), "c3", "Bali", "refunded"),
    (dt.datetime(2026, 2, 9, 10), "c3", "Bali", "refunded"),
    (dt.datetime(2026, 3, 3, 10), "c3", "Jawa", "ok"),
    (dt.datetime(2026, 4, 3, 10), "c4", "Jawa", "ok"),
]
MONTHS = [dt.date(2026, month, 1) for month in range(1, 5)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    lines = [f"{at.isoformat()},{c},{r},{s}" for at, c, r, s in TICKETS]
    (tmp_path / "tickets.csv").write_text(
        "at,customer,region,status\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    return tmp_path


def by_hand(status: str, region: str | None = None, distinct: bool = False) -> list[float]:
    """Per month of the data: the tickets (or distinct customers) with that status."""
    out = []
    for month in MONTHS:
        rows = [
            t
            for t in TICKETS
            if (t[0].year, t[0].month) == (month.year, month.month)
            and t[3] == status
            and region in (None, t[2])
        ]
        out.append(float(len({t[1] for t in rows}) if distinct else len(rows)))
    return out


def series(folder: Path, names: tuple[str, ...], by: tuple[str, ...] = ()) -> dict[str, object]:
    loaded = load_project(folder)
    warehouse = Warehouse(loaded)
    try:
        computed = compute(loaded, warehouse, Request(names, Grain.month, by))
    finally:
        warehouse.close()
    return {
        name: [(p.period, tuple(v for _, v in p.slice), p.value) for p in s.points]
        for name, s in computed.items()
    }


def test_months_after_the_last_match_show_zero_alone_or_beside_others(folder: Path) -> None:
    alone = series(folder, ("refunds",))["refunds"]
    beside = series(folder, ("refunds", "share"))["refunds"]
    expected = [(m, (), v) for m, v in zip(MONTHS, by_hand("refunded"), strict=True)]
    assert alone == expected
    assert beside == expected
    distinct = series(folder, ("refunded",))["refunded"]
    assert [v for _, _, v in distinct] == by_hand("refunded", distinct=True)  # c3 twice: 1


def test_a_filter_nothing_matches_shows_every_month_as_zero(folder: Path) -> None:
    """Not just the current month: the months the data covers, each with 0 lost tickets."""
    lost = series(folder, ("lost",))["lost"]
    assert lost == [(m, (), 0.0) for m in MONTHS]


def test_slices_without_a_match_show_zero(folder: Path) -> None:
    """Jawa never had a refund: its slice is there, with 0 each month."""
    points = series(folder, ("refunds",), ("region",))["refunds"]
    got = {(period, key): value for period, key, value in points}
    for region in ("Bali", "Jawa"):
        for month, value in zip(MONTHS, by_hand("refunded", region), strict=True):
            assert got[(month, (region,))] == value, (region, month)
    assert len(got) == len(MONTHS) * 2


def test_a_refresh_stores_the_same_months(folder: Path) -> None:
    loaded = load_project(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    warehouse = Warehouse(loaded)
    try:
        refresh_into_store(loaded, warehouse, store)
    finally:
        warehouse.close()
    stored = [(p.period, p.value) for p in load(store, "refunds", "month", ())]
    assert stored == list(zip(MONTHS, by_hand("refunded"), strict=True))
    lost = [(p.period, p.value) for p in load(store, "lost", "month", ())]
    assert lost == [(m, 0.0) for m in MONTHS]
    jawa = [p.value for p in load(store, "refunds", "month", ("region",)) if p.slice == ("Jawa",)]
    assert jawa == by_hand("refunded", "Jawa")


def test_a_whole_number_breakdown_with_a_missing_value_keeps_one_slice(tmp_path: Path) -> None:
    """Shop 7 had a refund; a later ticket has no shop. Shop 7 is one slice every month
    (not `7` and `7.0`), the ticket without a shop a slice of its own."""
    (tmp_path / "tolok.yaml").write_text(
        PROJECT.replace("dimensions: [region]", "dimensions: [region, shop]").replace(
            "  refunds: {formula: refunds, breakdowns: [region]}",
            "  refunds: {formula: refunds, breakdowns: [region, shop]}",
        ),
        encoding="utf-8",
    )
    (tmp_path / "tickets.csv").write_text(
        "at,customer,region,status,shop\n"
        "2026-01-05T10:00:00,c1,Bali,refunded,7\n"
        "2026-02-05T10:00:00,c2,Bali,ok,7\n"
        "2026-03-05T10:00:00,c3,Bali,ok,\n",
        encoding="utf-8",
    )
    points = series(tmp_path, ("refunds",), ("shop",))["refunds"]
    slices = sorted({key for _, key, _ in points}, key=str)
    assert slices == [(7,), (None,)]
    shop7 = [value for _, key, value in points if key == (7,)]
    assert shop7 == [1.0, 0.0, 0.0]
