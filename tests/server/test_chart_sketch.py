"""A chart's first picture, drawn by the server (issue 21, item 7): the page shows the chart
at its first paint, before Plotly's 4.8 MB of script arrive and draw the same figure in its
place. Figures written by hand here; every position below is worked out by hand from them
(percentages of the plot's box, Plotly's autorange: 5 % of room around markers)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tolok.server.chart_sketch import sketch

SVG = "{http://www.w3.org/2000/svg}"


def parsed(figure: dict[str, Any]) -> ET.Element:
    return parsed_markup(str(sketch(figure)))


def parsed_markup(markup: str) -> ET.Element:
    """The picture as XML: it is XHTML-clean (one element, every attribute quoted, text
    escaped), its outer `<svg>` given SVG's namespace as a browser gives it."""
    return ET.fromstring(markup.replace("<svg", f'<svg xmlns="{SVG[1:-1]}"', 1))


def all_of(root: ET.Element, tag: str) -> list[ET.Element]:
    """The `tag` elements of the plot, or of the legend (`li`)."""
    plot = root if tag == "li" else root.find(SVG + "svg")
    assert plot is not None
    return [e for e in plot.iter() if e.tag in (tag, SVG + tag)]


def trace(name: str, x: list[str], y: list[float | None], **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": y, **style}


MONTHS = ["2025-01-01", "2025-01-31", "2025-03-02"]  # 30 days apart: 60 from first to last


def test_points_sit_where_plotly_puts_them() -> None:
    figure = {
        "data": [trace("Revenue", MONTHS, [10, 20, 30], line={"color": "#1f5fbf"})],
        "layout": {
            "yaxis": {"tickvals": [10, 20, 30], "ticktext": ["10", "20", "30"]},
            "xaxis": {"tickvals": MONTHS, "ticktext": ["Jan 2025", "Feb 2025", "Mar 2025"]},
        },
    }
    root = parsed(figure)
    # x: 60 days with 3 either side (5 %): Jan 1 at 3 / 66; y: 10…30 with 1 either side.
    dots = [(c.get("cx"), c.get("cy")) for c in all_of(root, "circle")]
    assert dots == [("4.55%", "95.45%"), ("50.00%", "50.00%"), ("95.45%", "4.55%")]
    (line,) = all_of(root, "polyline")
    assert line.get("points") == "45.5,954.5 500.0,500.0 954.5,45.5"  # the same, of 1000
    assert line.get("stroke") == "#1f5fbf"
    assert line.get("vector-effect") == "non-scaling-stroke"
    ys = [t for t in all_of(root, "text") if t.get("class") == "y"]
    assert [(t.text, t.get("y")) for t in ys] == [
        ("10", "95.45%"),
        ("20", "50.00%"),
        ("30", "4.55%"),
    ]
    xs = [t for t in all_of(root, "text") if "x" in (t.get("class") or "").split()]
    assert ["".join(t.itertext()) for t in xs] == ["Jan 2025", "Feb 2025", "Mar 2025"]


def test_a_missing_value_leaves_a_gap_and_a_target_steps() -> None:
    figure = {
        "data": [
            trace("Orders", MONTHS, [10, None, 30]),
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Target",
                "x": MONTHS,
                "y": [20, 20, 25],
                "line": {"color": "#2b8a3e", "dash": "dash", "shape": "hv"},
            },
        ],
        "layout": {},
    }
    root = parsed(figure)
    lines = all_of(root, "polyline")
    orders = [p.get("points") for p in lines if p.get("stroke") != "#2b8a3e"]
    assert orders == ["45.5,954.5", "954.5,45.5"]  # two pieces: nothing drawn across the gap
    (target,) = [p for p in lines if p.get("stroke") == "#2b8a3e"]
    # Flat to March, then up: (Jan, 20) (Feb, 20) (Mar, 20) (Mar, 25); y 20 at 50 %, 25 at
    # 27.27 %.
    assert target.get("points") == "45.5,500.0 500.0,500.0 954.5,500.0 954.5,272.7"
    assert target.get("stroke-dasharray") == "6 4"
    assert len(all_of(root, "circle")) == 2  # markers of Orders only, none for the gap


def test_a_band_is_filled_between_its_edges_and_listed_first_as_plotly_does() -> None:
    high = {"type": "scatter", "mode": "lines", "x": MONTHS, "y": [12, 22, 32],
            "line": {"width": 0}, "showlegend": False}  # fmt: skip
    low = {"type": "scatter", "mode": "lines", "name": "Forecast (80%)", "x": MONTHS,
           "y": [8, 18, 28], "line": {"width": 0}, "fill": "tonexty",
           "fillcolor": "rgba(31,95,191,0.15)"}  # fmt: skip
    figure = {"data": [trace("Revenue", MONTHS, [10, 20, 30]), high, low], "layout": {}}
    root = parsed(figure)
    (area,) = all_of(root, "polygon")
    # y from 8 to 32 with room only around the markers' values (10…30: 1 each side): 8…32.
    assert area.get("points") == (
        "45.5,833.3 500.0,416.7 954.5,0.0 954.5,166.7 500.0,583.3 45.5,1000.0"
    )
    assert area.get("fill") == "rgba(31,95,191,0.15)"
    assert len(all_of(root, "polyline")) == 1  # the band's edges are not drawn
    legend = ["".join(li.itertext()) for li in all_of(root, "li")]
    assert legend == ["Forecast (80%)", "Revenue"]


def test_names_and_labels_are_escaped() -> None:
    figure = {
        "data": [trace('<script>alert("x")</script>', MONTHS, [1, 2, 3])],
        "layout": {
            "shapes": [{"x0": "2025-01-31", "line": {"color": "#e67700"}}],
            "annotations": [{"x": "2025-01-31", "text": "✎ Price &lt;b&gt;up&lt;/b&gt;"}],
        },
    }
    markup = str(sketch(figure))
    assert "<script>" not in markup
    assert "<b>" not in markup
    root = parsed(figure)
    notes = [t for t in all_of(root, "text") if t.get("class") == "note"]
    assert ["".join(t.itertext()) for t in notes] == ["✎ Price <b>up</b>"]  # as words
    assert "style=" not in markup  # the pages' CSP applies no style attribute


@pytest.mark.parametrize(
    ("count", "kept"), [(3, [0, 1, 2]), (10, [0, 3, 6, 9]), (12, [2, 5, 8, 11])]
)
def test_a_phone_keeps_about_four_period_ticks_the_newest_always(
    count: int, kept: list[int]
) -> None:
    days = [f"2025-{m:02d}-01" for m in range(1, count + 1)]
    figure = {
        "data": [trace("Revenue", days, list(range(count)))],
        "layout": {"xaxis": {"tickvals": days, "ticktext": days}},
    }
    ticks = [t for t in all_of(parsed(figure), "text") if "x" in (t.get("class") or "").split()]
    assert [i for i, t in enumerate(ticks) if "phone" in (t.get("class") or "")] == kept


def test_nothing_to_draw_is_no_picture() -> None:
    assert str(sketch({"data": [trace("Revenue", MONTHS, [None, None, None])]})) == ""
    assert str(sketch({"data": []})) == ""
