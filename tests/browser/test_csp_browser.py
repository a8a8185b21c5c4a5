"""The pages under their Content-Security-Policy, in Chromium: no page, no chart (Plotly)
and no live update of the board breaks it. A violation shows as a `securitypolicyviolation`
event in the page and as a console message; both are listened to, on every page."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, sign_in
from tests.shop import month_start

WATCH = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber
    + " " + JSON.stringify(e.sample)));
}"""


def watched(page: Page) -> list[str]:
    """The console's complaints about the policy, from now on; each page's own events are
    read by `violations`."""
    said: list[str] = []

    def listen(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            said.append(text)

    page.on("console", listen)
    page.on("pageerror", lambda error: said.append(f"page error: {error}"))
    page.add_init_script(f"({WATCH})()")
    return said


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__violations || []")
    return found


def test_no_page_breaks_its_content_security_policy(page: Page, live: Live) -> None:
    said = watched(page)
    sign_in(page, live, "admin@example.com")  # the sign-in page, then the board
    header = page.request.get(f"{live.url}/board").headers["content-security-policy"]
    assert "script-src 'self';" in header
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "frame-ancestors 'none'" in header
    expect(page.locator("article.card").first).to_be_visible()
    expect(page.locator("article.card .progress rect").first).to_be_attached()
    page.click("#theme")  # the theme switch, kept in localStorage and read back in <head>
    theme = page.evaluate("document.documentElement.dataset.theme")
    assert theme in ("light", "dark")
    seen = {"/board": violations(page)}
    pages = [
        "/kpis/revenue",
        "/kpis/revenue/edit",
        "/entry",
        "/catalog",
        "/goals",
        "/review",
        "/admin",
    ]
    for path in pages:
        page.goto(f"{live.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        if path == "/kpis/revenue":  # Plotly drew the chart, and answers a hover
            expect(page.locator("#chart .main-svg").first).to_be_visible()
            page.hover("#chart .nsewdrag")
            page.locator("#chart .modebar").first.wait_for(state="attached")
        seen[path] = violations(page)
    page.goto(f"{live.url}/board")  # the live update: events, then the cards fetched again
    card = page.locator('article[data-kpi="ad_spend"] .value')
    expect(card).to_have_text("\u2013")
    csrf = page.request.get(f"{live.url}/api/v1/me").json()["csrf"]
    last = month_start(live.today, 1)
    sent = page.request.post(
        f"{live.url}/api/v1/datasets/ad_spend/values",
        data=json.dumps([{"measure": "spend", "period": f"{last:%Y-%m}", "value": 125000}]),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    assert sent.ok, sent.text()
    expect(card).to_have_text("IDR\u00a0125K", timeout=15_000)  # no reload; compact money
    expect(card.locator("abbr")).to_have_attribute("title", "IDR\u00a0125,000")
    seen["/board, updated live"] = violations(page)
    page.context.clear_cookies()
    page.goto(f"{live.url}/signin?lang=id")
    expect(page.locator("#email")).to_be_visible()
    seen["/signin"] = violations(page)
    assert {path: found for path, found in seen.items() if found} == {}
    assert said == []
