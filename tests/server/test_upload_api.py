"""The "Add data" API (issue 25, item 1): a file uploaded, proposed as a dataset, saved into
the project's data folder and YAML; bad files refused by line with nothing written; viewers
and read-only servers refused; a warehouse table proposed and saved the same way."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from tests.conftest import shared_data, without_shared_data
from tests.server.conftest import Served
from tests.server.test_definitions_api import refresh
from tolok.spec.loader import load_project

ORDERS = shared_data("superstore") / "orders.csv"
needs_orders = without_shared_data(ORDERS)


def upload(client: TestClient, name: str, data: bytes, kind: str = "text/csv") -> Any:
    return client.post("/api/v1/uploads", files={"file": (name, data, kind)})


def saved_choice(answer: dict[str, Any], name: str) -> dict[str, Any]:
    proposal = answer["proposal"]
    return {"name": name, "time": proposal["time"], "dimensions": proposal["dimensions"],
            "measures": proposal["measures"]}  # fmt: skip


def save(
    client: TestClient, answer: dict[str, Any], choice: dict[str, Any], query: str = ""
) -> Any:
    return client.post(f"/api/v1/uploads/{answer['upload']}/dataset{query}", json=choice)


def yearly_sales() -> dict[int, float]:
    """Plain Python over the CSV: the sum of Sales by the year of Order Date."""
    sums: dict[int, float] = defaultdict(float)
    with ORDERS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sums[dt.date.fromisoformat(row["Order Date"]).year] += float(row["Sales"])
    return dict(sums)


@needs_orders
def test_an_editor_uploads_the_superstore_orders_and_a_refresh_adds_them_up(
    served: Served,
) -> None:
    editor = served.browser("editor@example.com")
    got = upload(editor, "orders.csv", ORDERS.read_bytes())
    assert got.status_code == 201, got.text
    answer = got.json()
    assert answer["rows"] == 9994
    assert answer["problems"] == []
    assert answer["first"][0]["line"] == 2
    proposal = answer["proposal"]
    assert proposal["name"] == "orders_2"  # `orders` is the project's already
    assert proposal["time"] == "Order Date"
    assert {"Region", "Segment", "Category"} <= set(proposal["dimensions"])
    measures = {m["name"]: (m["agg"], m["column"]) for m in proposal["measures"]}
    assert measures["sales"] == ("sum", "Sales")
    assert measures["profit"] == ("sum", "Profit")
    assert measures["orders"] == ("count_distinct", "Order ID")
    assert measures["customers"] == ("count_distinct", "Customer ID")
    staged = served.root / ".tolok" / "uploads" / answer["upload"]
    assert staged.is_dir()
    assert not (served.root / "data").exists()

    saved = save(editor, answer, saved_choice(answer, "superstore"))
    assert saved.status_code == 201, saved.text
    assert saved.json()["data_file"] == "data/superstore.csv"
    assert not staged.exists()
    loaded = load_project(served.root)
    assert loaded.ok, loaded.problems.errors
    dataset = loaded.project.datasets["superstore"]  # type: ignore[union-attr]
    assert dataset.source == "file:data/superstore.csv"
    assert dataset.time == "Order Date"
    text = (served.root / "tolok.yaml").read_text(encoding="utf-8")
    assert "      sales: {agg: sum, expr: Sales}\n" in text
    assert "      orders: {agg: count_distinct, expr: '`Order ID`'}\n" in text

    kpi = {"name": "superstore_sales", "definition": {"formula": "sales", "grain": "year"}}
    assert editor.post("/api/v1/kpis", json=kpi).status_code == 201
    refresh(served)
    series = editor.get("/api/v1/kpis/superstore_sales/series").json()
    values = {p["period"]: p["value"] for p in series["points"]}
    for year, total in yearly_sales().items():
        assert values[str(year)] == pytest.approx(total, rel=1e-9)


def test_a_semicolon_file_with_a_bom_and_decimal_commas_is_read(served: Served) -> None:
    editor = served.browser("editor@example.com")
    data = "\ufeffTanggal;Wilayah;Omzet\n15-01-2026;Bali;1.234,50\n20-02-2026;Jawa;99,5\n"
    got = upload(editor, "Penjualan Toko.csv", data.encode("utf-8"))
    assert got.status_code == 201, got.text
    answer = got.json()
    assert (answer["delimiter"], answer["encoding"]) == (";", "utf-8")
    kinds = {c["name"]: c["kind"] for c in answer["columns"]}
    assert kinds == {"Tanggal": "date", "Wilayah": "text", "Omzet": "decimal"}
    assert answer["first"][0]["values"] == ["2026-01-15", "Bali", "1234.50"]
    assert answer["proposal"]["name"] == "penjualan_toko"
    saved = save(editor, answer, saved_choice(answer, "penjualan"))
    assert saved.status_code == 201, saved.text
    written = (served.root / "data" / "penjualan.csv").read_text(encoding="utf-8")
    assert written == "Tanggal,Wilayah,Omzet\n2026-01-15,Bali,1234.50\n2026-02-20,Jawa,99.5\n"
    audit = served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    [entry] = [e for e in audit if e["subject"] == "datasets penjualan"]
    assert (entry["actor"], entry["action"]) == ("editor@example.com", "definition.created")
    assert entry["after"]["definition"]["source"] == "file:data/penjualan.csv"


def test_a_bad_file_is_refused_by_line_and_nothing_is_written(served: Served) -> None:
    editor = served.browser("editor@example.com")
    rows = ["day,region,amount"] + [f"2026-01-{d:02d},Bali,{d}" for d in range(1, 29)]
    rows[5] = "2026-01-05,Bali,12x"  # line 6: a number column holding text
    rows[9] = ",Jawa,3"  # line 10: no time
    got = upload(editor, "sales.csv", "\n".join(rows).encode())
    assert got.status_code == 201, got.text
    answer = got.json()
    assert [(p["line"], p["column"]) for p in answer["problems"]] == [(6, "amount")]
    before = (served.root / "tolok.yaml").read_bytes()
    refused = save(editor, answer, saved_choice(answer, "sales"))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "nothing was written" in error["message"]
    lines = {(p["line"], p["column"]): p["reason"] for p in error["problems"]}
    assert lines == {(6, "amount"): "could not convert string to float: '12x'",
                     (10, "day"): "is empty, and every row needs it"}  # fmt: skip
    assert (served.root / "tolok.yaml").read_bytes() == before
    assert not (served.root / "data").exists() or not list((served.root / "data").iterdir())
    in_indonesian = save(editor, answer, saved_choice(answer, "sales"), "?lang=id").json()["error"]
    assert "tidak ada yang ditulis" in in_indonesian["message"]
    assert "kosong, padahal setiap baris memerlukannya" in {
        p["reason"] for p in in_indonesian["problems"]
    }


def test_a_choice_that_does_not_validate_writes_nothing(served: Served) -> None:
    editor = served.browser("editor@example.com")
    answer = upload(editor, "more.csv", b"day,amount\n2026-01-02,5\n").json()
    before = (served.root / "tolok.yaml").read_bytes()
    choice = saved_choice(answer, "more")
    choice["measures"] = [{"name": "revenue", "agg": "sum", "column": "amount"}]  # taken
    refused = save(editor, answer, choice)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["problems"][0]["code"].startswith("TLK")
    assert (served.root / "tolok.yaml").read_bytes() == before
    assert not (served.root / "data" / "more.csv").exists()
    choice["measures"] = [{"name": "more_amount", "agg": "sum", "column": "nope"}]
    missing = save(editor, answer, choice)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "measures.0.column"


def test_a_workbook_is_read_from_its_chosen_sheet(served: Served) -> None:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "Notes"
    first.append(["note"])
    first.append(["nothing here"])
    sheet = book.create_sheet("Orders")
    sheet.append(["Order Date", "Customer ID", "Amount"])
    sheet.append([dt.datetime(2026, 1, 5), "C-1", 10.5])
    sheet.append([dt.datetime(2026, 2, 7), "C-2", 4])
    data = BytesIO()
    book.save(data)
    editor = served.browser("editor@example.com")
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    answer = upload(editor, "book.xlsx", data.getvalue(), kind).json()
    assert (answer["sheet"], answer["sheets"]) == ("Notes", ["Notes", "Orders"])
    again = editor.get(f"/api/v1/uploads/{answer['upload']}", params={"sheet": "Orders"})
    assert again.status_code == 200, again.text
    orders = again.json()
    assert orders["proposal"]["time"] == "Order Date"
    assert orders["first"][0] == {"line": 2, "values": ["2026-01-05", "C-1", "10.5"]}
    choice = {**saved_choice(orders, "book"), "sheet": "Orders"}
    saved = save(editor, orders, choice)
    assert saved.status_code == 201, saved.text
    written = (served.root / "data" / "book.csv").read_text(encoding="utf-8")
    assert written == "Order Date,Customer ID,Amount\n2026-01-05,C-1,10.5\n2026-02-07,C-2,4\n"


def test_who_may_add_data(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    viewer = served.browser("viewer@example.com")
    refused = upload(viewer, "a.csv", b"day,amount\n2026-01-02,5\n")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    member = served.browser("member@example.com")  # a viewer in a KPI's owning team
    assert upload(member, "a.csv", b"day,amount\n2026-01-02,5\n").status_code == 403
    editor = served.browser("editor@example.com")
    answer = upload(editor, "a.csv", b"day,amount\n2026-01-02,5\n").json()
    assert save(viewer, answer, saved_choice(answer, "a")).status_code == 403
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    off = upload(editor, "a.csv", b"day,amount\n2026-01-02,5\n")
    assert off.status_code == 403
    assert off.json()["error"]["read_only"] is True
    assert save(editor, answer, saved_choice(answer, "a")).status_code == 403


def test_a_file_that_is_no_spreadsheet_is_a_json_refusal(served: Served) -> None:
    editor = served.browser("editor@example.com")
    odd = upload(editor, "picture.png", b"\x89PNG\r\n", "image/png")
    assert odd.status_code == 415
    assert "CSV" in odd.json()["error"]["message"]
    broken = upload(editor, "broken.xlsx", b"not a zip", "application/octet-stream")
    assert broken.status_code == 422
    assert broken.json()["error"]["field"] == "file"
    empty = upload(editor, "empty.csv", b"")
    assert empty.status_code == 422
    missing = editor.post("/api/v1/uploads", data={"x": "1"})
    assert missing.status_code == 400
    gone = editor.get("/api/v1/uploads/" + "0" * 32)
    assert gone.status_code == 404
    assert "upload the file again" in gone.json()["error"]["message"]


def test_a_warehouse_table_is_proposed_and_saved_without_a_copy(served: Served) -> None:
    with duckdb.connect(str(served.root / "warehouse.duckdb")) as con:
        con.execute("create table tickets (ticket_id varchar, opened_at timestamp, "
                    "channel varchar, minutes double)")  # fmt: skip
        con.execute("insert into tickets values ('T-1', '2026-01-03 10:00', 'mail', 5), "
                    "('T-2', '2026-01-04 11:00', 'chat', 7)")  # fmt: skip
    editor = served.browser("editor@example.com")
    tables = editor.get("/api/v1/warehouse/tables")
    assert tables.status_code == 200, tables.text
    names = [t["name"] for t in tables.json()["items"]]
    assert "tickets" in names
    answer = editor.get("/api/v1/warehouse/tables/tickets").json()
    proposal = answer["proposal"]
    assert proposal["time"] == "opened_at"
    assert proposal["dimensions"] == ["channel"]
    assert {"name": "tickets", "agg": "count_distinct", "column": "ticket_id"} in proposal[
        "measures"
    ]
    body = {"name": "tickets", "time": "opened_at", "dimensions": ["channel"],
            "measures": proposal["measures"]}  # fmt: skip
    saved = editor.post("/api/v1/warehouse/tables/tickets/dataset", json=body)
    assert saved.status_code == 201, saved.text
    assert saved.json()["data_file"] is None
    loaded = load_project(served.root)
    assert loaded.ok
    assert loaded.project.datasets["tickets"].source == "tickets"  # type: ignore[union-attr]
    assert editor.get("/api/v1/warehouse/tables/nope").status_code == 404
