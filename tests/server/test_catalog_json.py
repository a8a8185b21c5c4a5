"""The catalog pages: search in the reader's language, a template mapped onto the project."""

from __future__ import annotations

from tests.server.conftest import Shop


def test_search_and_filters(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    found = browser.get("/catalog.json", params={"q": "conversion"}).json()
    assert "conversion_rate" in {e["name"] for e in found["entries"]}
    sales = browser.get("/catalog.json", params={"function": "sales"}).json()
    assert sales["entries"]
    assert {e["function"] for e in sales["entries"]} == {"sales"}
    assert browser.get("/catalog.json", params={"level": "top"}).status_code == 400
    english = browser.get("/catalog/conversion_rate.json").json()["entry"]["title"]
    indonesian = browser.get("/catalog/conversion_rate.json", params={"lang": "id"}).json()
    assert indonesian["entry"]["title"] != english


def test_a_template_mapped_onto_the_shops_orders(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    page = browser.get("/catalog/average_purchase_value.json").json()
    roles = [t["role"] for t in page["tables"]]
    chosen = {f"dataset.{role}": "orders" for role in roles}
    columns = {f"column.{c['name']}": "amount" for t in page["tables"] for c in t["columns"]
               if c["type"] == "number"}  # fmt: skip
    mapped = browser.get("/catalog/average_purchase_value.json", params={**chosen, **columns})
    data = mapped.json()
    assert data["problem"] is None, data["problem"]
    assert "kpis:" in data["yaml"]
    assert "--dataset orders" in data["command"]
    assert browser.get("/catalog/nope.json").status_code == 404
