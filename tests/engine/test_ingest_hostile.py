"""`tolok ingest` with what real files hold: column names with brackets and percent signs,
control characters, rows that share a key but not their values, NaN and infinity, a time
column that holds no dates — on DuckDB, PostgreSQL and MariaDB, through the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE, unavailable
from tolok.cli import app
from tolok.engine.ingest import IngestError, ingest
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project

runner = CliRunner()
SERVERS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root:@127.0.0.1:3306/test",
}
ORDERS = 400  # the example's first orders: January 2025 and part of February


@dataclass
class Target:
    backend: str
    url: str
    table: str


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A warehouse and the name of a table in it that does not exist yet (dropped after)."""
    backend = request.param
    url = SERVERS.get(backend, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    table = f"tolok_hostile_{uuid.uuid4().hex[:8]}"
    if backend != "duckdb":
        try:
            ibis.connect(url.replace("postgresql", "postgres"), connect_timeout=5).disconnect()
        except Exception as exc:
            unavailable(backend, exc)
    yield Target(backend, url, table)
    if backend != "duckdb":
        con = ibis.connect(url.replace("postgresql", "postgres"))
        con.drop_table(table, force=True)
        con.disconnect()


def project(folder: Path, target: Target, dataset: str) -> Path:
    """A project whose only dataset (`dataset`, YAML indented four spaces) reads the table."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"""\
name: Toko Maju
timezone: Asia/Jakarta
warehouse: {target.url}
store: sqlite:///tolok.db
datasets:
  orders:
    source: {target.table}
{dataset}
kpis:
  revenue: {{formula: revenue, unit: currency, grain: month}}
""",
        encoding="utf-8",
    )
    return folder


README_DATASET = """\
    time: Order Date
    dimensions: [Region, Channel]
    key: [Order ID]
    columns: {Order ID: string, Customer ID: string, Jumlah (Rp): integer, First Order: boolean}
    measures:
      revenue: {agg: sum, expr: "`Jumlah (Rp)`", where: "Status == 'paid'"}
      buyers: {agg: count_distinct, expr: "`Customer ID`"}"""


def example_orders(path: Path) -> list[dict[str, str]]:
    """The first orders of the example (the README's columns), also written to `path`."""
    with (EXAMPLE / "data" / "orders.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(ORDERS), reader, strict=False)]
        header = list(reader.fieldnames or [])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def paid_by_month_and_region(rows: list[dict[str, str]]) -> dict[tuple[str, str], float]:
    """Plain Python: Jakarta is UTC+7, so a UTC order's local month is that of +7 hours."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        moment = dt.datetime.fromisoformat(row["Order Date"].replace("Z", "+00:00"))
        month = (moment + dt.timedelta(hours=7)).strftime("%Y-%m")
        if row["Status"] == "paid":
            totals[(month, row["Region"])] += float(row["Jumlah (Rp)"])
    return dict(totals)


def test_the_readmes_columns_are_ingested_refreshed_and_shown(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20 item 6: `Jumlah (Rp)` made PostgreSQL's ingest crash with a traceback."""
    monkeypatch.setenv("TOLOK_TODAY", "2025-03-01")
    folder = project(tmp_path / "toko", target, README_DATASET)
    rows = example_orders(tmp_path / "orders.csv")
    result = runner.invoke(app, ["ingest", str(tmp_path / "orders.csv"), "-d", "orders",
                                 "-p", str(folder)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{ORDERS} rows written to orders"
    again = runner.invoke(app, ["ingest", str(tmp_path / "orders.csv"), "-d", "orders",
                                "-p", str(folder)])  # fmt: skip
    assert again.stdout.strip() == f"0 rows written to orders; {ORDERS} already there (same key)"
    assert runner.invoke(app, ["refresh", str(folder)]).exit_code == 0
    months = ["--from", "2025-01", "--to", "2025-02"]
    shown = runner.invoke(
        app, ["show", "revenue", "-p", str(folder), "--by", "Region", *months, "--format", "csv"]
    )
    assert shown.exit_code == 0, shown.output
    got = {(r["period"], r["Region"]): float(r["value"])
           for r in csv.DictReader(shown.stdout.splitlines())}  # fmt: skip
    assert got == paid_by_month_and_region(rows)
    loaded = load_project(folder)
    stored = Warehouse(loaded).table("orders").execute()
    assert sorted(stored.columns) == sorted(rows[0])
    assert int(stored["Jumlah (Rp)"].sum()) == sum(int(r["Jumlah (Rp)"]) for r in rows)
    assert int(stored["First Order"].sum()) == sum(r["First Order"] == "true" for r in rows)


def test_names_drivers_read_as_placeholders_go_in_as_they_are(
    target: Target, tmp_path: Path
) -> None:
    """Percent signs, brackets, quotes and backticks in column names, on every backend."""
    names = ["Kode (ID)", "Tanggal", "Rasio %", "%(x)s", 'Nama "Toko"', "Catatan `x`", "it's"]
    folder = project(tmp_path / "p", target, """\
    time: Tanggal
    key: [Kode (ID)]
    columns: {Rasio %: number}
    measures:
      revenue: {agg: sum, expr: "`Rasio %`"}""")  # fmt: skip
    data = tmp_path / "rows.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerow(["K1", "2026-01-05", "12.5", "a", "b", "c", "d"])
        writer.writerow(["K2", "2026-01-06", "7.5", "e", "f", "g", "h"])
    result = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2 rows written to orders"
    stored = Warehouse(load_project(folder)).table("orders").execute()
    stored = stored.sort_values("Kode (ID)")
    assert list(stored["Rasio %"]) == [12.5, 7.5]
    assert list(stored["%(x)s"]) == ["a", "e"]
    assert list(stored['Nama "Toko"']) == ["b", "f"]
    assert list(stored["Catatan `x`"]) == ["c", "g"]
    assert list(stored["it's"]) == ["d", "h"]


SIMPLE_DATASET = """\
    time: ordered_at
    key: [order_id]
    measures:
      revenue: {agg: sum, expr: amount}"""


def _table_rows(folder: Path) -> int | None:
    """Rows in the dataset's table; None when ingest did not even create it."""
    try:
        table = Warehouse(load_project(folder)).table("orders")
    except Exception:
        return None
    return int(table.count().execute())


def test_control_characters_are_refused_with_line_and_column(
    target: Target, tmp_path: Path
) -> None:
    """A NUL byte was taken, and later made the XLSX export fail; so are the other control
    characters a spreadsheet cannot hold (tab, newline and carriage return can be held)."""
    folder = project(tmp_path / "p", target, SIMPLE_DATASET)
    data = tmp_path / "orders.csv"
    data.write_bytes(
        b"order_id,ordered_at,note,amount\n"
        b"A1,2026-01-01,fine\ttab,5\n"
        b"A2,2026-01-02,b\x00d,6\n"
        b'A3,2026-01-03,"two\nlines",7\n'
        b"A4,2026-01-04,bell\x07,8\n"
        b"A5,2026-01-05,esc\x1b[0m,9\n"
    )
    result = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: 3 bad rows in orders.csv; nothing was written (--skip-bad-rows writes the "
        "good ones)",
        "  orders.csv: line 3: column 'note': holds the control character U+0000 at "
        "position 2, which exports (Excel) cannot hold: remove it",
        "  orders.csv: line 6: column 'note': holds the control character U+0007 at "
        "position 5, which exports (Excel) cannot hold: remove it",
        "  orders.csv: line 7: column 'note': holds the control character U+001B at "
        "position 4, which exports (Excel) cannot hold: remove it",
    ]
    assert not _table_rows(folder)
    skipped = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder),
                                  "--skip-bad-rows"])  # fmt: skip
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.startswith("2 rows written to orders; 3 rejected, see ")
    assert _table_rows(folder) == 2


def test_rows_sharing_a_key_with_other_values_are_conflicts(target: Target, tmp_path: Path) -> None:
    """They were dropped as "already there (same key)": which one is right cannot be told,
    so every one of them is named; rows equal to an earlier one are still left out."""
    folder = project(tmp_path / "p", target, SIMPLE_DATASET)
    data = tmp_path / "orders.csv"
    data.write_text(
        "order_id,ordered_at,amount\n"
        "A1,2026-01-01,5\n"
        "A1,2026-01-01,5\n"  # the same row again: one is written
        "A2,2026-01-02,6\n"
        "A3,2026-01-03,1\n"
        "A2,2026-01-02,7\n"  # A2 again, another amount
        "A2,2026-01-02T00:00:00,6\n",  # the same as line 4 once read
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: 3 bad rows in orders.csv; nothing was written (--skip-bad-rows writes the "
        "good ones)",
        "  orders.csv: line 4: same key (order_id=A2) as lines 6, 7, but other values: keep "
        "one of them",
        "  orders.csv: line 6: same key (order_id=A2) as lines 4, 7, but other values: keep "
        "one of them",
        "  orders.csv: line 7: same key (order_id=A2) as lines 4, 6, but other values: keep "
        "one of them",
    ]
    assert not _table_rows(folder)
    skipped = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder),
                                  "--skip-bad-rows"])  # fmt: skip
    assert skipped.exit_code == 0, skipped.output
    rejected = tmp_path / "orders.rejected.csv"
    assert skipped.stdout.strip() == (
        f"2 rows written to orders; 1 already there (same key); 3 rejected, see {rejected}"
    )
    with rejected.open(encoding="utf-8", newline="") as handle:
        kept = [(r["_line"], r["order_id"], r["amount"]) for r in csv.DictReader(handle)]
    assert kept == [("4", "A2", "6"), ("6", "A2", "7"), ("7", "A2", "6")]
    stored = Warehouse(load_project(folder)).table("orders").execute()
    assert sorted(stored["order_id"]) == ["A1", "A3"]


def test_nan_and_infinity_are_refused_in_a_number_column(target: Target, tmp_path: Path) -> None:
    """`amount` is not declared: a measure adds it up, so it is a number, and so is
    `score`, whose other values are numbers (NaN once made both text columns)."""
    folder = project(tmp_path / "p", target, SIMPLE_DATASET)
    data = tmp_path / "orders.csv"
    data.write_text(
        "order_id,ordered_at,amount,score\n"
        "A1,2026-01-01,5,1.5\n"
        "A2,2026-01-02,NaN,2\n"
        "A3,2026-01-03,inf,3\n"
        "A4,2026-01-04,-Infinity,4\n"
        "A5,2026-01-05,1e999,5\n"
        "A6,2026-01-06,6,nan\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        "  orders.csv: line 3: column 'amount': 'NaN' is not a finite number",
        "  orders.csv: line 4: column 'amount': 'inf' is not a finite number",
        "  orders.csv: line 5: column 'amount': '-Infinity' is not a finite number",
        "  orders.csv: line 6: column 'amount': '1e999' is not a finite number",
        "  orders.csv: line 7: column 'score': 'nan' is not a finite number",
    ]
    assert not _table_rows(folder)
    lines = tmp_path / "orders.jsonl"  # JSON's own NaN and Infinity, as Python writes them
    lines.write_text(
        json.dumps({"order_id": "J1", "ordered_at": "2026-01-01", "amount": float("nan")})
        + "\n"
        + json.dumps({"order_id": "J2", "ordered_at": "2026-01-01", "amount": float("inf")})
        + "\n",
        encoding="utf-8",
    )
    loaded = load_project(folder)
    with pytest.raises(IngestError) as caught:
        ingest(loaded, Warehouse(loaded), "orders", lines)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: column 'amount': 'nan' is not a finite number",
        "line 2: column 'amount': 'inf' is not a finite number",
    ]


def test_an_integer_column_names_infinity_as_such(target: Target, tmp_path: Path) -> None:
    folder = project(tmp_path / "p", target, SIMPLE_DATASET + "\n    columns: {qty: integer}")
    data = tmp_path / "orders.csv"
    data.write_text("order_id,ordered_at,qty\nA1,2026-01-01,inf\n", encoding="utf-8")
    loaded = load_project(folder)
    with pytest.raises(IngestError) as caught:
        ingest(loaded, Warehouse(loaded), "orders", data)
    assert [str(p) for p in caught.value.problems] == [
        "line 2: column 'qty': 'inf' is not a finite number"
    ]


def test_a_table_whose_time_column_holds_text_is_refused_naming_the_dataset(
    target: Target, tmp_path: Path
) -> None:
    """A table made elsewhere, its time column text: rows went in, and every refresh after
    failed with "the time column holds string", naming neither dataset nor table."""
    folder = project(tmp_path / "p", target, SIMPLE_DATASET)
    con = ibis.connect(target.url.replace("postgresql", "postgres"))
    con.create_table(
        target.table,
        schema=ibis.schema({"order_id": "string", "ordered_at": "string", "amount": "float64"}),
    )
    con.disconnect()
    data = tmp_path / "orders.csv"
    data.write_text("order_id,ordered_at,amount\nA1,soon,5\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(data), "-d", "orders", "-p", str(folder)])
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: dataset 'orders': the table {target.table} holds its time column "
        "'ordered_at' as string, not dates or timestamps, so no row of orders.csv could be "
        "given a period; nothing was written (declare `columns: {ordered_at: timestamp}`, "
        "or change the table's column)"
    )
    assert _table_rows(folder) == 0


def file_project(folder: Path, time_values: list[str], declared: str = "") -> Path:
    """A project reading `data/orders.csv`, whose `day` column holds `time_values`."""
    (folder / "data").mkdir(parents=True)
    lines = [f"{v},{i}" for i, v in enumerate(time_values)]
    (folder / "data" / "orders.csv").write_text(
        "day,amount\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    (folder / "tolok.yaml").write_text(
        f"""\
name: Days
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:data/orders.csv
    time: day
{declared}    measures:
      revenue: {{agg: sum, expr: amount}}
kpis:
  revenue: {{formula: revenue, grain: month}}
""",
        encoding="utf-8",
    )
    return folder


def test_refresh_names_the_dataset_file_and_line_of_a_value_that_is_no_date(
    tmp_path: Path,
) -> None:
    """The value past the rows `tolok validate` samples: the refresh finds it."""
    days = [f"2026-01-{d:02d}" for d in range(1, 29)] * 20 + ["soon"]
    folder = file_project(tmp_path / "p", days)
    result = runner.invoke(app, ["refresh", str(folder)])
    assert result.exit_code == 1
    assert (
        "dataset 'orders': its time column 'day' holds string, not dates or timestamps: "
        "data/orders.csv line 562 has 'soon'; declare `columns: {day: timestamp}` if its "
        "values are dates, or fix the values that are not"
    ) in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("values", "declared", "found"),
    [
        (["2026-01-01", "soon"], "", "holds 'soon' (orders.csv), not a date or timestamp"),
        (["20260101", "20260102"], "", "holds numbers (orders.csv), not dates or timestamps"),
        (["2026-01-01"], "    columns: {day: string}\n", "is declared string, not date or "
         "timestamp"),
    ],
)  # fmt: skip
def test_validate_knows_a_time_column_that_holds_no_dates(
    tmp_path: Path, values: list[str], declared: str, found: str
) -> None:
    folder = file_project(tmp_path / "p", values, declared)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1
    assert (
        f"error[TLK012] the time column 'day' {found}: no row could be given a period"
        in result.output
    )


def test_validate_leaves_dates_the_file_reader_knows(tmp_path: Path) -> None:
    """03/15/2026 is not ISO, but DuckDB reads it as a date, and the refresh works."""
    folder = file_project(tmp_path / "p", ["01/15/2026", "01/16/2026"])
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["refresh", str(folder)]).exit_code == 0


def test_refresh_names_the_dataset_and_table_whose_time_column_holds_text(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute("create table visits as select 'soon' as day, 5 as amount")
    (folder / "tolok.yaml").write_text(
        """\
name: Days
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  visits:
    source: visits
    time: day
    measures:
      amount: {agg: sum}
kpis:
  amount: {formula: amount, grain: month}
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["refresh", str(folder)])
    assert (
        "dataset 'visits': its time column 'day' holds string in the table visits, not dates "
        "or timestamps"
    ) in " ".join(result.output.split())
