"""Deterministic benchmark data: orders, sessions and customers as Parquet files, and the
same as native tables of a DuckDB database (`warehouse.duckdb`).

    python bench/generate.py --rows 10000000 --out bench/data

`--rows` is the number of orders; sessions are three times as many, customers a tenth.
The same seed always gives the same files. Two years of data, five regions, orders and
sessions spread over the day, a seasonal swell in the middle of each year.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REGIONS = np.array(["Jawa", "Sumatera", "Kalimantan", "Sulawesi", "Bali"])
START = np.datetime64("2024-01-01T00:00:00", "s")
SECONDS = 2 * 365 * 24 * 3600


def moments(rng: np.random.Generator, count: int) -> np.ndarray:
    """Sorted timestamps over two years, busier mid-year."""
    uniform = rng.random(count)
    swelled = uniform + 0.04 * np.sin(uniform * 4 * np.pi)
    offsets = np.sort(np.clip(swelled, 0, 0.999999) * SECONDS).astype("int64")
    return START + offsets.astype("timedelta64[s]")


def generate(rows: int, out: Path, seed: int = 42) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    customers = max(rows // 10, 1)
    customer_region = rng.integers(0, len(REGIONS), customers)
    pq.write_table(
        pa.table({"customer_id": np.arange(customers), "region": REGIONS[customer_region]}),
        out / "customers.parquet",
    )
    ordered_at = moments(rng, rows)
    customer = rng.integers(0, customers, rows)
    first = np.zeros(rows, dtype=bool)
    first[np.unique(customer, return_index=True)[1]] = True
    amount = np.round(rng.lognormal(4.0, 0.6, rows), 2)
    cost = np.round(amount * rng.uniform(0.45, 0.8, rows), 2)
    orders = pa.table(
        {
            "order_id": np.arange(rows),
            "ordered_at": ordered_at,
            "customer_id": customer,
            "region": REGIONS[customer_region[customer]],
            "amount": amount,
            "cost": cost,
            "is_first": first,
        }
    )
    pq.write_table(orders, out / "orders.parquet", row_group_size=1_000_000)
    sessions = rows * 3
    pq.write_table(
        pa.table(
            {
                "started_at": moments(rng, sessions),
                "region": REGIONS[rng.integers(0, len(REGIONS), sessions)],
            }
        ),
        out / "sessions.parquet",
        row_group_size=1_000_000,
    )
    native(out)


def native(out: Path) -> None:
    """The Parquet files loaded into DuckDB's own storage, one table each, as a team that
    keeps its data in DuckDB has it."""
    import duckdb

    database = out / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        for name in ("orders", "sessions", "customers"):
            source = (out / f"{name}.parquet").as_posix()
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [source])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="orders (default 10M)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    began = time.perf_counter()
    generate(args.rows, args.out, args.seed)
    print(f"{args.rows:,} orders in {args.out} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
