"""A KPI's page marks a period restated since it was first reported ("first reported as"),
reading the first values from the store without judging that series a second time."""

from __future__ import annotations

from tests.server.conftest import Shop
from tests.shop import month_start, monthly
from tolok.answers.views import SeriesQuery, reported_json, series_json, series_view
from tolok.display import format_value
from tolok.spec.models import Grain, Unit

FORMULA = "formula: revenue - 100000 * order_count"


def restate(shop: Shop) -> None:
    """A new formula for revenue (net of 100,000 a order), then a refresh: every stored
    value is restated, the store keeps the first reported ones."""
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source

    spec = shop.root / "tolok.yaml"
    text = spec.read_text(encoding="utf-8")
    assert text.count("formula: revenue\n") == 1
    spec.write_text(text.replace("formula: revenue\n", FORMULA + "\n"), encoding="utf-8")
    loaded = load_project(shop.root)
    assert loaded.project is not None, loaded.problems
    engine = open_store(store_url(loaded.project.store, shop.root))
    refresh_into_store(loaded, Warehouse(loaded, manual=source(engine)), engine, "net")
    engine.dispose()


def test_a_restated_period_says_what_was_first_reported(shop: Shop) -> None:
    month = month_start(shop.today, 2)
    first, count = monthly(shop.rows, month)
    restate(shop)
    viewer = shop.browser("viewer@example.com")
    page = viewer.get("/kpis/revenue.json").json()
    rows = {r["start"]: r for r in page["rows"]}
    assert rows[month.isoformat()]["value"] == first - 100_000 * count
    was = format_value(first, Unit.currency, "IDR", "en")
    assert rows[month.isoformat()]["reported_text"] == was
    assert all(r["reported_text"] for r in rows.values() if r["value"])
    assert f"first reported as {was}" in viewer.get("/kpis/revenue").text
    by_region = viewer.get("/kpis/revenue.json?by=region").json()["rows"]
    marked = {r["slice"] for r in by_region if r["reported_text"] and r["start"] == str(month)}
    assert marked == {"Bali", "Jawa"}


def test_the_first_reported_values_are_those_of_the_series_as_reported(shop: Shop) -> None:
    from tolok.spec.loader import load_project

    restate(shop)
    loaded = load_project(shop.root)
    for by in ((), ("region",)):
        query = SeriesQuery("revenue", Grain.month, by, as_reported=True)
        whole = series_json(series_view(loaded, query), True)
        points = [
            {k: p[k] for k in ("start", "slice", "value") if k in p}
            for p in whole["points"]  # type: ignore[attr-defined]
        ]
        assert reported_json(loaded, query)["points"] == points
