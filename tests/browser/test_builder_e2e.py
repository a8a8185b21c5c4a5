"""From a spreadsheet to a tracked KPI without writing YAML (issue 25), end to end in
Chromium, in English and in Indonesian. A new project holds no data and no KPI. An editor:
1. uploads the superstore's orders and accepts the proposed time column and measures;
2. adds "Sales revenue" from the catalog, mapped onto the new dataset;
3. adds "Profit ratio" from scratch: a typo in its formula is said under the field, then
   fixed; a monthly target;
4. after a refresh, the board shows both with their statuses.
Then `tolok validate` passes on the YAML, which reads as a person would write it. A second
editor's change made meanwhile is detected, not overwritten. A viewer cannot save."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import Live, screenshot, sign_in
from tests.browser.test_new_kpi_browser import expected_status, last_month_ratio
from tests.conftest import shared_data, without_shared_data
from tests.serving import serving
from tests.shop import PASSWORD

ORDERS = shared_data("superstore") / "orders.csv"
TODAY = "2026-12-08"
NEW_PROJECT = """\
name: Toko Baru
timezone: UTC
currency: USD
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
"""
PEOPLE = [("editor@example.com", "editor"), ("second@example.com", "editor"),
          ("viewer@example.com", "viewer")]  # fmt: skip
WORDS = {
    "en": {"validates": "The definition validates.", "unknown": "unknown name 'sale'",
           "target": "0.1", "search": "sales revenue"},
    "id": {"validates": "Definisinya lolos validasi.", "unknown": "tidak dikenal",
           "target": "0,1", "search": "pendapatan penjualan"},
}  # fmt: skip
pytestmark = without_shared_data(ORDERS)


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Live]:
    """A new project: settings only, no dataset, no KPI; served with three people."""
    from tolok.auth import accounts
    from tolok.server.app import create_app

    (tmp_path / "tolok.yaml").write_text(NEW_PROJECT, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY)
        patch.delenv("TOLOK_NOW", raising=False)
        patch.setenv("TOLOK_SCHEDULES", "off")
        app = create_app(tmp_path, refresh_delay=0.1, schedules=False)
        with Session(app.state.tolok.engine) as session, session.begin():
            for email, role in PEOPLE:
                accounts.add_user(session, email, email.split("@")[0], role, "test", PASSWORD)
        with serving(app) as url:
            yield Live(url, tmp_path, [], dt.date.fromisoformat(TODAY), app)
        if app.state.tolok.refresher is not None:
            app.state.tolok.refresher.wait()


def _person(browser: Any, live: Live, email: str, then: str) -> Page:
    """Another person, in a browser context of their own (their own cookies)."""
    page: Page = browser.new_context().new_page()
    sign_in(page, live, email, then=then)
    return page


@pytest.mark.parametrize("lang", ["en", "id"])
def test_from_a_spreadsheet_to_two_tracked_kpis(
    page: Page, browser: Any, empty: Live, lang: str
) -> None:
    words = WORDS[lang]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, empty, "editor@example.com", then=f"/datasets/new?lang={lang}")

    # 1. The spreadsheet: the proposal accepted as it comes, under the name "orders".
    page.set_input_files("#data-file", str(ORDERS))
    expect(page.locator("#dataset-proposal")).to_be_visible(timeout=30_000)
    expect(page.locator("#dataset-time")).to_have_value("Order Date")
    page.fill("#dataset-name", "orders")
    page.click("#save-dataset")
    expect(page.locator("#saved")).to_be_visible(timeout=30_000)
    page.click("#add-kpi")
    page.wait_for_url("**/kpis/new?dataset=orders*")
    if "lang=" not in page.url:
        page.goto(f"{page.url}&lang={lang}")

    # 2. "Sales revenue" from the catalog, mapped onto the uploaded columns.
    page.fill("#template-search", words["search"])
    page.click('[data-choose="sales_revenue"]')
    expect(page.locator("#map-dataset-orders")).to_have_value("orders")
    page.select_option("#map-column-amount", "Sales")
    page.select_option("#map-column-region", "Region")
    page.click("#apply-template")
    expect(page.locator("#formula-state")).to_have_text(words["validates"])
    page.select_option("#field-status", "active")
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible(timeout=30_000)

    # 3. "Profit ratio" from scratch, with a typo said under the formula, and a target.
    page.goto(f"{empty.url}/kpis/new?dataset=orders&lang={lang}")
    page.fill("#field-title", "Profit ratio")
    page.locator("#field-formula").fill("profit / sale")
    problem = page.locator("#err-formula")
    expect(problem).to_contain_text("TLK011")
    expect(problem).to_contain_text(words["unknown"])
    page.locator("#field-formula").fill("profit / sales")
    expect(page.locator("#formula-state")).to_have_text(words["validates"])
    page.select_option("#field-unit", "percent")
    page.select_option("#field-grain", "month")
    page.select_option("#field-status", "active")
    page.select_option("#field-target-kind", "value")
    page.fill("#field-target", words["target"])
    page.click("#preview")
    expect(page.locator("#preview-table tbody tr")).to_have_count(12, timeout=60_000)
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible(timeout=30_000)

    # 4. After a refresh, the board shows both, each with its status.
    refresher = empty.app.state.tolok.refresher
    refresher.soon()
    refresher.wait()
    page.goto(f"{empty.url}/board?lang={lang}")
    _, ratio = last_month_ratio()
    profit = page.locator('article[data-kpi="profit_ratio"]')
    expect(profit).to_have_class(f"card status-{expected_status(ratio, 0.1)}", timeout=15_000)
    expect(page.locator('article[data-kpi="sales_revenue"]')).to_have_class("card status-no_target")
    screenshot(page, f"builder-board-{lang}")

    # The YAML: `tolok validate` passes; it reads as a person writes it.
    tolok = Path(sys.executable).with_name("tolok")
    checked = subprocess.run([str(tolok), "validate", str(empty.root)], capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    settings = (empty.root / "tolok.yaml").read_text(encoding="utf-8")
    assert settings.startswith(NEW_PROJECT)  # what was there stays as it was
    assert "\n  orders:\n    source: file:data/orders.csv\n    time: Order Date\n" in settings
    assert "      profit: {agg: sum, expr: Profit}\n" in settings
    kpis = "".join(p.read_text(encoding="utf-8") for p in sorted((empty.root / "kpis").glob("*")))
    assert "profit_ratio:\n  title: Profit ratio\n" in kpis
    assert "  formula: profit / sales\n" in kpis
    assert "  target: {value: 0.1}\n" in kpis
    assert "!!" not in settings + kpis  # no YAML tags, no Python objects

    # A second editor changes the KPI while the first has its form open: detected.
    page.goto(f"{empty.url}/kpis/profit_ratio/edit?lang={lang}")
    other = _person(browser, empty, "second@example.com", "/kpis/profit_ratio/edit")
    other.fill("#field-description", "Profit over sales, changed by the second editor.")
    other.click("#save")
    expect(other.locator("#saved")).to_be_visible(timeout=30_000)
    page.fill("#field-title", "Profit margin")
    page.click("#save")
    expect(page.locator("#conflict")).to_be_visible(timeout=30_000)
    expect(page.locator("#conflict-current")).to_contain_text("changed by the second editor")
    expect(page.locator("#conflict-proposed")).to_contain_text("Profit margin")
    written = "".join(p.read_text(encoding="utf-8") for p in (empty.root / "kpis").glob("*"))
    assert "Profit margin" not in written
    assert "changed by the second editor" in written

    # A viewer reads the definition and cannot save it.
    viewer = _person(browser, empty, "viewer@example.com", "/kpis/profit_ratio/edit")
    expect(viewer.locator("#field-formula")).to_have_value("profit / sales")
    expect(viewer.locator("#save")).to_have_count(0)
    expect(viewer.locator("#field-formula")).to_be_disabled()  # its fieldset is disabled
    csrf = viewer.locator('[name="csrf"]').first.get_attribute("value") or ""
    refused = viewer.request.put(  # with the session's CSRF token: refused for the role
        f"{empty.url}/api/v1/kpis/profit_ratio/definition",
        data={"definition": {"formula": "profit"}, "fingerprints": {}},
        headers={"x-csrf-token": csrf},
    )
    assert refused.status == 403, refused.text()
    assert "csrf" not in refused.text().lower()
    assert errors == []
