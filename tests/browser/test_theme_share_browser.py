"""Two small things people see, in Chromium: the theme switch goes back to "auto" (light,
dark, as the system says), and a share link made on a KPI's page comes back to that page
with a button that copies it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Live, sign_in


def test_the_theme_switch_cycles_light_dark_and_auto(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com")
    root, button = page.locator("html"), page.locator("#theme")
    expect(root).to_have_attribute("data-theme", "auto")
    expect(button).to_have_attribute("aria-label", "Theme: as the system (next: light)")
    seen = []
    for _ in range(3):
        button.click()
        seen.append(root.get_attribute("data-theme"))
    assert seen == ["light", "dark", "auto"]
    expect(button).to_have_attribute("aria-label", "Theme: as the system (next: light)")
    button.click()  # light, kept across pages
    page.goto(f"{live.url}/goals?lang=id")
    expect(root).to_have_attribute("data-theme", "light")
    expect(button).to_have_attribute("aria-label", "Tema: terang (berikutnya: gelap)")


def test_a_share_link_comes_back_to_the_kpi_page_with_a_copy_button(
    browser: Browser, live: Live
) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, live, "editor@example.com", then="/kpis/orders")
    page.fill("input[name=days]", "7")
    page.locator("button", has_text="Share read-only").click()
    page.wait_for_url("**/kpis/orders#shared")
    link = page.locator("#share-link")
    expect(link).to_be_visible()
    address = link.input_value()
    assert address.startswith(f"{live.url}/s/")
    copy = page.locator("button[data-copy=share-link]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == address
    page.reload()
    expect(page.locator("#share-link")).to_have_count(0)  # shown once
    shared = context.browser.new_context() if context.browser else None
    assert shared is not None
    reader = shared.new_page()
    reader.goto(address)
    expect(reader.locator("h1")).to_be_visible()
    shared.close()
    context.close()
