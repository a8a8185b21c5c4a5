"""A subscription table (one row per customer and month, MRR at its start and end) at month,
quarter and year grain on DuckDB, PostgreSQL and MariaDB: MRR at the end of each period,
customers paying at its start, and churn (customers who cancelled in the period over those
paying at its start). Expected values from the rows in plain Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import unavailable
from tests.engine.conftest import MYSQL_URL, POSTGRES_URL
from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Settings

Row = tuple[dt.date, str, float, float]  # month, customer, MRR at its start, at its end


def _rows() -> list[Row]:
    """Fifteen months, January 2025 to March 2026: a new customer most months, plans that
    grow, and every fourth customer cancelling after five months (a last row with end 0)."""
    rows: list[Row] = []
    months = [dt.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(15)]
    for number in range(12):
        customer, joined = f"c{number}", number
        price = 20.0 + 10 * (number % 3)
        for index in range(joined, len(months)):
            age = index - joined
            start = 0.0 if age == 0 else price + age
            cancelled = number % 4 == 0 and age == 5
            end = 0.0 if cancelled else price + age + 1
            rows.append((months[index], customer, start, end))
            if cancelled:
                break
    return rows


@pytest.fixture(scope="module", params=["duckdb", "postgres", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    import ibis

    frame = pd.DataFrame(_rows(), columns=["month", "customer_id", "start_mrr", "end_mrr"])
    if request.param == "duckdb":
        path = tmp_path_factory.mktemp("subs") / "warehouse.duckdb"
        url, con = f"duckdb:///{path}", ibis.duckdb.connect(str(path))
    else:
        url = POSTGRES_URL if request.param == "postgres" else MYSQL_URL
        try:
            con = ibis.connect(url.replace("postgresql://", "postgres://"), connect_timeout=5)
        except Exception as exc:
            unavailable(request.param, exc)
    con.create_table("tolok_subscriptions", frame, overwrite=True)
    con.disconnect()
    return url


def _values(url: str, folder: Path, grain: Grain) -> dict[str, dict[dt.date, float | None]]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"""\
name: Subscriptions
warehouse: {url}
datasets:
  subscriptions:
    source: tolok_subscriptions
    time: month
    measures:
      mrr: {{agg: sum, expr: end_mrr, over_time: last}}
      customers_at_start: {{agg: sum, expr: "case(start_mrr > 0, 1, 0)", over_time: first}}
      cancelled: {{agg: count, where: "start_mrr > 0 and end_mrr == 0"}}
kpis:
  end_mrr: {{formula: mrr}}
  paying_at_start: {{formula: customers_at_start}}
  churn: {{formula: "ratio(cancelled, customers_at_start)", unit: percent}}
""",
        encoding="utf-8",
    )
    loaded = load_project(folder)
    assert loaded.ok, loaded.problems.to_json(folder)
    warehouse = Warehouse(loaded)
    try:
        found = compute(loaded, warehouse, Request(("end_mrr", "paying_at_start", "churn"), grain))
    finally:
        warehouse.close()
    return {name: {p.period: p.value for p in s.points} for name, s in found.items()}


def _expected(grain: Grain) -> dict[str, dict[dt.date, float]]:
    calendar = Calendar.of(Settings(name="x"))
    months: dict[dt.date, dict[dt.date, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in _rows():
        months[calendar.start_of(row[0], grain)][row[0]].append(row)
    out: dict[str, dict[dt.date, float]] = defaultdict(dict)
    for period, by_month in months.items():
        last, first = by_month[max(by_month)], by_month[min(by_month)]
        out["end_mrr"][period] = sum(end for _, _, _, end in last)
        paying = sum(1 for _, _, start, _ in first if start > 0)
        out["paying_at_start"][period] = paying
        cancelled = sum(
            1 for rows in by_month.values() for _, _, start, end in rows if start > 0 and end == 0
        )
        if paying:
            out["churn"][period] = cancelled / paying
    return out


@pytest.mark.parametrize("grain", [Grain.month, Grain.quarter, Grain.year])
def test_mrr_customers_at_start_and_churn(url: str, tmp_path: Path, grain: Grain) -> None:
    found = _values(url, tmp_path, grain)
    expected = _expected(grain)
    for name, values in expected.items():
        for period, value in values.items():
            assert found[name][period] == pytest.approx(value), (name, period)
    # The year 2025 ends with December's MRR, not the sum of its months.
    if grain is Grain.year:
        december = sum(end for month, _, _, end in _rows() if month == dt.date(2025, 12, 1))
        assert found["end_mrr"][dt.date(2025, 1, 1)] == pytest.approx(december)
