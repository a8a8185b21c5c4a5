"""An incremental refresh gives exactly what a full refresh gives, however data arrives:
new files, rows appended to a table, late rows for old periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.store.database import open_store
from tolok.store.results import load

KPIS = """\
kpis:
  revenue: {formula: revenue}
  buyers: {formula: buyers, breakdowns: [region]}
  median_amount: {formula: median_amount}
  growth: {formula: growth(revenue)}
  rolling_buyers: {formula: "rolling(buyers, 2)", grain: week}
  ytd: {formula: to_date(revenue)}
  last_year: {formula: last_year(orders)}
  share: {formula: revenue / orders}
"""
MEASURES = """\
    measures:
      revenue: {agg: sum, expr: amount}
      orders: {agg: count}
      buyers: {agg: count_distinct, expr: customer}
      median_amount: {agg: median, expr: amount}
"""

Row = tuple[dt.datetime, str, str, float]
rows_strategy = st.lists(
    st.tuples(
        st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 6, 30)),
        st.sampled_from(["c1", "c2", "c3", "c4"]),
        st.sampled_from(["Bali", "Jawa"]),
        st.integers(min_value=1, max_value=500).map(float),
    ),
    min_size=1,
    max_size=12,
)


def project(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"name: Incremental\ntimezone: Asia/Jakarta\nwarehouse: duckdb:///warehouse.duckdb\n"
        f"datasets:\n  orders:\n    source: {source}\n    time: at\n    timezone: UTC\n"
        f"    dimensions: [region]\n{MEASURES}{KPIS}",
        encoding="utf-8",
    )
    return folder


def stored_equals_full(folder: Path) -> None:
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    assert loaded.project is not None
    for name, kpi in loaded.project.kpis.items():
        for by in [(), *[tuple(b) for b in kpi.breakdowns]]:
            full = compute(loaded, Warehouse(loaded), Request((name,), kpi.grain, by))[name]
            expected = [(p.period, tuple(v for _, v in p.slice), p.value) for p in full.points]
            got = [(p.period, p.slice, p.value) for p in load(store, name, kpi.grain.value, by)]
            assert len(got) == len(expected), name
            for (period, key, value), (e_period, e_key, e_value) in zip(got, expected, strict=True):
                assert (period, key) == (e_period, e_key), name
                assert (value is None) == (e_value is None), (name, period)
                if value is not None and e_value is not None:
                    assert abs(value - e_value) <= 1e-9 * max(1.0, abs(e_value)), (name, period)


def refresh(folder: Path) -> None:
    loaded = load_project(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    refresh_into_store(loaded, Warehouse(loaded), store)


def write_csv(path: Path, rows: list[Row]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("at,customer,region,amount\n")
        for at, customer, region, amount in rows:
            handle.write(f"{at.isoformat()},{customer},{region},{amount}\n")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=4))
def test_new_files_in_a_folder(tmp_path_factory: object, batches: list[list[Row]]) -> None:
    folder = project(tmp_path_factory.mktemp("files"), "file:data/*.csv")  # type: ignore[attr-defined]
    (folder / "data").mkdir()
    for index, batch in enumerate(batches):
        write_csv(folder / "data" / f"batch{index}.csv", batch)
        refresh(folder)
        stored_equals_full(folder)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=4))
def test_rows_appended_to_a_table_including_late_ones(
    tmp_path_factory: object, batches: list[list[Row]]
) -> None:
    folder = project(tmp_path_factory.mktemp("table"), "orders")  # type: ignore[attr-defined]
    for batch in batches:
        with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS orders "
                '("at" TIMESTAMP, customer VARCHAR, region VARCHAR, amount DOUBLE)'
            )
            con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", batch)
        refresh(folder)
        stored_equals_full(folder)


def test_a_changed_file_and_a_definition_change(tmp_path: Path) -> None:
    folder = project(tmp_path / "p", "file:data/*.csv")
    (folder / "data").mkdir()
    write_csv(folder / "data" / "a.csv", [(dt.datetime(2025, 3, 1, 10), "c1", "Bali", 10.0)])
    write_csv(folder / "data" / "b.csv", [(dt.datetime(2026, 3, 1, 10), "c2", "Jawa", 20.0)])
    refresh(folder)
    write_csv(folder / "data" / "a.csv", [(dt.datetime(2025, 3, 2, 10), "c3", "Bali", 99.0)])
    refresh(folder)
    stored_equals_full(folder)
    (folder / "data" / "b.csv").unlink()
    refresh(folder)
    stored_equals_full(folder)
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(
        text.replace("share: {formula: revenue / orders}", "share: {formula: orders / revenue}"),
        encoding="utf-8",
    )
    refresh(folder)
    stored_equals_full(folder)


def test_rows_appended_to_a_csv_file_touch_from_their_own_day(tmp_path: Path) -> None:
    folder = project(tmp_path / "p", "file:data/*.csv")
    (folder / "data").mkdir()
    path = folder / "data" / "orders.csv"
    write_csv(path, [(dt.datetime(2025, 1, 5, 10), "c1", "Bali", 10.0)])
    refresh(folder)
    for at, customer in ((dt.datetime(2026, 2, 1, 8), "c2"), (dt.datetime(2025, 6, 1, 8), "c3")):
        with path.open("a", encoding="utf-8") as handle:  # a later row, then a late one
            handle.write(f"{at.isoformat()},{customer},Jawa,5.0\n")
        refresh(folder)
        stored_equals_full(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    versions = {p.period for p in load(store, "revenue", "month", ())}
    assert dt.date(2026, 2, 1) in versions
