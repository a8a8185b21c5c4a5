"""`tolok import dbt` (issue 24, item 2) on a dbt project written here: semantic models over a
DuckDB file its profile names, and a metric of every type (simple, simple with a filter,
ratio, derived with an offset, cumulative over a window and month to date, conversion), a
non-additive measure, and things with no counterpart, which the import reports with their
file and line. The project it writes validates, and each KPI equals hand-written SQL on the
same DuckDB file."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import tolok
from tolok.cli import app as cli

TODAY = "2026-05-15"  # January to April 2026 closed

DBT_PROJECT = "name: shop\nprofile: shop\nmodel-paths: [models]\n"
PROFILES = """\
shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: shop.duckdb
      schema: main
"""
SEMANTIC = """\
semantic_models:
  - name: orders
    model: ref('orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: ordered_at, type: time, type_params: {time_granularity: day}}
      - {name: region, type: categorical}
      - name: size
        type: categorical
        expr: "case when amount > 100 then 'large' else 'small' end"
    measures:
      - {name: revenue, agg: sum, expr: "amount - coalesce(discount, 0)"}
      - {name: order_count, agg: count, expr: "1"}
      - {name: customers, agg: count_distinct, expr: customer_id}
      - {name: paid_amount, agg: sum, expr: "case when status = 'paid' then amount else 0 end"}
      - {name: order_day, agg: max, expr: "date_trunc('day', ordered_at)"}
  - name: visits
    model: ref('visits')
    primary_entity: visit
    defaults: {agg_time_dimension: visited_at}
    entities:
      - {name: user, type: foreign, expr: user_id}
    dimensions:
      - {name: visited_at, type: time, type_params: {time_granularity: day}}
    measures:
      - {name: visitors, agg: count_distinct, expr: user_id}
  - name: signups
    model: ref('signups')
    defaults: {agg_time_dimension: signed_up_at}
    entities:
      - {name: user, type: primary, expr: user_id}
    dimensions:
      - {name: signed_up_at, type: time, type_params: {time_granularity: day}}
    measures:
      - {name: signups, agg: count, expr: "1"}
  - name: balances
    model: ref('balances')
    primary_entity: balance_row
    defaults: {agg_time_dimension: balance_day}
    entities:
      - {name: account, type: foreign, expr: account_id}
    dimensions:
      - {name: balance_day, type: time, expr: day, type_params: {time_granularity: day}}
    measures:
      - name: balance
        agg: sum
        non_additive_dimension: {name: balance_day, window_choice: max, window_groupings: [account]}
"""
METRICS = """\
metrics:
  - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
  - name: bali_revenue
    label: Revenue in Bali
    type: simple
    type_params: {measure: revenue}
    filter: "{{ Dimension('order__region') }} = 'Bali'"
  - {name: order_count, label: Orders, type: simple, type_params: {measure: order_count}}
  - {name: customers, label: Customers, type: simple, type_params: {measure: customers}}
  - name: aov
    label: Average order value
    description: Revenue per order.
    type: ratio
    type_params: {numerator: revenue, denominator: order_count}
  - name: revenue_growth
    label: Revenue growth
    type: derived
    type_params:
      expr: (revenue - revenue_before) / revenue_before
      metrics:
        - {name: revenue}
        - {name: revenue, offset_window: 1 month, alias: revenue_before}
  - name: revenue_3m
    label: Revenue over 3 months
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {window: 3 months}}
  - name: revenue_mtd
    label: Revenue month to date
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {grain_to_date: month}}
  - name: signup_rate
    label: Visitors who sign up within 7 days
    type: conversion
    type_params:
      conversion_type_params:
        entity: user
        calculation: conversion_rate
        base_measure: {name: visitors}
        conversion_measure: {name: signups}
        window: 7 days
  - {name: balance, label: Balance, type: simple, type_params: {measure: balance}}
  - name: lifetime_revenue
    label: Revenue to date
    type: cumulative
    type_params: {measure: revenue}
  - name: same_region_signups
    label: Sign-ups, same user
    type: conversion
    type_params:
      conversion_type_params:
        entity: user
        base_measure: {name: visitors}
        conversion_measure: {name: signups}
        window: 7 days
        constant_properties: [{base_property: user, conversion_property: user}]
  - name: lifetime_share
    label: Share of revenue to date
    type: ratio
    type_params: {numerator: revenue, denominator: lifetime_revenue}
"""


def warehouse(path: Path) -> None:
    rng = random.Random(24)
    start = dt.datetime(2026, 1, 1)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, ordered_at TIMESTAMP, "
            "region VARCHAR, amount DOUBLE, discount DOUBLE, status VARCHAR)"
        )
        rows = []
        for n in range(600):
            at = start + dt.timedelta(minutes=rng.randrange(120 * 24 * 60))
            discount = None if n % 3 else round(rng.uniform(0, 20), 2)
            rows.append((n, rng.randrange(80), at, rng.choice(["Bali", "Jawa", "Sulawesi"]),
                         round(rng.uniform(5, 250), 2), discount,
                         rng.choice(["paid", "paid", "refunded"])))  # fmt: skip
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("CREATE TABLE visits (user_id INTEGER, visited_at TIMESTAMP)")
        con.execute("CREATE TABLE signups (user_id INTEGER, signed_up_at TIMESTAMP)")
        visits, signups = [], []
        for user in range(300):
            first = start + dt.timedelta(minutes=rng.randrange(118 * 24 * 60))
            visits.append((user, first))
            visits.append((user, first + dt.timedelta(days=rng.randrange(1, 40))))
            if user % 2:
                signups.append((user, first + dt.timedelta(days=rng.randrange(0, 14))))
        con.executemany("INSERT INTO visits VALUES (?, ?)", visits)
        con.executemany("INSERT INTO signups VALUES (?, ?)", signups)
        con.execute("CREATE TABLE balances (account_id INTEGER, day DATE, balance DOUBLE)")
        balances = [(a, (start + dt.timedelta(days=d)).date(), round(rng.uniform(0, 1000), 2))
                    for a in range(4) for d in range(0, 120, 5)]  # fmt: skip
        con.executemany("INSERT INTO balances VALUES (?, ?, ?)", balances)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("dbt")
    dbt = root / "shop_dbt"
    (dbt / "models" / "marts").mkdir(parents=True)
    (dbt / "dbt_project.yml").write_text(DBT_PROJECT, encoding="utf-8")
    (dbt / "profiles.yml").write_text(PROFILES, encoding="utf-8")
    (dbt / "models" / "marts" / "semantic.yml").write_text(SEMANTIC, encoding="utf-8")
    (dbt / "models" / "metrics.yml").write_text(METRICS, encoding="utf-8")
    warehouse(dbt / "shop.duckdb")
    done = CliRunner().invoke(
        cli, ["import", "dbt", str(dbt), "--to", str(root / "kpis")], env={"TOLOK_LANG": "en"}
    )
    assert done.exit_code == 0, done.output
    return root / "kpis", done.output


def test_what_has_no_counterpart_is_reported_where_it_is_written(
    imported: tuple[Path, str],
) -> None:
    _, said = imported
    mapped, _, skipped = said.partition("Not mapped:")
    semantic, metrics = "models/marts/semantic.yml", "models/metrics.yml"
    for where, what, why in [
        (f"{semantic}:{line_of(SEMANTIC, 'name: size')}", "dimension orders.size", "is computed"),
        (f"{semantic}:{line_of(SEMANTIC, 'name: order_day')}", "measure orders.order_day",
         "DATE_TRUNC('DAY', ordered_at)"),
        (f"{metrics}:{line_of(METRICS, 'name: lifetime_revenue')}", "metric lifetime_revenue",
         "over all time"),
        (f"{metrics}:{line_of(METRICS, 'name: same_region_signups')}",
         "metric same_region_signups", "constant_properties"),
        (f"{metrics}:{line_of(METRICS, 'name: lifetime_share')}", "metric lifetime_share",
         "lifetime_revenue, which was not imported"),
    ]:  # fmt: skip
        line = next((x for x in skipped.splitlines() if what in x), "")
        assert where in line, (what, skipped)
        assert why in line, (what, line)
    for kpi in ("revenue", "bali_revenue", "aov", "revenue_growth", "revenue_3m",
                "revenue_mtd", "signup_rate", "balance"):  # fmt: skip
        assert f"KPI {kpi}:" in mapped, kpi
    assert "is valid: 10 KPIs, 4 datasets" in said


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def hand(sql: str, folder: Path) -> dict[str, float]:
    with duckdb.connect(str(folder / "shop.duckdb"), read_only=True) as con:
        return {str(k)[:10]: float(v) for k, v in con.execute(sql).fetchall() if v is not None}


def shown(project: tolok.Project, kpi: str) -> dict[str, float]:
    frame = project.series(kpi, start="2026-01", end="2026-04")
    return {r.period.date().isoformat(): r.value for r in frame.itertuples() if r.value == r.value}


def test_each_kpi_equals_hand_written_sql(
    imported: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = imported
    dbt = folder.parent / "shop_dbt"
    monkeypatch.setenv("TOLOK_TODAY", TODAY)
    project = tolok.open(folder)
    month = "date_trunc('month', ordered_at)"
    revenue = f"SELECT {month} m, sum(amount - coalesce(discount, 0)) r FROM orders GROUP BY 1"
    expected = {
        "revenue": revenue,
        "bali_revenue": revenue.replace("GROUP BY", "WHERE region = 'Bali' GROUP BY"),
        "order_count": f"SELECT {month}, count(*) FROM orders GROUP BY 1",
        "customers": f"SELECT {month}, count(DISTINCT customer_id) FROM orders GROUP BY 1",
        "aov": f"SELECT {month}, sum(amount - coalesce(discount, 0)) / count(*) FROM orders "
        "GROUP BY 1",
        "revenue_growth": f"SELECT m, r / lag(r) OVER (ORDER BY m) - 1 FROM ({revenue})",
        "revenue_3m": f"SELECT m, sum(r) OVER (ORDER BY m ROWS 2 PRECEDING) FROM ({revenue})",
        "balance": "SELECT m, sum(balance) FROM (SELECT date_trunc('month', day) m, account_id, "
        "arg_max(balance, day) balance FROM balances GROUP BY ALL) GROUP BY 1",
        "signup_rate": "SELECT m, count(DISTINCT CASE WHEN converted THEN user_id END) / "
        "count(DISTINCT user_id) FROM (SELECT date_trunc('month', v.visited_at) m, v.user_id, "
        "EXISTS (SELECT 1 FROM signups s WHERE s.user_id = v.user_id AND s.signed_up_at >= "
        "v.visited_at AND s.signed_up_at <= v.visited_at + INTERVAL 7 DAY) converted "
        "FROM visits v) GROUP BY 1",
    }
    for kpi, sql in expected.items():
        want = {k: v for k, v in hand(sql, dbt).items() if k <= "2026-04-01"}
        got = shown(project, kpi)
        assert got.keys() == want.keys() or kpi in ("revenue_growth", "revenue_3m"), kpi
        for period, value in want.items():
            if period in got:
                assert got[period] == pytest.approx(value, rel=1e-9), (kpi, period)
    mtd = project.series("revenue_mtd", start="2026-02-01", end="2026-02-28")
    daily = hand(
        "SELECT d, sum(r) OVER (ORDER BY d) FROM (SELECT date_trunc('day', ordered_at) d, "
        "sum(amount - coalesce(discount, 0)) r FROM orders WHERE ordered_at >= '2026-02-01' "
        "AND ordered_at < '2026-03-01' GROUP BY 1)",
        dbt,
    )
    for row in mtd.itertuples():
        day = row.period.date().isoformat()
        if day in daily:
            assert row.value == pytest.approx(daily[day], rel=1e-9), day


def test_in_indonesian_the_report_is_indonesian(imported: tuple[Path, str], tmp_path: Path) -> None:
    dbt = imported[0].parent / "shop_dbt"
    done = CliRunner().invoke(
        cli, ["import", "dbt", str(dbt), "--to", str(tmp_path / "id")], env={"TOLOK_LANG": "id"}
    )
    assert done.exit_code == 0, done.output
    assert "Tidak dipetakan:" in done.output
    assert "metrik lifetime_revenue: metrik kumulatif sepanjang waktu" in done.output
    for english in ("has no counterpart", "Not mapped", "semantic model", "is valid"):
        assert english not in done.output


def test_the_warehouse_comes_from_the_profile_or_the_option(tmp_path: Path) -> None:
    from tolok.importers.dbt import DbtError, read_dbt

    (tmp_path / "dbt_project.yml").write_text(DBT_PROJECT, encoding="utf-8")
    postgres = (
        "shop:\n  target: prod\n  outputs:\n    prod: {type: postgres, user: kpi, host: db, "
        "port: 5433, dbname: shop, schema: marts}\n"
    )
    (tmp_path / "profiles.yml").write_text(postgres, encoding="utf-8")
    assert read_dbt(tmp_path).settings["warehouse"] == "postgresql://kpi@db:5433/shop"
    snowflake = "shop:\n  target: dev\n  outputs:\n    dev: {type: snowflake, account: x}\n"
    (tmp_path / "profiles.yml").write_text(snowflake, encoding="utf-8")
    with pytest.raises(DbtError, match="target is snowflake: tolok reads DuckDB and PostgreSQL"):
        read_dbt(tmp_path)
    given = "duckdb:///copy.duckdb"
    assert read_dbt(tmp_path, warehouse=given).settings["warehouse"] == given
    with pytest.raises(DbtError, match=r"has no dbt_project\.yml"):
        read_dbt(tmp_path / "nowhere")
