"""The KPI definition editor in Chromium (issue 25, item 3): an editor changes a KPI's formula
and title in the browser; the formula is checked as it is typed, a change of values asks for
a reason, the diff written is shown, and the YAML on disk holds the change and validates. A
second change against a file changed meanwhile shows both versions; retiring asks first."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, screenshot, sign_in
from tolok.spec.loader import load_project


def test_an_editor_changes_a_kpi_in_the_browser(page: Page, live: Live) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live, "editor@example.com", then="/kpis/orders")
    page.click("#edit-definition")
    page.wait_for_url("**/kpis/orders/edit")
    formula, problem = page.locator("#field-formula"), page.locator("#err-formula")
    expect(formula).to_have_value("order_count")
    formula.fill("order_cnt * 2")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("TLK011")
    expect(problem).to_contain_text("order_cnt")
    formula.fill("order_count * 2")
    expect(page.locator("#formula-state")).to_have_text("The definition validates.")
    expect(problem).to_be_hidden()
    page.fill("#field-title", "Orders placed")
    page.click("#save")
    reason = page.locator("#err-reason")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("reason")
    expect(page.locator("#saved")).to_be_hidden()
    assert "Orders placed" not in (live.root / "tolok.yaml").read_text(encoding="utf-8")
    expect(page.locator("#field-title")).to_have_value("Orders placed")  # nothing typed is lost
    page.fill("#field-reason", "Each order counts twice now")
    page.click("#save")
    diff = page.locator("#diff")
    expect(diff).to_contain_text("+    formula: order_count * 2")
    expect(diff).to_contain_text("+    title: Orders placed")
    expect(diff).to_contain_text("+    changelog: Each order counts twice now")
    screenshot(page, "definition-saved")
    assert errors == []

    loaded = load_project(live.root)  # the YAML on disk, as `tolok validate` reads it
    assert loaded.ok, loaded.problems
    assert loaded.project is not None
    orders = loaded.project.kpis["orders"]
    assert (orders.title, str(orders.formula)) == ("Orders placed", "order_count * 2")
    page.click("text=Back to the KPI")
    expect(page.locator("h1")).to_have_text("Orders placed")

    # A second editor changed the file meanwhile: both versions, nothing written.
    page.goto(f"{live.url}/kpis/orders/edit?lang=id")
    text = (live.root / "tolok.yaml").read_text(encoding="utf-8")
    (live.root / "tolok.yaml").write_text(text + "# changed by hand\n", encoding="utf-8")
    page.locator("#field-formula").fill("order_cnt")  # in Indonesian, as typed
    expect(page.locator("#err-formula")).to_contain_text("tidak dikenal")
    page.locator("#field-formula").fill("order_count * 2")
    page.fill("#field-title", "Pesanan")
    page.click("#save")
    expect(page.locator("#conflict")).to_be_visible()
    expect(page.locator("#conflict-current")).to_contain_text("# changed by hand")
    expect(page.locator("#conflict-proposed")).to_contain_text("title: Pesanan")
    assert "Pesanan" not in (live.root / "tolok.yaml").read_text(encoding="utf-8")
    page.click("#reload")
    page.wait_for_url("**/kpis/orders/edit")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#retire")
    expect(page.locator("#saved-said")).to_contain_text("Dihentikan")
    expect(page.locator("#diff")).to_contain_text("+    status: retired")
    assert errors == []
