"""A KPI's chart as Chromium draws it at 1280 px, in Indonesian and in English (issue 21,
item 1): the axis ticks, the hover box and the toolbar read in the page's language, the
toolbar holds only download and zoom, the chart is a Tab stop with a name and a link to its
values as a table, and a recorded change is labelled on the chart without hovering.

The shop of `tests/server/test_kpi_chart_json.py` (one order a month in rupiah, Rp 555 juta
in October 2025) on 20 November 2025. Text read from the DOM, not pixels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, screenshot, serving, sign_in
from tests.server.test_kpi_chart_json import EDITOR, TODAY, build

SPACE = "\u00a0"


@pytest.fixture(scope="module")
def toko(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import datetime as dt

    from tolok.server.app import create_app

    root = tmp_path_factory.mktemp("chart")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY)
        patch.delenv("TOLOK_NOW", raising=False)
        patch.setenv("TOLOK_SCHEDULES", "off")
        build(root)
        app = create_app(root, schedules=False)
        with serving(app) as url:
            yield Live(url, root, [], dt.date.fromisoformat(TODAY), app)
        if app.state.tolok.refresher is not None:
            app.state.tolok.refresher.wait()


def drawn(page: Page, live: Live, lang: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live, EDITOR, then="/board")
    page.goto(f"{live.url}/kpis/revenue?lang={lang}&from=2025-04")
    expect(page.locator("#chart .main-svg").first).to_be_visible()


def texts(page: Page, selector: str) -> list[str]:
    return [t.replace(SPACE, " ") for t in page.locator(selector).all_text_contents()]


def toolbar(page: Page) -> list[str]:
    page.locator("#chart .nsewdrag").first.hover()  # the toolbar shows on hovering the chart
    return [b.get_attribute("data-title") or "" for b in page.locator("#chart .modebar-btn").all()]


def hover_on(page: Page, day: str) -> str:
    """The unified hover box over the period starting on `day`."""
    at: Any = page.evaluate(
        """day => {
          const chart = document.getElementById("chart");
          const box = chart.querySelector(".nsewdrag").getBoundingClientRect();
          return [box.left + chart._fullLayout.xaxis.d2p(day), box.top + box.height / 2];
        }""",
        day,
    )
    page.mouse.move(at[0], at[1])
    box = page.locator("#chart .hoverlayer .legend")
    expect(box).to_be_visible()
    return " | ".join(texts(page, "#chart .hoverlayer .legend text"))


def test_an_indonesian_chart_reads_in_rupiah_juta_and_indonesian_months(
    page: Page, toko: Live
) -> None:
    drawn(page, toko, "id")
    months = texts(page, "#chart .xtick text")
    assert months[:8] == ["Apr 2025", "Mei 2025", "Jun 2025", "Jul 2025", "Agu 2025",
                          "Sep 2025", "Okt 2025", "Nov 2025"]  # fmt: skip
    amounts = texts(page, "#chart .ytick text")
    assert amounts[:3] == ["Rp 0", "Rp 200 jt", "Rp 400 jt"]
    assert not [a for a in amounts if a.endswith("M") or a.endswith("k")]  # no miliar here
    hovered = hover_on(page, "2025-10-01")
    assert "Okt 2025" in hovered
    assert "Rp 555.000.000" in hovered
    assert toolbar(page) == ["Unduh grafik sebagai PNG", "Perbesar", "Perkecil", "Kembalikan sumbu"]
    expect(page.locator("#chart .modebar-btn--logo")).to_have_count(0)
    screenshot(page, "chart-id-1280")
    page.goto(f"{toko.url}/kpis/revenue?lang=id&grain=quarter&from=2024-Q3")
    expect(page.locator("#chart .main-svg").first).to_be_visible()
    assert texts(page, "#chart .xtick text")[:2] == ["2024-Q3", "2024-Q4"]  # as the table
    assert "Rp 1,2 M" in texts(page, "#chart .ytick text")  # miliar, a decimal comma
    hovered = hover_on(page, "2025-07-01")
    assert "2025-Q3" in hovered
    assert "Rp 1.200.000.000" in hovered


def test_an_english_chart_reads_in_english(page: Page, toko: Live) -> None:
    drawn(page, toko, "en")
    assert texts(page, "#chart .xtick text")[4:8] == [
        "Aug 2025",
        "Sep 2025",
        "Oct 2025",
        "Nov 2025",
    ]
    assert texts(page, "#chart .ytick text")[:3] == ["IDR 0", "IDR 200M", "IDR 400M"]
    hovered = hover_on(page, "2025-10-01")
    assert "Oct 2025" in hovered
    assert "IDR 555,000,000" in hovered
    assert toolbar(page) == ["Download plot as a PNG", "Zoom in", "Zoom out", "Reset axes"]


def test_the_chart_is_a_tab_stop_named_and_linked_to_its_values_table(
    page: Page, toko: Live
) -> None:
    drawn(page, toko, "id")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("role", "figure")
    expect(chart).to_have_attribute(
        "aria-label", "Pendapatan per periode, dengan target dan prakiraannya"
    )
    page.locator("#series-form button[type=submit]").focus()
    page.keyboard.press("Tab")
    expect(chart).to_be_focused()
    described = page.locator("#" + (chart.get_attribute("aria-describedby") or "none"))
    link = described.get_by_role("link", name="Nilai grafik ini, dalam tabel")
    expect(page.locator("#values")).not_to_be_visible()  # folded
    link.click()
    expect(page.locator("#values")).to_be_visible()
    expect(page.locator('#values tbody tr[data-start="2025-10-01"] td.num').first).to_have_text(
        f"Rp{SPACE}555.000.000"
    )


def test_a_recorded_change_is_labelled_on_the_chart(page: Page, toko: Live) -> None:
    drawn(page, toko, "id")
    page.fill("#note-day", "2025-06-10")
    page.fill("#note-text", "Harga naik 10% untuk semua paket tahunan")
    page.locator("#annotations button[type=submit]").click()
    expect(page.locator("#chart .main-svg").first).to_be_visible()
    labels = texts(page, "#chart .annotation-text")
    assert labels == ["✎ Harga naik 10% untuk semua…"]
    screenshot(page, "chart-note-id-1280")
