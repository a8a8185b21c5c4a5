"""An incremental refresh gives exactly what a full refresh gives, however data arrives:
new files, rows appended to a table, late rows for old periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest.mock import patch

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Prepared, Warehouse
from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject
from tolok.store.database import open_store
from tolok.store.results import load
from tolok.store.schema import MeasureAggregate

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
    warehouse = Warehouse(loaded)  # one for every KPI, as a refresh in a new process has
    try:
        _stored_equals_full(loaded, warehouse, store)
    finally:
        warehouse.close()


def _stored_equals_full(loaded: LoadedProject, warehouse: Warehouse, store: Engine) -> None:
    assert loaded.project is not None
    for name, kpi in loaded.project.kpis.items():
        for by in [(), *[tuple(b) for b in kpi.breakdowns]]:
            full = compute(loaded, warehouse, Request((name,), kpi.grain, by))[name]
            expected = [(p.period, tuple(v for _, v in p.slice), p.value) for p in full.points]
            got = [(p.period, p.slice, p.value) for p in load(store, name, kpi.grain.value, by)]
            assert len(got) == len(expected), name
            for (period, key, value), (e_period, e_key, e_value) in zip(got, expected, strict=True):
                assert (period, key) == (e_period, e_key), name
                assert (value is None) == (e_value is None), (name, period)
                if value is not None and e_value is not None:
                    assert abs(value - e_value) <= 1e-9 * max(1.0, abs(e_value)), (name, period)


def amounts_by_month(rows: list[Row]) -> dict[dt.date, list[float]]:
    """Amounts per month of Asia/Jakarta (UTC+7, no summer time), by hand."""
    out: dict[dt.date, list[float]] = {}
    for at, _, _, amount in rows:
        local = at + dt.timedelta(hours=7)
        out.setdefault(dt.date(local.year, local.month, 1), []).append(amount)
    return out


def refresh(folder: Path) -> None:
    loaded = load_project(folder)
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    refresh_into_store(loaded, Warehouse(loaded), store)


def write_csv(path: Path, rows: list[Row]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("at,customer,region,amount\n")
        for at, customer, region, amount in rows:
            handle.write(f"{at.isoformat()},{customer},{region},{amount}\n")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(rows_strategy, min_size=2, max_size=4))
def test_new_files_in_a_folder(
    tmp_path_factory: object, suffix: str, batches: list[list[Row]]
) -> None:
    """Parquet files that end before the touched day are not even opened (see below)."""
    folder = project(tmp_path_factory.mktemp("files"), f"file:data/*.{suffix}")  # type: ignore[attr-defined]
    (folder / "data").mkdir()
    write = write_csv if suffix == "csv" else write_parquet
    for index, batch in enumerate(batches):
        write(folder / "data" / f"batch{index}.{suffix}", batch)
        refresh(folder)
        stored_equals_full(folder)


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "UTC"])
def test_parquet_files_that_end_before_new_data_are_not_read(tmp_path: Path, zone: str) -> None:
    """The watermark knows each Parquet file's last day: a refresh from a later day on reads
    only the files that reach it (the day from the footer, or from a query when the data's
    time zone is not the project's)."""
    folder = project(tmp_path / "p", "file:data/*.parquet")
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(text.replace("timezone: UTC", f"timezone: {zone}"))
    (folder / "data").mkdir()
    old = [(dt.datetime(2026, 1, 5, 10), "c1", "Bali", 10.0)]
    write_parquet(folder / "data" / "a.parquet", old)
    late = [(dt.datetime(2026, 2, 27, 10), "c2", "Jawa", 5.0)]
    write_parquet(folder / "data" / "b.parquet", late)
    refresh(folder)
    write_parquet(folder / "data" / "c.parquet", [(dt.datetime(2026, 3, 4, 9), "c3", "Bali", 1.0)])
    opened: list[list[str]] = []

    view = Warehouse._view

    def spy(self: Warehouse, name: str, files: list[Path]) -> object:
        opened.append(sorted(f.name for f in files))
        return view(self, name, files)

    with patch.object(Warehouse, "_view", spy):
        refresh(folder)
    stored_equals_full(folder)
    # The month batch reads March alone (February for growth comes from the store); the
    # rolling distinct count over weeks still reads every file.
    assert ["c.parquet"] in opened, opened


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


TOGGLED = ("top: {formula: top_amount}", "top: {formula: growth(top_amount)}")
Step = tuple[str, list[Row]]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["rows", "rows", "redefine"]), rows_strategy),
        min_size=3,
        max_size=6,
    )
)
def test_measure_results_kept_in_the_store_never_go_stale(
    tmp_path_factory: object, steps: list[Step]
) -> None:
    """Earlier periods come from the measure results kept in the store; a redefined KPI
    changes which measures a batch reads (another signature), and late rows change old
    periods: whatever the order, every refresh still equals a full computation."""
    folder = project(tmp_path_factory.mktemp("kept"), "file:data/*.csv")  # type: ignore[attr-defined]
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    text = text.replace(MEASURES, MEASURES + "      top_amount: {agg: max, expr: amount}\n")
    (folder / "tolok.yaml").write_text(text + f"  {TOGGLED[0]}\n", encoding="utf-8")
    (folder / "data").mkdir()
    for index, (action, batch) in enumerate(steps):
        if action == "redefine":
            text = (folder / "tolok.yaml").read_text(encoding="utf-8")
            now, other = TOGGLED if TOGGLED[0] in text else reversed(TOGGLED)
            (folder / "tolok.yaml").write_text(text.replace(now, other), encoding="utf-8")
        write_csv(folder / "data" / f"batch{index}.csv", batch)
        refresh(folder)
        stored_equals_full(folder)


def test_an_incremental_refresh_reads_earlier_periods_from_the_store(tmp_path: Path) -> None:
    folder = project(tmp_path / "p", "file:data/*.parquet")
    (folder / "data").mkdir()
    first = [(dt.datetime(2026, 1, day, 10), f"c{day % 3}", "Bali", 10.0 * day) for day in (2, 9)]
    first += [(dt.datetime(2026, 2, 3, 10), "c1", "Jawa", 7.0)]
    write_parquet(folder / "data" / "a.parquet", first)
    refresh(folder)
    write_parquet(folder / "data" / "b.parquet", [(dt.datetime(2026, 3, 4, 9), "c2", "Jawa", 5.0)])
    read: list[str] = []
    execute, run_prepared = Warehouse.execute, Warehouse._run_prepared

    def spy(self: Warehouse, expr: object, dataset: str) -> object:
        read.append(str(ibis.to_sql(expr)))  # type: ignore[arg-type]
        return execute(self, expr, dataset)  # type: ignore[arg-type]

    def spy_prepared(
        self: Warehouse, backend: object, query: Prepared, dataset: str, shape: object = None
    ) -> object:
        read.append(query.sql)
        return run_prepared(self, backend, query, dataset, shape)  # type: ignore[arg-type]

    with (
        patch.object(Warehouse, "execute", spy),
        patch.object(Warehouse, "_run_prepared", spy_prepared),
    ):
        refresh(folder)
    stored_equals_full(folder)
    # growth and year-to-date revenue need January and February: they came from the store.
    month_batches = [sql for sql in read if "MONTH" in sql.upper() and "2026" in sql]
    assert month_batches
    assert all("2026, 3, 1" in sql for sql in month_batches), month_batches
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    with store.connect() as connection:
        kept = connection.execute(
            select(MeasureAggregate.period, MeasureAggregate.refresh_id).distinct()
        ).all()
    refreshes: dict[dt.date, set[int]] = {}
    for period, refresh_id in kept:
        refreshes.setdefault(period, set()).add(refresh_id)
    # January as the first refresh kept it (a breakdown that saw fewer regions in March is
    # recomputed whole, as before), March written by the second.
    assert 1 in refreshes[dt.date(2026, 1, 1)]
    assert refreshes[dt.date(2026, 3, 1)] == {2}


def write_parquet(path: Path, rows: list[Row]) -> None:
    at, customer, region, amount = (list(column) for column in zip(*rows, strict=True))
    table = pa.table({"at": at, "customer": customer, "region": region, "amount": amount})
    pq.write_table(table, path)


def test_a_later_event_completes_conversions_of_earlier_periods(tmp_path: Path) -> None:
    """A deal on 10 February converts a lead of 20 January: January's rate changes, so an
    incremental refresh after new deals must recompute from `within` before them."""
    (tmp_path / "deals").mkdir()
    (tmp_path / "leads.csv").write_text(
        "created_at,lead_id\n2026-01-05,l1\n2026-01-20,l2\n2026-02-03,l3\n2026-02-15,l4\n",
        encoding="utf-8",
    )
    (tmp_path / "deals" / "1.csv").write_text(
        "closed_at,deal_lead\n2026-01-09,l1\n", encoding="utf-8"
    )
    (tmp_path / "tolok.yaml").write_text(
        "name: Funnel\nwarehouse: duckdb://\nstore: sqlite:///tolok.db\n"
        "datasets:\n"
        "  leads:\n    source: file:leads.csv\n    time: created_at\n    measures:\n"
        "      won: {agg: conversion, entity: lead_id, to: deals, to_entity: deal_lead,"
        " within: 30 days, as: rate}\n"
        "  deals:\n    source: file:deals/*.csv\n    time: closed_at\n"
        "kpis:\n  win_rate: {formula: won, unit: percent}\n",
        encoding="utf-8",
    )
    store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
    loaded = load_project(tmp_path)
    refresh_into_store(loaded, Warehouse(loaded), store)
    (tmp_path / "deals" / "2.csv").write_text(
        "closed_at,deal_lead\n2026-02-10,l2\n", encoding="utf-8"
    )
    loaded = load_project(tmp_path)
    refresh_into_store(loaded, Warehouse(loaded), store)
    points = load(store, "win_rate", "month", ())
    by_month = {p.period.isoformat()[:7]: p.value for p in points}
    # January: l1 (4 days) and l2 (21 days) both converted within 30 days: 2 / 2
    # February: neither l3 nor l4 has a deal: 0 / 2
    assert by_month == {"2026-01": 1.0, "2026-02": 0.0}


def test_file_days_observed_under_another_time_zone_are_not_trusted(tmp_path: Path) -> None:
    """A file's last local day depends on the time zones: after the project's zone changes,
    a file seen before ends a day later, and must still be read from that day on."""
    folder = project(tmp_path / "p", "file:data/*.parquet")
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(text.replace("timezone: Asia/Jakarta", "timezone: UTC"))
    (folder / "data").mkdir()
    # 20:00 UTC on 31 January is 03:00 on 1 February in Jakarta.
    write_parquet(
        folder / "data" / "a.parquet", [(dt.datetime(2026, 1, 31, 20), "c1", "Bali", 4.0)]
    )
    refresh(folder)
    (folder / "tolok.yaml").write_text(text)  # the project moves to Asia/Jakarta
    refresh(folder)
    write_parquet(folder / "data" / "b.parquet", [(dt.datetime(2026, 2, 1, 10), "c2", "Bali", 5.0)])
    refresh(folder)
    stored_equals_full(folder)
