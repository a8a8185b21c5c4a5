"""Joins through keys (`refs`) on DuckDB, PostgreSQL and MariaDB, over the public Superstore
data split the way a database holds it: order lines, customers and products in tables of
their own. Revenue by segment and by category per year must equal what the denormalised
file says, summed here in plain Python; on Spark (local) too.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import unavailable
from tests.engine.conftest import MYSQL_URL, POSTGRES_URL
from tolok.engine.compute import Request, compute
from tolok.engine.errors import WarehouseError
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain

SUPERSTORE = next(
    (
        c / "superstore"
        for c in (Path(__file__).parents[3] / "shared" / "data", Path("/work/shared/data"))
        if (c / "superstore").exists()
    ),
    Path("/work/shared/data/superstore"),
)


def _lines() -> list[dict[str, str]]:
    if not (SUPERSTORE / "orders.csv").exists():
        pytest.skip(f"the Superstore data is not at {SUPERSTORE}")
    with (SUPERSTORE / "orders.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _returned_orders() -> set[str]:
    with (SUPERSTORE / "returns.csv").open(encoding="utf-8", newline="") as handle:
        return {row["Order ID"] for row in csv.DictReader(handle)}


def _tables(lines: list[dict[str, str]]) -> dict[str, pd.DataFrame]:
    """The file split into tables; `returned` holds the lines of returned orders."""
    frame = pd.DataFrame(lines)
    frame["Order Date"] = pd.to_datetime(frame["Order Date"]).dt.date
    frame["Sales"] = frame["Sales"].astype(float)
    fact = ["Row ID", "Order ID", "Order Date", "Customer ID", "Product ID", "Sales"]
    customers = frame[["Customer ID", "Customer Name", "Segment"]].drop_duplicates()
    products = frame[["Product ID", "Category", "Sub-Category"]].drop_duplicates()
    names = frame[["Product ID", "Product Name"]].drop_duplicates()  # 32 IDs twice
    returned = frame[frame["Order ID"].isin(_returned_orders())][fact]
    return {
        "ss_orders": frame[fact],
        "ss_customers": customers,
        "ss_products": products,
        "ss_names": names,
        "ss_returned": returned,
    }


@pytest.fixture(scope="module", params=["duckdb", "postgres", "mysql", "pyspark"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    import ibis

    tables = _tables(_lines())
    backend = request.param
    if backend == "duckdb":
        path = tmp_path_factory.mktemp("joins") / "warehouse.duckdb"
        url, con = f"duckdb:///{path}", ibis.duckdb.connect(str(path))
    elif backend == "pyspark":
        url, con = (
            "pyspark://local[1]",
            ibis.pyspark.connect(request.getfixturevalue("spark_session")),
        )
        for name, data in tables.items():
            con.create_table(name, data, overwrite=True)
        return url  # the session is shared: not disconnected
    else:
        url = POSTGRES_URL if backend == "postgres" else MYSQL_URL
        try:
            con = ibis.connect(url.replace("postgresql://", "postgres://"), connect_timeout=5)
        except Exception as exc:
            unavailable(backend, exc)
    for name, data in tables.items():
        con.create_table(name, data, overwrite=True)
    con.disconnect()
    return url


def _project(folder: Path, url: str, names: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lookup = "ss_names" if names else "ss_products"
    (folder / "tolok.yaml").write_text(
        f"""\
name: Superstore
warehouse: {url}
datasets:
  orders:
    source: ss_orders
    time: Order Date
    refs: {{Customer ID: customers, Product ID: products}}
    measures:
      revenue: {{agg: sum, expr: Sales}}
      lines: {{agg: count}}
      consumer_revenue: {{agg: sum, expr: Sales, where: "customers.Segment == 'Consumer'"}}
  returned:
    source: ss_returned
    time: Order Date
    refs: {{Customer ID: customers}}
    measures:
      returned_lines: {{agg: count}}
  customers:
    source: ss_customers
    key: [Customer ID]
    dimensions: [Segment, Customer Name]
  products:
    source: {lookup}
    key: [Product ID]
    dimensions: [Category, Sub-Category{", Product Name" if names else ""}]
kpis:
  revenue: {{formula: revenue, grain: year, breakdowns: [[customers.Segment]]}}
  consumer_revenue: {{formula: consumer_revenue, grain: year}}
  return_rate: {{formula: "ratio(returned_lines, lines)", grain: year, unit: percent}}
""",
        encoding="utf-8",
    )
    return folder


def _values(
    folder: Path, kpi: str, by: tuple[str, ...] = (), where: str | None = None
) -> dict[tuple[object, ...], float | None]:
    loaded = load_project(folder)
    assert loaded.ok, loaded.problems.to_json(folder)
    warehouse = Warehouse(loaded)
    try:
        series = compute(loaded, warehouse, Request([kpi], Grain.year, by=by, where=where))[kpi]
    finally:
        if not warehouse.url.startswith("pyspark"):  # closing Spark stops the shared session
            warehouse.close()
    return {(p.period.year, *(v for _, v in p.slice)): p.value for p in series.points}


def _by_year(lines: list[dict[str, str]], key: str | None) -> dict[tuple[object, ...], float]:
    out: dict[tuple[object, ...], float] = defaultdict(float)
    for line in lines:
        year = dt.date.fromisoformat(line["Order Date"]).year
        out[(year, line[key]) if key else (year,)] += float(line["Sales"])
    return out


def _close(
    found: dict[tuple[object, ...], float | None], expected: dict[tuple[object, ...], float]
) -> None:
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, rel=1e-9), key


def test_revenue_by_segment_and_category_equal_the_denormalised_file(
    url: str, tmp_path: Path
) -> None:
    lines = _lines()
    folder = _project(tmp_path, url)
    _close(_values(folder, "revenue", ("customers.Segment",)), _by_year(lines, "Segment"))
    _close(_values(folder, "revenue", ("products.Category",)), _by_year(lines, "Category"))
    found = _values(folder, "revenue", ("customers.Segment", "products.Sub-Category"))
    expected: dict[tuple[object, ...], float] = defaultdict(float)
    for line in lines:
        year = dt.date.fromisoformat(line["Order Date"]).year
        expected[(year, line["Segment"], line["Sub-Category"])] += float(line["Sales"])
    _close(found, expected)
    # Joined, the total is still the file's: a breakdown never counts a line twice.
    _close(_values(folder, "revenue"), _by_year(lines, None))


def test_filters_through_a_lookup(url: str, tmp_path: Path) -> None:
    lines = _lines()
    consumer = [line for line in lines if line["Segment"] == "Consumer"]
    folder = _project(tmp_path, url)
    _close(_values(folder, "consumer_revenue"), _by_year(consumer, None))
    where = "customers.Segment == 'Consumer'"
    _close(_values(folder, "revenue", where=where), _by_year(consumer, None))


def test_a_kpi_over_two_datasets_breaks_down_by_a_dimension_both_reach(
    url: str, tmp_path: Path
) -> None:
    lines = _lines()
    returned = _returned_orders()
    counts: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        key = (dt.date.fromisoformat(line["Order Date"]).year, line["Segment"])
        counts[key][0] += line["Order ID"] in returned
        counts[key][1] += 1
    expected = {key: got / total for key, (got, total) in counts.items()}
    _close(_values(_project(tmp_path, url), "return_rate", ("customers.Segment",)), expected)


def test_a_key_found_twice_in_a_lookup_is_a_clear_error(url: str, tmp_path: Path) -> None:
    folder = _project(tmp_path, url, names=True)
    with pytest.raises(WarehouseError) as caught:
        _values(folder, "revenue", ("products.Product Name",))
    message = str(caught.value)
    assert "dataset 'products': key 'Product ID' is not unique" in message
    # The example is a real duplicate: an ID with two names in the file.
    example = message.split("— '")[1].split("'")[0]
    names = {line["Product Name"] for line in _lines() if line["Product ID"] == example}
    assert len(names) == 2
    # A breakdown that does not read the lookup does not join it: no error there.
    assert _values(folder, "revenue", ("customers.Segment",))
