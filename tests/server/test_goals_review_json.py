"""The goal tree and the review, as JSON."""

from __future__ import annotations

from tests.server.conftest import Shop
from tests.shop import REVENUE_TARGET, month_start, monthly


def test_the_goal_tree_rolls_up_its_kpis(shop: Shop) -> None:
    data = shop.browser("viewer@example.com").get("/goals.json").json()
    [grow] = data["goals"]
    assert grow["title"] == "Grow revenue"
    assert [k["name"] for k in grow["kpis"]] == ["revenue", "orders", "aov"]
    assert [c["name"] for c in grow["children"]] == ["win"]
    assert [k["name"] for k in grow["children"][0]["kpis"]] == ["ad_spend"]
    revenue, count = monthly(shop.rows, month_start(shop.today, 1))
    shares = [min(revenue / REVENUE_TARGET, 1.0), min(count / 4, 1.0)]
    assert grow["progress"] is not None
    assert min(shares) - 1e-9 <= grow["progress"] <= max(shares) + 1e-9


def test_the_review_lists_what_is_off_track_and_what_reached_its_target(shop: Shop) -> None:
    browser = shop.browser("editor@example.com")
    revenue, count = monthly(shop.rows, month_start(shop.today, 1))
    label = f"{month_start(shop.today, 1):%Y-%m}"
    browser.post("/api/v1/kpis/revenue/comments", json={"text": "Rainy month", "period": label})
    data = browser.get("/review.json").json()
    attention = {i["card"]["name"]: i for i in data["attention"]}
    reached = {c["name"] for c in data["reached"]}
    for name, value, target in (("revenue", revenue, REVENUE_TARGET), ("orders", count, 4)):
        share = value / target
        if share < 0.95:
            assert name in attention
            assert name not in reached
        else:
            assert name not in attention
            assert (name in reached) is (share >= 1)
    if "revenue" in attention:
        assert [s["text"] for s in attention["revenue"]["comments"]] == ["Rainy month"]
        assert attention["revenue"]["card"]["actions"] == ["Run a weekend promotion"]
    assert data["without_target"] == 2  # aov and ad_spend
