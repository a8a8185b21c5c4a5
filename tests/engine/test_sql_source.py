"""Datasets from a query (`source: {sql: …}`) on every backend: the query runs in the
warehouse as a subquery the measures build on; expected values from the fixture rows in
plain Python. A failing query is an error at the query; a refresh reads it whole each time,
so a change no watermark could place still shows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.engine.fixture_data import ORDERS, local, month, paid
from tolok.engine.compute import Request, compute
from tolok.engine.errors import WarehouseError
from tolok.engine.ingest import IngestError, ingest
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.engine.watermarks import observe
from tolok.notify.freshness import newest_days
from tolok.spec import load_project
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain
from tolok.store.coverage import dataset_spans
from tolok.store.database import open_store
from tolok.store.results import load

# What the language cannot say: which paid order was each customer's first (a window).
QUERY = """\
    source:
      sql: |
        -- each customer's first paid order is marked
        select order_id, ordered_at, region, amount,
               case when row_number() over (partition by customer_id order by ordered_at) = 1
                    then 1 else 0 end as first_paid
        from tolok_orders
        where status = 'paid';
"""


def _project(folder: Path, url: str, source: str = QUERY) -> LoadedProject:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"name: Queries\ntimezone: Asia/Jakarta\nwarehouse: {url}\ndatasets:\n  paid:\n"
        f"{source}    time: ordered_at\n    timezone: UTC\n    dimensions: [region]\n"
        "    measures:\n"
        "      revenue: {agg: sum, expr: amount}\n"
        "      new_buyers: {agg: sum, expr: first_paid}\n"
        "kpis:\n"
        "  revenue: {formula: revenue, breakdowns: [region]}\n"
        "  new_buyers: {formula: new_buyers}\n",
        encoding="utf-8",
    )
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    return loaded


def _expected(by_region: bool) -> dict[str, dict[object, float]]:
    """Revenue and first paid orders per Jakarta month (and region), by hand."""
    rows = sorted((r for r in ORDERS if paid(r)), key=lambda r: r[1])  # by time, as the window
    first: dict[object, object] = {}
    for order_id, _, customer, *_ in rows:
        first.setdefault(customer, order_id)
    out: dict[str, dict[object, float]] = {"revenue": defaultdict(float), "new_buyers": {}}
    new: dict[object, float] = defaultdict(float)
    for order_id, at, customer, region, amount, *_ in rows:
        assert isinstance(at, dt.datetime)
        label = month(local(at))
        key = (label, region) if by_region else label
        out["revenue"][key] += float(amount)  # type: ignore[arg-type]
        new[key] += 1.0 if first[customer] == order_id else 0.0
    out["new_buyers"] = new
    return out


@pytest.mark.parametrize("by_region", [False, True])
def test_a_kpi_over_a_query(warehouse_url: str, tmp_path: Path, by_region: bool) -> None:
    loaded = _project(tmp_path / "q", warehouse_url)
    by = ("region",) if by_region else ()
    request = Request(
        ("revenue", "new_buyers"), Grain.month, by, dt.date(2025, 1, 1), dt.date(2027, 12, 31)
    )
    # Not closed: closing a Spark warehouse stops the session that holds the fixture tables.
    result = compute(loaded, Warehouse(loaded), request)
    expected = _expected(by_region)
    for name in ("revenue", "new_buyers"):
        got = {
            (p.label, p.slice[0][1]) if by_region else p.label: p.value
            for p in result[name].points
            if p.value is not None
        }
        wanted = expected[name]
        assert {k: v for k, v in got.items() if k in wanted} == pytest.approx(wanted), name
        assert all(v == 0 for k, v in got.items() if k not in wanted), name


def test_a_failing_query_is_an_error_at_the_query(warehouse_url: str, tmp_path: Path) -> None:
    source = '    source: {sql: "select * from tolok_nope"}\n'
    loaded = _project(tmp_path / "broken", warehouse_url, source)
    request = Request(("revenue",), Grain.month)
    with pytest.raises(WarehouseError) as raised:
        compute(loaded, Warehouse(loaded), request)
    error = raised.value
    assert error.message.startswith("dataset 'paid': the query failed on "), error.message
    assert "tolok_nope" in error.message  # the warehouse's own first line names it
    assert "\n" not in error.message
    assert error.where is not None
    assert (error.where.file.name, error.where.line, error.where.col) == ("tolok.yaml", 6, 19)


def test_the_watermark_of_a_query_always_reads_it_again(warehouse_url: str, tmp_path: Path) -> None:
    """A query's rows can change anywhere (a join, a window, an edited row upstream): every
    refresh recomputes its KPIs whole. Its first and last day are kept for freshness."""
    loaded = _project(tmp_path / "w", warehouse_url)
    days = [local(r[1]).date() for r in ORDERS if paid(r)]  # type: ignore[arg-type]
    warehouse = Warehouse(loaded)
    state, touch = observe(warehouse, "paid", None)
    again, touch_again = observe(warehouse, "paid", state)
    assert (
        state
        == again
        == {
            "kind": "query",
            "rows": len(days),
            "first": min(days).isoformat(),
            "last": max(days).isoformat(),
        }
    )
    assert touch.full
    assert touch_again.full


def test_a_refresh_sees_a_change_only_the_query_knows_of(tmp_path: Path) -> None:
    """The query joins orders to the customers' regions. A customer who moves to another
    region changes no order — same rows, same last day — yet the next (incremental)
    refresh shows the revenue in the new region."""
    folder = tmp_path / "moved"
    folder.mkdir()
    with duckdb.connect(str(folder / "w.duckdb")) as con:
        con.execute("CREATE TABLE orders (customer VARCHAR, placed TIMESTAMP, amount DOUBLE)")
        con.execute(
            "INSERT INTO orders VALUES ('c1', '2026-01-05 03:00', 10), "
            "('c2', '2026-01-10 03:00', 20), ('c1', '2026-02-03 03:00', 5)"
        )
        con.execute("CREATE TABLE customers (customer VARCHAR, region VARCHAR)")
        con.execute("INSERT INTO customers VALUES ('c1', 'Bali'), ('c2', 'Jawa')")
    source = (
        "    source: {sql: 'select o.placed as ordered_at, o.amount, c.region, 0 as first_paid "
        "from orders o join customers c on c.customer = o.customer'}\n"
    )
    loaded = _project(folder, "duckdb:///w.duckdb", source)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")

    def stored() -> dict[tuple[dt.date, tuple[object, ...]], float | None]:
        warehouse = Warehouse(loaded)
        try:
            refresh_into_store(loaded, warehouse, store)
        finally:
            warehouse.close()  # the DuckDB file is changed next
        return {(p.period, p.slice): p.value for p in load(store, "revenue", "month", ("region",))}

    first = stored()
    assert first[(dt.date(2026, 1, 1), ("Bali",))] == 10
    with duckdb.connect(str(folder / "w.duckdb")) as con:
        con.execute("UPDATE customers SET region = 'Jawa' WHERE customer = 'c1'")
    moved = stored()
    assert moved[(dt.date(2026, 1, 1), ("Jawa",))] == 30
    assert moved[(dt.date(2026, 2, 1), ("Jawa",))] == 5
    assert not any(v for (_, key), v in moved.items() if key == ("Bali",))
    # Coverage and freshness read the days the watermark kept.
    assert loaded.project is not None
    span = (dt.date(2026, 1, 5), dt.date(2026, 2, 3))
    assert dataset_spans(loaded)["paid"] == span
    newest = newest_days(store, loaded.project, Calendar.of(loaded.project))
    assert newest["paid"] == span[1]


def test_nothing_is_ingested_into_a_query(tmp_path: Path) -> None:
    loaded = _project(tmp_path / "i", "duckdb:///w.duckdb")
    rows = tmp_path / "rows.csv"
    rows.write_text("ordered_at,amount\n2026-01-01,1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="is a query"):
        ingest(loaded, Warehouse(loaded), "paid", rows)
