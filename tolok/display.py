"""KPI values as people read them, in their language: `Rp 103.666.000`, `1,5%`, `32 min`.

Durations are minutes (what `minutes_between` gives). Missing values show as an en dash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

from tolok.spec.models import Unit

MISSING = "\u2013"  # en dash
_BARS = "▁▂▃▄▅▆▇█"


def format_value(value: float | None, unit: Unit, currency: str, locale: str) -> str:
    """One KPI value with its unit, in the project's locale."""
    if value is None:
        return MISSING
    if unit is Unit.percent:
        return format_percent(value, format=_percent_pattern(value), locale=locale)
    if unit is Unit.currency:
        # Indonesian writes "Rp 1.234.567"; other locales keep their own habit ("$1,234"),
        # but a symbol of letters stands apart from the digits ("IDR 1,234,567").
        symbol = get_currency_symbol(currency, locale)
        space = "\u00a0" if locale == "id" or symbol[-1:].isalpha() else ""
        whole = abs(value) >= 100 or value == int(value)
        pattern = f"¤{space}#,##0" if whole else f"¤{space}#,##0.00"
        return format_currency(
            value, currency, format=pattern, locale=locale, currency_digits=False
        )
    if unit is Unit.count:
        return format_decimal(round(value), format="#,##0", locale=locale)
    if unit is Unit.duration:
        return format_minutes(value, locale)
    size = abs(value)
    if size >= 1000 or value == int(value):  # a whole number shows no decimals: 50, not 50.00
        pattern = "#,##0"
    else:
        pattern = "#,##0.#" if size >= 100 else "#,##0.00"
    return format_decimal(value, format=pattern, locale=locale)


def _decimals(size: float) -> int:
    """One decimal, more for numbers under 0.1 so they keep two digits: 12.5, 0.4, 0.018."""
    if size == 0 or size >= 0.1:
        return 1
    return min(8, 1 - math.floor(math.log10(size)))


def _percent_pattern(share: float) -> str:
    return "#,##0." + "0" * _decimals(abs(share) * 100) + "%"


def format_minutes(minutes: float, locale: str) -> str:
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes < 60:
        return f"{sign}{format_decimal(minutes, format='#,##0.#', locale=locale)} min"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{sign}{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d {hours} h"


def format_change(change: float | None, locale: str) -> str:
    """A relative change with its sign: `+8,9%`, `-14,1%`."""
    if change is None:
        return MISSING
    text = format_percent(abs(change), format="#,##0.0%", locale=locale)
    return ("+" if change >= 0 else "-") + text


def format_points(difference: float | None, locale: str) -> str:
    """The change of a percentage, in percentage points: 1,5% to 1,8% is `+0,3 pp`."""
    if difference is None:
        return MISSING
    size = abs(difference) * 100
    points = format_decimal(size, format="#,##0." + "0" * _decimals(size), locale=locale)
    return ("+" if difference >= 0 else "-") + points + " pp"


def sparkline(values: Sequence[float | None]) -> str:
    """A line of block characters, lowest value ▁ to highest █; gaps stay blank."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = high - low
    out = []
    for value in values:
        if value is None:
            out.append(" ")
        elif span == 0:
            out.append(_BARS[3])
        else:
            out.append(_BARS[round((value - low) / span * (len(_BARS) - 1))])
    return "".join(out)
