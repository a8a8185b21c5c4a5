"""A project on Spark as a user runs it (issue 23, items 1 to 4): each step a new `tolok`
process, on one machine (`pyspark://local[1]`), on the cluster's standalone master
(`spark://`, the driver in tolok) and through its Spark Connect server (`sc://`).

- Tables persist: `tolok ingest` writes a table, the next process's `tolok refresh` finds
  it; the same file ingested again adds nothing. On one machine the table lives in
  `spark-warehouse` next to `tolok.yaml`, never in a temporary folder.
- Files are read by Spark, not by the embedded DuckDB.

The Superstore orders (9,994 rows, ../shared/data): revenue per year computed here with
Python's csv module, against `tolok show --json`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.spark_cluster import Cluster, tolok_command

SUPERSTORE = next(
    (
        folder / "superstore" / "orders.csv"
        for folder in (ROOT.parent / "shared" / "data", Path("/work/shared/data"))
        if (folder / "superstore" / "orders.csv").exists()
    ),
    ROOT.parent / "shared" / "data" / "superstore" / "orders.csv",
)
YEARS = ("2011", "2012", "2013", "2014")

PROJECT = """\
name: Superstore on Spark
warehouse: {warehouse}
data_dirs: [{data}]
spark:
  spark.sql.shuffle.partitions: 2
datasets:
  orders:
    source: file:{data}/orders.csv
    time: Order Date
    dimensions: [Region]
    measures:
      revenue: {{agg: sum, expr: Sales}}
      orders: {{agg: count_distinct, expr: '`Order ID`'}}
  sales:
    source: sales
    time: Order Date
    columns: {{Order Date: date}}
    measures:
      sold: {{agg: sum, expr: Sales}}
kpis:
  revenue: {{formula: revenue, unit: currency, grain: year}}
  orders: {{formula: orders, grain: year}}
  sold: {{formula: sold, unit: currency, grain: year}}
"""


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, float]]:
    if not SUPERSTORE.exists():
        pytest.skip(f"{SUPERSTORE} is not here")
    revenue: Counter[str] = Counter()
    orders: dict[str, set[str]] = {}
    with SUPERSTORE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year = row["Order Date"][:4]
            revenue[year] += float(row["Sales"])
            orders.setdefault(year, set()).add(row["Order ID"])
    return {
        "revenue": dict(revenue),
        "orders": {y: float(len(ids)) for y, ids in orders.items()},
        "sold": {"2014": revenue["2014"]},  # the ingested file holds 2014's orders
    }


def project(folder: Path, warehouse: str) -> Path:
    folder.mkdir(parents=True)
    text = PROJECT.format(warehouse=warehouse, data=SUPERSTORE.parent)
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    with SUPERSTORE.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Order Date"].startswith("2014")]
    with (folder / "sales_2014.csv").open("w", newline="", encoding="utf-8") as target:
        out = csv.writer(target)
        out.writerow(["Order Date", "Sales", "Region"])
        out.writerows([r["Order Date"], r["Sales"], r["Region"]] for r in rows)
    return folder


def tolok(folder: Path, *args: str) -> str:
    """What `tolok ARGS` printed (the board on stdout, how the refresh went on stderr)."""
    (folder.parent / "tmp").mkdir(exist_ok=True)
    done = tolok_command(folder, *args, TMPDIR=str(folder.parent / "tmp"))
    return done.stdout if args[-1] == "json" else done.stdout + done.stderr


def values(folder: Path, kpi: str) -> dict[str, float]:
    shown = json.loads(tolok(folder, "show", kpi, "--format", "json"))
    return {p["start"][:4]: p["value"] for p in shown["points"] if p["value"] is not None}


def check_run(folder: Path, expected: dict[str, dict[str, float]]) -> None:
    written = tolok(folder, "ingest", "sales_2014.csv", "--dataset", "sales")
    assert "3,319 rows written to sales" in written
    tolok(folder, "refresh")  # a new process: it finds the table ingest wrote
    for kpi in ("revenue", "orders", "sold"):
        found = values(folder, kpi)
        assert found.keys() == expected[kpi].keys(), kpi
        for year, value in expected[kpi].items():
            assert found[year] == pytest.approx(value, abs=0.005), (kpi, year)  # to the cent
    again = tolok(folder, "ingest", "sales_2014.csv", "--dataset", "sales")
    assert "nothing to do" in again
    # The table's watermarks: unchanged, nothing is computed again; then a new year's rows.
    unchanged = tolok(folder, "refresh")
    assert "0 whole, 3 unchanged" in unchanged, unchanged
    with (folder / "sales_2014.csv").open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    (folder / "sales_2015.csv").write_text(
        "\n".join([lines[0], *(line.replace("2014-", "2015-", 1) for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    assert "3,319 rows written" in tolok(folder, "ingest", "sales_2015.csv", "--dataset", "sales")
    tolok(folder, "refresh")
    moved = {**expected["sold"], "2015": expected["sold"]["2014"]}
    assert values(folder, "sold") == pytest.approx(moved, abs=0.005)
    tolok(folder, "refresh", "--full")
    assert values(folder, "sold") == pytest.approx(moved, abs=0.005)


def test_one_machine_keeps_its_tables_next_to_the_project(
    tmp_path: Path, expected: dict[str, dict[str, float]]
) -> None:
    folder = project(tmp_path / "shop", "pyspark://local[1]")
    check_run(folder, expected)
    kept = folder / "spark-warehouse" / "sales"
    assert any(kept.glob("*.parquet"))
    # Nothing in the temporary folder: no warehouse made per run and left behind.
    assert not [p for p in (tmp_path / "tmp").iterdir() if "spark" in p.name.lower()]


def test_a_standalone_cluster_with_the_driver_in_tolok(
    tmp_path: Path, expected: dict[str, dict[str, float]], spark_cluster: Cluster
) -> None:
    folder = project(tmp_path / "shop", spark_cluster.master)
    check_run(folder, expected)


def test_spark_connect_reads_the_files_and_keeps_the_tables(
    tmp_path: Path, expected: dict[str, dict[str, float]], spark_cluster: Cluster
) -> None:
    folder = project(tmp_path / "shop", spark_cluster.connect)
    check_run(folder, expected)
    # The table is the server's: in its warehouse, not next to the project.
    assert not (folder / "spark-warehouse").exists()
    assert any((spark_cluster.home / "warehouse" / "sales").glob("*.parquet"))


def test_files_are_read_by_spark_not_by_the_embedded_duckdb(
    tmp_path: Path, expected: dict[str, dict[str, float]], spark_cluster: Cluster
) -> None:
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project

    folder = project(tmp_path / "shop", spark_cluster.connect)
    loaded = load_project(folder)
    assert loaded.project is not None, loaded.problems
    warehouse = Warehouse(loaded)
    try:
        orders = warehouse.table("orders")
        assert orders._find_backend().name == "pyspark"
        assert warehouse.backend_name("orders") == "pyspark"
        assert orders.count().execute() == 9994
    finally:
        warehouse.close()
