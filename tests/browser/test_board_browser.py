"""What people do with the board, in Chromium: sign in, read, switch language, open a KPI,
change what it shows, comment, annotate, enter a value, follow a share link."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Live, screenshot, sign_in
from tests.shop import month_start, monthly


def api(page: Page, live: Live, path: str) -> Any:
    """The JSON API, with the page's own session."""
    answer = page.request.get(f"{live.url}{path}")
    assert answer.ok, answer.text()
    return answer.json()


def millions(amount: int, point: str = ".") -> str:
    """An amount of millions as the card writes it in compact form: 7,400,000 is `7.4`."""
    return f"{amount / 1e6:.1f}".removesuffix(".0").replace(".", point)


def test_the_board_shows_the_kpis_with_the_apis_values(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com")
    cards = {c["name"]: c for c in api(page, live, "/api/v1/kpis")["items"]}
    assert set(cards) == {"revenue", "orders", "aov", "ad_spend"}
    for name, card in cards.items():
        shown = page.locator(f'article.card[data-kpi="{name}"]')
        expect(shown).to_be_visible()
        expect(shown.locator("h3")).to_have_text(card["title"])
        value = shown.locator(".value")
        if card["value"] is None:
            expect(value).to_have_text("\u2013")
        else:
            assert float(value.get_attribute("data-value") or "nan") == card["value"]
    revenue, _ = monthly(live.rows, month_start(live.today, 1))
    value = page.locator('article[data-kpi="revenue"] .value')  # compact, the full figure on hover
    expect(value).to_have_text(f"IDR\u00a0{millions(revenue)}M")
    expect(value.locator("abbr")).to_have_attribute("title", f"IDR\u00a0{revenue:,}")
    expect(page.locator('article[data-kpi="revenue"] .badge')).to_be_visible()


def test_switching_to_indonesian_changes_labels_and_money(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com")
    page.select_option("#lang-switch", "id")
    page.wait_for_url("**lang=id*")
    expect(page.locator("h1")).to_have_text("Papan")
    revenue, _ = monthly(live.rows, month_start(live.today, 1))
    money = f"Rp\u00a0{millions(revenue, ',')}\u00a0jt"  # juta
    expect(page.locator('article[data-kpi="revenue"] .value')).to_have_text(money)
    page.click("nav >> text=Sasaran")
    expect(page.locator("h1")).to_have_text("Sasaran")  # the choice is kept


def test_a_kpi_page_changes_grain_and_breakdown_and_keeps_comments(page: Page, live: Live) -> None:
    sign_in(page, live, "editor@example.com")
    page.click('article[data-kpi="revenue"] h3 a')
    page.wait_for_url("**/kpis/revenue")
    expect(page.locator("#chart .main-svg").first).to_be_visible()
    page.select_option("#grain", "quarter")
    page.click("#series-form button[type=submit]")
    page.wait_for_url("**grain=quarter*")
    quarters = api(page, live, "/kpis/revenue.json?grain=quarter")["rows"]
    page.click("#values-box summary")
    expect(page.locator("#values tbody tr")).to_have_count(len(quarters))
    page.select_option("#grain", "month")
    page.select_option("#by", "region")
    page.click("#series-form button[type=submit]")
    page.wait_for_url("**by=region*")
    legend = page.locator("#chart .legendtext")
    expect(legend.filter(has_text=re.compile("^Bali$"))).to_have_count(1)
    expect(legend.filter(has_text=re.compile("^Jawa$"))).to_have_count(1)

    label = f"{month_start(live.today, 1):%Y-%m}"
    page.select_option("#comment-period", label)
    page.fill("#comment-text", "Rain kept people at home")
    page.click("text=Add comment")
    page.wait_for_url("**/kpis/revenue#comments")
    day = month_start(live.today, 2).replace(day=12).isoformat()
    page.fill("#note-day", day)
    page.fill("#note-text", "Free shipping on every order")
    page.click("text=Record the change")
    page.wait_for_url("**/kpis/revenue#annotations")
    page.reload()
    expect(page.locator("#comments")).to_contain_text("Rain kept people at home")
    expect(page.locator("#annotations")).to_contain_text("Free shipping on every order")
    stored = api(page, live, "/api/v1/kpis/revenue/comments")["items"]
    assert [c["text"] for c in stored] == ["Rain kept people at home"]


def test_a_value_entered_by_hand_updates_the_kpi(page: Page, live: Live) -> None:
    sign_in(page, live, "editor@example.com", "/entry")
    last = month_start(live.today, 1)
    page.fill("#period-ad_spend", f"{last:%Y-%m}")
    page.fill("#value-ad_spend", "750000")
    page.click("text=Save value")
    expect(page.locator(".notice")).to_be_visible()
    page.goto(f"{live.url}/board")
    card = page.locator('article[data-kpi="ad_spend"] .value')
    expect(card).to_have_text("IDR\u00a0750K", timeout=15_000)  # the board follows the refresh
    expect(card.locator("abbr")).to_have_attribute("title", "IDR\u00a0750,000")


def test_the_board_updates_live_when_a_refresh_finishes(page: Page, live: Live) -> None:
    sign_in(page, live, "editor@example.com")
    card = page.locator('article[data-kpi="ad_spend"] .value')
    expect(card).to_have_text("\u2013")
    csrf = api(page, live, "/api/v1/me")["csrf"]
    last = month_start(live.today, 1)
    sent = page.request.post(
        f"{live.url}/api/v1/datasets/ad_spend/values",
        data=json.dumps([{"measure": "spend", "period": f"{last:%Y-%m}", "value": 125000}]),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    assert sent.ok, sent.text()
    expect(card).to_have_text("IDR\u00a0125K", timeout=15_000)  # no reload


def test_the_refreshed_line_follows_a_refresh_in_the_pages_language(page: Page, live: Live) -> None:
    """The "Refreshed …" line changes with the cards, in Indonesian, time of day with a dot
    and the zone named, without a reload. The shop's refresh is set back to a day in 2020
    first, so the new one cannot read alike."""
    import datetime as dt

    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tolok.store.schema import Refresh

    with Session(live.app.state.tolok.engine) as session, session.begin():
        session.execute(update(Refresh).values(finished_at=dt.datetime(2020, 1, 2, 3, 4)))
    sign_in(page, live, "editor@example.com", "/board?lang=id")
    line = page.locator("#live .sub")
    expect(line).to_have_text("Diperbarui 2 Jan 2020 03.04 UTC")
    counts = page.locator("#counts")
    expect(counts).to_contain_text("Tanpa data")  # the ad spend, before its first value
    csrf = api(page, live, "/api/v1/me")["csrf"]
    last = month_start(live.today, 1)
    sent = page.request.post(
        f"{live.url}/api/v1/datasets/ad_spend/values",
        data=json.dumps([{"measure": "spend", "period": f"{last:%Y-%m}", "value": 125000}]),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    assert sent.ok, sent.text()
    expect(page.locator('article[data-kpi="ad_spend"] .value')).to_have_text(
        "Rp\u00a0125\u00a0rb", timeout=15_000
    )
    today = f"{live.today.day} "  # a refresh of today, in the project's zone (UTC)
    expect(line).to_have_text(re.compile(rf"^Diperbarui {today}\w{{3}} {live.today.year} "
                                         r"\d{2}\.\d{2} UTC$"), timeout=15_000)  # fmt: skip
    expect(counts).not_to_contain_text("Tanpa data")  # the ad spend has a value now


def test_a_share_link_shows_only_what_it_names_signed_out(
    page: Page, browser: Browser, live: Live
) -> None:
    sign_in(page, live, "editor@example.com")
    csrf = api(page, live, "/api/v1/me")["csrf"]
    made = page.request.post(
        f"{live.url}/api/v1/shares",
        data=json.dumps({"kind": "kpi", "target": "orders"}),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    url = made.json()["url"]
    stranger = browser.new_context()
    shared = stranger.new_page()
    shared.goto(url)
    expect(shared.locator("h1")).to_have_text("Orders")
    expect(shared.locator("article.card")).to_have_count(1)
    expect(shared.locator("body")).not_to_contain_text("Revenue")
    expect(shared.locator("nav")).to_have_count(0)
    assert shared.goto(f"{live.url}/board").url.startswith(f"{live.url}/signin")
    stranger.close()


def test_a_viewer_cannot_reach_the_forms(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com")
    expect(page.locator("nav >> text=Data entry")).to_have_count(0)
    expect(page.locator("nav >> text=Admin")).to_have_count(0)
    answer = page.goto(f"{live.url}/entry")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    page.goto(f"{live.url}/kpis/revenue")
    expect(page.locator("#comment-text")).to_have_count(0)
    expect(page.locator("#note-text")).to_have_count(0)
    assert page.goto(f"{live.url}/admin").status == 403  # type: ignore[union-attr]


def test_keyboard_first_tab_skips_to_the_content(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_screenshots_at_desktop_and_phone_width(browser: Browser, live: Live) -> None:
    """Board, KPI page and goal tree at 1280 and 375 px; nothing wider than the phone."""
    for width, height in ((1280, 900), (375, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        sign_in(page, live, "editor@example.com")
        for name, path in (("board", "/board"), ("kpi", "/kpis/revenue"), ("goals", "/goals")):
            page.goto(f"{live.url}{path}")
            page.wait_for_load_state("networkidle")
            if name == "kpi":
                expect(page.locator("#chart .main-svg").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, (name, width, overflow)
            screenshot(page, f"{name}-{width}")
        context.close()


CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((e) => e.type !== 'hidden' && e.offsetParent !== null)
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                 && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map((e) => e.outerHTML.slice(0, 80))"""


def test_text_contrast_and_labels_in_light_and_dark(browser: Browser, live: Live) -> None:
    """Every text on the board reads at WCAG AA contrast (4.5:1) in both themes; every
    control of every page has a label."""
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)  # type: ignore[arg-type]
        page = context.new_page()
        sign_in(page, live, "admin@example.com")
        assert page.evaluate(CONTRAST) == [], scheme
        for path in ("/board", "/kpis/revenue", "/goals", "/review", "/catalog", "/entry",
                     "/admin", "/catalog/conversion_rate"):  # fmt: skip
            page.goto(f"{live.url}{path}")
            assert page.evaluate(UNLABELLED) == [], path
        context.close()
