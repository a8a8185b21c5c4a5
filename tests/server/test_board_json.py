"""The board's JSON (`/board.json`): values against the shop's rows, worked out by hand."""

from __future__ import annotations

from pathlib import Path

from tests.server.conftest import Shop
from tests.shop import REVENUE_TARGET, month_start, monthly


def standing(value: float, target: float) -> str:
    share = value / target
    return "on_track" if share >= 0.95 else "at_risk" if share >= 0.85 else "off_track"


def test_cards_hold_the_last_closed_month_against_its_target(shop: Shop) -> None:
    board = shop.browser("viewer@example.com").get("/board.json")
    assert board.status_code == 200
    cards = {c["name"]: c for g in board.json()["groups"] for c in g["cards"]}
    assert set(cards) == {"revenue", "orders", "aov", "ad_spend"}
    last, before = month_start(shop.today, 1), month_start(shop.today, 2)
    revenue, count = monthly(shop.rows, last)
    earlier, _ = monthly(shop.rows, before)
    card = cards["revenue"]
    assert card["period_start"] == last.isoformat()
    assert card["value"] == revenue
    assert card["previous"] == earlier
    assert abs(card["change"] - (revenue - earlier) / earlier) < 1e-12
    assert card["change_good"] is (revenue > earlier)
    assert card["target"] == REVENUE_TARGET
    assert abs(card["attainment"] - revenue / REVENUE_TARGET) < 1e-12
    assert card["status"] == standing(revenue, REVENUE_TARGET)
    assert card["value_text"] == "IDR\u00a0" + f"{revenue:,}"
    assert card["owner"] == "sales@example.com"
    assert len(card["spark"]) == 12
    assert card["spark"][-1] == revenue
    assert abs(cards["aov"]["value"] - revenue / count) < 1e-6
    assert cards["orders"]["value"] == count
    assert cards["ad_spend"]["status"] == "no_data"  # nothing typed in yet


def test_the_open_month_has_a_value_so_far_and_a_forecast(shop: Shop) -> None:
    if shop.today.day <= 3:
        return  # no order of this month yet: the open period is empty
    board = shop.browser("viewer@example.com").get("/board.json").json()
    card = next(c for g in board["groups"] for c in g["cards"] if c["name"] == "revenue")
    so_far, _ = monthly(shop.rows, month_start(shop.today))
    assert card["open"]["so_far"] == so_far
    assert card["open"]["forecast"] is not None


def test_filters_group_and_search(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    mine = browser.get("/board.json", params={"owner": "marketing@example.com"}).json()
    assert [c["name"] for g in mine["groups"] for c in g["cards"]] == ["ad_spend"]
    assert mine["shown"] == 1
    assert mine["total"] == 4
    found = browser.get("/board.json", params={"q": "average"}).json()
    assert [c["name"] for g in found["groups"] for c in g["cards"]] == ["aov"]
    by_goal = browser.get("/board.json", params={"group": "goal"}).json()  # default: attention
    assert [g["title"] for g in by_goal["groups"]] == ["Grow revenue", "Win customers cheaply"]
    by_owner = browser.get("/board.json", params={"group": "owner"}).json()
    assert {g["key"] for g in by_owner["groups"]} == {"sales@example.com", "marketing@example.com"}
    empty = browser.get("/board.json", params={"status": "no_data"}).json()
    assert [c["name"] for g in empty["groups"] for c in g["cards"]] == ["ad_spend"]
    counts = by_goal["counts"]
    assert sum(counts.values()) == 4
    assert counts["no_data"] == 1


def test_bad_filters_are_a_400_that_says_what_to_fix(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    wrong = browser.get("/board.json", params={"group": "colour"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["field"] == "group"
    assert "goal" in wrong.json()["error"]["message"]
    status = browser.get("/board.json", params={"status": "great"})
    assert status.status_code == 400
    assert status.json()["error"]["field"] == "status"


def test_signed_out_the_board_is_a_401_or_the_sign_in_form(shop: Shop) -> None:
    assert shop.client.get("/board.json").status_code == 401
    page = shop.client.get("/board", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/board"
    home = shop.client.get("/", follow_redirects=False)
    assert home.headers["location"].startswith("/signin")


def test_kpis_without_a_goal_are_grouped_under_no_goal(tmp_path: Path) -> None:
    """A KPI with no goal sits under "No goal" ("Tanpa sasaran"), not under "(none)"."""
    import datetime as dt

    from fastapi.testclient import TestClient

    from tests import shop as made
    from tolok.server.app import create_app

    made.build(tmp_path, dt.date.today())
    text = (tmp_path / "tolok.yaml").read_text(encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(text.replace("    goal: win\n", ""), encoding="utf-8")
    with TestClient(create_app(tmp_path, schedules=False)) as client:
        shop = Shop(tmp_path, client, [], dt.date.today())
        viewer = shop.browser("viewer@example.com")
        groups = viewer.get("/board.json", params={"group": "goal"}).json()["groups"]
        assert [g["title"] for g in groups][-1] == "No goal"
        groups = viewer.get("/board.json", params={"group": "goal", "lang": "id"}).json()["groups"]
        assert [g["title"] for g in groups][-1] == "Tanpa sasaran"


def test_a_card_says_when_its_data_stopped(tmp_path: Path) -> None:
    """Orders that ended three months ago: the monthly KPIs on them say since when; the
    manual ad spend (no values yet) says nothing."""
    import datetime as dt

    from fastapi.testclient import TestClient

    from tests import shop as made
    from tolok.server.app import create_app

    today = dt.datetime.now(dt.UTC).date()
    rows = made.build(tmp_path, today - dt.timedelta(days=95))
    newest = max(o.day for o in rows)
    with TestClient(create_app(tmp_path, schedules=False)) as client:
        viewer = Shop(tmp_path, client, rows, today).browser("viewer@example.com")
        groups = viewer.get("/board.json").json()["groups"]
        cards = {c["name"]: c for g in groups for c in g["cards"]}
        said = f"No new data since {newest.day} {newest:%b %Y}"
        assert {n: c["quiet_since"] for n, c in cards.items()} == {
            "revenue": said,
            "orders": said,
            "aov": said,
            "ad_spend": None,
        }
        page = viewer.get("/board", headers={"accept": "text/html"}).text
        assert page.count(said) == 3
