"""Reading an uploaded spreadsheet and proposing its dataset (issue 25, item 1): delimiters,
encodings and workbooks; the types detected as ingestion reads values; the superstore
orders proposed as an analyst would write them; bad rows named by line; a saved dataset whose
values are the file's, summed in plain Python."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from tests.conftest import shared_data, without_shared_data
from tolok.builder.upload import Kind, UploadError, read_path, read_upload
from tolok.builder.upload_proposal import dataset_name, plural, propose, snake
from tolok.builder.upload_save import (
    BadRowsError,
    ChoiceError,
    DatasetChoice,
    clean,
    save_upload,
    stage,
    staged,
)
from tolok.spec.edit import InvalidError
from tolok.spec.loader import load_project

UTC = ZoneInfo("UTC")
SHARED = shared_data("superstore").parent
ORDERS = SHARED / "superstore" / "orders.csv"
needs_shared = without_shared_data(ORDERS)
PROJECT = """\
name: Shop
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
datasets:
  spend:
    source: manual   # typed in
    measures:
      amount: {agg: sum}
kpis:
  spend_total:
    formula: amount
"""


def kinds(data: bytes, name: str = "file.csv") -> dict[str, Kind]:
    return {c.name: c.kind for c in read_upload(data, name, UTC).columns}


def test_a_semicolon_file_with_a_byte_order_mark() -> None:
    data = "\ufeffTanggal;Wilayah;Omzet;Pesanan\n2026-01-15;Bali;1.234,50;3\n"
    data += "2026-02-20;Jawa;99,5;4\n"
    upload = read_upload(data.encode("utf-8"), "penjualan.csv", UTC)
    assert (upload.delimiter, upload.encoding) == (";", "utf-8")
    assert [c.name for c in upload.columns] == ["Tanggal", "Wilayah", "Omzet", "Pesanan"]
    assert kinds(data.encode("utf-8")) == {
        "Tanggal": Kind.date, "Wilayah": Kind.text, "Omzet": Kind.decimal,
        "Pesanan": Kind.integer,
    }  # fmt: skip
    assert upload.first() == [(2, ["2026-01-15", "Bali", "1234.50", "3"]),
                              (3, ["2026-02-20", "Jawa", "99.5", "4"])]  # fmt: skip
    assert upload.normalized() == (
        "Tanggal,Wilayah,Omzet,Pesanan\n2026-01-15,Bali,1234.50,3\n2026-02-20,Jawa,99.5,4\n"
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_found(delimiter: str) -> None:
    rows = [["day", "region", "amount"], ["2026-01-02", "Bali", "5"], ["2026-01-03", "Jawa", "7"]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    upload = read_upload(text.encode(), "x.txt", UTC)
    assert upload.delimiter == delimiter
    assert [c.name for c in upload.columns] == ["day", "region", "amount"]


def test_a_windows_export_is_read_as_windows_1252() -> None:
    data = "city,amount\nCafé Düsseldorf,5\n".encode("cp1252")
    upload = read_upload(data, "x.csv", UTC)
    assert upload.encoding == "cp1252"
    assert upload.first() == [(2, ["Café Düsseldorf", "5"])]


def test_dates_written_day_first_or_month_first_become_iso() -> None:
    day_first = read_upload(b"Date,n\n31-08-2023,1\n01-09-2023,2\n", "a.csv", UTC)
    assert day_first.columns[0].kind == Kind.date
    assert [v[0] for _, v in day_first.first()] == ["2023-08-31", "2023-09-01"]
    month_first = read_upload(b"Date,n\n8/31/2023,1\n9/1/2023,2\n", "a.csv", UTC)
    assert [v[0] for _, v in month_first.first()] == ["2023-08-31", "2023-09-01"]


def test_a_workbook_is_read_from_its_first_or_chosen_sheet() -> None:
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["note"])
    notes.append(["x"])
    sheet = book.create_sheet("Orders")
    sheet.append(["Order Date", "Order ID", "Amount", "Paid"])
    sheet.append([dt.datetime(2026, 1, 5), 1001, 10.5, True])
    sheet.append([None, None, None, None])  # an empty row is skipped
    sheet.append([dt.datetime(2026, 2, 7), 1002, 4.0, False])
    data = io.BytesIO()
    book.save(data)
    first = read_upload(data.getvalue(), "book.xlsx", UTC)
    assert (first.sheet, first.sheets, [c.name for c in first.columns]) == (
        "Notes", ["Notes", "Orders"], ["note"])  # fmt: skip
    orders = read_upload(data.getvalue(), "book.xlsx", UTC, sheet="Orders")
    assert {c.name: c.kind for c in orders.columns} == {
        "Order Date": Kind.date, "Order ID": Kind.id, "Amount": Kind.decimal,
        "Paid": Kind.boolean,
    }  # fmt: skip
    assert orders.first() == [(2, ["2026-01-05", "1001", "10.5", "true"]),
                              (4, ["2026-02-07", "1002", "4", "false"])]  # fmt: skip


def test_what_is_not_a_spreadsheet_is_refused() -> None:
    with pytest.raises(UploadError, match="send a CSV file or an Excel workbook"):
        read_upload(b"\x89PNG", "picture.png", UTC)
    with pytest.raises(UploadError, match="cannot read the workbook"):
        read_upload(b"not a zip", "book.xlsx", UTC)
    with pytest.raises(UploadError, match="no header line"):
        read_upload(b"", "empty.csv", UTC)


def test_bad_rows_are_named_by_line_in_the_words_of_ingest() -> None:
    rows = ["day,region,amount"] + [f"2026-01-{d:02d},Bali,{d}" for d in range(1, 29)]
    rows[4] = "2026-01-04,Bali,12x"  # line 5
    rows[7] = '2026-01-07,"Nusa\nTenggara",7,extra'  # lines 8-9: the row ends on line 9
    upload = read_upload("\n".join(rows).encode(), "x.csv", UTC)
    assert upload.column("amount").kind == Kind.integer  # type: ignore[union-attr]
    found = [(p.line, p.column, p.reason) for p in upload.problems]
    assert found == [
        (5, "amount", "could not convert string to float: '12x'"),
        (9, None, "more values than the header has columns"),
    ]
    with_time = upload.checked("day", UTC)
    assert [p.line for p in with_time] == [5, 9]
    as_text = upload.checked(None, UTC, {"amount": Kind.text})
    assert [p.line for p in as_text] == [9]


def test_a_header_naming_a_column_twice_is_a_problem_of_line_1() -> None:
    upload = read_upload(b"a,b,a,\n1,2,3,\n", "x.csv", UTC)
    reasons = [(p.line, p.reason) for p in upload.problems]
    assert (1, "the column name 'a' appears twice: rename one of them") in reasons
    assert (1, "column 4 has no name: name it") in reasons


def test_names_as_an_engineer_writes_them() -> None:
    assert snake("Order Date") == "order_date"
    assert snake("MonthlyCharges") == "monthly_charges"
    assert snake("Sales (Rp)") == "sales_rp"
    assert snake("2024 sales") == "sales"
    assert snake("class") == "class_"
    assert dataset_name("Sample - Superstore.xlsx") == "sample_superstore"
    assert [plural(w) for w in ["order", "category", "address", "box", "sales"]] == [
        "orders", "categories", "addresses", "boxes", "sales"]  # fmt: skip


@needs_shared
def test_the_superstore_orders_are_proposed_as_an_analyst_would() -> None:
    upload = read_path(ORDERS, UTC)
    assert len(upload.rows) == 9994
    assert upload.problems == []
    detected = {c.name: c.kind for c in upload.columns}
    assert detected["Order Date"] == detected["Ship Date"] == Kind.date
    assert detected["Order ID"] == detected["Customer ID"] == detected["Postal Code"] == Kind.id
    assert detected["Sales"] == detected["Profit"] == Kind.decimal
    assert detected["Quantity"] == Kind.integer
    proposal = propose(upload.columns, len(upload.rows), upload.label)
    assert proposal.name == "orders"
    assert proposal.time == "Order Date"  # not Ship Date
    assert {"Region", "Segment", "Category"} <= set(proposal.dimensions)
    assert not {"Customer Name", "City", "Product Name", "Country"} & set(proposal.dimensions)
    measures = {m.name: (m.agg, m.column) for m in proposal.measures}
    assert measures["sales"] == ("sum", "Sales")
    assert measures["profit"] == ("sum", "Profit")
    assert measures["orders"] == ("count_distinct", "Order ID")
    assert measures["customers"] == ("count_distinct", "Customer ID")
    assert "discount" not in measures
    assert "postal_codes" not in measures
    taken = propose(upload.columns, len(upload.rows), upload.label, ["orders"], ["sales"])
    assert taken.name == "orders_2"
    assert ("sales_2", "sum", "Sales") in {(m.name, m.agg, m.column) for m in taken.measures}


@needs_shared
@pytest.mark.parametrize("path", sorted(SHARED.glob("*/*.csv")), ids=lambda p: p.name)
def test_every_shared_file_reads_without_bad_rows(path: Path) -> None:
    upload = read_path(path, UTC)
    assert upload.problems == []
    proposal = propose(upload.columns, len(upload.rows), upload.label)
    assert proposal.measures


def test_a_file_without_ids_gets_a_count_of_rows() -> None:
    upload = read_upload(b"day,channel,amount\n2026-01-02,web,5\n2026-01-03,shop,7\n",
                         "tickets.csv", UTC)  # fmt: skip
    proposal = propose(upload.columns, len(upload.rows), upload.label)
    assert [(m.name, m.agg, m.column) for m in proposal.measures] == [
        ("ticket_count", "count", None), ("amount", "sum", "amount")]  # fmt: skip
    assert proposal.dimensions == ["channel"]


def project(tmp_path: Path) -> Path:
    (tmp_path / "tolok.yaml").write_text(PROJECT + "# kept as written\n", encoding="utf-8")
    return tmp_path


@needs_shared
def test_a_saved_dataset_computes_the_sums_of_the_file(tmp_path: Path) -> None:
    from tolok import api

    root = project(tmp_path)
    upload = read_path(ORDERS, UTC)
    proposal = propose(upload.columns, len(upload.rows), upload.label)
    choice = DatasetChoice("orders", proposal.time, proposal.dimensions, proposal.measures)
    save_upload(root, upload, choice, UTC)
    text = (root / "tolok.yaml").read_text(encoding="utf-8")
    assert "    source: manual   # typed in\n" in text
    assert "# kept as written\n" in text
    assert "  orders:\n    source: file:data/orders.csv\n    time: Order Date\n" in text
    loaded = load_project(root)
    assert loaded.ok, loaded.problems.errors
    with (root / "tolok.yaml").open("a", encoding="utf-8") as handle:
        handle.write("  sales:\n    formula: sales\n    grain: year\n"
                     "  buyers:\n    formula: customers\n    grain: year\n")  # fmt: skip
    sales: dict[str, float] = defaultdict(float)
    buyers: dict[str, set[str]] = defaultdict(set)
    with ORDERS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year = row["Order Date"][:4]
            sales[year] += float(row["Sales"])
            buyers[year].add(row["Customer ID"])
    project_api = api.open(root)
    computed = project_api.series("sales")
    got = {str(p)[:4]: v for p, v in zip(computed["period"], computed["value"], strict=True)}
    for year, total in sales.items():
        assert got[year] == pytest.approx(total, rel=1e-9)
    distinct = project_api.series("buyers")
    got = {str(p)[:4]: v for p, v in zip(distinct["period"], distinct["value"], strict=True)}
    assert {y: got[y] for y in buyers} == {y: len(c) for y, c in buyers.items()}


def test_a_refused_save_leaves_no_file_behind(tmp_path: Path) -> None:
    root = project(tmp_path)
    lines = ["day,amount"] + [f"2026-01-{d:02d},{d}" for d in range(1, 29)] + [",3"]
    upload = read_upload("\n".join(lines).encode(), "a.csv", UTC)
    assert upload.problems == []  # no row lacks a time until there is a time column
    choice = DatasetChoice("a", "day", [], [])
    with pytest.raises(BadRowsError) as bad:
        save_upload(root, upload, choice, UTC)
    assert [(p.line, p.column) for p in bad.value.problems] == [(30, "day")]
    fine = read_upload(b"day,amount\n2026-01-02,5\n", "a.csv", UTC)
    with pytest.raises(ChoiceError) as missing:
        save_upload(root, fine, DatasetChoice("a", "when", [], []), UTC)
    assert missing.value.field == "time"
    from tolok.builder.upload_proposal import MeasurePlan

    # a second `amount` makes the KPI's formula ambiguous: the project would not validate
    clash = DatasetChoice("a", "day", [], [MeasurePlan("amount", "sum", "amount")])
    with pytest.raises(InvalidError):
        save_upload(root, fine, clash, UTC)
    assert not (root / "data" / "a.csv").exists()
    assert (root / "tolok.yaml").read_text(encoding="utf-8") == PROJECT + "# kept as written\n"


def test_staged_uploads_wait_in_the_hidden_folder_and_go_after_a_day(tmp_path: Path) -> None:
    import os
    import time

    upload_id = stage(tmp_path, b"day,amount\n2026-01-02,5\n", "../../evil.csv")
    folder = tmp_path / ".tolok" / "uploads" / upload_id
    assert sorted(p.name for p in folder.iterdir()) == ["file", "meta.json"]
    assert staged(tmp_path, upload_id, UTC).label == "evil.csv"
    with pytest.raises(UploadError):
        staged(tmp_path, "../../etc", UTC)
    old = time.time() - 2 * 24 * 3600
    os.utime(folder, (old, old))
    clean(tmp_path)
    assert not folder.exists()
    with pytest.raises(UploadError, match="upload the file again"):
        staged(tmp_path, upload_id, UTC)
