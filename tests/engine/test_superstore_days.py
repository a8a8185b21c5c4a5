"""Real data arriving a day at a time: the Superstore orders (../shared/data/superstore) as a
file of everything before December 2014 and one Parquet file per day of December. After
each day, a refresh in a kept warehouse (as `tolok serve` makes it) and one in a new
process each leave the store with the figures pandas gives from the same rows."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import KeptWarehouse, Warehouse
from tolok.spec import load_project
from tolok.store.database import open_store
from tolok.store.results import load

from ..conftest import ROOT

CANDIDATES = [ROOT.parent / "shared" / "data", Path("/work/shared/data")]
DECEMBER = dt.date(2014, 12, 1)
DAYS = 8  # the first days of December that have orders

PROJECT = """\
name: Superstore by day
timezone: UTC
warehouse: duckdb://
datasets:
  orders:
    source: file:orders/*.parquet
    time: order_date
    dimensions: [region, segment, category, discounted]
    measures:
      sales: {agg: sum}
      profit: {agg: sum}
      lines: {agg: count}
      orders: {agg: count_distinct, expr: order_id}
      discount: {agg: avg}
      biggest: {agg: max, expr: sales}
kpis:
  sales: {formula: sales, breakdowns: [[region], [segment, category], [discounted]]}
  orders: {formula: orders, breakdowns: [[region]]}
  order_value: {formula: sales / orders}
  margin: {formula: profit / sales, breakdowns: [[region]]}
  discount: {formula: discount}
  biggest: {formula: biggest, breakdowns: [[segment]]}
  growth: {formula: growth(sales)}
"""


def superstore() -> pd.DataFrame:
    for folder in CANDIDATES:
        path = folder / "superstore" / "orders.csv"
        if path.exists():
            frame = pd.read_csv(path, encoding="latin-1")
            break
    else:
        pytest.skip("the Superstore data (../shared/data/superstore) is not on this machine")
    frame = frame.rename(columns=lambda c: c.lower().replace(" ", "_").replace("-", "_"))
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["discounted"] = frame["discount"] > 0
    columns = ["order_id", "order_date", "customer_id", "region", "segment", "category"]
    return frame[[*columns, "discounted", "sales", "profit", "discount"]]


def monthly(frame: pd.DataFrame, by: list[str]) -> dict[tuple[dt.date, tuple[object, ...]], float]:
    """Per month (and breakdown): sales, distinct orders, margin, average discount, biggest
    line — computed by pandas, the way the KPIs above define them."""
    month = frame["order_date"].dt.to_period("M").dt.start_time.dt.date
    out: dict[tuple[dt.date, tuple[object, ...]], float] = {}
    for key, part in frame.groupby([month, *[frame[b] for b in by]]):
        period, *values = key if isinstance(key, tuple) else (key,)
        sales = float(part["sales"].sum())
        out[(period, ("sales", *values))] = sales
        out[(period, ("orders", *values))] = float(part["order_id"].nunique())
        out[(period, ("margin", *values))] = float(part["profit"].sum()) / sales
        out[(period, ("discount", *values))] = float(part["discount"].mean())
        out[(period, ("biggest", *values))] = float(part["sales"].max())
    return out


def stored(folder: Path, kpi: str, by: tuple[str, ...]) -> dict[tuple[dt.date, tuple], float]:
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    return {
        (p.period, (kpi, *p.slice)): p.value
        for p in load(store, kpi, "month", by)
        if p.value is not None
    }


def close(got: float, wanted: float) -> bool:
    return math.isclose(got, wanted, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("way", ["kept", "new process"])
def test_superstore_orders_refreshed_a_day_at_a_time(tmp_path: Path, way: str) -> None:
    rows = superstore()
    (tmp_path / "orders").mkdir()
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    before = rows[rows["order_date"] < pd.Timestamp(DECEMBER)]
    before.to_parquet(tmp_path / "orders" / "2014-11.parquet", index=False)
    days = sorted(d for d in rows["order_date"].dt.date.unique() if d >= DECEMBER)[:DAYS]
    loaded = load_project(tmp_path)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
    kept = KeptWarehouse()

    def refresh() -> None:
        if way == "kept":
            with kept.use(loaded) as warehouse:
                refresh_into_store(loaded, warehouse, store, board=False)
        else:
            fresh = load_project(tmp_path)
            warehouse = Warehouse(fresh)
            try:
                refresh_into_store(fresh, warehouse, store)
            finally:
                warehouse.close()

    try:
        refresh()
        seen = before
        for day in days:
            one = rows[rows["order_date"].dt.date == day]
            one.to_parquet(tmp_path / "orders" / f"{day.isoformat()}.parquet", index=False)
            seen = pd.concat([seen, one], ignore_index=True)
            refresh()
            for by, kpis in (
                ((), ["sales", "orders", "discount"]),
                (("region",), ["sales", "orders", "margin"]),
                (("segment", "category"), ["sales"]),
                (("discounted",), ["sales"]),
                (("segment",), ["biggest"]),
            ):
                wanted = {
                    key: value
                    for key, value in monthly(seen, list(by)).items()
                    if key[1][0] in kpis
                }
                got: dict[tuple[dt.date, tuple], float] = {}
                for kpi in kpis:
                    got.update(stored(tmp_path, kpi, by))
                # A month and slice without orders has no row in pandas; tolok shows it as
                # 0 sales and 0 orders (and no margin, discount or biggest line).
                assert wanted.keys() <= got.keys(), (day, by, wanted.keys() - got.keys())
                assert all(got[key] == 0 for key in got.keys() - wanted.keys()), (day, by)
                for key, value in wanted.items():
                    assert close(got[key], value), (day, by, key, got[key], value)
            growth = stored(tmp_path, "growth", ())
            sales = {period: v for (period, _), v in monthly(seen, []).items() if _[0] == "sales"}
            wanted_growth = (sales[DECEMBER] - sales[dt.date(2014, 11, 1)]) / sales[
                dt.date(2014, 11, 1)
            ]
            assert close(growth[(DECEMBER, ("growth",))], wanted_growth), day
    finally:
        kept.close()
