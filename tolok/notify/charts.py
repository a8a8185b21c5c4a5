"""Charts that need no script: a KPI's last periods as an inline SVG line, for reports and
e-mail (mail clients run no JavaScript; printers want vectors)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 240, 56


def line_svg(history: list[tuple[str, float | None]], colour: str = "#1f5fbf") -> Markup:
    """The values as a polyline with a dot on the last one; empty when fewer than two."""
    present = [v for _, v in history if v is not None]
    if len(present) < 2:
        return Markup("")
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = (WIDTH - 8) / (len(history) - 1)
    points = [
        (4 + i * step, HEIGHT - 6 - (v - low) / span * (HEIGHT - 12))
        for i, (_, v) in enumerate(history)
        if v is not None
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    label = escape(f"{history[0][0]} - {history[-1][0]}")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">'
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/></svg>'
    )
