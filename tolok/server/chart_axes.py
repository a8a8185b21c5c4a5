"""A chart's axes as tolok writes them: tick values chosen here and their labels written by
tolok's own formatters, so the axis of a chart reads like the table beside it and the
terminal (`Okt 2025`, `Kuartal 4 2024`, `Rp 500 jt`, `3,5%`), not like Plotly's own d3 formats
(`Oct 2025`, `500M` for half a billion rupiah, where "M" reads as *miliar*).

Plotly only places what it is given (`tickmode: array`); it formats no number and no date
of tolok's. Pure functions over the figure's traces; nothing here imports Plotly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any

from babel.numbers import format_compact_decimal, format_percent, get_currency_symbol

from tolok.display import LARGEST, format_minutes
from tolok.i18n import Formats
from tolok.spec.calendar import MONTH_BASED
from tolok.spec.models import Grain, Unit

Y_TICKS = 5  # about as many value ticks
X_TICKS = 10  # at most as many period ticks: "Okt 2025" ten times fits a phone turned sideways
_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
_MONTH_STEPS = (1, 2, 3, 4, 6, 12, 24, 60, 120)
_TWO_DAYS = 2 * 24 * 60  # minutes: longer durations are written in days and hours
_FINEST = Decimal("1e-8")  # the smallest step between ticks: a millionth of a percent

HOVER_DATES = {
    Grain.day: "%-d %b %Y",
    Grain.week: "%-d %b %Y",  # the week's first day: d3 knows only ISO weeks
    Grain.month: "%b %Y",
    Grain.quarter: "Q%q %Y",
    Grain.year: "%Y",
    Grain.fiscal_quarter: "%b %Y",  # the first month: d3 knows no fiscal year
    Grain.fiscal_year: "%b %Y",
}
HOVER_WORDS = {
    "en": {Grain.week: "Week %V, %G"},
    "id": {Grain.week: "Minggu ke-%V %G", Grain.quarter: "Kuartal %q %Y"},
}
"""Periods named in words as `Formats.period` names them, where d3 can say it (ISO weeks:
only a calendar whose weeks start on Monday numbers them as ISO does)."""
"""The period a unified hover box is titled with, in d3's date format (Plotly draws that
title from the axis, not from a trace); month names come from the figure's locale."""


def y_axis(data: Sequence[dict[str, Any]], unit: Unit | str, fmt: Formats) -> dict[str, Any]:
    """Ticks of the value axis, from every value drawn (target, band and forecast cone
    included), with a range for a series that never moves. Plotly's own ticks are kept only
    for values no tick can be placed among (infinite, or spanning beyond floats)."""
    unit = Unit(unit)
    values = [
        float(v)
        for trace in data
        for v in trace.get("y") or []
        if isinstance(v, int | float) and math.isfinite(v)
    ]
    flat = flat_range(values, unit)
    if not values:
        return flat
    low, high = flat["range"] if flat else (min(values), max(values))
    if unit is Unit.duration:  # minutes, ticked in round minutes, hours or days
        ticks = _duration_ticks(low, high)
    else:
        ticks = nice_ticks(low, high, whole=unit is Unit.count)
    if ticks is None:
        return flat
    return {
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": tick_texts(ticks, unit, fmt),
        **flat,
    }


def flat_range(values: Sequence[float], unit: Unit) -> dict[str, Any]:
    """A range around a series that never moves (4 orders every month against a target of
    4): left to itself, Plotly zooms into the rounding noise of the forecast band and shows
    no tick at all."""
    if not values:
        return {}
    low, high = min(values), max(values)
    if high - low > 1e-9 * max(1.0, abs(high)):
        return {}
    pad = abs(high) * 0.1 or (0.01 if unit is Unit.percent else 1.0)
    if not math.isfinite(abs(high) + 2 * pad):  # near the largest float: Plotly's own range
        return {}
    return {"range": [low - pad, high + pad]}


def nice_ticks(low: float, high: float, *, whole: bool = False) -> list[float] | None:
    """Round values from below `low` to above `high`, 1, 2, 2.5 or 5 times a power of ten
    apart (whole numbers for counts); None when there is no such step.

    >>> nice_ticks(104_000_000, 555_000_000)
    [100000000.0, 200000000.0, 300000000.0, 400000000.0, 500000000.0, 600000000.0]
    >>> nice_ticks(0.021, 0.034)
    [0.02, 0.025, 0.03, 0.035]
    >>> nice_ticks(1, 4, whole=True)
    [1.0, 2.0, 3.0, 4.0]
    """
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return None
    raw = Decimal(repr(span / Y_TICKS))
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(s * power for s in _STEPS if s * power >= raw)
    if step < _FINEST:  # finer than any value is shown: Plotly's own ticks
        return None
    if whole:
        step = max(Decimal(1), step.to_integral_value(rounding=ROUND_CEILING))
    first = math.floor(Decimal(repr(low)) / step)
    last = math.ceil(Decimal(repr(high)) / step)
    if last - first > 4 * Y_TICKS:
        return None
    return [float(i * step) for i in range(first, last + 1)]


def _duration_ticks(low: float, high: float) -> list[float] | None:
    """Ticks of minutes 1, 2, 2.5 or 5 times a power of ten apart in the unit durations of
    that size are written in (`2 d 12 h`, `1 h 30 min`, `45 min`), so no two read alike."""
    size = max(abs(low), abs(high))
    per = 1440 if size >= _TWO_DAYS else 60 if size >= 120 else 1
    found = nice_ticks(low / per, high / per, whole=per == 1440)
    return None if found is None else [t * per for t in found]


def tick_texts(ticks: Sequence[float], unit: Unit, fmt: Formats) -> list[str]:
    """Tick labels: percentages with as many decimals as the step needs, durations as
    tolok writes them, amounts and numbers short (`2,5 jt`, `Rp 500 jt`, `$1.2B`) in
    the page's language, the currency symbol on money; beyond `LARGEST` as everywhere.

    >>> from tolok.spec.calendar import Calendar
    >>> fmt = Formats("id", "IDR", Calendar())
    >>> tick_texts([0.0, 2.5e8, 5e8], Unit.currency, fmt)
    ['Rp\\xa00', 'Rp\\xa0250\\xa0jt', 'Rp\\xa0500\\xa0jt']
    """
    scale = 100 if unit is Unit.percent else 1
    places = max(_places(Decimal(repr(t)).scaleb(2)) for t in ticks)
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    digits = max(_places(_in_words(t)) for t in ticks)
    minutes = max(_places(Decimal(repr(t))) for t in ticks)
    prefix = _money_prefix(fmt) if unit is Unit.currency else ""
    out = []
    for tick in ticks:
        if abs(tick) * scale > LARGEST:  # scientific, as everywhere
            out.append(fmt.value(tick, unit))
        elif unit is Unit.percent:
            out.append(format_percent(tick, format=pattern, locale=fmt.lang))
        elif unit is Unit.duration:
            out.append(format_minutes(tick, fmt.lang, min(2, minutes) or None))
        else:
            short = format_compact_decimal(abs(tick), locale=fmt.lang, fraction_digits=digits)
            out.append(("-" if tick < 0 else "") + prefix + short)
    return out


def _in_words(value: float) -> Decimal:
    """`value` in the unit its short form counts in: thousands, millions, billions or
    trillions (English and Indonesian alike group by thousands)."""
    number = Decimal(repr(abs(value)))
    if number < 1000:
        return number
    return number.scaleb(-3 * min(4, (number.adjusted()) // 3))


def _places(number: Decimal) -> int:
    """The decimals `number` needs: 2.50 needs 1, 3 none."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _money_prefix(fmt: Formats) -> str:
    """The currency symbol as `tolok.display` writes money: `Rp 500 jt` in Indonesian, a
    symbol of letters apart (`IDR 500M`), `$500M` otherwise."""
    symbol = get_currency_symbol(fmt.currency, fmt.lang)
    return symbol + ("\u00a0" if fmt.lang == "id" or symbol[-1:].isalpha() else "")


def x_axis(data: Sequence[dict[str, Any]], grain: Grain | str, fmt: Formats) -> dict[str, Any]:
    """Ticks of the period axis, named as the values table names them (`Okt 2025`,
    `Q4 2024`, `Week 41, 2026`, `FY2027`): at most `X_TICKS`, on round months (January, July…)
    when thinned, and the hover title in the page's month names."""
    grain = Grain(grain)
    starts = sorted({dt.date.fromisoformat(x) for trace in data for x in trace.get("x") or []})
    shown = _thinned(starts, grain, fmt.calendar.fiscal_start_month - 1)
    return {
        "type": "date",
        "tickmode": "array",
        "tickvals": [d.isoformat() for d in shown],
        "ticktext": [_two_lines(fmt.period(d, grain)) for d in shown],
        "hoverformat": hover_format(grain, fmt),
    }


def hover_format(grain: Grain, fmt: Formats) -> str:
    """The d3 format of the hover box's title: the period in the words of the ticks."""
    words = HOVER_WORDS.get(fmt.lang, HOVER_WORDS["en"])
    if grain is Grain.week and fmt.calendar.week_start != 0:
        return HOVER_DATES[grain]
    return words.get(grain, HOVER_DATES[grain])


def _two_lines(label: str) -> str:
    """A long tick label (`Minggu ke-41 2026`, `Kuartal 3 2025`) with its year on a second
    line, so that ten of them fit side by side."""
    parts = _YEAR_AT_END.fullmatch(label)
    return f"{parts[1]}<br>{parts[2]}" if len(label) > 9 and parts else label


_YEAR_AT_END = re.compile(r"(.+?),? ((?:TA |FY)?\d{4})")


def _thinned(starts: list[dt.date], grain: Grain, fiscal_month: int) -> list[dt.date]:
    """Every period when few; else the periods starting a round number of months into a
    (fiscal) year, or every step-th (days, weeks), the newest named."""
    step = math.ceil(len(starts) / X_TICKS)
    if step <= 1:
        return starts
    size = MONTH_BASED.get(grain)
    months = (
        next((m for m in _MONTH_STEPS if m >= step * size and m % size == 0), None)
        if size
        else None
    )
    if months is None:
        return starts[::-1][::step][::-1]
    anchor = fiscal_month if grain in (Grain.fiscal_quarter, Grain.fiscal_year) else 0
    return [d for d in starts if (d.year * 12 + d.month - 1 - anchor) % months == 0] or starts[-1:]
