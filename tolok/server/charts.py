"""Plotly figures, built in Python and drawn in the page by `plotly.min.js`: a KPI's series
with its target line (or band), the comparison, the forecast cone, anomalies and the days
people annotated."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tolok.i18n import Formats

COLOURS = ("#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#0b7285", "#e67700", "#c2255c")


@dataclass(frozen=True)
class Line:
    name: str
    starts: list[dt.date]
    values: list[float | None]


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
) -> dict[str, Any]:
    """The figure as Plotly's JSON (`data`, `layout`). `so_far[i]` is the open period of
    `lines[i]`, drawn as a hollow marker (a part of a period is not a drop). Hover texts are
    formatted by tolok in the page's language, so numbers read the same as everywhere."""
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
                mode="lines+markers",
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
            _trace(target, unit, fmt, line={"color": "#2b8a3e", "dash": "dash"}, line_shape="hv")
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
    shapes, labels = _notes(notes)
    layout = {
        "margin": {"l": 60, "r": 16, "t": 16, "b": 40},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.15},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ",." if fmt.lang == "id" else ".,",
        "yaxis": {
            "tickformat": ".1%" if unit == "percent" else "~s",
            "zeroline": False,
            **_flat_range(data, unit),
        },
        "xaxis": {"type": "date"},
        "shapes": shapes,
        "annotations": labels,
    }
    import plotly.graph_objects as go  # type: ignore[import-untyped]  # a second to import: only when a chart is drawn

    figure = go.Figure(data=data, layout=layout)  # checks every property against Plotly's schema
    drawn: dict[str, Any] = json.loads(figure.to_json())
    return drawn


def _flat_range(data: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    """A range around a series that never moves (4 orders every month against a target of
    4): left to itself, Plotly zooms into the rounding noise of the forecast band and shows
    no tick at all."""
    values = [v for trace in data for v in trace.get("y") or [] if isinstance(v, int | float)]
    if not values:
        return {}
    low, high = min(values), max(values)
    if high - low > 1e-9 * max(1.0, abs(high)):
        return {}
    pad = abs(high) * 0.1 or (0.01 if unit == "percent" else 1.0)
    return {"range": [low - pad, high + pad]}


def _trace(series: Line, unit: str, fmt: Formats, **style: Any) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": style.pop("mode", "lines"),
        "name": style.pop("name", series.name),
        "x": [d.isoformat() for d in series.starts],
        "y": series.values,
        "text": [fmt.value(v, unit) for v in series.values],
        "hovertemplate": "%{text}",
        **style,
    }


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


def _notes(notes: Sequence[Marker]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shapes, labels = [], []
    for note in notes:
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
                "text": "✎",
                "hovertext": note.text,
                "font": {"color": "#e67700"},
                "yanchor": "bottom",
            }
        )
    return shapes, labels
