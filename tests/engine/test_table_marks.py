"""A table's watermark is told unchanged by one cheap query (its row count and its earliest
and latest time as stored), and a table that changed is still seen as changed, on DuckDB
(through the DuckDB driver, without Ibis), PostgreSQL and MariaDB.

Each test has a table of its own (a random name), made and changed with the database's own
SQL; what a change touches is known from the rows written here, not asked of tolok."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.engine.conftest import MYSQL_URL, POSTGRES_URL
from tolok.engine.warehouse import Warehouse
from tolok.engine.watermarks import State, Touch, observe
from tolok.spec import load_project

ROWS = [("2026-03-01 08:00:00", 10.0), ("2026-03-03 12:00:00", 20.0), ("2026-03-05 23:00:00", 5.0)]
LAST_DAY = dt.date(2026, 3, 5)  # the latest row's day (the project and the data are in UTC)


@dataclass
class Place:
    """A warehouse with a table of its own: its URL, the table's name and a way to run SQL."""

    url: str
    table: str
    run: Any  # (sql) -> None


def _duckdb(tmp_path: Path, table: str) -> Iterator[Place]:
    import duckdb

    path = tmp_path / "warehouse.duckdb"

    def run(sql: str) -> None:
        with duckdb.connect(str(path)) as connection:  # let go of the file after each
            connection.execute(sql)

    run(f"CREATE TABLE {table} (ordered_at TIMESTAMP, amount DOUBLE)")
    yield Place(f"duckdb:///{path}", table, run)


def _server(url: str, backend: str, table: str, stamp: str) -> Iterator[Place]:
    import ibis

    try:
        con = ibis.connect(url.replace("postgresql://", "postgres://"), connect_timeout=5)
    except Exception as exc:
        unavailable(backend, exc)

    def run(sql: str) -> None:
        with con.raw_sql(sql) as cursor:
            cursor.fetchall() if cursor.description else None
        if backend == "mysql":
            con.con.commit()

    run(f"CREATE TABLE {table} (ordered_at {stamp}, amount DOUBLE PRECISION)")
    try:
        yield Place(url, table, run)
    finally:
        run(f"DROP TABLE IF EXISTS {table}")
        con.disconnect()


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    table = f"tolok_marks_{uuid.uuid4().hex[:12]}"
    if request.param == "duckdb":
        yield from _duckdb(tmp_path, table)
    elif request.param == "postgres":
        yield from _server(POSTGRES_URL, "postgres", table, "TIMESTAMP")
    else:
        yield from _server(MYSQL_URL, "mysql", table, "DATETIME")


def _insert(place: Place, rows: list[tuple[str, float]]) -> None:
    values = ", ".join(f"('{at}', {amount})" for at, amount in rows)
    place.run(f"INSERT INTO {place.table} (ordered_at, amount) VALUES {values}")


def _look(folder: Path, place: Place, previous: State | None) -> tuple[State, Touch]:
    """The table's watermark as a new process sees it, after `previous` as the store keeps
    it (JSON)."""
    (folder / "tolok.yaml").write_text(
        f"name: Marks\ntimezone: UTC\nwarehouse: {place.url}\ndatasets:\n"
        f"  orders:\n    source: {place.table}\n    time: ordered_at\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n  revenue: {formula: revenue}\n",
        encoding="utf-8",
    )
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    warehouse = Warehouse(loaded)
    try:
        kept = None if previous is None else json.loads(json.dumps(previous, default=str))
        return observe(warehouse, "orders", kept)
    finally:
        warehouse.close()


@pytest.fixture
def seen(place: Place, tmp_path: Path) -> State:
    """The watermark of the table with its first rows."""
    _insert(place, ROWS)
    state, touch = _look(tmp_path, place, None)
    assert touch.full  # never seen: read whole
    assert (state["rows"], state["first"], state["last"]) == (3, "2026-03-01", "2026-03-05")
    return state


def test_an_unchanged_table_is_untouched(place: Place, seen: State, tmp_path: Path) -> None:
    state, touch = _look(tmp_path, place, seen)
    assert touch.untouched
    assert (state["rows"], state["last"]) == (3, "2026-03-05")


def test_rows_after_the_latest_touch_from_the_old_latest_day(
    place: Place, seen: State, tmp_path: Path
) -> None:
    _insert(place, [("2026-03-07 09:00:00", 1.0), ("2026-03-08 10:00:00", 2.0)])
    state, touch = _look(tmp_path, place, seen)
    assert touch == Touch(since=LAST_DAY)
    assert (state["rows"], state["last"]) == (5, "2026-03-08")
    _, touch = _look(tmp_path, place, state)  # and then it rests
    assert touch.untouched


def test_a_row_added_in_the_past_recomputes_whole(
    place: Place, seen: State, tmp_path: Path
) -> None:
    _insert(place, [("2026-02-20 09:00:00", 1.0)])
    state, touch = _look(tmp_path, place, seen)
    assert touch.full
    assert (state["rows"], state["first"]) == (4, "2026-02-20")


def test_a_deleted_row_recomputes_whole(place: Place, seen: State, tmp_path: Path) -> None:
    place.run(f"DELETE FROM {place.table} WHERE amount = 20")
    state, touch = _look(tmp_path, place, seen)
    assert touch.full
    assert state["rows"] == 2


def test_the_latest_time_moved_with_as_many_rows(place: Place, seen: State, tmp_path: Path) -> None:
    """Same row count, same latest day, a later latest time: seen (the marks moved), and
    as before the day alone places nothing new (no row after the old latest day)."""
    place.run(f"UPDATE {place.table} SET ordered_at = '2026-03-05 23:30:00' WHERE amount = 5")
    state, touch = _look(tmp_path, place, seen)
    assert state["marks"] != seen["marks"]
    assert touch.untouched  # the same rows on the same days: no period changed
    place.run(f"UPDATE {place.table} SET ordered_at = '2026-03-06 01:00:00' WHERE amount = 5")
    state, touch = _look(tmp_path, place, state)
    assert touch.full  # a row moved to a later day: rows count the same, so read whole
    assert state["last"] == "2026-03-06"
