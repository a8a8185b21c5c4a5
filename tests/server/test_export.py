"""A KPI's series as CSV and Excel, from the KPI page and from the API."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.server.conftest import Shop
from tests.shop import month_start, monthly


def test_the_page_and_the_api_give_the_series_as_csv(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    page = browser.get("/kpis/revenue.csv")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/csv")
    assert 'filename="revenue-month.csv"' in page.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(page.text)))
    by_start = {r["start"]: r for r in rows}
    last = month_start(shop.today, 1)
    assert float(by_start[last.isoformat()]["value"]) == monthly(shop.rows, last)[0]
    assert float(by_start[last.isoformat()]["target"]) == 4_000_000
    api = browser.get("/api/v1/kpis/revenue/series", params={"format": "csv"})
    assert api.text == page.text
    split = browser.get("/kpis/revenue.csv", params={"by": "region"}).text
    assert "region" in split.splitlines()[0]
    bad = browser.get("/kpis/revenue.csv", params={"from": "soon"})
    assert bad.status_code == 400


def test_the_excel_file_opens_with_the_values_and_a_chart(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    answer = browser.get("/kpis/orders.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["period", "start", "value", "target"]
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    for back in range(1, 13):
        start = month_start(shop.today, back)
        assert values[start.isoformat()] == monthly(shop.rows, start)[1]
    assert len(sheet._charts) == 1
    api = browser.get("/api/v1/kpis/orders/series", params={"format": "xlsx"})
    assert api.headers["content-type"].startswith("application/vnd.openxmlformats")
    signed_out = shop.client.get("/kpis/orders.xlsx", follow_redirects=False)
    assert signed_out.status_code == 303  # to the sign-in form
