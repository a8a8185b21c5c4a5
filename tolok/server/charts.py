"""Plotly figures, built in Python and drawn in the page by `plotly.min.js`: a KPI's series
with its target line (or band), the comparison, the forecast cone, anomalies and the days
people annotated.

Everything a reader reads on a chart is written here in the page's language — ticks
(`chart_axes`), hover values, the labels of recorded changes, and the toolbar, whose
labels and month names go to Plotly as a locale in the figure's `config` (no script of
ours formats a number or a date).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import get_day_names, get_month_names

from tolok.i18n import Formats
from tolok.server.chart_axes import x_axis, y_axis
from tolok.spec.models import Grain

DOTTED = 60  # at most as many periods on a line with a dot on each
COLOURS = ("#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#0b7285", "#e67700", "#c2255c")


@dataclass(frozen=True)
class Line:
    name: str
    starts: list[dt.date]
    values: list[float | None]
    texts: list[str] | None = None
    """The values as the page's table writes them, when it has them: the hover text then
    reads the same as the table, and nothing is formatted twice."""


@dataclass(frozen=True)
class Cone:
    starts: list[dt.date]
    mean: list[float]
    low: list[float]
    high: list[float]
    level: int


@dataclass(frozen=True)
class Marker:
    day: dt.date
    text: str


def series_figure(
    lines: Sequence[Line],
    unit: str,
    fmt: Formats,
    _: Callable[..., str],
    *,
    so_far: Sequence[Line | None] = (),
    target: Line | None = None,
    band: tuple[Line, Line] | None = None,
    compare: Line | None = None,
    cone: Cone | None = None,
    anomalies: Sequence[tuple[dt.date, float]] = (),
    notes: Sequence[Marker] = (),
    grain: Grain | str = Grain.month,
    filename: str = "tolok",
) -> dict[str, Any]:
    """The figure as Plotly's JSON (`data`, `layout`, `config`). `so_far[i]` is the open
    period of `lines[i]`, drawn as a hollow marker (a part of a period is not a drop). Hover
    texts and ticks are formatted by tolok in the page's language, so numbers read the same
    as everywhere; `grain` names the periods on the axis, `filename` the downloaded PNG."""
    data: list[dict[str, Any]] = []
    if band is not None:
        low, high = band
        data.append(_trace(high, unit, fmt, line={"width": 0}, showlegend=False, hoverinfo="skip"))
        data.append(
            _trace(
                low,
                unit,
                fmt,
                name=_("Target band"),
                fill="tonexty",
                line={"width": 0},
                fillcolor="rgba(43,138,62,0.15)",
            )
        )
    for i, line in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        data.append(
            _trace(
                line,
                unit,
                fmt,
                # A dot on each of more than `DOTTED` periods (two years by week) is clutter, and
                # hundreds of points for the browser to draw: the line alone says it.
                mode="lines+markers" if len(line.starts) <= DOTTED else "lines",
                line={"color": colour, "width": 2.5},
                marker={"size": 5},
            )
        )
        part = so_far[i] if i < len(so_far) else None
        if part is not None:
            data.append(
                _trace(
                    part,
                    unit,
                    fmt,
                    mode="markers",
                    marker={
                        "size": 9,
                        "color": colour,
                        "symbol": "circle-open",
                        "line": {"width": 2},
                    },
                )
            )
    if compare is not None:
        data.append(_trace(compare, unit, fmt, line={"color": "#868e96", "dash": "dot"}))
    if target is not None:
        data.append(
            _trace(target, unit, fmt, line={"color": "#2b8a3e", "dash": "dash", "shape": "hv"})
        )
    if cone is not None:
        data.extend(_cone(cone, unit, fmt, _))
    if anomalies:
        days, values = zip(*anomalies, strict=True)
        unusual = Line(_("Unusual"), list(days), list(values))
        data.append(
            _trace(
                unusual,
                unit,
                fmt,
                mode="markers",
                marker={
                    "size": 11,
                    "color": "rgba(0,0,0,0)",
                    "line": {"color": "#c92a2a", "width": 2.5},
                },
            )
        )
    shapes, labels, rows = _notes(notes)
    layout: dict[str, Any] = {
        "margin": {"l": 60, "r": 16, "t": 16 + _NOTE_ROW * rows, "b": 40},
        "hovermode": "x unified",
        # Below everything, from the figure's own bottom edge: on a phone its rows wrap and
        # push the plot up instead of covering the dates.
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ",." if fmt.lang == "id" else ".,",
        "yaxis": {"zeroline": False, "automargin": True, **y_axis(data, unit, fmt)},
        "xaxis": x_axis(data, grain, fmt),
    }
    if notes:  # as Plotly writes a figure: no empty lists
        layout.update(shapes=shapes, annotations=labels)
    # The JSON Plotly's `graph_objects` would write, without its checking each property
    # against the schema on every request (tests do: `test_kpi_chart_json`).
    return {
        "data": data,
        "layout": {**layout, "template": plotly_template()},
        "config": chart_config(fmt.lang, _, filename),
    }


@functools.cache
def plotly_template() -> dict[str, Any]:
    """Plotly's default look ("plotly": colours, grid, fonts) as its figures carry it in
    `layout.template`, read once per process."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]  # a second to import: once

    template: dict[str, Any] = json.loads(go.Figure().to_json())["layout"]["template"]
    return template


TOOLBAR = [["toImage"], ["zoomIn2d", "zoomOut2d", "resetScale2d"]]
"""The toolbar a KPI chart needs: a picture to paste in a report, zoom and back. No lasso
or box select (there is nothing to select), no hover toggles, no sharing to a service
outside, no Plotly logo: each button is a Tab stop."""


def chart_config(lang: str, _: Callable[..., str], filename: str = "tolok") -> dict[str, Any]:
    """Plotly's `config`: the toolbar and the locale, its words and month names in `lang`.

    >>> from tolok.i18n import gettext
    >>> chart_config("id", gettext("id"))["locales"]["id"]["format"]["shortMonths"][7:10]
    ['Agu', 'Sep', 'Okt']
    """
    config: dict[str, Any] = {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtons": TOOLBAR,
        "toImageButtonOptions": {"format": "png", "filename": filename},
        "locale": lang,
    }
    if lang == "en":  # Plotly's own
        return config
    words = [
        _("Download plot as a PNG"),
        _("Zoom in"),
        _("Zoom out"),
        _("Reset axes"),
        _("Double-click to zoom back out"),
    ]
    english = ["Download plot as a PNG", "Zoom in", "Zoom out", "Reset axes",
               "Double-click to zoom back out"]  # fmt: skip
    sunday_first = [6, 0, 1, 2, 3, 4, 5]  # d3 weeks start on Sunday, Babel's on Monday
    days, short_days = get_day_names("wide", locale=lang), get_day_names("abbreviated", locale=lang)
    config["locales"] = {
        lang: {
            "dictionary": dict(zip(english, words, strict=True)),
            "format": {
                "days": [days[d] for d in sunday_first],
                "shortDays": [short_days[d] for d in sunday_first],
                "months": list(get_month_names("wide", locale=lang).values()),
                "shortMonths": list(get_month_names("abbreviated", locale=lang).values()),
                "decimal": ",",
                "thousands": ".",
                "date": "%d/%m/%Y",
                "dayMonth": "%-d %b",
                "dayMonthYear": "%-d %b %Y",
                "month": "%b %Y",
            },
        }
    }
    return config


def _trace(series: Line, unit: str, fmt: Formats, **style: Any) -> dict[str, Any]:
    texts = series.texts
    if texts is None:
        texts = [fmt.value(v, unit) for v in series.values]
    return {
        "type": "scatter",
        "mode": style.pop("mode", "lines"),
        "name": style.pop("name", series.name),
        "x": [d.isoformat() for d in series.starts],
        "y": [_number(v) for v in series.values],
        "text": texts,
        "hovertemplate": "%{text}",
        **style,
    }


def _number(value: float | None) -> float | None:
    """A value as JSON holds it: NaN and infinities (which JSON has not) as missing, NumPy's
    floats as Python's."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _cone(cone: Cone, unit: str, fmt: Formats, _: Callable[..., str]) -> list[dict[str, Any]]:
    name = _("Forecast ({level}%)", level=cone.level)
    high = Line(name, cone.starts, list(cone.high))
    low = Line(name, cone.starts, list(cone.low))
    mean = Line(_("Forecast"), cone.starts, list(cone.mean))
    return [
        _trace(high, unit, fmt, line={"width": 0}, showlegend=False, hoverinfo="skip"),
        _trace(
            low,
            unit,
            fmt,
            fill="tonexty",
            line={"width": 0},
            fillcolor="rgba(31,95,191,0.15)",
            hoverinfo="skip",
        ),
        _trace(mean, unit, fmt, line={"color": "#1f5fbf", "dash": "dash"}),
    ]


_NOTE_ROW = 18  # pixels: a row of labels of recorded changes above the plot
_NOTE_CHARS = 28  # a label's length: what changed, shortened; hovering shows it whole


def _notes(
    notes: Sequence[Marker],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """A dotted line on each day a change was recorded, labelled above the plot with what
    changed (shortened, on two alternating rows so neighbours do not overlap), and how many
    rows of labels there are. People's words are escaped: Plotly reads tags in labels."""
    shapes, labels = [], []
    for i, note in enumerate(notes):
        day = note.day.isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#e67700", "width": 1.5, "dash": "dot"},
            }
        )
        labels.append(
            {
                "x": day,
                "xref": "x",
                "yref": "paper",
                "y": 1,
                "showarrow": False,
                # No colour of its own: the theme's text colour reads in light and dark.
                "text": "✎ " + html.escape(_shortened(note.text)),
                "hovertext": html.escape(note.text),
                "yanchor": "bottom",
                "yshift": _NOTE_ROW * (i % 2),
            }
        )
    return shapes, labels, min(2, len(notes))


def _shortened(text: str) -> str:
    """`text` on one line, cut at a word to `_NOTE_CHARS` with an ellipsis when longer."""
    line = " ".join(text.split())
    if len(line) <= _NOTE_CHARS:
        return line
    cut = (
        line[: _NOTE_CHARS - 1].rsplit(" ", 1)[0]
        if " " in line[:_NOTE_CHARS]
        else line[: _NOTE_CHARS - 1]
    )
    return cut.rstrip(" ,.;:") + "…"
