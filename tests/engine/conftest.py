"""One suite, every backend: DuckDB, PostgreSQL, MariaDB and Spark (local mode).

Each backend gets the same fixture rows as tables; the same project then points its
`warehouse:` at it. A backend that cannot be reached is skipped locally with the reason and
fails the run in CI (CI=true), so a green CI always means all four were tested.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import unavailable
from tests.engine.fixture_data import (
    BALANCE_COLUMNS,
    BALANCES,
    DEAL_COLUMNS,
    DEALS,
    LEAD_COLUMNS,
    LEADS,
    ORDER_COLUMNS,
    ORDERS,
    SESSION_COLUMNS,
    SESSIONS,
)

BACKENDS = ["duckdb", "postgres", "mysql", "pyspark", "spark-connect"]
"""`pyspark` is Spark in the test process (local mode); `spark-connect` the cluster
`scripts/spark-cluster` starts (a standalone master, two workers), through its Spark Connect
server."""
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL_URL = "mysql://root:@127.0.0.1:3306/test"


def frames() -> dict[str, pd.DataFrame]:
    orders = pd.DataFrame(ORDERS, columns=ORDER_COLUMNS)
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"])
    sessions = pd.DataFrame(SESSIONS, columns=SESSION_COLUMNS)
    sessions["day"] = pd.to_datetime(sessions["day"]).dt.date
    leads = pd.DataFrame(LEADS, columns=LEAD_COLUMNS)
    leads["created_at"] = pd.to_datetime(leads["created_at"])
    deals = pd.DataFrame(DEALS, columns=DEAL_COLUMNS)
    deals["won_at"] = pd.to_datetime(deals["won_at"])
    balances = pd.DataFrame(BALANCES, columns=BALANCE_COLUMNS)
    balances["day"] = pd.to_datetime(balances["day"]).dt.date
    return {
        "orders": orders,
        "sessions": sessions,
        "leads": leads,
        "deals": deals,
        "balances": balances,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def warehouse_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse holding tables `tolok_orders`, `tolok_sessions`, … (`frames()`), by URL."""
    import ibis

    backend = request.param
    tables = frames()
    if backend == "duckdb":
        path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
        url = f"duckdb:///{path}"
        con = ibis.duckdb.connect(str(path))
    elif backend == "postgres":
        url = POSTGRES_URL
        try:
            con = ibis.connect("postgres://postgres@127.0.0.1:5432/test", connect_timeout=5)
        except Exception as exc:
            unavailable(backend, exc)
    elif backend == "mysql":
        url = MYSQL_URL
        try:
            con = ibis.connect("mysql://root:@127.0.0.1:3306/test", connect_timeout=5)
        except Exception as exc:
            unavailable(backend, exc)
    elif backend == "pyspark":
        session = request.getfixturevalue("spark_session")
        url = "pyspark://local[1]"
        con = ibis.pyspark.connect(session)
    else:
        from pyspark.sql import SparkSession

        url = request.getfixturevalue("spark_cluster").connect
        con = ibis.pyspark.connect(SparkSession.Builder().remote(url).create())
    for name, data in tables.items():
        con.create_table(f"tolok_{name}", data, overwrite=True)
    if backend in ("duckdb", "spark-connect"):
        con.disconnect()  # a Spark Connect client's session: the tables stay on the server
    return url


def write_project(folder: Path, warehouse: str, kpis: str, settings: str = "") -> Path:
    """A project over the fixture tables; `kpis` is the YAML of its kpis: mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"""\
name: Fixture shop
timezone: Asia/Jakarta
fiscal_year_start: april
warehouse: {warehouse}
{settings}
datasets:
  orders:
    source: tolok_orders
    time: ordered_at
    timezone: UTC
    dimensions: [region, status]
    measures:
      revenue: {{agg: sum, expr: amount, where: "status == 'paid'"}}
      orders: {{agg: count, where: "status == 'paid'"}}
      all_orders: {{agg: count}}
      buyers: {{agg: count_distinct, expr: customer_id, where: "status == 'paid'"}}
      median_amount: {{agg: median, expr: amount}}
      p90_amount: {{agg: percentile, p: 0.9, expr: amount}}
      avg_paid: {{agg: avg, expr: amount, where: "status == 'paid'"}}
      smallest: {{agg: min, expr: amount}}
      largest: {{agg: max, expr: amount}}
      first_orders: {{agg: sum_boolean, expr: is_first}}
      big_or_bali: {{agg: count, where: "amount >= 100 or region in ('Bali')"}}
  sessions:
    source: tolok_sessions
    time: day
    dimensions: [region]
    measures:
      visits: {{agg: sum}}
  leads:
    source: tolok_leads
    time: created_at
    timezone: UTC
    dimensions: [channel]
    measures:
      leads: {{agg: count_distinct, expr: lead_id}}
      won_30d:
        agg: conversion
        entity: lead_id
        to: deals
        to_where: "stage == 'won'"
        within: 30 days
      won_30d_rate: {{agg: conversion, entity: lead_id, to: deals, to_where: "stage == 'won'",
                     within: 30 days, as: rate}}
  deals:
    source: tolok_deals
    time: won_at
    timezone: UTC
    measures:
      deals_won: {{agg: count, where: "stage == 'won'"}}
kpis:
{kpis}
""",
        encoding="utf-8",
    )
    return folder
