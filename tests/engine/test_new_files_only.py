"""When a dataset's only change is new files, sums, counts, averages, minimums and maximums
of the touched periods are brought up to date from the new files alone (added to what the
store keeps), and still equal a full computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tolok.engine.compute
from tolok.engine.warehouse import Warehouse
from tolok.store.database import open_store
from tolok.store.results import load

from .test_incremental import (
    Row,
    amounts_by_month,
    refresh,
    rows_strategy,
    stored_equals_full,
    write_parquet,
)

PROJECT = """\
name: New files
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
      orders: {agg: count}
      average: {agg: avg, expr: amount}
      top: {agg: max, expr: amount}
      low: {agg: min, expr: amount}
kpis:
  revenue: {formula: revenue, breakdowns: [region]}
  average: {formula: average}
  spread: {formula: top - low}
  growth: {formula: growth(revenue)}
  weekly: {formula: "rolling(orders, 2)", grain: week}
  ytd: {formula: to_date(revenue)}
"""


@contextmanager
def read_alone() -> Iterator[list[object]]:
    """What each table of a refresh was read from alone (None: the usual files)."""
    read: list[object] = []
    table = Warehouse.table

    def spy(
        self: Warehouse, name: str, since: dt.date | None = None, only: object = None
    ) -> object:
        read.append(only)
        return table(self, name, since, only)  # type: ignore[arg-type]

    with patch.object(Warehouse, "table", spy):
        yield read


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=5))
def test_new_files_alone_bring_the_touched_periods_up_to_date(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Row]]
) -> None:
    """Random batches, late rows for old periods included, each a new Parquet file: after
    every refresh the store equals a full computation and the figures by hand, and the
    refresh read only the new file."""
    folder = tmp_path_factory.mktemp("new")
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "data").mkdir()
    seen: list[Row] = []
    for index, batch in enumerate(batches):
        path = folder / "data" / f"batch{index}.parquet"
        write_parquet(path, batch)
        seen += batch
        # However small a part of the month the new file is (see the test below).
        with read_alone() as read, patch.object(tolok.engine.compute, "WORTH", 0):
            refresh(folder)
        if index > 0:
            # The month batch's sums came from the new file alone.
            assert (path,) in read, read
        stored_equals_full(folder)
        store = open_store(f"sqlite:///{folder / 'tolok.db'}")
        by_hand = amounts_by_month(seen)
        revenue = {p.period: p.value for p in load(store, "revenue", "month", ())}
        average = {p.period: p.value for p in load(store, "average", "month", ())}
        spread = {p.period: p.value for p in load(store, "spread", "month", ())}
        for month, amounts in by_hand.items():
            assert revenue[month] == pytest.approx(sum(amounts))
            assert average[month] == pytest.approx(sum(amounts) / len(amounts))
            assert spread[month] == pytest.approx(max(amounts) - min(amounts))


def test_a_changed_file_is_read_again_whole(tmp_path: Path) -> None:
    """A file that was there and changed is not a new file: the touched periods are read
    from every file again, and a row it lost is gone."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "data").mkdir()
    first: list[Row] = [(dt.datetime(2026, 3, 2, 1), "c1", "Bali", 5.0)]
    lost: Row = (dt.datetime(2026, 3, 3), "c2", "Jawa", 9.0)
    write_parquet(folder / "data" / "a.parquet", [*first, lost])
    refresh(folder)
    write_parquet(folder / "data" / "a.parquet", first)
    write_parquet(folder / "data" / "b.parquet", [(dt.datetime(2026, 3, 4), "c3", "Bali", 1.0)])
    refresh(folder)
    stored_equals_full(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    assert [p.value for p in load(store, "revenue", "month", ())] == [6.0]
    assert [p.value for p in load(store, "spread", "month", ())] == [4.0]


def test_new_files_are_combined_only_when_they_are_a_small_part_of_the_month(
    tmp_path: Path,
) -> None:
    """Two days' files in a month: the next day's file is read with them (combining costs
    more than reading so few). Ten days' files: the next one is read alone."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "data").mkdir()

    def day(number: int) -> Path:
        path = folder / "data" / f"day{number:02}.parquet"
        rows = [(dt.datetime(2026, 5, number, hour), f"c{hour}", "Bali", 1.0) for hour in range(9)]
        write_parquet(path, rows)
        return path

    for number in (1, 2):
        day(number)
        refresh(folder)
    new = day(3)
    with read_alone() as read:
        refresh(folder)
    assert (new,) not in read
    for number in range(4, 11):
        day(number)
        refresh(folder)
    new = day(11)
    with read_alone() as read:
        refresh(folder)
    assert (new,) in read
    stored_equals_full(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    assert [p.value for p in load(store, "revenue", "month", ())] == [99.0]


def test_new_csv_files_are_read_with_the_others(tmp_path: Path) -> None:
    """DuckDB guesses a CSV's column types from the files it reads together: a new file
    whose one amount is empty would read as text on its own. CSV files are read again."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "tolok.yaml").write_text(PROJECT.replace("*.parquet", "*.csv"), encoding="utf-8")
    (folder / "data").mkdir()
    lines = [f"2026-05-{1 + n % 20:02}T0{n % 9}:00:00,c{n},Bali,10.5" for n in range(200)]
    (folder / "data" / "a.csv").write_text(
        "at,customer,region,amount\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    refresh(folder)
    (folder / "data" / "b.csv").write_text(
        "at,customer,region,amount\n2026-05-21T09:00:00,c9,Jawa,\n", encoding="utf-8"
    )
    with read_alone() as read:
        refresh(folder)
    assert all(only is None for only in read)
    stored_equals_full(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    assert [p.value for p in load(store, "revenue", "month", ())] == [pytest.approx(2100.0)]


def test_measure_names_that_look_like_parts_of_an_average(tmp_path: Path) -> None:
    """`price__sum` and `items__n` are measures of their own, each combined its own way."""
    folder = tmp_path / "p"
    folder.mkdir()
    text = PROJECT.replace(
        "      low: {agg: min, expr: amount}\n",
        "      low: {agg: min, expr: amount}\n"
        "      price: {agg: max, expr: amount}\n"
        "      price__sum: {agg: sum, expr: amount}\n"
        "      items__n: {agg: sum, expr: amount}\n",
    ).replace(
        "  ytd: {formula: to_date(revenue)}\n",
        "  ytd: {formula: to_date(revenue)}\n  odd: {formula: price + price__sum + items__n}\n",
    )
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    (folder / "data").mkdir()
    write_parquet(folder / "data" / "a.parquet", [(dt.datetime(2026, 6, 2), "c1", "Bali", 4.0)])
    refresh(folder)
    write_parquet(folder / "data" / "b.parquet", [(dt.datetime(2026, 6, 3), "c2", "Bali", 6.0)])
    with read_alone() as read, patch.object(tolok.engine.compute, "WORTH", 0):
        refresh(folder)
    assert any(only is not None for only in read)
    stored_equals_full(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    assert [p.value for p in load(store, "odd", "month", ())] == [6.0 + 10.0 + 10.0]
