"""A KPI's page as JSON: the series as asked, why it moved, the definition; checked against
the shop's rows by hand."""

from __future__ import annotations

import pytest

from tests.server.conftest import Shop
from tests.shop import month_start, monthly


def test_the_series_holds_every_month_as_computed_by_hand(shop: Shop) -> None:
    page = shop.browser("viewer@example.com").get("/kpis/revenue.json")
    assert page.status_code == 200
    data = page.json()
    values = {r["start"]: r["value"] for r in data["rows"]}
    for back in range(1, 13):
        start = month_start(shop.today, back)
        assert values[start.isoformat()] == monthly(shop.rows, start)[0]
    names = [t.get("name") for t in data["figure"]["data"]]
    assert "Revenue" in names
    assert "Target" in names
    assert "Forecast" in names
    assert data["card"]["name"] == "revenue"
    assert data["definition"]["inputs"][0]["text"] == "sum of amount"
    assert data["definition"]["owner"] == "sales@example.com"


def test_breakdown_comparison_and_grain(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    last, before = month_start(shop.today, 1), month_start(shop.today, 2)
    by = browser.get("/kpis/revenue.json", params={"by": "region"}).json()
    bali = {r["start"]: r["value"] for r in by["rows"] if r["slice"] == "Bali"}
    expected = sum(o.amount for o in shop.rows if o.region == "Bali" and month_start(o.day) == last)
    assert bali[last.isoformat()] == expected
    compared = browser.get("/kpis/revenue.json", params={"compare": "previous"}).json()
    row = next(r for r in compared["rows"] if r["start"] == last.isoformat())
    assert row["compare_text"] == f"IDR\u00a0{monthly(shop.rows, before)[0]:,}"
    quarters = browser.get("/kpis/orders.json", params={"grain": "quarter"}).json()
    quarter = quarters["rows"][-2]
    q_start = quarter["start"]
    assert quarter["value"] == sum(
        1 for o in shop.rows
        if o.day.isoformat() >= q_start and (o.day.month - 1) // 3 == (int(q_start[5:7]) - 1) // 3
        and o.day.year == int(q_start[:4])
    )  # fmt: skip


def test_why_it_moved_adds_up_to_the_change_by_region(shop: Shop) -> None:
    data = shop.browser("viewer@example.com").get("/kpis/revenue.json").json()
    why = data["explanation"]
    assert why["by"] == "region"
    last, before = month_start(shop.today, 1), month_start(shop.today, 2)

    def region(name: str, start: object) -> int:
        return sum(o.amount for o in shop.rows if o.region == name and month_start(o.day) == start)

    moved = {r["slice"]: r["total"] for r in why["rows"]}
    for name in ("Bali", "Jawa"):
        assert moved[name] == region(name, last) - region(name, before)


def test_bad_queries_are_400s_with_the_field_and_unknown_kpis_404s(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    wrong = browser.get("/kpis/revenue.json", params={"from": "March"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["field"] == "from"
    grain = browser.get("/kpis/revenue.json", params={"grain": "fortnight"})
    assert grain.status_code == 400
    assert browser.get("/kpis/nope.json").status_code == 404
    page = browser.get("/kpis/revenue", params={"from": "March"})
    assert page.status_code == 400
    assert "is not a period label" in page.text
    assert 'aria-invalid="true"' in page.text


def test_a_series_that_never_moves_gets_a_readable_axis() -> None:
    """Four orders every month against a target of four, and a forecast band whose edges
    differ by rounding noise: the axis spans 3.6 to 4.4 (Plotly would zoom into the noise
    and show no tick at all); a series that moves keeps Plotly's own range."""
    import datetime as dt

    from tolok.i18n import Formats, gettext
    from tolok.server.charts import Cone, Line, series_figure
    from tolok.spec.calendar import Calendar
    from tolok.spec.models import Settings

    months = [dt.date(2026, m, 1) for m in range(1, 11)]
    fmt = Formats("en", "IDR", Calendar.of(Settings(name="x")))
    flat = Line("Orders", months, [4.0] * len(months))
    noise = Cone(months[-2:], [4.0, 4.0], [3.9999999999999996] * 2, [4.0, 4.0], 80)
    figure = series_figure([flat], "count", fmt, gettext("en"), target=flat, cone=noise)
    low, high = figure["layout"]["yaxis"]["range"]
    assert low == pytest.approx(3.6)
    assert high == pytest.approx(4.4)
    rate = Line("Rate", months, [0.03] * len(months))
    low, high = series_figure([rate], "percent", fmt, gettext("en"))["layout"]["yaxis"]["range"]
    assert (low, high) == (pytest.approx(0.027), pytest.approx(0.033))
    moving = Line("Orders", months, [float(m) for m in range(len(months))])
    assert "range" not in series_figure([moving], "count", fmt, gettext("en"))["layout"]["yaxis"]
