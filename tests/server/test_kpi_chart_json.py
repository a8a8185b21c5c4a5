"""A KPI's chart speaks the page's language (issue 21, item 1): its ticks, hover values and
recorded changes are written by tolok (`Rp 500 jt`, `Okt 2025`, `Kuartal 4 2024`), its toolbar
keeps what a KPI chart needs, with its words and month names in the page's language.

A shop selling in rupiah, one order a month, on 20 November 2025: each month's revenue is
its one order, so every value below is read off `ORDERS` by hand."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, Served
from tests.server.test_chart_sketch import all_of as sketch_all
from tests.server.test_chart_sketch import parsed_markup as parsed_sketch

NB = "\u00a0"
TODAY = "2025-11-20"
EDITOR = "editor@example.com"
ORDERS = {  # month: rupiah
    **{f"2024-{m:02d}": 100_000_000 for m in (7, 8, 9)},  # 2024-Q3: 300 jt
    **{f"2024-{m:02d}": 150_000_000 for m in (10, 11, 12)},  # 2024-Q4: 450 jt
    **{f"2025-{m:02d}": 200_000_000 for m in (1, 2, 3)},  # 2025-Q1: 600 jt
    **{f"2025-{m:02d}": 300_000_000 for m in (4, 5, 6)},  # 2025-Q2: 900 jt
    **{f"2025-{m:02d}": 400_000_000 for m in (7, 8, 9)},  # 2025-Q3: 1,2 M
    "2025-10": 555_000_000,  # Rp 555 juta, the example
    "2025-11": 10_000_000,  # November, open: so far
}
PROJECT = """\
name: Toko
timezone: UTC
locale: id
currency: IDR
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    measures:
      revenue: {agg: sum, expr: amount}
kpis:
  revenue:
    title: Pendapatan
    formula: revenue
    unit: currency
    owner: owner@example.com
"""


def build(root: Path) -> None:
    """The shop in `root`, refreshed (its forecast made), with an editor."""
    from tolok.auth import accounts
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source

    (root / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    lines = [f"{month}-05,{amount}" for month, amount in ORDERS.items()]
    (root / "orders.csv").write_text("ordered_at,amount\n" + "\n".join(lines) + "\n")
    loaded = load_project(root)
    assert loaded.project is not None, loaded.problems
    engine = open_store(store_url(loaded.project.store, root))
    refresh_into_store(loaded, Warehouse(loaded, manual=source(engine)), engine)
    with Session(engine) as session, session.begin():
        accounts.add_user(session, EDITOR, "", "editor", "test", PASSWORD)
    engine.dispose()


@pytest.fixture
def toko(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    from tolok.server.app import create_app

    monkeypatch.setenv("TOLOK_TODAY", TODAY)
    build(tmp_path)
    app = create_app(tmp_path, refresh_delay=0.05)
    with TestClient(app) as client:
        yield Served(tmp_path, client)
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


def figure(client: TestClient, **query: str) -> dict[str, Any]:
    page = client.get("/kpis/revenue.json", params=query)
    assert page.status_code == 200, page.text
    found: dict[str, Any] = page.json()["figure"]
    return found


def ticks(axis: dict[str, Any]) -> dict[Any, str]:
    assert axis["tickmode"] == "array"
    return dict(zip(axis["tickvals"], axis["ticktext"], strict=True))


def test_an_indonesian_page_writes_rupiah_in_juta_and_miliar_and_its_own_months(
    toko: Served,
) -> None:
    editor = toko.browser(EDITOR)
    months = figure(editor, lang="id", **{"from": "2025-04"})
    # April to October closed, November so far, the forecast to January: ten months, each named.
    assert list(ticks(months["layout"]["xaxis"]).values()) == [
        "Apr 2025", "Mei 2025", "Jun 2025", "Jul 2025", "Agu 2025", "Sep 2025", "Okt 2025",
        "Nov 2025", "Des 2025", "Jan 2026",
    ]  # fmt: skip
    assert months["layout"]["xaxis"]["hoverformat"] == "%b %Y"
    values = ticks(months["layout"]["yaxis"])
    assert values[0] == f"Rp{NB}0"
    assert values[200_000_000] == f"Rp{NB}200{NB}jt"
    assert values[400_000_000] == f"Rp{NB}400{NB}jt"
    assert all(text.startswith(f"Rp{NB}") and "M" not in text for text in values.values())
    revenue = next(t for t in months["data"] if t["name"] == "Pendapatan")
    hover = dict(zip(revenue["x"], revenue["text"], strict=True))
    assert hover["2025-10-01"] == f"Rp{NB}555.000.000"
    assert revenue["hovertemplate"] == "%{text}"

    quarters = figure(editor, lang="id", grain="quarter", **{"from": "2024-Q3"})
    quarter_names = ["Kuartal 3 2024", "Kuartal 4 2024", "Kuartal 1 2025", "Kuartal 2 2025",
                     "Kuartal 3 2025", "Kuartal 4 2025"]  # fmt: skip
    shown = [t.replace("<br>", " ") for t in ticks(quarters["layout"]["xaxis"]).values()]
    assert shown == quarter_names  # as the table, the year on a line of its own
    assert quarters["layout"]["xaxis"]["hoverformat"] == "Kuartal %q %Y"
    # 300 jt to 1,2 M (2025-Q3): 200 jt apart, a miliar with a decimal comma.
    assert ticks(quarters["layout"]["yaxis"]) == {
        200_000_000: f"Rp{NB}200{NB}jt",
        400_000_000: f"Rp{NB}400{NB}jt",
        600_000_000: f"Rp{NB}600{NB}jt",
        800_000_000: f"Rp{NB}800{NB}jt",
        1_000_000_000: f"Rp{NB}1{NB}M",
        1_200_000_000: f"Rp{NB}1,2{NB}M",
    }


def test_an_english_page_writes_k_m_b_and_english_months(toko: Served) -> None:
    editor = toko.browser(EDITOR)
    months = figure(editor, lang="en", **{"from": "2025-04"})
    assert list(ticks(months["layout"]["xaxis"]).values())[3:8] == [
        "Jul 2025", "Aug 2025", "Sep 2025", "Oct 2025", "Nov 2025",
    ]  # fmt: skip
    assert ticks(months["layout"]["yaxis"])[400_000_000] == f"IDR{NB}400M"
    quarters = figure(editor, lang="en", grain="quarter", **{"from": "2024-Q3"})
    assert list(ticks(quarters["layout"]["xaxis"]).values())[1] == "Q4 2024"
    assert quarters["layout"]["xaxis"]["hoverformat"] == "Q%q %Y"
    assert ticks(quarters["layout"]["yaxis"])[1_200_000_000] == f"IDR{NB}1.2B"
    assert months["config"]["locale"] == "en"
    assert "locales" not in months["config"]  # Plotly's own English


def test_the_toolbar_keeps_download_and_zoom_in_the_pages_language(toko: Served) -> None:
    editor = toko.browser(EDITOR)
    for lang in ("id", "en"):
        config = figure(editor, lang=lang)["config"]
        assert config["modeBarButtons"] == [["toImage"], ["zoomIn2d", "zoomOut2d", "resetScale2d"]]
        assert config["displaylogo"] is False
        assert config["toImageButtonOptions"] == {"format": "png", "filename": "revenue"}
    indonesian = figure(editor, lang="id")["config"]
    assert indonesian["locale"] == "id"
    words = indonesian["locales"]["id"]["dictionary"]
    assert words["Download plot as a PNG"] == "Unduh grafik sebagai PNG"
    assert words["Zoom in"] == "Perbesar"
    assert words["Reset axes"] == "Kembalikan sumbu"
    format_ = indonesian["locales"]["id"]["format"]
    assert format_["shortMonths"] == ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun",
                                      "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]  # fmt: skip
    assert format_["days"][0] == "Minggu"  # d3 starts weeks on Sunday
    assert (format_["decimal"], format_["thousands"]) == (",", ".")


def test_a_recorded_change_is_labelled_on_the_chart_without_hovering(toko: Served) -> None:
    editor = toko.browser(EDITOR)
    said = "Harga <b>naik</b> 10% untuk semua paket tahunan"
    sent = editor.post(
        "/kpis/revenue/annotations",
        data={"csrf": editor.headers["X-CSRF-Token"], "day": "2025-06-10", "text": said},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    drawn = figure(editor, lang="id")
    [label] = drawn["layout"]["annotations"]
    assert label["x"] == "2025-06-10"
    # Shortened at a word, people's tags shown as typed (Plotly would read them).
    assert label["text"] == "✎ Harga &lt;b&gt;naik&lt;/b&gt; 10%…"
    assert label["hovertext"] == "Harga &lt;b&gt;naik&lt;/b&gt; 10% untuk semua paket tahunan"
    assert drawn["layout"]["margin"]["t"] > 16  # room above the plot for the label


def test_dollars_on_an_english_chart_and_percent_ticks_with_a_decimal_comma() -> None:
    from tolok.i18n import Formats, gettext
    from tolok.server.charts import Line, series_figure
    from tolok.spec.calendar import Calendar

    months = [dt.date(2025, m, 1) for m in range(1, 7)]
    dollars = Line("Revenue", months, [120_000.0, 480_000.0, 900_000.0, 1.1e6, 2.3e6, 2.9e6])
    english = Formats("en", "USD", Calendar())
    drawn = series_figure([dollars], "currency", english, gettext("en"))
    assert ticks(drawn["layout"]["yaxis"]) == {
        0.0: "$0", 1e6: "$1M", 2e6: "$2M", 3e6: "$3M",
    }  # fmt: skip
    small = Line("Revenue", months, [1200.0, 2500.0, 3100.0, 4000.0, 4600.0, 5200.0])
    assert (
        ticks(series_figure([small], "currency", english, gettext("en"))["layout"]["yaxis"])[2000.0]
        == "$2K"
    )
    rate = Line("Conversion", months, [0.021, 0.025, 0.027, 0.03, 0.032, 0.034])
    indonesian = Formats("id", "IDR", Calendar())
    drawn = series_figure([rate], "percent", indonesian, gettext("id"))
    assert list(ticks(drawn["layout"]["yaxis"]).values()) == ["2,0%", "2,5%", "3,0%", "3,5%"]


def test_durations_tick_in_round_hours_and_no_number_breaks_an_axis() -> None:
    """Handling times from 95 minutes to 3 hours tick every half hour; values only data can
    bring (1e308, infinity, NaN, 1e-300) leave the ticks to Plotly or write them as tolok
    writes such numbers everywhere, and the figure is still valid JSON."""
    import json

    from tolok.i18n import Formats, gettext
    from tolok.server.charts import Line, series_figure
    from tolok.spec.calendar import Calendar

    months = [dt.date(2026, m, 1) for m in (1, 2, 3)]
    english = Formats("en", "USD", Calendar())
    waits = Line("Handling time", months, [95.0, 120.0, 180.0])
    drawn = series_figure([waits], "duration", english, gettext("en"))
    assert list(ticks(drawn["layout"]["yaxis"]).values()) == [
        "1 h 30 min", "2 h 00 min", "2 h 30 min", "3 h 00 min",
    ]  # fmt: skip
    huge = Line("Revenue", months, [1e30, 2e30, 5e29])
    drawn = series_figure([huge], "currency", english, gettext("en"))
    assert ticks(drawn["layout"]["yaxis"])[1e30] == "$1.0E30"
    for values in ([1e308, -1e308, 0.0], [1.7e308] * 3, [float("inf"), float("nan"), None],
                   [1e-300, 2e-300, 0.0]):  # fmt: skip
        for unit in ("currency", "percent", "count", "duration", "number"):
            odd = Line("Odd", months, values)
            json.dumps(series_figure([odd], unit, english, gettext("en")), allow_nan=False)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_figure_is_what_plotlys_own_objects_make_of_it(lang: str) -> None:
    """The figure is written as JSON by tolok, not through Plotly's `graph_objects` (which
    check every property on each request): every property it holds is one Plotly knows, in
    the form Plotly writes it (a step line's shape inside `line`, not `line_shape`), and
    its look is Plotly's default template, as before."""
    import json

    import plotly.graph_objects as go  # type: ignore[import-untyped]

    from tolok.i18n import Formats, gettext
    from tolok.server.charts import Cone, Line, Marker, series_figure
    from tolok.spec.calendar import Calendar

    months = [dt.date(2025, m, 1) for m in range(1, 7)]
    values: list[float | None] = [120.0, 480.0, None, 1100.0, 2300.0, 2900.0]
    fmt = Formats(lang, "IDR" if lang == "id" else "USD", Calendar())
    drawn = series_figure(
        [Line("Revenue", months, values, ["a", "b", "c", "d", "e", "f"])],
        "currency",
        fmt,
        gettext(lang),
        so_far=[Line("Revenue so far", months[-1:], [300.0])],
        target=Line("Target", months, [1000.0] * 6),
        compare=Line("Comparison", months, [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]),
        cone=Cone(months[-2:], [2900.0, 3000.0], [2900.0, 2500.0], [2900.0, 3500.0], 80),
        anomalies=[(months[1], 480.0)],
        notes=[Marker(months[3], "Prices <b>up</b> 10% in every shop of the chain")],
        grain="month",
    )
    band = series_figure(
        [Line("Margin", months, [0.2] * 6)],
        "percent",
        fmt,
        gettext(lang),
        band=(Line("Band", months, [0.18] * 6), Line("Band", months, [0.22] * 6)),
    )
    for figure in (drawn, band):
        plain = {"data": figure["data"], "layout": figure["layout"]}
        assert json.loads(go.Figure(**plain).to_json()) == plain
    revenue, target = (
        next(t for t in drawn["data"] if t["name"] == n) for n in ("Revenue", "Target")
    )
    assert revenue["text"] == ["a", "b", "c", "d", "e", "f"]  # as the table writes them
    assert target["line"]["shape"] == "hv"
    assert "line_shape" not in target
    assert drawn["layout"]["template"]["layout"]["colorway"][0] == "#636efa"


def test_a_kpi_page_shows_its_chart_in_the_html_in_the_pages_words(toko: Served) -> None:
    """The shop of `test_kpi_chart_json` (one order a month): the picture is in the chart's
    box, with the same ticks in Indonesian, a dot per closed month, the open month hollow."""
    editor = toko.browser(EDITOR)
    page = editor.get("/kpis/revenue", params={"lang": "id", "from": "2025-04"})
    assert page.status_code == 200, page.text
    box = re.search(r'<div id="chart"[^>]*>(<div class="sketch.*?</ul></div>)</div>', page.text)
    assert box is not None
    root = parsed_sketch(box[1])
    texts = ["".join(t.itertext()).replace(NB, " ") for t in sketch_all(root, "text")]
    months = [t for t in texts if t.endswith("2025") or t.endswith("2026")]
    assert months[:8] == ["Apr 2025", "Mei 2025", "Jun 2025", "Jul 2025", "Agu 2025",
                          "Sep 2025", "Okt 2025", "Nov 2025"]  # fmt: skip
    assert {"Rp 0", "Rp 200 jt", "Rp 400 jt"} <= set(texts)
    dots = sketch_all(root, "circle")
    # April to October: seven closed months; November (so far) hollow.
    assert len([d for d in dots if d.get("fill") not in ("none", "rgba(0,0,0,0)")]) == 7
    assert len([d for d in dots if d.get("fill") == "none"]) == 1
    legend = ["".join(li.itertext()) for li in sketch_all(root, "li")]
    assert "Pendapatan" in legend
    assert "Pendapatan sejauh ini" in legend
    assert "style=" not in box[1]
