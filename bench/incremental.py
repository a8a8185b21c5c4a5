"""Benchmark: an incremental refresh after one day of new rows, against a full refresh.

    python bench/generate.py --rows 10000000      # once: bench/data/*.parquet
    python bench/incremental.py --repeat 3
    python bench/incremental.py --repeat 5 --after 15   # days 16-20 of the month

The project reads `orders/*.parquet` and `sessions/*.parquet` (the generated files, linked
into a temporary folder) with the seven KPIs of `bench/run.py` at month grain, plus revenue
by region. It times full refreshes (`--full`), then appends one day of rows (one new
Parquet file per dataset, the day after the last one) and times the incremental refresh,
once per new day (`--after N`: from day N+1 of the new month on, the days before appended
and refreshed untimed; each day's refresh reads the whole month it falls in, except where
only new files changed and the measures add up). Each refresh writes its values into an
SQLite store, as `tolok refresh` does. Two ways, each in a folder of its own:

- as a new process does it (`tolok refresh` from cron): each refresh loads the project,
  opens the store and connects to DuckDB;
- as `tolok serve` does it (a refresh after ingestion, or on a schedule): the project, the
  store engine and the warehouse (`KeptWarehouse`) stay from one refresh to the next.

Printed: medians, min-max and the ratio incremental / full of each way, from this run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROJECT = """\
name: Incremental benchmark
timezone: UTC
warehouse: duckdb://
data_dirs: ['{data}']
datasets:
  orders:
    source: file:orders/*.parquet
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
      cost: {agg: sum}
      orders: {agg: count}
      new_customers: {agg: count_distinct, expr: customer_id, where: is_first}
  sessions:
    source: file:sessions/*.parquet
    time: started_at
    dimensions: [region]
    measures:
      sessions: {agg: count}
kpis:
  revenue: {formula: revenue, breakdowns: [region]}
  orders: {formula: orders}
  aov: {formula: revenue / orders}
  margin: {formula: (revenue - cost) / revenue}
  conversion: {formula: orders / sessions}
  new_customers: {formula: new_customers}
  growth: {formula: growth(revenue)}
"""


def prepare(data: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tolok-incremental-"))
    for name in ("orders", "sessions"):
        (folder / name).mkdir()
        (folder / name / "base.parquet").symlink_to(data / f"{name}.parquet")
    # The generated files are linked in: their folder is one the project may read.
    (folder / "tolok.yaml").write_text(PROJECT.replace("{data}", data.as_posix()), "utf-8")
    return folder


def append_day(folder: Path, day: int, per_day: int) -> None:
    """One more day of orders and sessions, after everything there is."""
    rng = np.random.default_rng(1000 + day)
    start = np.datetime64("2026-01-01T00:00:00", "s") + np.timedelta64(day, "D")
    seconds = np.sort(rng.integers(0, 86_400, per_day))
    regions = np.array(["Jawa", "Sumatera", "Kalimantan", "Sulawesi", "Bali"])
    amount = np.round(rng.lognormal(4.0, 0.6, per_day), 2)
    orders = pa.table(
        {
            "order_id": np.arange(per_day) + 10**12 + day * per_day,
            "ordered_at": start + seconds.astype("timedelta64[s]"),
            "customer_id": rng.integers(0, 10**6, per_day),
            "region": regions[rng.integers(0, 5, per_day)],
            "amount": amount,
            "cost": np.round(amount * 0.6, 2),
            "is_first": rng.random(per_day) < 0.02,
        }
    )
    pq.write_table(orders, folder / "orders" / f"day{day}.parquet")
    sessions = pa.table(
        {
            "started_at": start
            + np.sort(rng.integers(0, 86_400, per_day * 3)).astype("timedelta64[s]"),
            "region": regions[rng.integers(0, 5, per_day * 3)],
        }
    )
    pq.write_table(sessions, folder / "sessions" / f"day{day}.parquet")


Refresh = Callable[[bool], float]
"""Times one refresh (full or not)."""


def computed(stored: Any) -> None:
    """A refresh that failed is not timed: a KPI not computed makes a refresh look fast."""
    if stored.failed:
        name, failure = next(iter(stored.failed.items()))
        raise SystemExit(f"{len(stored.failed)} KPIs not computed, e.g. {name}: {failure.message}")


def new_process(folder: Path) -> Refresh:
    """Each refresh as `tolok refresh` makes it: project, store and warehouse opened anew."""
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec import load_project
    from tolok.store.database import open_store

    def timed(full: bool) -> float:
        began = time.perf_counter()
        loaded = load_project(folder)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        warehouse = Warehouse(loaded)
        try:
            _, stored = refresh_into_store(loaded, warehouse, store, full=full)
        finally:
            warehouse.close()
        seconds = time.perf_counter() - began
        computed(stored)
        return seconds

    return timed


def long_lived(folder: Path) -> Refresh:
    """Each refresh as `tolok serve` makes it: the project as loaded, the store engine and
    the kept warehouse serve every refresh."""
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import KeptWarehouse
    from tolok.spec import load_project
    from tolok.store.database import open_store

    loaded = load_project(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    kept = KeptWarehouse()

    def timed(full: bool) -> float:
        began = time.perf_counter()
        with kept.use(loaded) as warehouse:  # as the refresh after ingestion runs
            _, stored = refresh_into_store(loaded, warehouse, store, full=full, board=False)
        seconds = time.perf_counter() - began
        computed(stored)
        return seconds

    return timed


def measure(
    refresh: Refresh, folder: Path, repeat: int, per_day: int, after: int
) -> tuple[list[float], list[float]]:
    refresh(True)  # warm-up: imports, first store, file caches
    full = [refresh(True) for _ in range(repeat)]
    for day in range(after):  # days into the month before the timed ones, refreshed too
        append_day(folder, day, per_day)
        refresh(False)
    incremental = []
    for day in range(after, after + repeat):
        append_day(folder, day, per_day)
        incremental.append(refresh(False))
    return full, incremental


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--after",
        type=int,
        default=0,
        help="days of the new month appended and refreshed before the timed ones",
    )
    args = parser.parse_args()
    data = args.data.resolve()
    load_before = _load_average()
    rows = pq.ParquetFile(data / "orders.parquet").metadata.num_rows
    per_day = max(rows // 730, 1)
    print(
        f"data: {rows:,} orders, {rows * 3:,} sessions; one day = {per_day:,} orders, "
        f"{per_day * 3:,} sessions"
    )
    for way, make in (
        ("new process (tolok refresh)", new_process),
        ("long-lived (tolok serve)", long_lived),
    ):
        folder = prepare(data)
        full, incremental = measure(make(folder), folder, args.repeat, per_day, args.after)
        print(way)
        for name, times in (("full refresh", full), ("incremental, +1 day", incremental)):
            print(
                f"  {name:<22}median {statistics.median(times):.3f} s  "
                f"min-max {min(times):.3f}-{max(times):.3f} s"
            )
        ratio = statistics.median(incremental) / statistics.median(full)
        print(f"  incremental / full: {ratio:.3f} ({ratio:.1%})")
    print(f"load average (1 min) before / after: {load_before} / {_load_average()}")


def _load_average() -> str:
    """The machine's 1-minute load average, to tell a quiet run from a shared one."""
    try:
        return Path("/proc/loadavg").read_text(encoding="utf-8").split()[0]
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
