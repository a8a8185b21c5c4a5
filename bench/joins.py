"""Benchmark: a breakdown through a join (`refs`), against the SQL an analyst would write.

    python bench/generate.py --rows 10000000      # once: bench/data/*.parquet
    python bench/joins.py --repeat 5

Revenue and order count per month by the customer's region, where the region lives in
`customers.parquet` (1 M customers for 10 M orders) and orders carry `customer_id`:

- tolok: a project whose `orders` refer to `customers` (`refs: {customer_id: customers}`),
  computed by month with `--by customers.region` — the join is made below the aggregation.
- SQL: one hand-written DuckDB query, `... FROM orders LEFT JOIN customers USING
  (customer_id) GROUP BY month, region`, over the same files: the same answer as tolok's
  (an order whose customer is not in the lookup is kept, with no region). The same query
  with an INNER JOIN is printed too: DuckDB runs it faster, but it drops such orders (the
  two agree here only because every order's customer is known).
- tolok, no join: the same breakdown by the orders' own `region` column (what it costs to
  have the region in the fact table instead).

Both in-process (median of --repeat runs, after one warm-up) and as the command a user types
(`tolok show` vs `python -c` running the SQL, start-up included), interleaved, with the load
average. The results of tolok and SQL are checked to agree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = """\
name: Join bench
timezone: UTC
data_dirs: ['{data}']
datasets:
  orders:
    source: file:{data}/orders.parquet
    time: ordered_at
    dimensions: [region]
    refs: {{customer_id: customers}}
    measures:
      revenue: {{agg: sum, expr: amount}}
      orders: {{agg: count}}
  customers:
    source: file:{data}/customers.parquet
    key: [customer_id]
    dimensions: [region]
kpis:
  revenue: {{formula: revenue, grain: month}}
  orders: {{formula: orders, grain: month}}
"""

SQL = """\
SELECT date_trunc('month', o.ordered_at) AS month, c.region,
       sum(o.amount) AS revenue, count(*) AS orders
FROM read_parquet('{data}/orders.parquet') o
{join} JOIN read_parquet('{data}/customers.parquet') c USING (customer_id)
GROUP BY ALL ORDER BY ALL
"""


def project(data: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tolok-joins-"))
    (folder / "tolok.yaml").write_text(PROJECT.format(data=data.resolve()), encoding="utf-8")
    return folder


def tolok_once(folder: Path, by: str) -> dict[tuple[str, str], tuple[float, float]]:
    from tolok.engine.compute import Request, compute
    from tolok.engine.warehouse import Warehouse
    from tolok.spec import load_project
    from tolok.spec.models import Grain

    loaded = load_project(folder)
    assert loaded.ok
    warehouse = Warehouse(loaded)
    try:
        found = compute(loaded, warehouse, Request(("revenue", "orders"), Grain.month, by=(by,)))
    finally:
        warehouse.close()
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for revenue, orders in zip(found["revenue"].points, found["orders"].points, strict=True):
        key = (revenue.period.isoformat()[:7], str(revenue.slice[0][1]))
        out[key] = (revenue.value or 0.0, orders.value or 0.0)
    return out


def sql_once(data: Path, join: str = "LEFT") -> dict[tuple[str, str], tuple[float, float]]:
    import duckdb

    rows = duckdb.connect().sql(SQL.format(data=data.resolve(), join=join)).fetchall()
    return {(m.isoformat()[:7], str(r)): (float(v), float(n)) for m, r, v, n in rows}


def agree(
    one: dict[tuple[str, str], tuple[float, float]],
    other: dict[tuple[str, str], tuple[float, float]],
) -> None:
    """The same months and regions, the same counts, sums within rounding."""
    assert one.keys() == other.keys(), "the results differ in their months and regions"
    for key, (revenue, orders) in other.items():
        assert abs(one[key][0] - revenue) <= 1e-6 * abs(revenue), key
        assert one[key][1] == orders, key


def timed(run: Any, repeat: int) -> list[float]:
    run()  # warm-up: files cached, modules imported
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        out.append(time.perf_counter() - start)
    return out


def command(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data: Path = args.data
    folder = project(data)
    tolok, sql = tolok_once(folder, "customers.region"), sql_once(data)
    agree(tolok, sql)
    agree(sql_once(data, "INNER"), sql)  # every order's customer is known
    print(f"load average before: {os.getloadavg()}")
    ways = {
        "SQL (DuckDB, hand-written join)": lambda: sql_once(data),
        "SQL, INNER JOIN (drops unknown keys)": lambda: sql_once(data, "INNER"),
        "tolok, by customers.region (join)": lambda: tolok_once(folder, "customers.region"),
        "tolok, by orders' own region": lambda: tolok_once(folder, "region"),
    }
    medians = {name: statistics.median(timed(run, args.repeat)) for name, run in ways.items()}
    base = medians["SQL (DuckDB, hand-written join)"]
    print("in-process, median seconds (ratio to SQL):")
    for name, value in medians.items():
        print(f"  {name:38s} {value:7.3f}  {value / base:5.2f}x")
    tolok_bin = str(Path(sys.executable).parent / "tolok")
    show = [tolok_bin, "show", "revenue", "--by", "customers.region", "--format", "json"]
    query = SQL.format(data=data.resolve(), join="LEFT")
    script = f"import duckdb; duckdb.connect().sql({query!r}).fetchall()"
    commands = {"SQL (python -c duckdb)": [sys.executable, "-c", script], "tolok show": show}
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        for name, argv in commands.items():
            runs[name].append(command(argv, folder))
    base = statistics.median(runs["SQL (python -c duckdb)"])
    print("as a command, start-up included, median seconds (ratio to SQL):")
    for name, values in runs.items():
        value = statistics.median(values)
        print(f"  {name:38s} {value:7.3f}  {value / base:5.2f}x")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
