"""Benchmark: run.py's seven KPIs in three shapes on PostgreSQL, against the best SQL a
PostgreSQL user would write by hand, in-process and as the command a user types.

    python bench/generate.py --rows 1000000 --out /tmp/pg-1m
    python bench/postgres.py --data /tmp/pg-1m --rounds 5

The files of `bench/generate.py` are loaded once into the schema `tolok_bench` of the
database (`--url`, by default the `test` database on 127.0.0.1; `COPY`, then `ANALYZE`),
and loaded again only when their row counts differ. Ways, each a process of its own:

- `sql` (the baseline): one statement per shape with every sum and count of orders in one
  scan, the distinct count of first-time buyers in its own scan (`WHERE is_first`),
  sessions in a third, joined for the conversion rate, growth by `lag`; run through
  psycopg, the driver tolok uses.
- `tolok`: what `tolok refresh` computes (run.py's `run_tolok`), the project loaded and the
  warehouse connected inside the clock, over `postgresql://…` with the tables as sources.
- `tolok refresh --full`: the command, with an SQLite store.

Rounds are interleaved (rotated order). Printed as run.py prints: in-process time, the
command's wall and CPU time (user + system of the process, from `wait4`; PostgreSQL's own
backends' CPU is not in it, for either way), ratios against `sql` from the same rounds,
peak RSS; `python -c pass` as the floor; the load average per round. The results of every
way are checked against `sql` (values within 1e-9, relative).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import run as duck  # bench/run.py: the KPIs, the project, the checks

SCHEMA = "tolok_bench"
URL = "postgresql://postgres@127.0.0.1:5432/test"
WAYS = ["python -c pass", "sql", "tolok", "tolok refresh --full"]
COLUMNS = {
    "orders": "order_id bigint, ordered_at timestamp, customer_id bigint, region text, "
    "amount double precision, cost double precision, is_first boolean",
    "sessions": "started_at timestamp, region text",
}


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def load(data: Path, url: str) -> dict[str, int]:
    """The Parquet files as tables of `tolok_bench`, unless they hold as many rows already."""
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    counts = {}
    with psycopg.connect(psycopg_url(url), autocommit=True) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for name, columns in COLUMNS.items():
            table = pq.read_table(data / f"{name}.parquet")
            counts[name] = table.num_rows
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name = %s",
                (SCHEMA, name),
            ).fetchone()
            if found and found[0]:
                rows = con.execute(f"SELECT count(*) FROM {SCHEMA}.{name}").fetchone()
                if rows and rows[0] == table.num_rows:
                    continue
            began = time.perf_counter()
            con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{name}")
            con.execute(f"CREATE TABLE {SCHEMA}.{name} ({columns})")
            names = ", ".join(table.column_names)
            with con.cursor().copy(
                f"COPY {SCHEMA}.{name} ({names}) FROM STDIN WITH (FORMAT csv)"
            ) as copy:
                for batch in table.to_batches(max_chunksize=200_000):
                    sink = pa.BufferOutputStream()
                    pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False))
                    copy.write(sink.getvalue().to_pybytes())
            con.execute(f"ANALYZE {SCHEMA}.{name}")
            print(f"loaded {table.num_rows:,} rows into {SCHEMA}.{name} "
                  f"({time.perf_counter() - began:.1f} s)")  # fmt: skip
    return counts


def strong_queries() -> dict[str, str]:
    """One statement per shape, as run.py's DuckDB baseline, in PostgreSQL's SQL."""
    out = {}
    for shape, (grain, by_region) in duck.SHAPES.items():
        keys = "period, region" if by_region else "period"
        region = ", region" if by_region else ""
        group = "1, 2" if by_region else "1"
        partition = "PARTITION BY region " if by_region else ""
        out[shape] = f"""
            WITH o AS (
                SELECT date_trunc('{grain}', ordered_at)::date AS period{region},
                       sum(amount) AS revenue, sum(cost) AS cost, count(*) AS orders
                FROM {SCHEMA}.orders GROUP BY {group}
            ), n AS (
                SELECT date_trunc('{grain}', ordered_at)::date AS period{region},
                       count(DISTINCT customer_id) AS new_customers
                FROM {SCHEMA}.orders WHERE is_first GROUP BY {group}
            ), s AS (
                SELECT date_trunc('{grain}', started_at)::date AS period{region},
                       count(*) AS sessions
                FROM {SCHEMA}.sessions GROUP BY {group}
            )
            SELECT {keys}, revenue, orders, revenue / orders AS aov,
                   (revenue - cost) / revenue AS margin,
                   orders::double precision / sessions AS conversion,
                   coalesce(new_customers, 0) AS new_customers,
                   revenue / lag(revenue) OVER ({partition}ORDER BY period) - 1 AS growth
            FROM o LEFT JOIN n USING ({keys}) LEFT JOIN s USING ({keys})
            ORDER BY {keys}
        """
    return out


def run_sql(url: str) -> duck.Results:
    import psycopg

    out: duck.Results = {}
    with psycopg.connect(psycopg_url(url)) as con:
        for shape, query in strong_queries().items():
            width = 2 if duck.SHAPES[shape][1] else 1
            rows = con.execute(query).fetchall()
            for k, kpi in enumerate(duck.KPIS):
                out[f"{kpi}/{shape}"] = [
                    [duck._iso(r[0]), *r[1:width], duck._plain(r[width + k])] for r in rows
                ]
    return out


def project(data: Path, url: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-postgres-"))
    text = duck.PROJECT.format(
        data=data.as_posix(),
        kpis=duck.kpi_lines(),
        warehouse=url,
        orders=f"{SCHEMA}.orders",
        sessions=f"{SCHEMA}.sessions",
    )
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    return folder


def child(way: str, url: str, folder: Path) -> None:
    """One run of `way` in this process; its libraries imported before the clock."""
    import importlib

    modules = ["psycopg"] if way == "sql" else [
        "psycopg", "ibis", "ibis.backends.postgres", "pandas", "pyarrow",
        "tolok.engine.compute", "tolok.engine.refresh", "tolok.spec",
    ]  # fmt: skip
    for module in modules:
        importlib.import_module(module)
    began = time.perf_counter()
    results = run_sql(url) if way == "sql" else duck.run_tolok(folder)
    print(json.dumps({"seconds": time.perf_counter() - began, "results": results}))


def command(way: str, url: str, folder: Path) -> list[str]:
    if way == "python -c pass":
        return [sys.executable, "-c", "pass"]
    if way == "tolok refresh --full":
        return [str(Path(sys.executable).with_name("tolok")), "refresh", "--full", str(folder)]
    return [sys.executable, __file__, "--child", way, "--url", url, "--folder", str(folder)]


def measure(data: Path, url: str, rounds: int) -> dict[str, dict[str, Any]]:
    folder = project(data, url)
    report: dict[str, dict[str, Any]] = {
        w: {"seconds": [], "wall": [], "cpu": [], "rss": [], "results": None} for w in WAYS
    }
    loads = []
    duck.timed(command("tolok refresh --full", url, folder), folder)  # the store, untimed
    for round_ in range(rounds):
        loads.append(os.getloadavg()[0])
        for way in WAYS[round_ % len(WAYS) :] + WAYS[: round_ % len(WAYS)]:
            wall, cpu, rss, text = duck.timed(command(way, url, folder), folder)
            entry = report[way]
            entry["wall"].append(wall)
            entry["cpu"].append(cpu)
            entry["rss"].append(rss)
            if way in ("sql", "tolok"):
                answer = json.loads(text)
                entry["seconds"].append(answer["seconds"])
                entry["results"] = answer["results"]
        print(f"  round {round_ + 1}/{rounds} done, load {os.getloadavg()[0]:.2f}", flush=True)
    loads.append(os.getloadavg()[0])
    shutil.rmtree(folder, ignore_errors=True)
    report["_loads"] = {"loads": loads}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--url", default=URL)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.folder)
        return
    if args.load:
        print(json.dumps(load(args.data, args.url)))
        return
    # Loaded in a process of its own: a child forked from a process holding the tables
    # would start with their memory in its peak RSS.
    loaded = subprocess.run(
        [sys.executable, __file__, "--load", "--data", str(args.data), "--url", args.url],
        check=True,
        capture_output=True,
        text=True,
    )
    print(loaded.stdout.strip().rpartition("\n")[0] or "tables as they were")
    counts = json.loads(loaded.stdout.strip().splitlines()[-1])
    print(f"PostgreSQL {args.url}: {counts['orders']:,} orders, {counts['sessions']:,} "
          f"sessions; {args.rounds} rounds; load average {os.getloadavg()}")  # fmt: skip
    report = measure(args.data, args.url, args.rounds)
    duck.print_report(report, f"PostgreSQL tables ({SCHEMA})")
    print(f"median of {args.rounds} rounds; load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
