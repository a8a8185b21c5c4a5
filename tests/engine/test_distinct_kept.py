"""Distinct counts brought up to date from new files alone, in a process that lives on
(`tolok serve`): the values kept from the last refresh plus the new files' values give
exactly the count a full computation gives, and kept values that no longer hold (a file
changed, another process refreshed meanwhile) are never used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tolok.engine.compute
from tolok.engine.distinct import DistinctValues, Held
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import KeptWarehouse, Warehouse
from tolok.spec import load_project
from tolok.store.database import open_store
from tolok.store.results import load

from .test_incremental import Row, refresh, rows_strategy, write_parquet
from .test_kept_warehouse import refresh_kept as kept_refresh

PROJECT = """\
name: Distinct kept
timezone: Asia/Jakarta
warehouse: duckdb://
datasets:
  orders:
    source: file:data/*.parquet
    time: at
    timezone: UTC
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
      buyers: {agg: count_distinct, expr: customer}
      big_buyers: {agg: count_distinct, expr: customer, where: "amount >= 250"}
kpis:
  revenue: {formula: revenue}
  buyers: {formula: buyers, breakdowns: [region]}
  big: {formula: big_buyers}
  per_buyer: {formula: revenue / buyers}
  growth: {formula: growth(buyers)}
"""


def month_of(at: dt.datetime) -> dt.date:
    local = at + dt.timedelta(hours=7)  # Asia/Jakarta, no summer time
    return dt.date(local.year, local.month, 1)


def buyers_by_hand(rows: list[Row], least: float = 0.0) -> dict[dt.date, int]:
    """Distinct customers per month with an order of at least `least`, by hand."""
    seen: dict[dt.date, set[str]] = {}
    for at, customer, _, amount in rows:
        if amount >= least:
            seen.setdefault(month_of(at), set()).add(customer)
    return {month: len(customers) for month, customers in seen.items()}


@contextmanager
def distinct_reads() -> Iterator[list[object]]:
    """What each distinct-values query of a refresh read: the new files alone, or None
    for every file of the periods."""
    read: list[object] = []
    values = tolok.engine.compute._distinct_values

    def spy(*args: object) -> object:
        read.append(args[-1])
        return values(*args)  # type: ignore[arg-type]

    with patch.object(tolok.engine.compute, "_distinct_values", spy):
        yield read


def refresh_kept(kept: KeptWarehouse, folder: Path) -> None:
    kept_refresh(kept, load_project(folder), folder)


def new_project(folder: Path, text: str = PROJECT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    (folder / "data").mkdir()
    return folder


def stored(folder: Path, kpi: str) -> dict[dt.date, float | None]:
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    return {p.period: p.value for p in load(store, kpi, "month", ())}


def stored_equals_a_full_refresh(folder: Path) -> None:
    """Every KPI's values in the store, in total and by each breakdown, equal those of a
    full refresh in a new process into a store of its own."""
    loaded = load_project(folder)
    assert loaded.project is not None
    (folder / "full.db").unlink(missing_ok=True)
    full = open_store(f"sqlite:///{folder / 'full.db'}")
    warehouse = Warehouse(loaded)
    try:
        refresh_into_store(loaded, warehouse, full, full=True, board=False)
    finally:
        warehouse.close()
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    for name, kpi in loaded.project.kpis.items():
        for by in [(), *[tuple(b) for b in kpi.breakdowns]]:
            got = {(p.period, p.slice): p.value for p in load(store, name, "month", by)}
            expected = {(p.period, p.slice): p.value for p in load(full, name, "month", by)}
            assert got.keys() == expected.keys(), (name, by)
            for cell, value in expected.items():
                assert got[cell] == (value if value is None else pytest.approx(value)), (name, cell)


def assert_buyers(folder: Path, rows: list[Row]) -> None:
    stored_equals_a_full_refresh(folder)
    buyers, big = stored(folder, "buyers"), stored(folder, "big")
    for month, count in buyers_by_hand(rows).items():
        assert buyers[month] == count, month
    for month in buyers:
        assert big[month] == buyers_by_hand(rows, 250.0).get(month, 0), month


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=5))
def test_kept_values_and_new_files_count_as_a_full_computation(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Row]]
) -> None:
    """Random batches, late rows for old periods included, each a new Parquet file,
    refreshed one after another on one kept warehouse (values brought up to date from the
    new file, or read whole again when the file reaches back before the periods kept):
    after every refresh the store equals a full refresh and the distinct customers per
    month by hand (all of them, those with a big order)."""
    folder = new_project(tmp_path_factory.mktemp("distinct"))
    kept = KeptWarehouse()
    seen: list[Row] = []
    try:
        for index, batch in enumerate(batches):
            write_parquet(folder / "data" / f"batch{index}.parquet", batch)
            seen += batch
            with patch.object(tolok.engine.compute, "WORTH", 0):
                refresh_kept(kept, folder)
            assert_buyers(folder, seen)
    finally:
        kept.close()


def test_a_month_of_daily_files_reads_each_new_day_alone(tmp_path: Path) -> None:
    """A file a day through a month: from the third day on (the second refresh keeps the
    values), each refresh reads the distinct customers of the new day's file alone, and
    the counts stay those by hand, by region too."""
    folder = new_project(tmp_path / "p")
    kept = KeptWarehouse()
    seen: list[Row] = []
    regions = ["Bali", "Jawa"]
    try:
        for day in range(1, 9):
            path = folder / "data" / f"day{day:02}.parquet"
            batch: list[Row] = [
                (dt.datetime(2026, 7, day, 5 + n), f"c{(day * n) % 7}", regions[n % 2], 90.0 * n)
                for n in range(1, 5)
            ]
            write_parquet(path, batch)
            seen += batch
            with distinct_reads() as read, patch.object(tolok.engine.compute, "WORTH", 0):
                refresh_kept(kept, folder)
            if day >= 3:
                assert read == [(path,)] * 3  # big_buyers, buyers, buyers by region
            elif day == 2:
                assert read == [None] * 3  # the month read whole, its values kept
            assert_buyers(folder, seen)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        by_region = {p.slice: p.value for p in load(store, "buyers", "month", ("region",))}
        for region in regions:
            customers = {c for _, c, r, _ in seen if r == region}
            assert by_region[(region,)] == len(customers)
    finally:
        kept.close()


def test_a_file_changed_since_its_values_were_kept_is_read_again(tmp_path: Path) -> None:
    """The values kept hold c2, from a file that then loses c2's order: the next new file
    is not added to them; the month is read whole again."""
    folder = new_project(tmp_path / "p")
    kept = KeptWarehouse()
    first: Row = (dt.datetime(2026, 3, 2, 1), "c1", "Bali", 5.0)
    lost: Row = (dt.datetime(2026, 3, 3), "c2", "Jawa", 300.0)
    try:
        with patch.object(tolok.engine.compute, "WORTH", 0):
            write_parquet(folder / "data" / "a.parquet", [first, lost])
            refresh_kept(kept, folder)
            later: Row = (dt.datetime(2026, 3, 4), "c3", "Bali", 1.0)
            write_parquet(folder / "data" / "b.parquet", [later])
            refresh_kept(kept, folder)  # values kept: c1, c2, c3
            write_parquet(folder / "data" / "a.parquet", [first])
            refresh_kept(kept, folder)  # a changed file: read whole, as without kept values
            last: Row = (dt.datetime(2026, 3, 5), "c4", "Jawa", 2.0)
            write_parquet(folder / "data" / "c.parquet", [last])
            with distinct_reads() as read:
                refresh_kept(kept, folder)
        assert_buyers(folder, [first, later, last])
        assert stored(folder, "buyers") == {dt.date(2026, 3, 1): 3.0}
        assert stored(folder, "big") == {dt.date(2026, 3, 1): 0.0}
        assert None in read  # the month read whole, not the new file added to c1..c3
    finally:
        kept.close()


def test_values_kept_before_another_process_refreshed_are_not_used(tmp_path: Path) -> None:
    """`tolok refresh` ran between two refreshes of the server and took in a file: the
    server's kept values miss that file's customers, so the month is read whole."""
    folder = new_project(tmp_path / "p")
    kept = KeptWarehouse()
    rows: list[Row] = [(dt.datetime(2026, 4, 2), "c1", "Bali", 5.0)]
    try:
        with patch.object(tolok.engine.compute, "WORTH", 0):
            write_parquet(folder / "data" / "a.parquet", rows)
            refresh_kept(kept, folder)
            rows.append((dt.datetime(2026, 4, 3), "c2", "Bali", 260.0))
            write_parquet(folder / "data" / "b.parquet", rows[-1:])
            refresh_kept(kept, folder)  # values kept: c1, c2
            rows.append((dt.datetime(2026, 4, 4), "c3", "Jawa", 270.0))
            write_parquet(folder / "data" / "c.parquet", rows[-1:])
            refresh(folder)  # another process: the store now knows c.parquet
            rows.append((dt.datetime(2026, 4, 5), "c4", "Jawa", 1.0))
            write_parquet(folder / "data" / "d.parquet", rows[-1:])
            with distinct_reads() as read:
                refresh_kept(kept, folder)
        assert_buyers(folder, rows)
        assert stored(folder, "buyers") == {dt.date(2026, 4, 1): 4.0}
        assert stored(folder, "big") == {dt.date(2026, 4, 1): 2.0}
        assert None in read
    finally:
        kept.close()


def test_numbers_with_a_fraction_are_counted_by_the_warehouse(tmp_path: Path) -> None:
    """Distinct amounts (floating point, where NaN and -0.0 make Python's equality not the
    database's) are not kept: the warehouse counts them each refresh, and the count is
    right; a whole-number breakdown with a missing value finds its cells too."""
    text = PROJECT.replace("dimensions: [region]", "dimensions: [region, shop]").replace(
        "      revenue: {agg: sum, expr: amount}\n",
        "      revenue: {agg: sum, expr: amount}\n"
        "      amounts: {agg: count_distinct, expr: amount}\n",
    )
    text += "  amounts: {formula: amounts}\n  shops: {formula: buyers, breakdowns: [shop]}\n"
    folder = new_project(tmp_path / "p", text)
    kept = KeptWarehouse()
    days = [
        [(1, "c1", 1.5, 7), (2, "c2", 2.5, None)],
        [(3, "c1", 1.5, 7), (4, "c3", 0.5, 8)],
        [(5, "c4", 2.5, None), (6, "c1", 3.5, 8)],
    ]
    try:
        for index, day in enumerate(days):
            table = pa.table(
                {
                    "at": [dt.datetime(2026, 5, d, 3) for d, *_ in day],
                    "customer": [c for _, c, _, _ in day],
                    "region": ["Bali"] * len(day),
                    "amount": [a for _, _, a, _ in day],
                    "shop": pa.array([s for *_, s in day], pa.int64()),
                }
            )
            pq.write_table(table, folder / "data" / f"day{index}.parquet")
            with patch.object(tolok.engine.compute, "WORTH", 0):
                refresh_kept(kept, folder)
        stored_equals_a_full_refresh(folder)
        assert stored(folder, "amounts") == {dt.date(2026, 5, 1): 4.0}  # 0.5 1.5 2.5 3.5
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        shops = {p.slice: p.value for p in load(store, "shops", "month", ("shop",))}
        assert shops in (
            {(7,): 1.0, (8,): 2.0, (None,): 2.0},
            {(7.0,): 1.0, (8.0,): 2.0, (None,): 2.0},
        )
    finally:
        kept.close()


def test_a_process_that_ends_keeps_no_values(tmp_path: Path) -> None:
    """`tolok refresh` in a process of its own reads the month's distinct counts from the
    files (values kept there would die with it)."""
    folder = new_project(tmp_path / "p")
    rows: list[Row] = []
    for day in range(1, 4):
        rows.append((dt.datetime(2026, 6, day, 2), f"c{day % 2}", "Bali", 100.0 * day))
        write_parquet(folder / "data" / f"day{day}.parquet", rows[-1:])
        with distinct_reads() as read, patch.object(tolok.engine.compute, "WORTH", 0):
            refresh(folder)
        assert read == []
    assert Warehouse(load_project(folder)).distinct is None
    assert_buyers(folder, rows)


def test_a_distinct_count_by_a_date_column(tmp_path: Path) -> None:
    """Customers per month by the day their order was promised (a date column): the kept
    values find their cells as the measure's result names them."""
    text = PROJECT.replace("dimensions: [region]", "dimensions: [region, promised]")
    text += "  by_promise: {formula: buyers, breakdowns: [promised]}\n"
    folder = new_project(tmp_path / "p", text)
    kept = KeptWarehouse()
    rows: list[tuple[int, str, dt.date]] = []
    try:
        for day in range(1, 7):
            batch = [(day, f"c{(day + n) % 4}", dt.date(2026, 8, 1 + n)) for n in range(3)]
            rows += batch
            table = pa.table(
                {
                    "at": [dt.datetime(2026, 8, d, 9) for d, _, _ in batch],
                    "customer": [c for _, c, _ in batch],
                    "region": ["Bali"] * len(batch),
                    "amount": [10.0] * len(batch),
                    "promised": pa.array([p for _, _, p in batch], pa.date32()),
                }
            )
            pq.write_table(table, folder / "data" / f"day{day}.parquet")
            with distinct_reads() as read, patch.object(tolok.engine.compute, "WORTH", 0):
                refresh_kept(kept, folder)
            if day >= 3:
                assert read, read
                assert all(only is not None for only in read), read  # the new file alone
        stored_equals_a_full_refresh(folder)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        got = {p.slice: p.value for p in load(store, "by_promise", "month", ("promised",))}
        for promised in {p for _, _, p in rows}:
            customers = {c for _, c, p in rows if p == promised}
            matching = [v for key, v in got.items() if str(key[0]).startswith(promised.isoformat())]
            assert matching == [len(customers)], (promised, got)
    finally:
        kept.close()


def test_values_too_many_to_keep_are_counted_by_the_warehouse(tmp_path: Path) -> None:
    """With room for three values, a month of eight customers is not kept (nor pulled into
    Python each refresh only to be dropped): the warehouse counts, and the counts hold."""
    folder = new_project(tmp_path / "p")
    kept = KeptWarehouse()
    kept.distinct.most = 3
    rows: list[Row] = []
    try:
        for day in range(1, 9):
            rows.append((dt.datetime(2026, 9, day, 4), f"c{day}", "Bali", 300.0))
            write_parquet(folder / "data" / f"day{day}.parquet", rows[-1:])
            with patch.object(tolok.engine.compute, "WORTH", 0):
                refresh_kept(kept, folder)
            assert_buyers(folder, rows)
        assert kept.distinct.unkept
        assert all(held.size <= 3 for held in kept.distinct._held.values())
    finally:
        kept.close()


def test_sets_unused_lately_give_way_and_recent_ones_stay() -> None:
    """Room for four values: a set unused for two refreshes gives way to a new one; a set
    used in the refresh before does not, and the new one is then not kept."""
    keeper = DistinctValues(most=4)
    day = dt.date(2026, 1, 1)

    def sets(n: int) -> Held:
        return Held(day, {}, {(day, ()): set(range(n))}, pa.int64())

    keeper.begin()
    assert keeper.keep("old", sets(3))
    keeper.begin()
    keeper.begin()
    assert keeper.room("new") == 4  # "old" was last used two refreshes ago
    assert keeper.keep("new", sets(2))
    assert keeper.current("old", day, [], []) is None
    keeper.begin()
    assert keeper.room("other") == 2
    assert not keeper.keep("other", sets(3))  # "new" was used in the refresh before
    assert keeper.current("new", day, [], []) is not None
