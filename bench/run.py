"""Benchmark: seven KPIs by month, by month x region and by quarter, three ways.

    python bench/generate.py --rows 10000000      # once: bench/data/*.parquet
    python bench/run.py --repeat 5                # tolok vs hand-written DuckDB SQL vs pandas

KPIs: revenue, order count, average order value, gross margin %, conversion rate (orders /
sessions), new customers, month-over-month revenue growth.

- tolok: a project over the Parquet files; one `compute` per grain and breakdown, exactly
  what `tolok refresh` runs (measures of one dataset share one scan).
- SQL: one hand-written DuckDB query per KPI and breakdown (21 queries), the way an analyst
  writes them, filters in WHERE.
- pandas: idiomatic groupby over the Parquet files read with pyarrow (read included), and
  the same with the frames already in memory.

Each way runs in its own process (so peak memory is its own); every run of a way computes
all 21 results; the numbers of the three ways are checked to agree. Printed: median and
min-max seconds, ratios against the SQL baseline measured in the same run, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KPIS = ["revenue", "orders", "aov", "margin", "conversion", "new_customers", "growth"]
SHAPES = {"month": ("month", False), "month_region": ("month", True), "quarter": ("quarter", False)}
Results = dict[str, list[list[Any]]]  # "kpi/shape" -> sorted rows [period, (region), value]


def run_tolok(data: Path) -> Results:
    import datetime as dt

    from tolok.engine.compute import Request, compute
    from tolok.engine.warehouse import Warehouse
    from tolok.spec import load_project
    from tolok.spec.models import Grain

    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-"))
    (folder / "tolok.yaml").write_text(PROJECT.format(data=data), encoding="utf-8")
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    warehouse = Warehouse(loaded)
    out: Results = {}
    for shape, (grain, by_region) in SHAPES.items():
        request = Request(tuple(KPIS), Grain(grain), ("region",) if by_region else ())
        for name, series in compute(loaded, warehouse, request).items():
            rows = []
            for point in series.points:
                period = point.period.isoformat() if isinstance(point.period, dt.date) else ""
                rows.append([period, *[v for _, v in point.slice], point.value])
            out[f"{name}/{shape}"] = rows
    return out


PROJECT = """\
name: Benchmark
timezone: UTC
warehouse: duckdb://
data_dirs: ['{data}']
datasets:
  orders:
    source: file:{data}/orders.parquet
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {{agg: sum, expr: amount}}
      cost: {{agg: sum}}
      orders: {{agg: count}}
      new_customers: {{agg: count_distinct, expr: customer_id, where: is_first}}
  sessions:
    source: file:{data}/sessions.parquet
    time: started_at
    dimensions: [region]
    measures:
      sessions: {{agg: count}}
kpis:
  revenue: {{formula: revenue}}
  orders: {{formula: orders}}
  aov: {{formula: revenue / orders}}
  margin: {{formula: (revenue - cost) / revenue}}
  conversion: {{formula: orders / sessions}}
  new_customers: {{formula: new_customers}}
  growth: {{formula: growth(revenue)}}
"""


def sql_queries(data: Path) -> dict[str, str]:
    orders, sessions = (
        f"read_parquet('{data}/orders.parquet')",
        f"read_parquet('{data}/sessions.parquet')",
    )
    out = {}
    for shape, (grain, by_region) in SHAPES.items():
        key = f"CAST(date_trunc('{grain}', ordered_at) AS DATE) AS period"
        skey = f"CAST(date_trunc('{grain}', started_at) AS DATE) AS period"
        region = ", region" if by_region else ""
        group = f"GROUP BY period{region} ORDER BY period{region}"
        simple = {
            "revenue": "sum(amount)",
            "orders": "count(*)",
            "aov": "sum(amount) / count(*)",
            "margin": "(sum(amount) - sum(cost)) / sum(amount)",
        }
        for kpi, value in simple.items():
            out[f"{kpi}/{shape}"] = f"SELECT {key}{region}, {value} FROM {orders} {group}"
        out[f"new_customers/{shape}"] = (
            f"SELECT {key}{region}, count(DISTINCT customer_id) FROM {orders} "
            f"WHERE is_first {group}"
        )
        join = "USING (period, region)" if by_region else "USING (period)"
        out[f"conversion/{shape}"] = (
            f"WITH o AS (SELECT {key}{region}, count(*) AS n FROM {orders} GROUP BY ALL), "
            f"s AS (SELECT {skey}{region}, count(*) AS n FROM {sessions} GROUP BY ALL) "
            f"SELECT period{region}, o.n / s.n FROM o JOIN s {join} ORDER BY period{region}"
        )
        partition = "PARTITION BY region " if by_region else ""
        out[f"growth/{shape}"] = (
            f"SELECT {key}{region}, sum(amount) / lag(sum(amount)) OVER "
            f"({partition}ORDER BY period) - 1 FROM {orders} {group}"
        )
    return out


def run_sql(data: Path) -> Results:
    import duckdb

    con = duckdb.connect()
    out: Results = {}
    for name, query in sql_queries(data).items():
        out[name] = [[_iso(r[0]), *r[1:]] for r in con.execute(query).fetchall()]
    return out


def load_pandas(data: Path) -> tuple[Any, Any]:
    import pandas as pd

    orders = pd.read_parquet(
        data / "orders.parquet",
        columns=["ordered_at", "customer_id", "region", "amount", "cost", "is_first"],
    )
    sessions = pd.read_parquet(data / "sessions.parquet", columns=["started_at", "region"])
    return orders, sessions


def compute_pandas(orders: Any, sessions: Any) -> Results:
    out: Results = {}
    for shape, (grain, by_region) in SHAPES.items():
        freq = "M" if grain == "month" else "Q"
        keys = ["period", "region"] if by_region else ["period"]
        o = orders.assign(period=orders["ordered_at"].dt.to_period(freq).dt.start_time)
        s = sessions.assign(period=sessions["started_at"].dt.to_period(freq).dt.start_time)
        g = o.groupby(keys, sort=True).agg(
            revenue=("amount", "sum"), cost=("cost", "sum"), orders=("amount", "size")
        )
        new = o[o["is_first"]].groupby(keys)["customer_id"].nunique()
        visits = s.groupby(keys).size()
        frames = {
            "revenue": g["revenue"],
            "orders": g["orders"],
            "aov": g["revenue"] / g["orders"],
            "margin": (g["revenue"] - g["cost"]) / g["revenue"],
            "conversion": g["orders"] / visits,
            "new_customers": new,
            "growth": (
                g["revenue"].groupby(level="region").pct_change()
                if by_region
                else g["revenue"].pct_change()
            ),
        }
        for kpi, series in frames.items():
            rows = []
            for index, value in series.items():
                parts = index if isinstance(index, tuple) else (index,)
                rows.append([_iso(parts[0]), *parts[1:], _plain(value)])
            out[f"{kpi}/{shape}"] = rows
    return out


def _iso(value: Any) -> str:
    return (
        value.date().isoformat() if hasattr(value, "date") and callable(value.date) else str(value)
    )


def _plain(value: Any) -> Any:
    number = float(value)
    return None if number != number else number


def child(way: str, data: Path, repeat: int) -> None:
    """One way, `repeat` times, in this process; prints timings and results as JSON."""
    times: list[float] = []
    results: Results = {}
    frames = load_pandas(data) if way == "pandas-in-memory" else None
    for _ in range(repeat):
        began = time.perf_counter()
        if way == "tolok":
            results = run_tolok(data)
        elif way == "sql":
            results = run_sql(data)
        elif way == "pandas":
            results = compute_pandas(*load_pandas(data))
        else:
            assert frames is not None
            results = compute_pandas(*frames)
        times.append(time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "peak_mb": peak, "results": results}))


def agree(base: Results, other: Results) -> list[str]:
    """Results whose values differ beyond floating-point noise. A period (or region) that
    one way leaves out because no row matched — `WHERE is_first` in a month without new
    customers — must be 0 in the way that keeps it."""
    bad = []
    for name, rows in base.items():
        mine = {tuple(r[:-1]): r[-1] for r in rows}
        theirs = {tuple(r[:-1]): r[-1] for r in other.get(name, [])}
        for key in mine.keys() | theirs.keys():
            a, b = mine.get(key, 0), theirs.get(key, 0)
            if not _close(a, b):
                bad.append(f"{name} {key}: {a} vs {b}")
                break
    return bad


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data.resolve()
    if args.child:
        child(args.child, data, args.repeat)
        return
    ways = ["sql", "tolok", "pandas", "pandas-in-memory"]
    report: dict[str, dict[str, Any]] = {}
    for way in ways:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--data",
                str(data),
                "--repeat",
                str(args.repeat),
                "--child",
                way,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        report[way] = json.loads(done.stdout)
    print_report(report, data)


def print_report(report: dict[str, dict[str, Any]], data: Path) -> None:
    base = report["sql"]
    rows = _count_rows(data)
    print(f"data: {rows['orders']:,} orders, {rows['sessions']:,} sessions ({data})")
    print(
        f"7 KPIs x (month, month x region, quarter) = 21 results per run; "
        f"{len(base['times'])} runs each"
    )
    print(f"{'way':<18}{'median s':>10}{'min-max s':>16}{'x SQL':>8}{'x pandas':>10}{'peak MB':>9}")
    pandas_median = statistics.median(report["pandas"]["times"])
    sql_median = statistics.median(base["times"])
    for way, result in report.items():
        times = result["times"]
        median = statistics.median(times)
        print(
            f"{way:<18}{median:>10.3f}{f'{min(times):.3f}-{max(times):.3f}':>16}"
            f"{median / sql_median:>8.2f}{median / pandas_median:>10.2f}{result['peak_mb']:>9.0f}"
        )
    for way in ("tolok", "pandas", "pandas-in-memory"):
        bad = agree(base["results"], report[way]["results"])
        print(f"{way} agrees with SQL: {'yes' if not bad else 'NO: ' + '; '.join(bad[:3])}")


def _count_rows(data: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {
        name: pq.ParquetFile(data / f"{name}.parquet").metadata.num_rows
        for name in ("orders", "sessions")
    }


if __name__ == "__main__":
    main()
