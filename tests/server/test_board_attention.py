"""The board puts what needs attention first, on the page and in `/board.json`: off track,
then at risk (the last closed month), then heading off track (the month under way), then
the rest. Money in compact form with its full figure beside it, where the open month is
heading, the refresh time in the project's zone and a cost's bar past its limit.

The shop's clock is pinned to 16 Dec 2026 (15 of December's 31 days passed) in
Asia/Jakarta; every expected value below is worked out by hand from the rows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, Shop

TODAY = dt.date(2026, 12, 16)
SHARE = 15 / 31  # of December passed on the 16th
REFRESHED = dt.datetime(2026, 12, 7, 7, 5)  # UTC: 14:05 in Jakarta (WIB, UTC+7)

PROJECT = """\
name: Toko Perhatian
locale: en
currency: IDR
timezone: Asia/Jakarta
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  book:
    source: file:book.csv
    time: day
    dimensions: [kind]
    measures:
      revenue: {agg: sum, expr: amount, where: "kind == 'revenue'"}
      visits: {agg: sum, expr: amount, where: "kind == 'visits'"}
      signups: {agg: sum, expr: amount, where: "kind == 'signups'"}
      cost: {agg: sum, expr: amount, where: "kind == 'cost'"}
      leads: {agg: sum, expr: amount, where: "kind == 'leads'"}
goals:
  grow:
    title: Grow
    owner: owner@example.com
kpis:
  revenue:
    title: Revenue
    formula: revenue
    unit: currency
    goal: grow
    owner: sales@example.com
    target: {value: 500000000, from: 2026-09}
  visits:
    title: Visits
    formula: visits
    unit: count
    goal: grow
    owner: web@example.com
    target: {value: 100, from: 2026-09}
  signups:
    title: Signups
    formula: signups
    unit: count
    goal: grow
    owner: web@example.com
    target: {value: 100, from: 2026-09}
  cost:
    title: Cost
    formula: cost
    unit: currency
    direction: down
    goal: grow
    owner: finance@example.com
    target: {value: 100000000, from: 2026-09}
  leads:
    title: Leads
    formula: leads
    unit: count
    goal: grow
    owner: sales@example.com
    target: {value: 100, from: 2026-09}
"""

# kind: September, October, November (closed), December so far (by the 5th)
ROWS = {
    "revenue": (510_000_000, 520_000_000, 555_812_345, 300_000_000),  # on track, heading so
    "visits": (100, 100, 100, 60),  # on track, heading so
    "signups": (120, 120, 120, 10),  # on track; heading off track: 10 / SHARE ≈ 21 of 100
    "cost": (90_000_000, 95_000_000, 110_000_000, 20_000_000),  # 110% of its limit: at risk
    "leads": (100, 100, 50, 60),  # half its target: off track
}
DAYS = (dt.date(2026, 9, 1), dt.date(2026, 10, 10), dt.date(2026, 11, 10), dt.date(2026, 12, 5))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    from tolok.auth import accounts
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.server.app import create_app
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url
    from tolok.store.schema import Refresh

    root = tmp_path_factory.mktemp("attention")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY.isoformat())
        patch.delenv("TOLOK_NOW", raising=False)
        (root / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
        lines = ["day,kind,amount"]
        lines += [
            f"{d},{k},{v}" for k, values in ROWS.items() for d, v in zip(DAYS, values, strict=True)
        ]
        (root / "book.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        loaded = load_project(root)
        assert loaded.project is not None, loaded.problems
        engine = open_store(store_url(loaded.project.store, root))
        refresh_into_store(loaded, Warehouse(loaded), engine)
        with Session(engine) as session, session.begin():
            session.execute(update(Refresh).values(finished_at=REFRESHED))
            accounts.add_user(session, "viewer@example.com", "Viewer", "viewer", "test", PASSWORD)
        engine.dispose()
        with TestClient(create_app(root, schedules=False)) as client:
            yield Shop(root, client, [], TODAY)


def board(shop: Shop, **params: str) -> dict[str, Any]:
    answer = shop.browser("viewer@example.com").get("/board.json", params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def cards_of(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for g in page["groups"] for c in g["cards"]}


def test_the_json_groups_what_needs_attention_first(shop: Shop) -> None:
    page = board(shop)
    groups = [(g["key"], g["title"], [c["name"] for c in g["cards"]]) for g in page["groups"]]
    assert groups == [
        ("off_track", "Off track", ["leads"]),
        ("at_risk", "At risk", ["cost"]),
        ("heading_off_track", "Heading off track", ["signups"]),
        ("on_track", "On track", ["revenue", "visits"]),  # the project's order
    ]
    assert page["filters"]["group"] == "attention"
    assert page["attention"] == ["leads", "cost", "signups"]
    cards = cards_of(page)
    assert {n: c["attention"] for n, c in cards.items()} == {
        "leads": "off_track",
        "cost": "at_risk",
        "signups": "heading_off_track",
        "revenue": None,
        "visits": None,
    }
    # The card's status is its closed month's; only the heading of December says otherwise.
    assert cards["signups"]["status"] == "on_track"
    assert cards["signups"]["open"]["heading"] == "off_track"
    indonesian = board(shop, lang="id")
    titles = [g["title"] for g in indonesian["groups"]]
    assert titles == ["Meleset", "Berisiko", "Menuju meleset", "Sesuai target"]


def test_the_api_says_what_needs_attention_and_where_the_board_puts_it(shop: Shop) -> None:
    """`/api/v1/kpis` keeps the project's order and says, beside each KPI, why it needs
    attention and its rank in the board's order (worked out by hand from `ROWS`)."""
    answer = shop.browser("viewer@example.com").get("/api/v1/kpis")
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["name"] for i in items] == ["revenue", "visits", "signups", "cost", "leads"]
    said = {i["name"]: (i["attention"], i["attention_rank"]) for i in items}
    assert said == {
        "leads": ("off_track", 0),
        "cost": ("at_risk", 1),
        "signups": ("heading_off_track", 2),
        "revenue": (None, 4),  # on track: after the four kinds of attention
        "visits": (None, 4),
    }
    ranked = [i["name"] for i in sorted(items, key=lambda i: i["attention_rank"])]
    page = board(shop)
    assert ranked == [c["name"] for g in page["groups"] for c in g["cards"]]
    assert page["attention"] == [n for n in ranked if said[n][0]]
    one = shop.browser("viewer@example.com").get("/api/v1/kpis/signups").json()
    assert (one["attention"], one["attention_rank"]) == ("heading_off_track", 2)


def test_goal_grouping_is_a_choice_that_is_remembered(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    by_goal = browser.get("/board.json", params={"group": "goal"}).json()
    assert [(g["title"], [c["name"] for c in g["cards"]]) for g in by_goal["groups"]] == [
        ("Grow", ["leads", "cost", "signups", "revenue", "visits"])  # attention first inside
    ]
    again = browser.get("/board.json").json()  # no choice: the last one
    assert again["filters"]["group"] == "goal"
    assert [g["title"] for g in again["groups"]] == ["Grow"]
    back = browser.get("/board.json", params={"group": "attention"}).json()
    assert back["groups"][0]["key"] == "off_track"
    assert browser.get("/board.json").json()["filters"]["group"] == "attention"
    page = browser.get("/board", params={"group": "goal"}).text
    assert '<option value="goal" selected>' in page


def test_the_page_shows_the_cards_in_the_same_order(shop: Shop) -> None:
    page = shop.browser("viewer@example.com").get("/board").text
    assert re.findall(r'<article class="card[^"]*" data-kpi="(\w+)"', page) == [
        "leads",
        "cost",
        "signups",
        "revenue",
        "visits",
    ]
    headings = re.findall(r'<h2 id="group-\d+">([^<]+)</h2>', page)
    assert headings == ["Off track", "At risk", "Heading off track", "On track"]
    assert '<option value="attention" selected>Needs attention first</option>' in page


def test_the_open_month_says_where_it_is_heading_in_english_and_indonesian(shop: Shop) -> None:
    signups = round(10 / SHARE)  # 20.67 at this pace
    revenue = 300_000_000 / SHARE  # 620,000,000
    assert (signups, revenue) == (21, 620_000_000)
    cards = cards_of(board(shop))
    assert cards["signups"]["open"]["heading_line"] == (
        "Heading off track: 21 by the end of Dec 2026 at this pace"
    )
    assert cards["revenue"]["open"]["heading_line"] == (
        "Heading on track: IDR\u00a0620M by the end of Dec 2026 at this pace"
    )
    assert cards["revenue"]["open"]["projected_text"] == "IDR\u00a0620,000,000"
    words = cards_of(board(shop, lang="id"))
    assert words["signups"]["open"]["heading_line"] == (
        "Menuju meleset: 21 di akhir Des 2026 dengan laju ini"
    )
    assert words["revenue"]["open"]["heading_line"] == (
        "Menuju sesuai target: Rp\u00a0620\u00a0jt di akhir Des 2026 dengan laju ini"
    )
    page = shop.browser("viewer@example.com").get("/board", params={"lang": "id"}).text
    assert "Menuju meleset: 21 di akhir Des 2026 dengan laju ini" in page
    assert 'title="Dengan laju ini: Rp\u00a0620.000.000"' in page


def test_money_is_compact_with_its_full_figure_on_hover(shop: Shop) -> None:
    revenue = cards_of(board(shop))["revenue"]
    assert (revenue["value_short"], revenue["value_text"]) == (
        "IDR\u00a0555.8M",
        "IDR\u00a0555,812,345",
    )
    assert (revenue["target_short"], revenue["target_text"]) == (
        "IDR\u00a0500M",
        "IDR\u00a0500,000,000",
    )
    assert cards_of(board(shop))["visits"]["value_short"] == "100"  # a count stays whole
    page = shop.browser("viewer@example.com").get("/board").text
    assert '<abbr title="IDR\u00a0555,812,345">IDR\u00a0555.8M</abbr>' in page
    indonesian = shop.browser("viewer@example.com").get("/board", params={"lang": "id"}).text
    assert '<abbr title="Rp\u00a0555.812.345">Rp\u00a0555,8\u00a0jt</abbr>' in indonesian
    table = shop.browser("viewer@example.com").get("/kpis/revenue").text
    assert "IDR\u00a0555,812,345" in table  # the values table keeps the full figure


def test_the_refresh_time_is_in_the_projects_zone_with_its_name(shop: Shop) -> None:
    page = board(shop)
    assert page["refreshed_at"] == "2026-12-07T07:05:00Z"
    assert page["refreshed_text"] == "7 Dec 2026 14:05 WIB"
    html = shop.browser("viewer@example.com").get("/board").text
    assert "Refreshed 7 Dec 2026 14:05 WIB" in html
    indonesian = shop.browser("viewer@example.com").get("/board", params={"lang": "id"}).text
    assert "Diperbarui 7 Des 2026 14.05 WIB" in indonesian


def test_a_cost_past_its_limit_fills_its_bar_past_the_mark(shop: Shop) -> None:
    """A cost at 110% of its ceiling: attainment 90% as the verdict reads it (at risk), but
    its bar is the limit used — the mark at 100/110 of the bar, the rest past it — never a
    bar 90% full."""
    cost = cards_of(board(shop))["cost"]
    assert cost["status"] == "at_risk"
    assert cost["attainment"] == pytest.approx(0.9)
    assert cost["attainment_text"] == "90%"
    bar = cost["bar"]
    assert bar["limit"] == pytest.approx(100 / 110)
    assert bar["fill"] == pytest.approx(100 / 110)
    assert bar["over"] == pytest.approx(10 / 110)
    assert (bar["now"], bar["top"]) == (110, 110)
    assert (bar["text"], bar["over_text"]) == ("110% of the limit", "10% over the limit")
    revenue = cards_of(board(shop))["revenue"]["bar"]  # up is good: the target ends the bar
    assert (revenue["fill"], revenue["over"], revenue["limit"]) == (1.0, 0.0, None)
    assert revenue["text"] == "111% of target"  # 555,812,345 / 500,000,000
    page = shop.browser("viewer@example.com").get("/board").text
    card = page[page.index('data-kpi="cost"') :]
    card = card[: card.index("</article>")]
    assert 'class="progress over"' in card
    assert 'aria-valuenow="110"' in card
    assert 'aria-valuetext="110% of the limit"' in card
    assert '<rect class="fill" width="90.9" height="1"/>' in card
    assert '<rect class="past" x="90.9" width="9.1" height="1"/>' in card
    assert '<rect class="limit" x="89.9" width="1" height="1"/>' in card
    assert "Limit <abbr" in card
    assert "10% over the limit" in card
    indonesian = shop.browser("viewer@example.com").get("/board", params={"lang": "id"}).text
    assert "10% melewati batas" in indonesian


def test_a_remembered_grouping_that_is_not_one_falls_back_to_attention(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    browser.cookies.set("tolok_board_group", "colour")
    page = browser.get("/board.json")
    assert page.status_code == 200
    assert page.json()["filters"]["group"] == "attention"


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "4% over the limit, within its tolerance"),
     ("id", "4% melewati batas, masih dalam toleransinya")],
)  # fmt: skip
def test_a_bar_past_its_limit_within_tolerance_says_so(lang: str, said: str) -> None:
    """A bounce rate of 38.2% against a 36.8% limit is on track by its tolerance (attainment
    36.8 / 38.2 = 96%): the bar's words must not contradict the badge."""
    from tolok.i18n import Formats, gettext
    from tolok.server.pages.board_parts import bar
    from tolok.spec.calendar import Calendar
    from tolok.spec.models import KPI

    kpi = KPI.model_validate(
        {"formula": "bounces / visits", "direction": "down", "unit": "percent"}
    )
    fmt, _ = Formats(lang, "USD", Calendar()), gettext(lang)
    share = 0.368 / 0.382
    tolerated = bar(kpi, 0.382, 0.368, share, fmt, _, tolerated=True)
    assert tolerated is not None
    assert tolerated.over_text == said
    judged = bar(kpi, 0.382, 0.368, share, fmt, _)
    assert judged is not None
    assert judged.over_text == said.split(",")[0]
    assert judged.over == tolerated.over > 0
