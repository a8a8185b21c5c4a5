"""Adding KPIs in Chromium (issue 25, item 2), in English and in Indonesian: over the
superstore's orders, an editor adds "Sales revenue" from the catalog mapped onto the
dataset's columns, then "Profit ratio" from scratch — a typo in its formula is reported
under the field, then fixed — with a monthly target, draws the preview, saves; after a
refresh the board shows both with their statuses, and the YAML validates."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import Live, screenshot, sign_in
from tests.conftest import shared_data, without_shared_data
from tests.serving import serving
from tolok.spec.loader import load_project

ORDERS = shared_data("superstore") / "orders.csv"
PROJECT = """\
name: Superstore
timezone: UTC
currency: USD
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv   # the superstore's export
    time: Order Date
    dimensions: [Region, Category]
    measures:
      profit: {agg: sum, expr: Profit}
      order_lines: {agg: count}
"""
TODAY = "2026-12-08"
EDITOR = "editor@example.com"
PASSWORD = "correct horse battery"
pytestmark = without_shared_data(ORDERS)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Live]:
    """The superstore's orders as a project with no KPI yet, served."""
    from tolok.auth import accounts
    from tolok.server.app import create_app

    shutil.copy(ORDERS, tmp_path / "orders.csv")
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY)
        patch.delenv("TOLOK_NOW", raising=False)
        patch.setenv("TOLOK_SCHEDULES", "off")
        app = create_app(tmp_path, refresh_delay=0.1, schedules=False)
        with Session(app.state.tolok.engine) as session, session.begin():
            accounts.add_user(session, EDITOR, "Editor", "editor", "test", PASSWORD)
        with serving(app) as url:
            yield Live(url, tmp_path, [], dt.date.fromisoformat(TODAY), app)
        if app.state.tolok.refresher is not None:
            app.state.tolok.refresher.wait()


def last_month_ratio() -> tuple[str, float]:
    """The last month of the orders and its profit over its sales, summed in plain Python."""
    sums: dict[str, list[float]] = {}
    with ORDERS.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            month = row["Order Date"][:7]
            sales, profit = sums.setdefault(month, [0.0, 0.0])
            sums[month] = [sales + float(row["Sales"]), profit + float(row["Profit"])]
    month = max(sums)
    sales, profit = sums[month]
    return month, profit / sales


def expected_status(ratio: float, target: float) -> str:
    share = ratio / target  # the default thresholds: 95% and 85% of the target
    return "on_track" if share >= 0.95 else "at_risk" if share >= 0.85 else "off_track"


WORDS = {
    "en": {"title": "Sales revenue", "validates": "The definition validates.", "target": "0.1",
           "unknown": "unknown name 'revenu'", "add": "Add a KPI"},
    "id": {"title": "Pendapatan penjualan", "validates": "Definisinya lolos validasi.",
           "target": "0,1", "unknown": "tidak dikenal", "add": "Tambah KPI"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_editor_adds_two_kpis_and_the_board_shows_them(
    page: Page, store: Live, lang: str
) -> None:
    words = WORDS[lang]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, store, EDITOR, then="/board")
    page.goto(f"{store.url}/kpis/new?dataset=orders&lang={lang}")
    expect(page.locator("h1")).to_have_text(words["add"])

    # From the catalog: found by searching, mapped onto the superstore's columns.
    page.fill("#template-search", "sales revenue" if lang == "en" else "pendapatan penjualan")
    expect(page.locator('#template-list li[data-template="sales_revenue"]')).to_be_visible()
    expect(page.locator('#template-list li[data-template="churn_rate"]')).to_be_hidden()
    page.click('[data-choose="sales_revenue"]')
    expect(page.locator("#map-dataset-orders")).to_have_value("orders")
    page.select_option("#map-column-amount", "Sales")
    page.select_option("#map-column-region", "Region")
    page.click("#apply-template")
    expect(page.locator("#field-title")).to_have_value(words["title"])
    expect(page.locator("#field-name")).to_have_value("sales_revenue")
    expect(page.locator("#field-formula")).to_have_value("revenue")
    expect(page.locator("#formula-state")).to_have_text(words["validates"])
    page.select_option("#field-status", "active")
    page.click("#preview")
    expect(page.locator("#preview-chart .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#preview-table tbody tr")).to_have_count(12)
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("#diff")).to_contain_text("sales_revenue:")
    expect(page.locator("#diff")).to_contain_text("revenue: {agg: sum, expr: Sales}")

    # From scratch: a typo is said under the formula, then fixed; a monthly target.
    page.goto(f"{store.url}/kpis/new?dataset=orders&lang={lang}")
    page.fill("#field-title", "Profit ratio")
    expect(page.locator("#field-name")).to_have_value("profit_ratio")  # from the title
    page.locator("#field-formula").fill("profit / revenu")
    problem = page.locator("#err-formula")
    expect(problem).to_contain_text("TLK011")
    expect(problem).to_contain_text(words["unknown"])
    page.locator("#field-formula").fill("profit / revenue")
    expect(page.locator("#formula-state")).to_have_text(words["validates"])
    expect(problem).to_be_hidden()
    page.select_option("#field-unit", "percent")
    page.select_option("#field-grain", "month")
    page.select_option("#field-status", "active")
    page.select_option("#field-target-kind", "value")
    page.fill("#field-target", words["target"])
    page.click("#preview")
    expect(page.locator("#preview-chart .main-svg").first).to_be_visible(timeout=60_000)
    month, ratio = last_month_ratio()
    status = expected_status(ratio, 0.1)
    last = page.locator("#preview-table tbody tr").last
    expect(last.locator("td.status")).to_have_class(f"status {status}")
    screenshot(page, f"new-kpi-{lang}")
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("#diff")).to_contain_text("formula: profit / revenue")

    # The YAML on disk, as `tolok validate` reads it, as a person would write it.
    loaded = load_project(store.root)
    assert loaded.ok, loaded.problems
    assert loaded.project is not None
    assert set(loaded.project.kpis) == {"sales_revenue", "profit_ratio"}
    kpis = (store.root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    assert "sales_revenue:\n  title:" in kpis
    written = "".join(p.read_text(encoding="utf-8") for p in (store.root / "kpis").glob("*.yaml"))
    assert "target: {value: 0.1}" in written
    assert "  orders:\n    source: file:orders.csv   # the superstore's export\n" in (
        store.root / "tolok.yaml"
    ).read_text(encoding="utf-8")

    # After a refresh the board shows both, each with its status.
    refresher = store.app.state.tolok.refresher
    refresher.soon()
    refresher.wait()
    page.goto(f"{store.url}/board?lang={lang}")
    profit = page.locator('article[data-kpi="profit_ratio"]')
    expect(profit).to_be_visible(timeout=15_000)
    expect(profit).to_have_class(f"card status-{status}")
    sales = page.locator('article[data-kpi="sales_revenue"]')
    expect(sales).to_have_class("card status-no_target")
    assert month.startswith("201")  # the data of the superstore, years before today
    assert errors == []


def test_the_edit_form_suggests_a_target_previews_and_saves_thresholds(
    page: Page, live: Live
) -> None:
    """The definition editor's complete form: the suggested target one click away, the
    preview of the changed definition, thresholds, and the diff of the new version."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live, "editor@example.com", then="/kpis/revenue/edit")
    expect(page.locator("#field-target-kind")).to_have_value("value")
    expect(page.locator("#field-growth")).to_be_hidden()
    page.click("#suggest")
    said = page.locator("#suggestion-said")
    expect(said).to_contain_text("Suggested:", timeout=60_000)
    page.click("#use-suggestion")
    expect(page.locator("#field-target-kind")).to_have_value("growth")
    expect(page.locator("#field-growth")).to_be_visible()
    expect(page.locator("#field-vs")).to_have_value("previous")  # 13 months: the month before
    page.fill("#field-at-risk", "90")
    page.fill("#field-off-track", "80")
    page.click("#preview")
    expect(page.locator("#preview-chart .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#preview-table tbody tr")).to_have_count(12)
    page.fill("#field-reason", "A target that history reaches")
    page.click("#save")
    diff = page.locator("#diff")
    expect(diff).to_contain_text("thresholds: {at_risk: 0.9, off_track: 0.8}")
    expect(diff).to_contain_text("growth:")
    expect(page.locator("#saved-said")).to_contain_text("new definition version")
    loaded = load_project(live.root)
    assert loaded.ok, loaded.problems
    assert loaded.project is not None
    revenue = loaded.project.kpis["revenue"]
    assert (revenue.thresholds.at_risk, revenue.thresholds.off_track) == (0.9, 0.8)
    [rule] = revenue.target or []
    assert rule.vs.value == "previous"  # type: ignore[union-attr]
    assert errors == []
