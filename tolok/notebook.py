"""How the frames of `tolok.api` look in Jupyter: a KPI's series with its sparkline and each
period's status in colour, a status table with a badge per KPI, in the project's language
and number habits. The frames are pandas frames in every other way.

Imported by `tolok.api` when it makes a frame (it needs pandas).
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from tolok.display import format_share, format_value
from tolok.i18n import gettext, status_words
from tolok.server.pages.board_parts import spark_points
from tolok.spec.models import Unit

COLOURS = {
    "on_track": ("#e6f4ea", "#137333"),
    "at_risk": ("#fef7e0", "#b06000"),
    "off_track": ("#fce8e6", "#c5221f"),
    "no_target": ("#f1f3f4", "#5f6368"),
    "no_data": ("#f1f3f4", "#5f6368"),
}
"""A status's badge: background and text, the board's colours."""
SPARK = 24
"""Periods a sparkline shows, the latest ones."""


class KpiFrame(pd.DataFrame):
    """A frame of `tolok.api`: shown as the board shows a KPI where it has the columns it
    needs (`attrs["tolok"]` says which view it is), as any frame otherwise."""

    @property
    def _constructor(self) -> type[KpiFrame]:
        return KpiFrame

    def _repr_html_(self) -> str | None:
        view = self.attrs.get("tolok")
        try:
            if view == "series" and {"label", "value", "status"} <= set(self.columns):
                return series_html(self)
            if view == "status" and {"kpi", "value", "status", "title"} <= set(self.columns):
                return status_html(self)
        except (KeyError, TypeError, ValueError):  # a frame changed beyond what is drawn
            pass
        html: str | None = super()._repr_html_()  # type: ignore[misc]
        return html


def _text(value: Any) -> str:
    return "" if value is None or value != value else escape(str(value))  # NaN != NaN


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def _badge(status: Any, words: dict[str, str]) -> str:
    if status is None or status != status:
        return ""
    background, colour = COLOURS.get(str(status), COLOURS["no_data"])
    word = escape(words.get(str(status), str(status)))
    return (
        f'<span style="background:{background};color:{colour};padding:1px 6px;'
        f'border-radius:8px;white-space:nowrap">{word}</span>'
    )


def _spark(values: list[float | None]) -> str:
    points = spark_points(values[-SPARK:])
    if not points:
        return ""
    return (
        '<svg viewBox="0 0 100 24" width="200" height="40" preserveAspectRatio="none" '
        f'role="img"><polyline points="{points}" fill="none" stroke="#1a73e8" '
        'stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>'
    )


def series_html(frame: pd.DataFrame) -> str:
    """The series: its title, a sparkline per slice, then each period's value, target and
    status (the latest periods first shown last, as a table of a KPI reads)."""
    attrs = frame.attrs
    lang = str(attrs.get("lang") or "en")
    unit, currency = Unit(attrs.get("unit") or "number"), str(attrs.get("currency") or "")
    words = status_words(gettext(lang))
    by = [c for c in attrs.get("by", []) if c in frame.columns]
    head = f"<strong>{_text(attrs.get('title') or attrs.get('kpi'))}</strong>"
    lines = []
    groups = frame.groupby(by, sort=False, dropna=False) if by else [((), frame)]
    for key, part in groups:
        keys = key if isinstance(key, tuple) else (key,)
        name = " · ".join(_text(k) for k in keys)
        spark = _spark([_number(v) for v in part["value"]])
        if spark:
            lines.append(f"<div>{name + ' ' if name else ''}{spark}</div>")
    rows = []
    for row in frame.to_dict("records"):
        cells = [_text(row["label"]), *(_text(row[d]) for d in by)]
        cells.append(escape(format_value(_number(row["value"]), unit, currency, lang)))
        target = _number(row.get("target"))
        cells.append(
            escape(format_value(target, unit, currency, lang)) if target is not None else ""
        )
        cells.append(_badge(row["status"], words))
        rows.append("".join(f"<td>{c}</td>" for c in cells))
    _ = gettext(lang)
    header = [_("period"), *by, _("value"), _("target"), _("status")]
    return _table(head + "".join(lines), header, rows)


def status_html(frame: pd.DataFrame) -> str:
    """Each KPI's last closed period and status, and where the period under way heads."""
    lang = str(frame.attrs.get("lang") or "en")
    currency = str(frame.attrs.get("currency") or "")
    units = frame.attrs.get("units", {})
    words = status_words(gettext(lang))
    rows = []
    for row in frame.to_dict("records"):
        unit = Unit(units.get(row["kpi"], "number"))
        share = _number(row.get("attainment"))
        cells = [
            _text(row["title"]),
            _text(row.get("label")),
            escape(format_value(_number(row["value"]), unit, currency, lang)),
            escape(format_value(_number(row.get("target")), unit, currency, lang)),
            escape(format_share(share, lang)) if share is not None else "",
            _badge(row["status"], words),
            _badge(row.get("heading"), words),
            _text(row.get("owner")),
        ]
        rows.append("".join(f"<td>{c}</td>" for c in cells))
    _ = gettext(lang)
    header = [_("kpi"), _("period"), _("value"), _("target"), _("attainment"), _("status"),
              _("heading"), _("owner")]  # fmt: skip
    return _table("", header, rows)


def _table(head: str, header: list[str], rows: list[str]) -> str:
    columns = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return (
        f'<div class="tolok">{head}<table><thead><tr>{columns}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
