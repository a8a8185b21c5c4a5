"""A KPI's last periods as a PNG line chart, for e-mail: mail clients show neither scripts
nor (in Gmail and Outlook) inline SVG, but every one of them shows an attached PNG.

Drawn with Pillow at twice the size asked and scaled down, so lines and text come out
smooth; the same input gives the same bytes, so a digest can be tested and cached.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SUPERSAMPLE = 2  # drawn this many times larger, then scaled down: smooth edges
TEXT = (85, 96, 110)
GRID = (217, 222, 229)
TARGET = (95, 107, 120)
COLOURS: dict[str, tuple[int, int, int]] = {  # the line's colour by status, as in the pages
    "on_track": (19, 115, 51),
    "at_risk": (154, 98, 0),
    "off_track": (179, 38, 30),
    "no_target": (31, 95, 191),
    "no_data": (95, 107, 120),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class _Plot:
    """Where the series goes on the canvas, and how a value maps to a height."""

    left: float
    top: float
    right: float
    bottom: float
    low: float
    high: float

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.bottom - share * (self.bottom - self.top)

    def x(self, index: int, count: int) -> float:
        if count == 1:
            return (self.left + self.right) / 2
        return self.left + index * (self.right - self.left) / (count - 1)


def _plain(value: float) -> str:
    return f"{value:,.6g}"


def _printable(text: str) -> str:
    """Text the built-in font can draw: it has no glyph for the no-break spaces that Babel
    puts between `Rp` and the digits, or inside `10 %`."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def line_png(
    values: list[float | None],
    labels: list[str],
    *,
    target: float | None = None,
    width: int = 560,
    height: int = 180,
    status: str = "no_target",
    formatter: Callable[[float], str] = _plain,
    scale: int = 1,
) -> bytes:
    """The values as a line with a dot on each, a gap where one is missing, the target as a
    dashed line, the lowest and highest value on the left and the first and last period
    below. `width` and `height` are in CSS pixels; `scale=2` gives twice the pixels for
    sharp charts on high-density screens (show it with `width`/`height` attributes).

    >>> png = line_png([1.0, None, 3.0], ["Jan", "Feb", "Mar"], target=2.0)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if len(values) != len(labels):
        raise ValueError(f"{len(values)} values but {len(labels)} labels")
    ink = SUPERSAMPLE * scale
    canvas = Image.new("RGB", (width * ink, height * ink), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=12 * ink)
    present = [v for v in values if v is not None]
    plot = _layout(draw, font, present, target, width * ink, height * ink, ink, formatter)
    if target is not None:
        _dashed(draw, plot.left, plot.right, plot.y(target), ink)
    colour = COLOURS.get(status, COLOURS["no_target"])
    _series(draw, plot, values, colour, ink)
    _period_labels(draw, font, plot, labels, height * ink - 4 * ink)
    small = canvas.resize((width * scale, height * scale), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _bounds(present: list[float], target: float | None) -> tuple[float, float]:
    """The range shown: the values and the target, widened when it is a single value."""
    every = present + ([target] if target is not None else [])
    if not every:
        return 0.0, 1.0
    low, high = min(every), max(every)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    return low, high


def _layout(
    draw: ImageDraw.ImageDraw,
    font: Font,
    present: list[float],
    target: float | None,
    width: int,
    height: int,
    ink: int,
    formatter: Callable[[float], str],
) -> _Plot:
    """The plot area beside the value labels and above the period labels, with its grid."""
    low, high = _bounds(present, target)
    texts = (_printable(formatter(high)), _printable(formatter(low))) if present else ("", "")
    if texts[0] == texts[1]:  # a range finer than the format shows: one label says it all
        texts = ("", texts[1])
    gutter = max(draw.textlength(t, font=font) for t in texts) + 10 * ink if present else 8 * ink
    plot = _Plot(gutter, 12 * ink, width - 12 * ink, height - 26 * ink, low, high)
    for value, text in zip((high, low), texts, strict=True):
        y = plot.y(value)
        draw.line([(plot.left, y), (plot.right, y)], fill=GRID, width=ink)
        if text:
            draw.text((gutter - 6 * ink, y), text, fill=TEXT, font=font, anchor="rm")
    return plot


def _dashed(draw: ImageDraw.ImageDraw, left: float, right: float, y: float, ink: int) -> None:
    dash, gap = 7 * ink, 5 * ink
    x = left
    while x < right:
        draw.line([(x, y), (min(x + dash, right), y)], fill=TARGET, width=max(1, ink * 3 // 2))
        x += dash + gap


def _series(
    draw: ImageDraw.ImageDraw,
    plot: _Plot,
    values: list[float | None],
    colour: tuple[int, int, int],
    ink: int,
) -> None:
    """Runs of values joined by a line, broken where a value is missing; a dot on each."""
    points = [
        None if v is None else (plot.x(i, len(values)), plot.y(v)) for i, v in enumerate(values)
    ]
    run: list[tuple[float, float]] = []
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) >= 2:
            draw.line(run, fill=colour, width=2 * ink, joint="curve")
        run = []
    for index, point in enumerate(points):
        if point is None:
            continue
        radius = (4 if index == len(points) - 1 else 3) * ink
        x, y = point
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)


def _period_labels(
    draw: ImageDraw.ImageDraw, font: Font, plot: _Plot, labels: list[str], y: float
) -> None:
    """The first period under the left end and the last under the right end."""
    if not labels:
        return
    labels = [_printable(label) for label in labels]
    if len(labels) == 1:
        draw.text(((plot.left + plot.right) / 2, y), labels[0], fill=TEXT, font=font, anchor="md")
        return
    draw.text((plot.left, y), labels[0], fill=TEXT, font=font, anchor="ld")
    first = draw.textlength(labels[0], font=font)
    last = draw.textlength(labels[-1], font=font)
    if plot.left + first + last + 8 < plot.right:  # room for both
        draw.text((plot.right, y), labels[-1], fill=TEXT, font=font, anchor="rd")
