"""A chart's first picture, drawn by the server as SVG from the same Plotly figure the page
carries: its lines, markers, target, bands and forecast cone, the ticks tolok wrote and the
legend, in the page's first paint. Plotly (4.8 MB of script, fetched once the page has
loaded) then draws the same figure in its place, with hover, zoom and the toolbar.

The picture needs no script and no style attribute (the pages' Content-Security-Policy
allows neither): positions are percentages of the plot's box, so it fills any width, from a
phone to a wide screen; lines are drawn in a stretched box of their own whose strokes keep
their width (`vector-effect: non-scaling-stroke`); text and markers stay round and upright
because they are placed, not stretched. Colours are Plotly's, as the figure names them;
text and grid take the page's theme from the style sheet (`.sketch`).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from tolok.server.charts import COLOURS

_BOX = 1000  # the stretched box of lines: 0…1000 both ways
_PAD = 0.05  # Plotly's room around markers, as a share of the range
_DASHES = {"dash": "6 4", "dot": "2 3", "dashdot": "6 3 2 3"}
_LEFT = (6, 9, 12, 16)  # the value ticks' longest label, in characters: the room on the left
_PHONE_TICKS = 4  # period ticks on a phone, as the page's script thins them there (80 px each)
_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float

    def at(self, value: float) -> float:
        """`value`'s place from 0 (low) to 100 (high), as a percentage."""
        return 100 * (value - self.low) / (self.high - self.low)


def sketch(figure: dict[str, Any]) -> Markup:
    """The SVG picture of `figure` (Plotly's JSON, as `charts.series_figure` writes it),
    empty when it has nothing to draw."""
    data: list[dict[str, Any]] = figure.get("data") or []
    layout: dict[str, Any] = figure.get("layout") or {}
    if not any(y is not None for trace in data for _x, y in _pairs(trace)):
        return Markup("")
    xs = _scale([(trace, [_day(x) for x, y in _pairs(trace) if y is not None]) for trace in data])
    ys = _scale(
        [(trace, [y for _x, y in _pairs(trace) if y is not None]) for trace in data],
        fixed=(layout.get("yaxis") or {}).get("range"),
    )
    notes = len(layout.get("annotations") or [])
    labels = (layout.get("yaxis") or {}).get("ticktext") or []
    widest = max((len(str(label)) for label in labels), default=0)
    room = next((chars for chars in _LEFT if widest <= chars), _LEFT[-1])
    parts = [
        f'<div class="sketch notes-{min(2, notes)} left-{room}" aria-hidden="true">',
        '<svg class="sketch-plot" overflow="visible">',
        *_y_ticks(layout.get("yaxis") or {}, ys),
        *_x_ticks(layout.get("xaxis") or {}, xs),
        *_notes(layout, xs),
        f'<svg viewBox="0 0 {_BOX} {_BOX}" preserveAspectRatio="none" overflow="visible">',
        *_areas(data, xs, ys),
        *_lines(data, xs, ys),
        "</svg>",
        *_markers(data, xs, ys),
        "</svg>",
        *_legend(data),
        "</div>",
    ]
    return Markup("".join(parts))


def _pairs(trace: dict[str, Any]) -> Iterator[tuple[str, float | None]]:
    for x, y in zip(trace.get("x") or [], trace.get("y") or [], strict=False):
        yield x, (float(y) if isinstance(y, int | float) and math.isfinite(y) else None)


def _day(x: str) -> float:
    return float(dt.date.fromisoformat(x[:10]).toordinal())


def _scale(
    traces: Sequence[tuple[dict[str, Any], Sequence[float]]],
    fixed: Sequence[float] | None = None,
) -> _Scale:
    """The axis's range as Plotly's autorange makes it: from the lowest to the highest value
    drawn, with room around the values of traces that have markers (not around lines)."""
    if fixed is not None and len(fixed) == 2:
        return _Scale(float(fixed[0]), float(fixed[1]))
    every = [v for _trace, values in traces for v in values]
    low, high = min(every), max(every)
    if high - low <= 1e-12 * max(1.0, abs(high)):  # one value: it sits in the middle
        half = abs(high) * 0.1 or 1.0
        return _Scale(low - half, high + half)
    room = (high - low) * _PAD
    for trace, values in traces:
        if values and "markers" in str(trace.get("mode", "")):
            low, high = min(low, min(values) - room), max(high, max(values) + room)
    return _Scale(low, high)


def _y_ticks(axis: dict[str, Any], ys: _Scale) -> Iterator[str]:
    for value, text in zip(axis.get("tickvals") or [], axis.get("ticktext") or [], strict=False):
        at = 100 - ys.at(float(value))
        if -0.5 <= at <= 100.5:
            yield (
                f'<line class="grid" x1="0" x2="100%" y1="{at:.2f}%" y2="{at:.2f}%"/>'
                f'<text class="y" x="-8" y="{at:.2f}%" dy=".35em">{_text(text)}</text>'
            )


def _x_ticks(axis: dict[str, Any], xs: _Scale) -> Iterator[str]:
    """Period ticks; those a phone keeps (about four, the newest always, as the page's script
    thins Plotly's) are marked `phone`."""
    ticks = list(zip(axis.get("tickvals") or [], axis.get("ticktext") or [], strict=False))
    step = math.ceil(len(ticks) / _PHONE_TICKS)
    for i, (value, text) in enumerate(ticks):
        at = xs.at(_day(str(value)))
        if -0.5 <= at <= 100.5:
            lines = _TAG.split(str(text))
            spans = "".join(
                f'<tspan x="{at:.2f}%" dy="{1.4 if n == 0 else 1.2}em">{_text(line)}</tspan>'
                for n, line in enumerate(lines)
            )
            kept = " phone" if (len(ticks) - 1 - i) % step == 0 else ""
            yield (
                f'<line class="grid" x1="{at:.2f}%" x2="{at:.2f}%" y1="0" y2="100%"/>'
                f'<text class="x{kept}" y="100%">{spans}</text>'
            )


def _notes(layout: dict[str, Any], xs: _Scale) -> Iterator[str]:
    """Recorded changes: a dotted line on the day, its label above the plot."""
    for shape in layout.get("shapes") or []:
        at = xs.at(_day(str(shape.get("x0"))))
        yield (
            f'<line class="note" x1="{at:.2f}%" x2="{at:.2f}%" y1="0" y2="100%"'
            f' stroke="{_attr(shape.get("line", {}).get("color", "#e67700"))}"/>'
        )
    for label in layout.get("annotations") or []:
        at = xs.at(_day(str(label.get("x"))))
        rise = 6 + int(label.get("yshift") or 0)
        # Plotly's labels are HTML, escaped by `charts`: read back to the words.
        words = html.unescape(str(label.get("text", "")))
        # Near an edge, a label reaches inwards from the line rather than past the chart.
        anchor = "end" if at > 75 else "start" if at < 25 else "middle"
        yield (
            f'<text class="note" x="{at:.2f}%" y="-{rise}" text-anchor="{anchor}">'
            f"{_text(words)}</text>"
        )


def _runs(trace: dict[str, Any], xs: _Scale, ys: _Scale) -> list[list[tuple[float, float]]]:
    """The trace's points in the stretched box, split where a value is missing (Plotly
    leaves a gap there)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in _pairs(trace):
        if y is None:
            runs.append([])
            continue
        runs[-1].append((xs.at(_day(x)) * _BOX / 100, (100 - ys.at(y)) * _BOX / 100))
    return [run for run in runs if run]


def _stepped(run: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A line of shape `hv`: flat until the next point, then up or down to it."""
    out = run[:1]
    for (_x0, y0), (x1, y1) in itertools.pairwise(run):
        for corner in ((x1, y0), (x1, y1)):
            if corner != out[-1]:
                out.append(corner)
    return out


def _lines(data: Sequence[dict[str, Any]], xs: _Scale, ys: _Scale) -> Iterator[str]:
    for i, trace in enumerate(data):
        line = trace.get("line") or {}
        if "lines" not in str(trace.get("mode", "lines")) or line.get("width") == 0:
            continue
        dash = _DASHES.get(str(line.get("dash", "")), "")
        colour = line.get("color") or _default_colour(i)
        for run in _runs(trace, xs, ys):
            if line.get("shape") == "hv":
                run = _stepped(run)
            yield (
                f'<polyline points="{_points(run)}" fill="none" stroke="{_attr(colour)}"'
                f' stroke-width="{float(line.get("width", 2)):g}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + ' vector-effect="non-scaling-stroke" stroke-linejoin="round"/>'
            )


def _areas(data: Sequence[dict[str, Any]], xs: _Scale, ys: _Scale) -> Iterator[str]:
    """Bands (`fill: tonexty`): the area between a trace and the one before it."""
    for before, trace in itertools.pairwise(data):
        if trace.get("fill") != "tonexty":
            continue
        upper = [p for run in _runs(before, xs, ys) for p in run]
        lower = [p for run in _runs(trace, xs, ys) for p in run]
        if upper and lower:
            yield (
                f'<polygon points="{_points(upper + lower[::-1])}"'
                f' fill="{_attr(trace.get("fillcolor", "rgba(31,95,191,0.15)"))}" stroke="none"/>'
            )


def _markers(data: Sequence[dict[str, Any]], xs: _Scale, ys: _Scale) -> Iterator[str]:
    for i, trace in enumerate(data):
        if "markers" not in str(trace.get("mode", "")):
            continue
        marker = trace.get("marker") or {}
        colour = marker.get("color") or (trace.get("line") or {}).get("color") or _default_colour(i)
        edge = marker.get("line") or {}
        hollow = str(marker.get("symbol", "")).endswith("-open")
        radius = float(marker.get("size", 6)) / 2
        fill, stroke = ("none", colour) if hollow else (colour, edge.get("color", "none"))
        for x, y in _pairs(trace):
            if y is None:
                continue
            yield (
                f'<circle cx="{xs.at(_day(x)):.2f}%" cy="{100 - ys.at(y):.2f}%" r="{radius:g}"'
                f' fill="{_attr(fill)}" stroke="{_attr(stroke)}"'
                f' stroke-width="{float(edge.get("width", 0)):g}"/>'
            )


def _legend(data: Sequence[dict[str, Any]]) -> Iterator[str]:
    """The legend below the plot, as Plotly's: one entry per named trace shown in it, in
    reverse order when areas are stacked (`tonexty`), as Plotly lists them then."""
    seen: set[str] = set()
    items = []
    for i, trace in enumerate(data):
        name = str(trace.get("name") or "")
        if not name or trace.get("showlegend") is False or name in seen:
            continue
        seen.add(name)
        items.append(f'<li><svg width="22" height="14">{_swatch(trace, i)}</svg>{_text(name)}</li>')
    if any(trace.get("fill") == "tonexty" for trace in data):
        items.reverse()
    if items:
        yield '<ul class="sketch-legend">' + "".join(items) + "</ul>"


def _swatch(trace: dict[str, Any], i: int) -> str:
    """A trace's sample in the legend: its area, its line (with its marker) or its marker."""
    line, marker = trace.get("line") or {}, trace.get("marker") or {}
    edge = marker.get("line") or {}
    colour = line.get("color") or marker.get("color") or _default_colour(i)
    mode = str(trace.get("mode", "lines"))
    if line.get("width") == 0:
        return f'<rect width="22" height="8" y="3" fill="{_attr(trace.get("fillcolor"))}"/>'
    if mode == "markers":
        hollow = str(marker.get("symbol", "")).endswith("-open") or edge.get("color")
        stroke = edge.get("color") or colour
        return (
            f'<circle cx="11" cy="7" r="4.5" fill="{"none" if hollow else _attr(colour)}"'
            f' stroke="{_attr(stroke)}" stroke-width="2"/>'
        )
    dash = _DASHES.get(str(line.get("dash", "")), "")
    dot = f'<circle cx="11" cy="7" r="2.5" fill="{_attr(colour)}"/>' if "markers" in mode else ""
    return (
        f'<line x1="0" x2="22" y1="7" y2="7" stroke="{_attr(colour)}" stroke-width="2"'
        + (f' stroke-dasharray="{dash}"' if dash else "")
        + "/>"
        + dot
    )


def _default_colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _points(run: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in run)


def _text(value: object) -> str:
    return html.escape(str(value), quote=False)


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)
