"""`tolok ingest`: rows checked one by one, all or nothing, no duplicates — on DuckDB,
PostgreSQL and MariaDB tables."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import unavailable
from tolok.engine.ingest import IngestError, ingest
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject

SERVERS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root:@127.0.0.1:3306/test",
}
HEADER = "order_id,ordered_at,region,amount,paid\n"


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A project whose `orders` dataset is a table that does not exist yet."""
    backend = request.param
    table = f"tolok_ingest_{uuid.uuid4().hex[:8]}"
    url = SERVERS.get(backend, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    if backend != "duckdb":
        try:
            ibis.connect(url.replace("postgresql", "postgres"), connect_timeout=5).disconnect()
        except Exception as exc:
            unavailable(backend, exc)
    (tmp_path / "tolok.yaml").write_text(
        f"""\
name: Ingest
timezone: Asia/Jakarta
warehouse: {url}
datasets:
  orders:
    source: {table}
    time: ordered_at
    key: [order_id]
    dimensions: [region]
    columns: {{order_id: string, amount: number, paid: boolean}}
    measures:
      revenue: {{agg: sum, expr: amount, where: paid}}
  visits:
    source: {table}_visits
    time: day
    columns: {{day: date, visits: integer}}
    measures:
      visits: {{agg: sum}}
""",
        encoding="utf-8",
    )
    yield tmp_path
    con = ibis.connect(url.replace("postgresql", "postgres")) if backend != "duckdb" else None
    if con is not None:
        for name in (table, f"{table}_visits"):
            con.drop_table(name, force=True)


def loaded_of(folder: Path) -> LoadedProject:
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    return loaded


def rows_in(loaded: LoadedProject, dataset: str) -> list[dict[str, object]]:
    table = Warehouse(loaded).table(dataset)
    frame = table.execute()
    return frame.sort_values(frame.columns[0]).to_dict("records")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_creates_the_table_and_a_second_ingest_adds_nothing(project: Path) -> None:
    loaded = loaded_of(project)
    data = write(
        project / "orders.csv",
        HEADER
        + "A1,2026-01-31T18:30:00Z,Bali,100.5,true\n"  # 1 February 01:30 in Jakarta
        + "A2,2026-02-01 09:00,Jawa,20,false\n"  # no offset: already Jakarta time
        + "A3,2026-02-02T03:00:00+07:00,,30,yes\n",
    )
    report = ingest(loaded, Warehouse(loaded), "orders", data)
    assert (report.read, report.written, report.duplicates, report.rejected) == (3, 3, 0, 0)
    stored = rows_in(loaded, "orders")
    assert [r["order_id"] for r in stored] == ["A1", "A2", "A3"]
    assert [r["ordered_at"].to_pydatetime() for r in stored] == [  # type: ignore[attr-defined]
        dt.datetime(2026, 2, 1, 1, 30),
        dt.datetime(2026, 2, 1, 9, 0),
        dt.datetime(2026, 2, 2, 3, 0),
    ]
    assert [bool(r["paid"]) for r in stored] == [True, False, True]
    again = ingest(loaded, Warehouse(loaded), "orders", data)
    assert (again.written, again.duplicates) == (0, 3)
    overlapping = write(
        project / "more.csv",
        HEADER + "A3,2026-02-02T03:00:00Z,Bali,30,true\nA4,2026-02-03,Bali,5,true\n",
    )
    more = ingest(loaded, Warehouse(loaded), "orders", overlapping)
    assert (more.written, more.duplicates) == (1, 1)
    assert len(rows_in(loaded, "orders")) == 4


def test_a_table_made_by_another_process_meanwhile_takes_the_rows(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two server workers ingesting into a table that is not there yet both find it missing;
    the one whose creation comes second writes into the table the first made, new keys only."""
    from tolok.engine import ingest as module

    loaded = loaded_of(project)
    first = write(project / "first.csv", HEADER + "A1,2026-02-01,Bali,10,true\n")
    assert ingest(loaded, Warehouse(loaded), "orders", first).written == 1
    monkeypatch.setattr(module, "_existing", lambda *_: None)  # looked before it was made
    second = write(project / "second.csv",
                   HEADER + "A1,2026-02-01,Bali,10,true\nA2,2026-02-02,Jawa,20,true\n")  # fmt: skip
    report = ingest(loaded, Warehouse(loaded), "orders", second)
    assert (report.written, report.duplicates) == (1, 1)
    assert [r["order_id"] for r in rows_in(loaded, "orders")] == ["A1", "A2"]


def test_one_bad_row_and_nothing_is_written(project: Path) -> None:
    loaded = loaded_of(project)
    data = write(
        project / "orders.csv",
        HEADER
        + "B1,2026-03-01,Bali,10,true\n"
        + "B2,2026-03-02,Bali,ten,true\n"
        + "B3,,Bali,10,true\n"
        + "B4,2026-03-04,Bali,10,maybe\n"
        + ",2026-03-05,Bali,10,true\n"
        + "B6,2026-03-06,Bali,10,true,extra\n",
    )
    with pytest.raises(IngestError) as caught:
        ingest(loaded, Warehouse(loaded), "orders", data)
    assert [str(p) for p in caught.value.problems] == [
        "line 3: column 'amount': could not convert string to float: 'ten'",
        "line 4: column 'ordered_at': is empty, and every row needs it",
        "line 5: column 'paid': 'maybe' is not true or false",
        "line 6: column 'order_id': is empty, and every row needs it",
        "line 7: more values than the header has columns",
    ]
    assert caught.value.message.startswith("5 bad rows in orders.csv; nothing was written")
    table_exists = True
    try:
        Warehouse(loaded).table("orders")
    except Exception:
        table_exists = False
    assert not table_exists or rows_in(loaded, "orders") == []


def test_skip_bad_rows_writes_the_good_ones_and_keeps_the_bad_ones(project: Path) -> None:
    loaded = loaded_of(project)
    data = write(
        project / "orders.csv",
        HEADER + "C1,2026-04-01,Bali,10,true\nC2,2026-04-02,Bali,oops,true\nC3,2026-04-03,,7,no\n",
    )
    report = ingest(loaded, Warehouse(loaded), "orders", data, skip_bad_rows=True)
    assert (report.written, report.rejected) == (2, 1)
    assert report.rejected_file == project / "orders.rejected.csv"
    with report.rejected_file.open(encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert rejected == [
        {
            "_line": "3",
            "_reason": "column 'amount': could not convert string to float: 'oops'",
            "order_id": "C2",
            "ordered_at": "2026-04-02",
            "region": "Bali",
            "amount": "oops",
            "paid": "true",
        }
    ]
    assert [r["order_id"] for r in rows_in(loaded, "orders")] == ["C1", "C3"]


def test_without_a_key_the_same_file_is_recognised(project: Path) -> None:
    loaded = loaded_of(project)
    data = write(
        project / "visits.jsonl",
        '{"day": "2026-05-01", "visits": 10}\n{"day": "2026-05-02", "visits": 12}\n',
    )
    first = ingest(loaded, Warehouse(loaded), "visits", data)
    assert first.written == 2
    second = ingest(loaded, Warehouse(loaded), "visits", data)
    assert second.already
    assert len(rows_in(loaded, "visits")) == 2


def test_files_and_manual_datasets_are_not_ingest_targets(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("t,v\n2026-01-01,1\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: X\ndatasets:\n  a:\n    source: file:a.csv\n    time: t\n"
        "  m:\n    source: manual\n    measures:\n      v: {agg: sum}\n",
        encoding="utf-8",
    )
    loaded = loaded_of(tmp_path)
    for name, message in (
        ("a", "'a' reads files (file:a.csv)"),
        ("m", "'m' is a manual dataset"),
        ("zz", "no dataset 'zz'"),
    ):
        with pytest.raises(IngestError) as caught:
            ingest(loaded, Warehouse(loaded), name, tmp_path / "a.csv")
        assert caught.value.message.startswith(message)


VALUES = [None, "", " ", "1", " 2 ", "1.5", "x", "ten", "true", "No", "maybe", "1e3", "nan",
          "2026-03-01", "2026-03-01 10:00", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+07:00",
          "2026-13-01", 1, 0, 2.5, -3.0, True, False, [1], {"a": 1}, "a\x00b", "\x1b[0m",
          "inf", float("nan"), "tab\tok"]  # fmt: skip
KINDS = {"s": "string", "i": "integer", "n": "number", "b": "boolean", "d": "date",
         "t": "timestamp"}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["s", "i", "n", "b", "d", "t", "zz", "z\x00"]),
                        st.sampled_from(VALUES), max_size=7),
        max_size=12,
    ),
    st.booleans(),
)  # fmt: skip
def test_column_checks_find_what_row_checks_find(
    rows: list[dict[str, object]], table: bool
) -> None:
    """The column-at-a-time checks give each row the problem (line, column, reason) and the
    values the row-at-a-time check gives it, whatever the rows' types, order and gaps."""
    from tolok.engine.rows import check_row, check_rows

    types = dict(KINDS)
    zone = ZoneInfo("Asia/Jakarta")
    numbered = [(line, dict(raw)) for line, raw in enumerate(rows, start=2)]
    good, count, problems = check_rows(numbered, ["s", "t"], types, table, zone)
    expected_problems, expected_rows = [], []
    for line, raw in numbered:
        problem, parsed = check_row(line, raw, types, {"t", "s"}, table, zone)
        if problem is None:
            expected_rows.append(parsed)
        else:
            expected_problems.append(problem)
    assert [p for p, _ in problems] == expected_problems
    assert count == len(expected_rows)
    columns = list(dict.fromkeys(c for row in expected_rows for c in row))
    assert list(good) == columns
    for index, row in enumerate(expected_rows):
        assert {c: good[c][index] for c in columns if c in row} == row
        assert all(good[c][index] is None for c in columns if c not in row)


def test_rows_of_mixed_shapes_and_types_go_in_as_one_at_a_time_would(project: Path) -> None:
    """JSON rows naming columns in different orders, numbers as text or numbers, a column
    left out: all written, with the values a row-by-row check gives."""
    loaded = loaded_of(project)
    data = write(
        project / "mixed.jsonl",
        '{"order_id": "M1", "ordered_at": "2026-05-01 10:00", "amount": 10, "paid": true}\n'
        '{"amount": "12.5", "order_id": "M2", "ordered_at": "2026-05-02T03:00:00Z", "paid": "no"}\n'
        '{"ordered_at": "2026-05-03", "order_id": "M3", "region": "Bali"}\n'
        '{"paid": "yes", "amount": "10", "ordered_at": "2026-05-01T10:00", "order_id": "M1"}\n',
    )
    report = ingest(loaded, Warehouse(loaded), "orders", data)
    assert (report.read, report.written, report.duplicates) == (4, 3, 1)  # M1 again, as it was
    stored = {r["order_id"]: r for r in rows_in(loaded, "orders")}
    assert stored["M1"]["amount"] == 10.0
    assert stored["M2"]["amount"] == 12.5
    assert not bool(stored["M2"]["paid"])
    assert stored["M2"]["ordered_at"].to_pydatetime() == dt.datetime(2026, 5, 2, 10, 0)  # type: ignore[union-attr]
    assert stored["M3"]["region"] == "Bali"
    assert stored["M3"]["amount"] is None or stored["M3"]["amount"] != stored["M3"]["amount"]


def test_an_idempotency_key_recognises_its_own_rows_only(project: Path) -> None:
    """The same key with the same rows writes nothing; the same rows under another key, and
    other rows under a key used before (once the server no longer keeps it), are new."""
    from tolok.engine.ingest import Incoming

    loaded = loaded_of(project)
    day = {"day": "2026-05-01", "visits": 10}

    def send(key: str, rows: list[dict[str, object]]) -> tuple[int, bool]:
        report = ingest(loaded, Warehouse(loaded), "visits", Incoming.records(rows),
                        idempotency_key=key)  # fmt: skip
        return report.written, report.already

    assert send("1:a", [day]) == (1, False)
    assert send("1:a", [day]) == (0, True)
    assert send("1:b", [day]) == (1, False)  # the same visits again, counted twice on purpose
    assert send("1:a", [{"day": "2026-05-02", "visits": 3}]) == (1, False)
    assert len(rows_in(loaded, "visits")) == 3


def test_a_bad_row_among_good_ones_in_a_json_body_is_named_by_its_line(project: Path) -> None:
    loaded = loaded_of(project)
    good = '{"order_id": "G%d", "ordered_at": "2026-06-01", "amount": %d}\n'
    text = "".join(good % (i, i) for i in range(1, 500))
    text += '{"order_id": "G500", "ordered_at": "2026-06-01", "amount": "lots"}\n'
    text += "".join(good % (i, i) for i in range(501, 1001))
    with pytest.raises(IngestError) as caught:
        ingest(loaded, Warehouse(loaded), "orders", write(project / "big.jsonl", text))
    assert [str(p) for p in caught.value.problems] == [
        "line 500: column 'amount': could not convert string to float: 'lots'"
    ]


def test_a_column_of_another_type_than_declared_is_cast_by_the_database(tmp_path: Path) -> None:
    """A table made elsewhere with an integer column the YAML calls a number: the rows take
    the generic path, where the database casts them (as before the Arrow path existed)."""
    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create table t (id varchar, ts timestamp, qty bigint)")
    (tmp_path / "tolok.yaml").write_text(
        "name: X\nwarehouse: duckdb:///w.duckdb\ndatasets:\n  t:\n    source: t\n    time: ts\n"
        "    key: [id]\n    columns: {qty: number}\n"
        "    measures:\n      q: {agg: sum, expr: qty}\n",
        encoding="utf-8",
    )
    loaded = loaded_of(tmp_path)
    data = write(tmp_path / "t.csv", "id,ts,qty\na,2026-01-01,2\nb,2026-01-02,3.0\n")
    assert ingest(loaded, Warehouse(loaded), "t", data).written == 2
    assert [r["qty"] for r in rows_in(loaded, "t")] == [2, 3]
