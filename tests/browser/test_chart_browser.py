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


def lines(page: Page, selector: str) -> list[str]:
    """Each text's lines (Plotly draws a tick's `<br>` as a line of its own), a space apart."""
    found: list[str] = page.eval_on_selector_all(
        selector,
        "(all) => all.map((t) => { const parts = t.querySelectorAll('tspan.line');"
        " return parts.length ? [...parts].map((p) => p.textContent).join(' ') : t.textContent; })",
    )
    return [t.replace(SPACE, " ") for t in found]


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
    quarters = [" ".join(t.split()) for t in lines(page, "#chart .xtick text")[:2]]
    assert quarters == ["Kuartal 3 2024", "Kuartal 4 2024"]  # as the table, on two lines
    assert "Rp 1,2 M" in texts(page, "#chart .ytick text")  # miliar, a decimal comma
    hovered = hover_on(page, "2025-07-01")
    title = lines(page, "#chart .hoverlayer .legend .legendtitletext")
    assert title == ["Kuartal 3 2025"], hovered  # the tick's words, the year below
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


def test_the_page_is_read_before_plotly_arrives_and_the_chart_drawn_after(
    page: Page, toko: Live
) -> None:
    """Plotly is fetched once the page has loaded: with it held back, the page loads whole —
    its numbers and its values table readable — and the chart's box waits, at its height;
    let through, Plotly draws the chart and the page marks it drawn (`tolok:charts`, what
    bench/page_load.py reads)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, toko, EDITOR, then="/board")
    held: list[Any] = []
    page.route("**/static/plotly.min.js*", lambda route: held.append(route))
    page.goto(f"{toko.url}/kpis/revenue?lang=en&from=2025-04", wait_until="load")
    page.wait_for_function("document.readyState === 'complete'")
    assert page.evaluate("typeof window.Plotly") == "undefined"
    expect(page.locator(".card .value").first).to_be_visible()
    page.get_by_text("The chart's values, as a table").click()
    expect(page.locator("#values tbody tr").first).to_be_visible()
    assert page.locator("#chart").bounding_box()["height"] >= 360  # type: ignore[index]
    assert page.evaluate("performance.getEntriesByName('tolok:charts').length") == 0
    # Meanwhile the server's picture of the chart is in its box: its lines, months and values
    # as Plotly will draw them, inside the box (nothing drawn past it).
    sketch = page.locator("#chart .sketch")
    expect(sketch).to_be_visible()
    expect(sketch.locator("text", has_text="Oct 2025")).to_be_visible()
    expect(sketch.locator("text", has_text="IDR 400M")).to_be_visible()
    assert sketch.locator("polyline").count() >= 2  # revenue, and the forecast
    box = page.locator("#chart").bounding_box()
    drawn_in = sketch.locator(".sketch-plot").bounding_box()
    assert box is not None
    assert drawn_in is not None
    assert box["x"] <= drawn_in["x"]
    assert drawn_in["x"] + drawn_in["width"] <= box["x"] + box["width"]
    screenshot(page, "chart-sketch-en-1280")
    for _ in range(50):  # the request was made on `load`: its route is handled meanwhile
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#chart .main-svg").first).to_be_visible()
    page.wait_for_function("performance.getEntriesByName('tolok:charts').length === 1")
    expect(page.locator("#chart .sketch")).to_have_count(0)  # Plotly's chart in its place
