"""An ingest into a Spark warehouse killed while it writes leaves the table as it was
(issue 23, item 2): Spark writes a managed Parquet table's new files under `_temporary`
and moves them in when the job commits, so readers see all of an ingest or none of it.

The kill is not timed by a clock: the test watches the table's folder and sends SIGKILL
the moment Spark's staging folder appears, that is while the rows are being written. The
table is then read as Spark reads it (its Parquet files, hidden ones left out) with DuckDB,
and the totals are checked against sums made here from the CSV files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.spark_cluster import shell_environment

FIRST, SECOND = 1_000, 300_000


def tolok(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tolok", *args],
        cwd=folder,
        env=shell_environment(TMPDIR=str(folder.parent)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(folder: Path, *args: str) -> str:
    process = tolok(folder, *args)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    return out + err


def rows_file(path: Path, start: int, count: int) -> float:
    """`count` orders from id `start`, over January to March 2026; their total amount."""
    total = 0.0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,at,amount\n")
        for n in range(start, start + count):
            amount = (n % 89) + 0.25
            total += amount
            handle.write(f"{n},2026-0{n % 3 + 1}-{n % 28 + 1:02d},{amount}\n")
    return total


def spark_sees(table: Path) -> tuple[int, float]:
    """Rows and total amount of the table as Spark reads it: its Parquet files, without
    those in hidden folders (`_temporary`) or named `_…`/`.…`."""
    files = sorted(str(f) for f in table.glob("*.parquet") if not f.name.startswith(("_", ".")))
    if not files:
        return 0, 0.0
    with duckdb.connect() as con:
        found = con.execute("SELECT count(*), sum(amount) FROM read_parquet(?)", [files]).fetchone()
    assert found is not None
    return int(found[0]), float(found[1] or 0.0)


def kill_while_writing(folder: Path, table: Path, *args: str) -> None:
    """Start `tolok ARGS`; SIGKILL it as soon as Spark's staging folder is in `table`."""
    process = tolok(folder, *args)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if table.is_dir() and any(
            p.name.startswith(("_temporary", ".spark-staging")) for p in table.iterdir()
        ):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        time.sleep(0.002)
    out, err = process.communicate()
    raise AssertionError(f"the ingest ended before it was seen writing: {out}{err}")


def shop(tmp_path: Path) -> Path:
    """A project over a Spark table `orders`, on one machine."""
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "tolok.yaml").write_text(
        "name: Killed on Spark\nwarehouse: pyspark://local[1]\n"
        "datasets:\n  orders:\n    source: orders\n    time: at\n"
        "    columns: {id: integer, at: date, amount: number}\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n  revenue: {formula: revenue, unit: number, grain: month}\n",
        encoding="utf-8",
    )
    return folder


def test_an_ingest_killed_while_spark_writes_leaves_the_table_as_it_was(tmp_path: Path) -> None:
    folder = shop(tmp_path)
    first = rows_file(folder / "first.csv", 0, FIRST)
    second = rows_file(folder / "second.csv", FIRST, SECOND)
    assert "1,000 rows written to orders" in finished(
        folder, "ingest", "first.csv", "--dataset", "orders"
    )
    table = folder / "spark-warehouse" / "orders"
    assert spark_sees(table) == (FIRST, first)

    kill_while_writing(folder, table, "ingest", "second.csv", "--dataset", "orders")
    rows, total = spark_sees(table)
    assert rows == FIRST, "a killed ingest left some of its rows"
    assert total == first

    said = finished(folder, "ingest", "second.csv", "--dataset", "orders")
    assert "300,000 rows written to orders" in said
    rows, total = spark_sees(table)
    assert rows == FIRST + SECOND
    assert abs(total - (first + second)) < 1e-6 * (first + second)


def test_a_first_ingest_killed_while_spark_writes_leaves_no_table_and_the_next_one_writes(
    tmp_path: Path,
) -> None:
    """Killed while writing a new table's first rows, the ingest leaves no table (a folder of
    Spark's uncommitted attempt only); the next ingest makes the table, with every row."""
    folder = shop(tmp_path)
    total = rows_file(folder / "orders.csv", 0, SECOND)
    table = folder / "spark-warehouse" / "orders"
    kill_while_writing(folder, table, "ingest", "orders.csv", "--dataset", "orders")
    assert spark_sees(table) == (0, 0.0)
    said = finished(folder, "ingest", "orders.csv", "--dataset", "orders")
    assert "300,000 rows written to orders" in said
    rows, found = spark_sees(table)
    assert rows == SECOND
    assert abs(found - total) < 1e-6 * total
