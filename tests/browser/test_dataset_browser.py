"""Adding data in Chromium (issue 25, item 1): an editor picks the superstore orders file,
sees its first rows with the detected types and the proposed dataset, accepts it and saves;
the YAML on disk validates and holds the dataset, the file is in the data folder. The same in
Indonesian, with a bad file whose rows are named by line beside them; on a phone the rows
scroll inside their box; a viewer gets no form."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, screenshot, sign_in
from tests.conftest import shared_data, without_shared_data
from tolok.spec.loader import load_project

ORDERS = shared_data("superstore") / "orders.csv"
needs_orders = without_shared_data(ORDERS)


def kind_of(page: Page, column: str) -> str:
    """The type chosen for a column: the select in the header row under its name."""
    index = page.locator("#preview thead tr").first.locator("th").all_inner_texts().index(column)
    value: str = page.locator(f'select[data-field="kind"][data-column="{index - 1}"]').input_value()
    return value


def use_of(page: Page, column: str) -> str:
    index = page.locator("#preview thead tr").first.locator("th").all_inner_texts().index(column)
    value: str = page.locator(f'select[data-field="role"][data-column="{index - 1}"]').input_value()
    return value


@needs_orders
@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_editor_adds_the_superstore_orders(page: Page, live: Live, lang: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live, "editor@example.com", then=f"/datasets/new?lang={lang}")
    heading = {"en": "Add data", "id": "Tambah data"}[lang]
    expect(page.locator("h1")).to_have_text(heading)
    page.set_input_files("#data-file", str(ORDERS))
    proposal = page.locator("#dataset-proposal")
    expect(proposal).to_be_visible(timeout=30_000)
    read = {"en": "9994 rows read.", "id": "9994 baris terbaca."}[lang]
    expect(page.locator("#file-said")).to_contain_text(read)
    expect(page.locator("#dataset-time")).to_have_value("Order Date")
    expect(page.locator("#preview tbody tr")).to_have_count(20)
    expect(page.locator("#preview tbody tr").first.locator("th")).to_have_text("2")
    assert kind_of(page, "Sales") == "decimal"
    assert use_of(page, "Sales") == "measure"
    assert kind_of(page, "Order ID") == "id"
    assert use_of(page, "Order ID") == "measure"
    assert use_of(page, "Region") == "dimension"
    assert use_of(page, "Customer Name") == "ignore"
    expect(page.locator("#row-problems")).to_be_hidden()
    name = f"superstore_{lang}"
    page.fill("#dataset-name", name)
    page.click("#save-dataset")
    diff = page.locator("#diff")
    expect(diff).to_contain_text(f"+  {name}:", timeout=30_000)
    expect(diff).to_contain_text(f"+    source: file:data/{name}.csv")
    expect(diff).to_contain_text("+      sales: {agg: sum, expr: Sales}")
    link = page.locator("#add-kpi")
    expect(link).to_have_attribute("href", f"/kpis/new?dataset={name}")
    expect(link).to_have_text({"en": "Add a KPI on this dataset",
                               "id": "Tambah KPI dari dataset ini"}[lang])  # fmt: skip
    screenshot(page, f"dataset-saved-{lang}")
    assert errors == []

    loaded = load_project(live.root)  # as `tolok validate` reads it
    assert loaded.ok, loaded.problems.errors
    assert loaded.project is not None
    dataset = loaded.project.datasets[name]
    assert dataset.time == "Order Date"
    assert {"Region", "Segment", "Category"} <= set(dataset.dimensions)
    assert {"sales", "profit", "orders", "customers"} <= set(dataset.measures)
    copied = (live.root / "data" / f"{name}.csv").read_text(encoding="utf-8")
    assert copied.splitlines() == ORDERS.read_text(encoding="utf-8").splitlines()


def test_bad_rows_show_beside_their_line_in_indonesian(
    page: Page, live: Live, tmp_path: Path
) -> None:
    bad = tmp_path / "penjualan.csv"
    lines = ["tanggal;wilayah;omzet"] + [f"2026-01-{d:02d};Bali;{d},5" for d in range(1, 30)]
    lines[3] = "2026-01-03;Bali;12x"  # line 4
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sign_in(page, live, "editor@example.com", then="/datasets/new?lang=id")
    page.set_input_files("#data-file", str(bad))
    problems = page.locator("#row-problems")
    expect(problems).to_be_visible(timeout=30_000)
    expect(problems).to_contain_text("baris 4 · omzet")
    expect(page.locator('#preview tr[data-line="4"]')).to_have_class("bad")
    expect(page.locator('#preview tr[data-line="4"] td.reason')).to_contain_text("12x")
    before = (live.root / "tolok.yaml").read_bytes()
    page.click("#save-dataset")
    expect(page.locator("#problems")).to_contain_text("tidak ada yang ditulis")
    assert (live.root / "tolok.yaml").read_bytes() == before
    assert not (live.root / "data" / "penjualan.csv").exists()
    # The editor reads the column as text instead: the file saves.
    index = page.locator("#preview thead tr").first.locator("th").all_inner_texts().index("omzet")
    page.select_option(f'select[data-field="kind"][data-column="{index - 1}"]', "text")
    page.select_option(f'select[data-field="role"][data-column="{index - 1}"]', "ignore")
    page.click("#save-dataset")
    expect(page.locator("#saved")).to_be_visible(timeout=30_000)
    assert load_project(live.root).ok


def test_on_a_phone_the_rows_scroll_inside_their_box(page: Page, live: Live) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    wide = ",".join(f"column_{n}" for n in range(15))
    body = "\n".join([wide] + [",".join(f"value {n} of row {r}" for n in range(15))
                               for r in range(3)])  # fmt: skip
    sign_in(page, live, "editor@example.com", then="/datasets/new")
    page.set_input_files("#data-file", files=[{"name": "wide.csv", "mimeType": "text/csv",
                                               "buffer": body.encode()}])  # fmt: skip
    expect(page.locator("#file-said")).to_contain_text("3 rows read", timeout=30_000)
    sizes = page.evaluate("""() => {
        const box = document.querySelector('.table-scroll');
        return [box.scrollWidth, box.clientWidth, document.documentElement.scrollWidth,
                window.innerWidth];
    }""")
    assert sizes[0] > sizes[1], sizes  # the table is wider than its box, which scrolls
    assert sizes[2] <= sizes[3]  # the page itself does not
    screenshot(page, "dataset-phone")


def test_a_viewer_gets_no_form(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com", then="/datasets/new")
    expect(page.locator("#not-allowed")).to_contain_text("Editors and admins may add data")
    expect(page.locator("#data-file")).to_have_count(0)
