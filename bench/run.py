"""Benchmark: seven KPIs by month, by month x region and by quarter, against the best
hand-written SQL, in-process and as the command a user types.

    python bench/generate.py --rows 10000000      # once: bench/data/*.parquet, warehouse.duckdb
    python bench/run.py --rounds 5                # every way, interleaved, both sources
    python bench/run.py --sizes 1000000,10000000,30000000 --rounds 3 --no-pandas
                                                  # each size (its data made where missing,
                                                  # bench/data-<rows>), then how cost grows

KPIs: revenue, order count, average order value, gross margin %, conversion rate (orders /
sessions), new customers (distinct first-time buyers), month-over-month revenue growth.

Ways, each run in a process of its own (so its start-up, CPU and peak memory are its own):

- `sql` (the baseline): the strongest SQL a DuckDB user would write by hand. One statement
  per shape: every sum and count of orders in one scan, the distinct count of first-time
  buyers in a scan of its own with `WHERE is_first` (in the same scan, as
  `count(DISTINCT CASE WHEN …)`, it costs 0.54 s against 0.20 + 0.11 s apart at 10 M rows;
  `FILTER` is slower still: BENCHMARKS.md), sessions in another, joined for the conversion
  rate, growth by `lag` over the aggregate.
- `sql by day`: the baseline with its sums and counts grouped by day first and the days
  then by period, as tolok groups them: DuckDB's `date_trunc` runs once per day instead of
  once per row, which halves a scan of 30 M sessions. Printed so that what tolok gains
  from it is not taken for a weak baseline: a DuckDB user who knows it writes this.
- `sql per KPI`: one hand-written query per KPI and shape (21), filters in WHERE: what an
  analyst writes first. A second line, not the baseline.
- `tolok`: in the child, `refresh` of the project (its 7 KPIs by month with a breakdown by
  region, and again by quarter): what `tolok refresh` computes, without the store (the
  project loaded and the warehouse connected inside the clock).
- `tolok refresh --full`: the command, on a project over the same data with an SQLite store
  (the board it prints goes to /dev/null).
- `pandas`: idiomatic groupby, the Parquet files read with pyarrow (read included); and
  `pandas in memory`, its frames read before the clock starts (in-process time only).

Sources: the Parquet files (`read_parquet`) and the same data as native DuckDB tables
(`warehouse.duckdb`); pandas reads Parquet only.

Rounds are interleaved: each round runs every way once, in a rotated order, so that a change
in the machine's load falls on all of them. Per way: the in-process time (the work alone,
timed inside the child, its libraries imported before the clock starts) and the command
(the child process from start to exit, start-up included: wall time and CPU time, user +
system, from `wait4`), both as medians, with ratios against `sql` measured in the same
rounds, and peak RSS. `python -c pass` is measured in the same rounds as the floor of any
command. The load average is printed per round. The results of every way are checked
against `sql` (values within 1e-9, relative).
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import resource
import shutil
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
SOURCES = ("parquet", "native")


def tables(data: Path, source: str) -> tuple[str, str]:
    """How SQL names the orders and sessions of `source`."""
    if source == "native":
        return "orders", "sessions"
    return (
        f"read_parquet('{data.as_posix()}/orders.parquet')",
        f"read_parquet('{data.as_posix()}/sessions.parquet')",
    )


def connect(data: Path, source: str) -> Any:
    import duckdb

    if source == "native":
        return duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    return duckdb.connect()


# --- the baseline: one statement per shape, every measure in one scan of each table ---


def strong_queries(data: Path, source: str, by_day: bool = False) -> dict[str, str]:
    """The baseline's statements; `by_day`: sums and counts grouped by day first and the
    days then by period, as tolok does (date_trunc once per day, not once per row)."""
    orders, sessions = tables(data, source)
    out = {}
    for shape, (grain, by_region) in SHAPES.items():
        keys = "period, region" if by_region else "period"
        region = ", region" if by_region else ""
        partition = "PARTITION BY region " if by_region else ""
        if by_day:
            o = f"""SELECT CAST(date_trunc('{grain}', day) AS DATE) AS period{region},
                         sum(revenue) AS revenue, sum(cost) AS cost, sum(orders) AS orders
                  FROM (SELECT CAST(ordered_at AS DATE) AS day{region}, sum(amount) AS revenue,
                               sum(cost) AS cost, count(*) AS orders
                        FROM {orders} GROUP BY ALL) GROUP BY ALL"""
            s = f"""SELECT CAST(date_trunc('{grain}', day) AS DATE) AS period{region},
                         sum(sessions) AS sessions
                  FROM (SELECT CAST(started_at AS DATE) AS day{region}, count(*) AS sessions
                        FROM {sessions} GROUP BY ALL) GROUP BY ALL"""
        else:
            o = f"""SELECT CAST(date_trunc('{grain}', ordered_at) AS DATE) AS period{region},
                         sum(amount) AS revenue, sum(cost) AS cost, count(*) AS orders
                  FROM {orders} GROUP BY ALL"""
            s = f"""SELECT CAST(date_trunc('{grain}', started_at) AS DATE) AS period{region},
                         count(*) AS sessions
                  FROM {sessions} GROUP BY ALL"""
        out[shape] = f"""
            WITH o AS ({o}), n AS (
                SELECT CAST(date_trunc('{grain}', ordered_at) AS DATE) AS period{region},
                       count(DISTINCT customer_id) AS new_customers
                FROM {orders} WHERE is_first GROUP BY ALL
            ), s AS ({s})
            SELECT {keys}, revenue, orders, revenue / orders AS aov,
                   (revenue - cost) / revenue AS margin, orders / sessions AS conversion,
                   coalesce(new_customers, 0) AS new_customers,
                   revenue / lag(revenue) OVER ({partition}ORDER BY period) - 1 AS growth
            FROM o LEFT JOIN n USING ({keys}) LEFT JOIN s USING ({keys})
            ORDER BY {keys}
        """
    return out


def run_sql(data: Path, source: str, by_day: bool = False) -> Results:
    con = connect(data, source)
    out: Results = {}
    for shape, query in strong_queries(data, source, by_day).items():
        width = 2 if SHAPES[shape][1] else 1
        rows = con.execute(query).fetchall()
        for k, kpi in enumerate(KPIS):
            out[f"{kpi}/{shape}"] = [[_iso(r[0]), *r[1:width], _plain(r[width + k])] for r in rows]
    return out


# --- the second line: one query per KPI and shape ---


def per_kpi_queries(data: Path, source: str) -> dict[str, str]:
    orders, sessions = tables(data, source)
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


def run_sql_per_kpi(data: Path, source: str) -> Results:
    con = connect(data, source)
    out: Results = {}
    for name, query in per_kpi_queries(data, source).items():
        out[name] = [[_iso(r[0]), *r[1:-1], _plain(r[-1])] for r in con.execute(query).fetchall()]
    return out


# --- tolok ---

PROJECT = """\
name: Benchmark
timezone: UTC
warehouse: {warehouse}
store: sqlite:///tolok.db
data_dirs: ['{data}']
datasets:
  orders:
    source: {orders}
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {{agg: sum, expr: amount}}
      cost: {{agg: sum}}
      orders: {{agg: count}}
      new_customers: {{agg: count_distinct, expr: customer_id, where: is_first}}
  sessions:
    source: {sessions}
    time: started_at
    dimensions: [region]
    measures:
      sessions: {{agg: count}}
kpis:
{kpis}"""


FORMULAS = {
    "revenue": "revenue",
    "orders": "orders",
    "aov": "revenue / orders",
    "margin": "(revenue - cost) / revenue",
    "conversion": "orders / sessions",
    "new_customers": "new_customers",
    "growth": "growth(revenue)",
}


def kpi_lines() -> str:
    """Each KPI by month with its breakdown by region, and again by quarter (`NAME_quarter`):
    the 21 results `tolok refresh` keeps are the 21 the other ways compute."""
    lines = []
    for name, formula in FORMULAS.items():
        lines.append(f"  {name}: {{formula: '{formula}', breakdowns: [region]}}")
        lines.append(f"  {name}_quarter: {{formula: '{formula}', grain: quarter}}")
    return "\n".join(lines) + "\n"


def project(data: Path, source: str) -> Path:
    """A tolok project over `source`, in a new temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"tolok-bench-{source}-"))
    if source == "native":
        settings = {
            "warehouse": f"duckdb:///{(data / 'warehouse.duckdb').as_posix()}",
            "orders": "orders",
            "sessions": "sessions",
        }
    else:
        settings = {
            "warehouse": "duckdb://",
            "orders": f"file:{data.as_posix()}/orders.parquet",
            "sessions": f"file:{data.as_posix()}/sessions.parquet",
        }
    text = PROJECT.format(data=data.as_posix(), kpis=kpi_lines(), **settings)
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    return folder


def run_tolok(folder: Path) -> Results:
    """What `tolok refresh` computes (`refresh`), without writing it to the store."""
    import datetime as dt

    from tolok.engine.refresh import refresh
    from tolok.engine.warehouse import Warehouse
    from tolok.spec import load_project

    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    refreshed = refresh(loaded, Warehouse(loaded))
    assert not refreshed.failed, refreshed.failed
    shaped = [
        *((f"{n}/month", s) for n, s in refreshed.totals.items() if n in FORMULAS),
        *((f"{n[: -len('_quarter')]}/quarter", s) for n, s in refreshed.totals.items()
          if n.endswith("_quarter")),
        *((f"{n}/month_region", s) for (n, _), s in refreshed.breakdowns.items()),
    ]  # fmt: skip
    out: Results = {}
    for key, series in shaped:
        rows = []
        for point in series.points:
            period = point.period.isoformat() if isinstance(point.period, dt.date) else ""
            rows.append([period, *[v for _, v in point.slice], _plain(point.value)])
        out[key] = rows
    return out


# --- pandas ---


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
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


# --- one way in a child process ---


def child(way: str, data: Path, source: str, folder: Path) -> None:
    """One run of `way`, in this process: prints its in-process time and results as JSON."""
    frames = load_pandas(data) if way == "pandas in memory" else None
    # Libraries are imported before the clock starts: in-process means in a process that
    # already has them (a notebook, a server); the command's time counts them.
    if way.startswith("sql"):
        import duckdb  # noqa: F401
    elif way == "tolok":
        # tolok's modules import what computes only when a refresh computes: here, before
        # the clock, with Ibis' DuckDB backend (which Ibis loads on first use).
        for module in ("duckdb", "ibis", "ibis.backends.duckdb", "pandas", "pyarrow",
                       "tolok.engine.compute", "tolok.engine.refresh", "tolok.spec"):  # fmt: skip
            importlib.import_module(module)
    else:
        import pandas  # noqa: F401
    began = time.perf_counter()
    if way == "sql":
        results = run_sql(data, source)
    elif way == "sql by day":
        results = run_sql(data, source, by_day=True)
    elif way == "sql per KPI":
        results = run_sql_per_kpi(data, source)
    elif way == "tolok":
        results = run_tolok(folder)
    elif way == "pandas":
        results = compute_pandas(*load_pandas(data))
    else:
        assert frames is not None
        results = compute_pandas(*frames)
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "results": results}))


def command(way: str, data: Path, source: str, folder: Path) -> list[str]:
    if way == "python -c pass":
        return [sys.executable, "-c", "pass"]
    if way == "tolok refresh --full":
        tolok = Path(sys.executable).with_name("tolok")
        return [str(tolok), "refresh", "--full", str(folder)]
    return [
        sys.executable,
        __file__,
        "--data",
        str(data),
        "--child",
        way,
        "--source",
        source,
        "--folder",
        str(folder),
    ]


def timed(argv: list[str], cwd: Path) -> tuple[float, float, float, str]:
    """Run `argv`: its wall time, CPU time (user + system), peak RSS in MB and output."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problems = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{problems[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, text


def ways_of(source: str, pandas: bool) -> list[str]:
    ways = ["python -c pass", "sql", "sql by day", "sql per KPI", "tolok", "tolok refresh --full"]
    if pandas and source == "parquet":
        ways += ["pandas", "pandas in memory"]
    return ways


def measure(data: Path, source: str, rounds: int, pandas: bool) -> dict[str, dict[str, Any]]:
    folder = project(data, source)
    ways = ways_of(source, pandas)
    report: dict[str, dict[str, Any]] = {
        w: {"seconds": [], "wall": [], "cpu": [], "rss": [], "results": None} for w in ways
    }
    loads = []
    # A first, untimed `tolok refresh --full` creates the store, so each timed one is a
    # refresh of a project that has been refreshed before, as a user runs it.
    timed(command("tolok refresh --full", data, source, folder), folder)
    for round_ in range(rounds):
        loads.append(os.getloadavg()[0])
        order = ways[round_ % len(ways) :] + ways[: round_ % len(ways)]
        for way in order:
            wall, cpu, rss, text = timed(command(way, data, source, folder), folder)
            entry = report[way]
            entry["wall"].append(wall)
            entry["cpu"].append(cpu)
            entry["rss"].append(rss)
            if way not in ("python -c pass", "tolok refresh --full"):
                answer = json.loads(text)
                entry["seconds"].append(answer["seconds"])
                entry["results"] = answer["results"]
    loads.append(os.getloadavg()[0])
    shutil.rmtree(folder, ignore_errors=True)
    report["_loads"] = {"loads": loads}
    return report


SCALED = ("sql", "sql by day", "tolok", "tolok refresh --full")


def scaled_row(report: dict[str, dict[str, Any]]) -> dict[str, tuple[float, ...]]:
    """Per way of SCALED: the command's wall and CPU time, its peak RSS and its time
    beyond its own in-process work (start-up, connecting, the store), as medians."""
    median = statistics.median
    out = {}
    for way in SCALED:
        entry = report[way]
        wall, cpu = median(entry["wall"]), median(entry["cpu"])
        work = median(entry["seconds"]) if entry["seconds"] else float("nan")
        out[way] = (wall, cpu, max(entry["rss"]), work)
    return out


def print_scaling(rows: dict[int, dict[str, dict[str, tuple[float, ...]]]]) -> None:
    """How each way's cost grows with the orders (sessions are three times as many)."""
    for source in SOURCES:
        sized = {n: r[source] for n, r in rows.items() if source in r}
        if not sized:
            continue
        print(f"\nscaling, {source}: command wall s / CPU s / peak MB (x sql's wall)")
        print(f"{'orders':>12}" + "".join(f"{way:>30}" for way in SCALED))
        for n, by_way in sized.items():
            sql_wall = by_way["sql"][0]
            cells = [f"{w:.2f} / {c:.2f} / {m:.0f} ({w / sql_wall:.2f}x)"
                     for w, c, m, _ in (by_way[way] for way in SCALED)]  # fmt: skip
            print(f"{n:>12,}" + "".join(f"{cell:>30}" for cell in cells))
        sizes = sorted(sized)
        for low, high in itertools.pairwise(sizes):
            millions = (high - low) / 1e6
            slopes = [f"{(sized[high][w][0] - sized[low][w][0]) / millions:.3f}" for w in SCALED]
            print(f"{'s per M orders':>12}" + "".join(f"{x:>30}" for x in slopes)
                  + f"   ({low:,} -> {high:,})")  # fmt: skip
        command = {n: sized[n]["tolok refresh --full"][0] for n in sizes}
        fixed = {n: command[n] - sized[n]["tolok"][3] for n in sizes}
        print("tolok refresh --full beyond tolok's in-process work (start-up, store): "
              + ", ".join(f"{fixed[n]:.2f} s at {n:,} ({fixed[n] / command[n]:.0%})"
                          for n in sizes))  # fmt: skip


def print_report(report: dict[str, dict[str, Any]], source: str) -> None:
    loads = report.pop("_loads")["loads"]
    base = report["sql"]
    median = statistics.median
    sql_in, sql_wall, sql_cpu = median(base["seconds"]), median(base["wall"]), median(base["cpu"])
    floor = median(report["python -c pass"]["wall"])
    print(f"\nsource: {source}; load average (1 min) per round: "
          + ", ".join(f"{x:.2f}" for x in loads))  # fmt: skip
    print(
        f"{'way':<22}{'in-process s':>13}{'x sql':>7}{'command s':>11}{'x sql':>7}"
        f"{'CPU s':>8}{'x sql':>7}{'over pass s':>12}{'peak MB':>9}"
    )
    for way, entry in report.items():
        inside = f"{median(entry['seconds']):>13.3f}" if entry["seconds"] else f"{'':>13}"
        ratio = f"{median(entry['seconds']) / sql_in:>7.2f}" if entry["seconds"] else f"{'':>7}"
        wall, cpu = median(entry["wall"]), median(entry["cpu"])
        print(
            f"{way:<22}{inside}{ratio}{wall:>11.3f}{wall / sql_wall:>7.2f}{cpu:>8.2f}"
            f"{cpu / sql_cpu:>7.2f}{wall - floor:>12.3f}{max(entry['rss']):>9.0f}"
        )
    for way, entry in report.items():
        if entry["results"] is not None and way != "sql":
            bad = agree(base["results"], entry["results"])
            print(f"{way} agrees with sql: {'yes' if not bad else 'NO: ' + '; '.join(bad[:3])}")


def agree(base: Results, other: Results) -> list[str]:
    """Results whose values differ beyond floating-point noise. A period (or region) that
    one way leaves out because no row matched — `WHERE is_first` in a month without new
    customers — must be 0 in the way that keeps it."""
    bad = []
    for name, rows in base.items():
        mine = {tuple(r[:-1]): r[-1] for r in rows}
        theirs = {tuple(r[:-1]): r[-1] for r in other.get(name, [])}
        if not theirs:
            bad.append(f"{name}: missing")
            continue
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


def _count_rows(data: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {
        name: pq.ParquetFile(data / f"{name}.parquet").metadata.num_rows
        for name in ("orders", "sessions")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--source", choices=[*SOURCES, "both"], default="both")
    parser.add_argument("--no-pandas", action="store_true", help="leave pandas out (slow)")
    parser.add_argument("--sizes", help="orders per size, e.g. 1000000,10000000,30000000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data.resolve()
    if args.child:
        child(args.child, data, args.source, args.folder)
        return
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [0]
    scaling: dict[int, dict[str, dict[str, tuple[float, ...]]]] = {}
    for size in sizes:
        folder = data if not size else Path(__file__).parent / f"data-{size}"
        if size and not (folder / "warehouse.duckdb").exists():
            from generate import generate  # type: ignore[import-not-found]

            generate(size, folder)
        rows = _count_rows(folder)
        print(f"\ndata: {rows['orders']:,} orders, {rows['sessions']:,} sessions ({folder})")
        print(f"7 KPIs x (month, month x region, quarter) = 21 results per run; "
              f"{args.rounds} rounds")  # fmt: skip
        print(f"peak RSS of this process before the runs: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
        for source in SOURCES if args.source == "both" else (args.source,):
            report = measure(folder, source, args.rounds, not args.no_pandas)
            scaling.setdefault(rows["orders"], {})[source] = scaled_row(report)
            print_report(report, source)
    if len(scaling) > 1:
        print_scaling(scaling)


if __name__ == "__main__":
    main()
