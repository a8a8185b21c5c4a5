"""A warehouse kept from one refresh to the next (`tolok serve`): what it keeps (connections,
views over files, compiled queries) never makes a refresh differ from one in a new
process, and a DuckDB file is not held between refreshes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tolok.engine.compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import KeptWarehouse
from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject
from tolok.store.database import open_store
from tolok.store.results import load

from .test_incremental import (
    Row,
    amounts_by_month,
    project,
    rows_strategy,
    stored_equals_full,
    write_parquet,
)


def in_memory(folder: Path) -> Path:
    """The shared test project with an in-memory DuckDB: nothing for another program to
    wait for, so the warehouse is kept."""
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    text = text.replace("duckdb:///warehouse.duckdb", "duckdb://")
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    return folder


def one_file(tmp_path: Path) -> Path:
    """The project kept in memory, over one Parquet file with one order of 4 on 5 January."""
    folder = in_memory(project(tmp_path / "p", "file:data/*.parquet"))
    (folder / "data").mkdir()
    write_parquet(folder / "data" / "a.parquet", [(dt.datetime(2026, 1, 5, 3), "c1", "Bali", 4.0)])
    return folder


def table_project(folder: Path, url: str, table: str) -> LoadedProject:
    """Monthly revenue from a warehouse table with columns `at` and `amount`."""
    (folder / "tolok.yaml").write_text(
        f"name: Kept\ntimezone: UTC\nwarehouse: {url}\n"
        f"datasets:\n  orders:\n    source: {table}\n    time: at\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n  revenue: {formula: revenue}\n",
        encoding="utf-8",
    )
    return load_project(folder)


def refresh_kept(kept: KeptWarehouse, loaded: LoadedProject, folder: Path) -> None:
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    with kept.use(loaded) as warehouse:
        refresh_into_store(loaded, warehouse, store)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=5))
def test_refreshes_on_a_kept_warehouse_equal_full_ones(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Row]]
) -> None:
    """New Parquet files, late rows for old periods included, refreshed one after another
    on one kept warehouse: the store equals a full computation each time, and its monthly
    revenue the sum by hand."""
    folder = in_memory(project(tmp_path_factory.mktemp("kept"), "file:data/*.parquet"))
    (folder / "data").mkdir()
    loaded = load_project(folder)
    kept = KeptWarehouse()
    seen: list[Row] = []
    try:
        for index, batch in enumerate(batches):
            write_parquet(folder / "data" / f"batch{index}.parquet", batch)
            seen += batch
            refresh_kept(kept, loaded, folder)
            stored_equals_full(folder)
            store = open_store(f"sqlite:///{folder / 'tolok.db'}")
            stored = {p.period: p.value for p in load(store, "revenue", "month", ())}
            expected = {m: sum(a) for m, a in amounts_by_month(seen).items()}
            assert {m: v for m, v in stored.items() if v} == pytest.approx(expected)
    finally:
        kept.close()


def test_a_kept_warehouse_compiles_a_query_once(tmp_path: Path) -> None:
    """A refresh after another within the same month and week runs the queries the one
    before compiled."""
    folder = one_file(tmp_path)
    loaded = load_project(folder)
    kept = KeptWarehouse()
    compiled: list[str] = []
    original = tolok.engine.compute.compile_measures

    def counting(*args: object) -> object:
        compiled.append(repr(args[1]))
        return original(*args)  # type: ignore[arg-type]

    try:
        refresh_kept(kept, loaded, folder)
        data = folder / "data"
        write_parquet(data / "b.parquet", [(dt.datetime(2026, 2, 2, 3), "c2", "Jawa", 6.0)])
        refresh_kept(kept, loaded, folder)  # a new month and week: compiled
        write_parquet(data / "c.parquet", [(dt.datetime(2026, 2, 4, 3), "c3", "Jawa", 1.0)])
        refresh_kept(kept, loaded, folder)  # earlier weeks from the store now: compiled
        write_parquet(data / "d.parquet", [(dt.datetime(2026, 2, 5, 3), "c1", "Bali", 2.0)])
        with patch.object(tolok.engine.compute, "compile_measures", counting):
            refresh_kept(kept, loaded, folder)
        assert compiled == []
        stored_equals_full(folder)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        stored = {p.period: p.value for p in load(store, "revenue", "month", ())}
        assert stored == {dt.date(2026, 1, 1): 4.0, dt.date(2026, 2, 1): 9.0}
    finally:
        kept.close()


def test_a_rewritten_first_file_is_read_with_its_new_columns(tmp_path: Path) -> None:
    """A view keeps its columns only while it begins with the same, unchanged file."""
    folder = in_memory(project(tmp_path / "p", "file:data/*.parquet"))
    (folder / "data").mkdir()
    first = [(dt.datetime(2026, 3, 1, 1), "c1", "Bali", 2.0)]
    write_parquet(folder / "data" / "a.parquet", first)
    loaded = load_project(folder)
    kept = KeptWarehouse()
    try:
        refresh_kept(kept, loaded, folder)
        # The same rows with one more column, and amounts as integers.
        table = pa.table(
            {
                "at": [dt.datetime(2026, 3, 1, 1), dt.datetime(2026, 3, 2, 1)],
                "customer": ["c1", "c2"],
                "region": ["Bali", "Jawa"],
                "amount": pa.array([2, 5], pa.int64()),
                "channel": ["web", "shop"],
            }
        )
        pq.write_table(table, folder / "data" / "a.parquet")
        refresh_kept(kept, loaded, folder)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        stored = {p.period: p.value for p in load(store, "revenue", "month", ())}
        assert stored == {dt.date(2026, 3, 1): 7.0}
        with kept.use(loaded) as warehouse:
            assert warehouse.table("orders").schema()["amount"].is_integer()
            assert "channel" in warehouse.table("orders").columns
    finally:
        kept.close()


def test_another_project_gets_another_warehouse(tmp_path: Path) -> None:
    folder = one_file(tmp_path)
    kept = KeptWarehouse()
    try:
        first = load_project(folder)
        with kept.use(first) as one:
            pass
        with kept.use(first) as again:
            assert again is one
        with kept.use(load_project(folder)) as other:
            assert other is not one
        assert one._files is None  # the first one's connection was closed
    finally:
        kept.close()


def test_a_failed_refresh_does_not_keep_its_warehouse(tmp_path: Path) -> None:
    folder = one_file(tmp_path)
    loaded = load_project(folder)
    kept = KeptWarehouse()
    try:
        failed = None

        def broken() -> None:
            nonlocal failed
            with kept.use(loaded) as failed:
                failed.files()
                raise RuntimeError("the refresh broke")

        with pytest.raises(RuntimeError):
            broken()
        assert failed is not None
        assert failed._files is None
        with kept.use(loaded) as fresh:
            assert fresh is not failed
    finally:
        kept.close()


def test_a_duckdb_file_is_free_between_refreshes(tmp_path: Path) -> None:
    """Another program may open the warehouse file as soon as a refresh is over."""
    folder = project(tmp_path / "p", "file:data/*.parquet")  # duckdb:///warehouse.duckdb
    (folder / "data").mkdir()
    write_parquet(folder / "data" / "a.parquet", [(dt.datetime(2026, 1, 5, 3), "c1", "Bali", 4.0)])
    loaded = load_project(folder)
    kept = KeptWarehouse()
    try:
        refresh_kept(kept, loaded, folder)
        probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('SELECT 1')"
        opened = subprocess.run(
            [sys.executable, "-c", probe, str(folder / "warehouse.duckdb")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert opened.returncode == 0, opened.stderr
    finally:
        kept.close()


@pytest.mark.parametrize(
    ("url", "ibis_url"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"),
        ("mysql://root:@127.0.0.1:3306/test", "mysql://root:@127.0.0.1:3306/test"),
    ],
    ids=["postgres", "mariadb"],
)
def test_a_kept_server_connection_sees_rows_written_since(
    tmp_path: Path, url: str, ibis_url: str
) -> None:
    """Rows another connection commits between two refreshes are in the second one (a kept
    connection must not read from an old snapshot)."""
    import ibis
    import pandas as pd

    from tests.conftest import unavailable

    try:
        writer = ibis.connect(ibis_url, connect_timeout=5)
    except Exception as exc:
        unavailable(url.split(":")[0], exc)
    first = pd.DataFrame(
        {"at": pd.to_datetime(["2026-01-05 03:00", "2026-02-02 03:00"]), "amount": [4.0, 6.0]}
    )
    writer.create_table("tolok_kept_orders", first, overwrite=True)
    loaded = table_project(tmp_path, url, "tolok_kept_orders")
    kept = KeptWarehouse()
    try:
        refresh_kept(kept, loaded, tmp_path)
        later = pd.DataFrame(
            {"at": pd.to_datetime(["2026-02-09 03:00", "2026-03-01 03:00"]), "amount": [1.0, 2.0]}
        )
        writer.insert("tolok_kept_orders", later)
        refresh_kept(kept, loaded, tmp_path)
        store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
        stored = {p.period: p.value for p in load(store, "revenue", "month", ())}
        assert stored == {
            dt.date(2026, 1, 1): 4.0,
            dt.date(2026, 2, 1): 7.0,
            dt.date(2026, 3, 1): 2.0,
        }
    finally:
        kept.close()
        writer.drop_table("tolok_kept_orders", force=True)
        writer.disconnect()


def test_a_query_run_from_its_sql_gives_what_ibis_gives(tmp_path: Path) -> None:
    """Dates, texts, numbers and counts, with and without missing values, come back from a
    compiled query's SQL exactly as Ibis would return them."""
    folder = in_memory(project(tmp_path / "p", "file:data/*.parquet"))
    (folder / "data").mkdir()
    table = pa.table(
        {
            "at": [dt.datetime(2026, 1, 5, 3), dt.datetime(2026, 1, 6, 3), dt.datetime(2026, 2, 1)],
            "customer": ["c1", None, "c2"],
            "region": ["Bali", None, "Jawa"],
            "amount": [4.5, None, 2.0],
            "quantity": pa.array([3, None, None], pa.int64()),
            "paid": [True, None, False],
        }
    )
    pq.write_table(table, folder / "data" / "a.parquet")
    loaded = load_project(folder)
    kept = KeptWarehouse()
    try:
        with kept.use(loaded) as warehouse:
            rows = warehouse.table("orders")
            known = rows.filter(rows.amount.notnull())  # a result without missing values
            exprs = [
                rows.group_by(rows.region).aggregate(
                    first=rows.at.date().min(),
                    amount=rows.amount.sum(),
                    quantity=rows.quantity.sum(),
                    orders=rows.count(),
                    buyers=rows.customer.nunique(),
                    paid=rows.paid.sum(),
                ),
                rows.filter(rows.amount.isnull()).aggregate(quantity=rows.quantity.max()),
                known.group_by(day=known.at.date()).aggregate(
                    amount=known.amount.sum(), orders=known.count(), first=known.at.min()
                ),
            ]
            expected = [warehouse.files().execute(expr) for expr in exprs]
            for _ in range(2):  # compiled, then run from the kept SQL
                got = warehouse.run("orders", "a key", lambda: exprs)
                for frame, wanted in zip(got, expected, strict=True):
                    pd.testing.assert_frame_equal(
                        frame.sort_values(list(frame.columns[:1])).reset_index(drop=True),
                        wanted.sort_values(list(wanted.columns[:1])).reset_index(drop=True),
                    )
    finally:
        kept.close()


def test_without_the_board_a_refresh_hands_back_what_it_recomputed(tmp_path: Path) -> None:
    """The refresh after ingestion does not read the board back: it gets the KPIs it
    recomputed, and the store holds every KPI as with the board."""
    folder = one_file(tmp_path)
    loaded = load_project(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    kept = KeptWarehouse()
    try:
        with kept.use(loaded) as warehouse:
            first, _ = refresh_into_store(loaded, warehouse, store, board=False)
        assert "revenue" in first.totals
        with kept.use(loaded) as warehouse:  # nothing new: nothing recomputed
            again, stored = refresh_into_store(loaded, warehouse, store, board=False)
        assert again.totals == {}
        assert "revenue" in stored.unchanged
        with kept.use(loaded) as warehouse:
            board, _ = refresh_into_store(loaded, warehouse, store)
        assert [p.value for p in board.totals["revenue"].points] == [4.0]
    finally:
        kept.close()


def test_a_server_connection_closed_meanwhile_is_opened_again(tmp_path: Path) -> None:
    """PostgreSQL ends the kept connection (a restart, an idle timeout): the next refresh
    connects again instead of failing."""
    import ibis

    from tests.conftest import unavailable

    url = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        admin = ibis.connect("postgres://postgres@127.0.0.1:5432/test", connect_timeout=5)
    except Exception as exc:
        unavailable("postgres", exc)
    first = pd.DataFrame({"at": pd.to_datetime(["2026-01-05 03:00"]), "amount": [4.0]})
    admin.create_table("tolok_kept_again", first, overwrite=True)
    loaded = table_project(tmp_path, url, "tolok_kept_again")
    kept = KeptWarehouse()
    try:
        with (
            kept.use(loaded) as warehouse,
            warehouse.backend().raw_sql("SELECT pg_backend_pid()") as cursor,
        ):
            pid = cursor.fetchall()[0][0]
        with admin.raw_sql(f"SELECT pg_terminate_backend({int(pid)})") as cursor:
            cursor.fetchall()
        admin.insert(
            "tolok_kept_again",
            pd.DataFrame({"at": pd.to_datetime(["2026-01-06"]), "amount": [1.0]}),
        )
        refresh_kept(kept, loaded, tmp_path)
        store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
        assert [p.value for p in load(store, "revenue", "month", ())] == [5.0]
    finally:
        kept.close()
        admin.drop_table("tolok_kept_again", force=True)
        admin.disconnect()


def test_a_kept_connection_does_not_collect_views(tmp_path: Path) -> None:
    """Each refresh reads new CSV files' days through a view: it is made again under one
    name, so a server refreshing all day holds as many views after the tenth refresh as
    after the second."""
    folder = in_memory(project(tmp_path / "p", "file:data/*.csv"))
    (folder / "data").mkdir()
    loaded = load_project(folder)
    kept = KeptWarehouse()
    counts = []
    try:
        for day in range(1, 11):
            (folder / "data" / f"day{day:02}.csv").write_text(
                f"at,customer,region,amount\n2026-04-{day:02}T03:00:00,c1,Bali,{day}.5\n",
                encoding="utf-8",
            )
            refresh_kept(kept, loaded, folder)
            with kept.use(loaded) as warehouse:
                views = "SELECT count(*) FROM duckdb_views() WHERE temporary"
                counts.append(warehouse.files().con.execute(views).fetchall()[0][0])
        assert counts[-1] == counts[1], counts
        stored_equals_full(folder)
    finally:
        kept.close()


def test_after_close_a_refresh_keeps_nothing(tmp_path: Path) -> None:
    """A refresh that was on its way when the server stopped connects for itself and lets
    go of its connection when done."""
    folder = one_file(tmp_path)
    loaded = load_project(folder)
    kept = KeptWarehouse()
    kept.close()
    with kept.use(loaded) as late:
        late.files()
    assert late._files is None
    with kept.use(loaded) as again:
        assert again is not late
    assert again._files is None


def test_a_result_shaped_from_arrow_is_what_ibis_gives_with_slice_keys(tmp_path: Path) -> None:
    """A measure query's result made straight from DuckDB's Arrow table (texts, whole
    numbers and booleans as breakdown values, missing ones too) has the periods, slices,
    breakdown values and numbers the Ibis result has; a date breakdown goes through Ibis."""
    from tolok.compile.frames import SLICE, arrow_with_slice_keys, with_slice_keys
    from tolok.compile.measures import PERIOD
    from tolok.engine.compute import _normalise_keys

    folder = in_memory(project(tmp_path / "p", "file:data/*.parquet"))
    (folder / "data").mkdir()
    pq.write_table(
        pa.table(
            {
                "at": [dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 6), dt.datetime(2026, 2, 1)],
                "region": ["Bali", None, "Jawa"],
                "store": pa.array([7, None, 7], pa.int64()),
                "online": [True, False, None],
                "amount": [4.5, None, 2.0],
            }
        ),
        folder / "data" / "a.parquet",
    )
    loaded = load_project(folder)
    kept = KeptWarehouse()
    try:
        with kept.use(loaded) as warehouse:
            rows = warehouse.table("orders")
            period = rows.at.date().truncate("M").name(PERIOD)
            for by in ([], ["region"], ["store", "online"], ["region", "store", "online"]):
                expr = rows.group_by([period, *by]).aggregate(
                    m__amount=rows.amount.sum(), m__orders=rows.count()
                )
                arrow = warehouse.files().con.sql(str(warehouse.files().compile(expr)))
                shaped = arrow_with_slice_keys(arrow.to_arrow_table(), by)
                wanted = with_slice_keys(_normalise_keys(expr.execute(), [PERIOD, *by]), by)
                assert shaped is not None
                shaped = shaped.sort_values([SLICE, PERIOD])
                wanted = wanted.sort_values([SLICE, PERIOD])
                assert list(shaped[PERIOD]) == list(wanted[PERIOD])
                assert list(shaped[SLICE]) == list(wanted[SLICE])
                for name in by:
                    assert list(shaped[name]) == list(wanted[name])
                for name in ("m__amount", "m__orders"):
                    pd.testing.assert_series_equal(
                        shaped[name].astype("float64").reset_index(drop=True),
                        wanted[name].astype("float64").reset_index(drop=True),
                    )
            by_day = rows.group_by([period, rows.at.date().name("day")]).aggregate(
                m__orders=rows.count()
            )
            arrow = warehouse.files().con.sql(str(warehouse.files().compile(by_day)))
            assert arrow_with_slice_keys(arrow.to_arrow_table(), ["day"]) is None
    finally:
        kept.close()


def test_a_sum_of_counts_by_day_comes_straight_from_arrow_as_whole_numbers() -> None:
    """Counts added up from days are DuckDB's HUGEINT (Arrow's decimal of scale 0): they are
    read as 64-bit integers, equal to the counts; one past that range goes through Ibis."""
    import duckdb

    from tolok.compile.frames import arrow_with_slice_keys
    from tolok.compile.measures import PERIOD

    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE days AS SELECT DATE '2026-01-01' + CAST(i % 40 AS INTEGER) AS day "
        "FROM range(1000) t(i)"
    )
    query = (
        "SELECT date_trunc('month', day) AS __period, sum(n) AS m__orders FROM "
        "(SELECT day, count(*) AS n FROM days GROUP BY day) GROUP BY 1 ORDER BY 1"
    )
    table = connection.sql(query).to_arrow_table()
    assert pa.types.is_decimal(table.column("m__orders").type)
    shaped = arrow_with_slice_keys(table, [])
    assert shaped is not None
    by_month: dict[dt.date, int] = {}
    for i in range(1000):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=i % 40)
        by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), 0) + 1
    assert list(shaped[PERIOD]) == sorted(by_month)
    assert shaped["m__orders"].dtype == "int64"
    assert list(shaped["m__orders"]) == [by_month[m] for m in sorted(by_month)]
    huge = pa.table({PERIOD: [dt.date(2026, 1, 1)],
                     "m__orders": pa.array([10**20], pa.decimal128(38, 0))})  # fmt: skip
    assert arrow_with_slice_keys(huge, []) is None
