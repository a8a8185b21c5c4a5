"""Alerts in Chromium: a person subscribes to a KPI from its page and stops; the admin page
shows the open alerts, schedules and delivery log; the new parts read at AA contrast."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Live, screenshot, sign_in

CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")


def test_a_viewer_subscribes_to_a_kpi_and_stops(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com", then="/kpis/orders")
    panel = page.locator("#alerts")
    expect(panel.locator("h2")).to_have_text("Alert me")
    page.select_option("#alert-when", "target_reached")
    panel.locator("button", has_text="Alert me").click()
    page.wait_for_url("**/kpis/orders#alerts")
    entry = panel.locator("form.subscription")
    expect(entry).to_have_count(1)
    expect(entry.locator("span")).to_have_text("When it reaches its target")
    screenshot(page, "kpi-alert-me")
    rules = page.request.get(f"{live.url}/api/v1/alert-rules").json()["items"]
    assert [r["rule"]["notify"] for r in rules] == [["viewer@example.com"]]
    entry.locator("button", has_text="Stop").click()
    page.wait_for_url("**/kpis/orders#alerts")
    expect(panel.locator("form.subscription")).to_have_count(0)
    assert page.request.get(f"{live.url}/api/v1/alert-rules").json()["items"] == []


def test_the_alert_panel_and_the_admin_sections_read_in_both_themes(
    browser: Browser, live: Live
) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)  # type: ignore[arg-type]
        page = context.new_page()
        sign_in(page, live, "admin@example.com", then="/kpis/orders")
        page.select_option("#alert-when", "status")
        page.locator("#alerts button", has_text="Alert me").click()
        page.wait_for_url("**/kpis/orders#alerts")
        assert page.evaluate(CONTRAST) == [], scheme
        page.goto(f"{live.url}/admin")
        for heading in ("Open alerts", "Schedules", "Delivery log"):
            expect(page.locator("h2", has_text=heading)).to_be_visible()
        assert page.evaluate(CONTRAST) == [], scheme
        screenshot(page, f"admin-sharing-{scheme}")
        context.close()
