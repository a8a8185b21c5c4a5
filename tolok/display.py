"""KPI values as people read them, in their language: `Rp 103.666.000`, `1,5%`, `32 min`.

Durations are minutes (what `minutes_between` gives). Missing values show as an en dash.

Numbers are written digit for digit up to `LARGEST` (what people may type in); larger ones,
which only data can bring (an amount of 1e308, a ratio over a near-zero base), show in
scientific notation (`1.0E30`, `Rp 1,5E20`), infinities as `∞` and NaN as missing: a page
never fails on a number.
"""

from __future__ import annotations

import decimal
import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from babel import Locale
from babel.numbers import NumberPattern, format_scientific, parse_pattern

from tolok.spec.models import Unit

MISSING = "\u2013"  # en dash
_BARS = "▁▂▃▄▅▆▇█"
LARGEST = 1e15
"""The largest size of a number typed in (a target, a value entered) and written in full.

Every whole number up to it is a float exactly (float64 holds whole numbers to 2**53, about
9e15), to the unit and with cents to spare; Babel writes it (its arithmetic keeps 28 digits,
and 1e30 already fails). A thousand trillion rupiah is beyond any KPI's reach."""

_SHORT, _FULL = f"{LARGEST:.0e}".replace("e+", "e"), f"{LARGEST:,.0f}"
ALLOWED = f"a number from -{_SHORT} to {_SHORT} (-{_FULL} to {_FULL}), not NaN or infinity"
"""What may be typed in, said in English (the API's refusals)."""


@functools.cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


NUMBER_SYMBOLS: dict[str, dict[str, str]] = {
    "en": {
        "decimal": ".", "group": ",", "list": ";", "percentSign": "%", "plusSign": "+",
        "minusSign": "-", "approximatelySign": "~", "exponential": "E",
        "superscriptingExponent": "\u00d7", "perMille": "‰", "infinity": "∞", "nan": "NaN",
        "timeSeparator": ":",
    },
    "id": {
        "decimal": ",", "group": ".", "list": ";", "percentSign": "%", "plusSign": "+",
        "minusSign": "-", "approximatelySign": "~", "exponential": "E",
        "superscriptingExponent": "\u00d7", "perMille": "‰", "infinity": "∞", "nan": "NaN",
        "timeSeparator": ".",
    },
}  # fmt: skip
"""The number symbols (Latin digits) of the languages tolok speaks, as Babel's CLDR data has
them (a test holds them to it): every number written reads them, and Babel keeps them in
the locale's whole data, whose loading (with `babel.dates`) costs a command 40 ms."""

CURRENCY_SYMBOLS: dict[str, dict[str, str]] = {
    "en": {
        "USD": "$", "IDR": "IDR", "EUR": "€", "JPY": "¥", "SGD": "SGD", "MYR": "MYR",
        "GBP": "£", "AUD": "A$", "INR": "₹", "CNY": "CN¥", "PHP": "₱", "THB": "THB",
        "VND": "₫", "KRW": "₩", "CHF": "CHF", "CAD": "CA$",
    },
    "id": {
        "USD": "US$", "IDR": "Rp", "EUR": "€", "JPY": "JP¥", "SGD": "SGD", "MYR": "MYR",
        "GBP": "£", "AUD": "AU$", "INR": "Rs", "CNY": "CN¥", "PHP": "PHP", "THB": "฿",
        "VND": "₫", "KRW": "₩", "CHF": "CHF", "CAD": "CA$",
    },
}  # fmt: skip
"""The symbols of `MINOR_DIGITS`' currencies in the languages tolok speaks, as Babel's CLDR
data has them (a test holds them to it), for the reason `NUMBER_SYMBOLS` gives."""


class _Spoken(Locale):
    """A language tolok speaks, its number symbols read from `NUMBER_SYMBOLS`; whatever else
    is asked of it (compact forms, currency names) Babel reads from the locale's data."""

    @property
    def number_symbols(self) -> dict[str, dict[str, str]]:  # type: ignore[override]
        return {"latn": NUMBER_SYMBOLS[self.language]}


@functools.cache
def _locale(locale: str) -> Locale:
    if locale in NUMBER_SYMBOLS:
        return _Spoken(locale)
    return Locale.parse(locale)


def currency_symbol(currency: str, locale: str) -> str:
    """Babel's `get_currency_symbol`, common currencies in tolok's languages from
    `CURRENCY_SYMBOLS`: `Rp` for IDR in Indonesian, `$` for USD in English."""
    known = CURRENCY_SYMBOLS.get(locale, {}).get(currency)
    if known is not None:
        return known
    from babel.numbers import get_currency_symbol

    return str(get_currency_symbol(currency, locale))


def format_decimal(number: float | Decimal, format: str, locale: str) -> str:
    """Babel's `format_decimal` with the pattern and the locale read once, not for every
    number: a page of 500 values spent a third of its formatting parsing the same pattern."""
    return str(_pattern(format).apply(number, _locale(locale)))


def format_percent(number: float | Decimal, format: str, locale: str) -> str:
    """Babel's `format_percent`, as `format_decimal` (the pattern's `%` scales by 100)."""
    return str(_pattern(format).apply(number, _locale(locale)))


def format_currency(
    number: float | Decimal, currency: str, format: str, locale: str, currency_digits: bool
) -> str:
    """Babel's `format_currency` with an explicit pattern, as `format_decimal`."""
    return str(
        _pattern(format).apply(
            number, _locale(locale), currency=currency, currency_digits=currency_digits
        )
    )


def slice_text(where: Mapping[str, object]) -> str:
    """A slice as a person reads it, "Platform: google, Region: Bali", not `platform=google`."""
    return ", ".join(f"{str(k).replace('_', ' ').capitalize()}: {v}" for k, v in where.items())


def english_count(count: int, one: str, many: str | None = None) -> str:
    """`count` things in English, "1 KPI" but "2 KPIs", never "1 KPI(s)"."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def within_range(value: float) -> bool:
    """Whether `value` may be typed in: a finite number no larger than `LARGEST`.

    >>> within_range(1e15), within_range(-1e16), within_range(float("nan"))
    (True, False, False)
    """
    return math.isfinite(value) and abs(value) <= LARGEST


def format_value(value: float | None, unit: Unit, currency: str, locale: str) -> str:
    """One KPI value with its unit, in the project's locale."""
    if value is None:
        return MISSING
    outsized = _outsized(value, unit, currency, locale)
    if outsized is not None:
        return outsized
    if unit is Unit.percent:
        return format_percent(value, format=_percent_pattern(value), locale=locale)
    if unit is Unit.currency:
        return _money(value, currency, locale, _base_decimals(value, unit))
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


def _outsized(value: float, unit: Unit, currency: str, locale: str) -> str | None:
    """`value` when the number shown is beyond `LARGEST` or not finite, else None: `1.0E30`,
    `Rp 1,0E30`, `1.0E309%` (a share of 1e307), `∞`; NaN is missing."""
    number = _scientific(abs(value), 2 if unit is Unit.percent else 0, locale)
    if number is None or number == MISSING:
        return number
    sign = "-" if value < 0 else ""
    if unit is Unit.percent:
        return f"{sign}{number}%"
    if unit is Unit.duration:
        return f"{sign}{number} min"
    if unit is Unit.currency:
        symbol = currency_symbol(currency, locale)
        space = "\u00a0" if locale == "id" or symbol[-1:].isalpha() else ""
        return f"{sign}{symbol}{space}{number}"
    return sign + number


def _scientific(size: float, scale: int, locale: str) -> str | None:
    """`size` (not negative) times 10**`scale` in scientific notation when that is beyond
    `LARGEST` or not finite, else None. Scaled in decimal: a share of 1e307 is 1e309
    percent, more than a float holds."""
    if math.isnan(size):
        return MISSING
    if math.isinf(size):
        return "∞"
    if size * 10**scale <= LARGEST:
        return None
    return str(format_scientific(Decimal(repr(size)).scaleb(scale), "0.0##E0", _locale(locale)))


def _decimals(size: float) -> int:
    """One decimal, more for numbers under 0.1 so they keep two digits: 12.5, 0.4, 0.018."""
    if size == 0 or size >= 0.1:
        return 1
    return min(8, 1 - math.floor(math.log10(size)))


MINOR_DIGITS = {
    "USD": 2, "IDR": 0, "EUR": 2, "JPY": 0, "SGD": 2, "MYR": 2, "GBP": 2, "AUD": 2,
    "INR": 2, "CNY": 2, "PHP": 2, "THB": 2, "VND": 0, "KRW": 0, "CHF": 2, "CAD": 2,
}  # fmt: skip
"""The decimals of common currencies' minor unit, as Babel's CLDR data has them (a test
holds them to it): reading that data costs every command that shows money 50 ms."""


def currency_precision(currency: str) -> int:
    """The decimals of a currency's minor unit: 2 for USD, 0 for IDR and JPY."""
    known = MINOR_DIGITS.get(currency)
    if known is not None:
        return known
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(currency))


def _percent_pattern(share: float) -> str:
    return "#,##0." + "0" * _decimals(abs(share) * 100) + "%"


def _money(value: float, currency: str, locale: str, decimals: int) -> str:
    """Indonesian writes "Rp 1.234.567"; other locales keep their own habit ("$1,234"),
    but a symbol of letters stands apart from the digits ("IDR 1,234,567")."""
    return str(_money_pattern(currency, locale, decimals).apply(value, _locale(locale)))


@functools.cache
def _money_pattern(currency: str, locale: str, decimals: int) -> NumberPattern:
    """`_money`'s pattern with the currency's symbol written in as a quoted literal: what
    Babel's `¤` would look up on every value (a table of hundreds of amounts), once."""
    symbol = currency_symbol(currency, locale)
    space = "\u00a0" if locale == "id" or symbol[-1:].isalpha() else ""
    literal = "'" + symbol.replace("'", "''") + "'"
    return _pattern(f"{literal}{space}#,##0" + ("." + "0" * decimals if decimals else ""))


COMPACT_FROM = 10_000
"""Money from this size on shows in compact form on a card (`Rp 12,5 rb`); below it, its
full figure is as short."""


def format_compact_money(value: float | None, currency: str, locale: str, digits: int = 1) -> str:
    """Money in the compact form of `locale` with up to `digits` decimals: `Rp 555,8 jt`,
    `$1.2M`, `IDR 4M`; small, missing, huge and not-finite amounts as `format_value` writes
    them. For a glance: the full figure goes beside it (a title, a table).

    >>> format_compact_money(555_812_345, "IDR", "id"), format_compact_money(1_234_567, "USD", "en")
    ('Rp\\xa0555,8\\xa0jt', '$1.2M')
    """
    from babel.numbers import format_compact_decimal

    if value is None or not math.isfinite(value) or not COMPACT_FROM <= abs(value) <= LARGEST:
        return format_value(value, Unit.currency, currency, locale)
    symbol = currency_symbol(currency, locale)
    space = "\u00a0" if locale == "id" or symbol[-1:].isalpha() else ""
    number = format_compact_decimal(abs(value), locale=locale, fraction_digits=digits)
    return f"{'-' if value < 0 else ''}{symbol}{space}{number}"


def format_compact_values(
    values: Sequence[float | None], unit: Unit, currency: str, locale: str
) -> list[str]:
    """Values of one KPI read side by side, money in compact form (`format_compact_money`)
    with as many decimals (up to three) as keep different amounts apart, else in full
    (`format_values`); other units as `format_values` writes them."""
    full = format_values(values, unit, currency, locale)
    if unit is not Unit.currency:
        return full
    different = len({v for v in values if v is not None})
    for digits in (1, 2, 3):
        short = [format_compact_money(v, currency, locale, digits) for v in values]
        if len({s for s, v in zip(short, values, strict=True) if v is not None}) == different:
            return short
    return full


def format_minutes(minutes: float, locale: str, decimals: int | None = None) -> str:
    """`32 min`, `1 h 35 min`, `2 d 3 h`. `decimals` fixes the decimals of the minutes
    (under two days), for durations read together: `1 h 35.40 min`."""
    outsized = _outsized(minutes, Unit.duration, "", locale)
    if outsized is not None:
        return outsized
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes < 60:
        pattern = "#,##0.#" if decimals is None else _fixed("#,##0", decimals)
        return f"{sign}{format_decimal(minutes, format=pattern, locale=locale)} min"
    if decimals and minutes < _TWO_DAYS:
        whole, part = divmod(_key(minutes, Unit.number, decimals), 60)
        shown = format_decimal(part, format=_fixed("00", decimals), locale=locale)
        return f"{sign}{whole} h {shown} min"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{sign}{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d {hours} h"


def format_change(change: float | None, locale: str) -> str:
    """A relative change with its sign: `+8,9%`, `-14,1%`."""
    if change is None or math.isnan(change):
        return MISSING
    text = _outsized(abs(change), Unit.percent, "", locale)
    if text is None:
        text = format_percent(abs(change), format="#,##0.0%", locale=locale)
    return ("+" if change >= 0 else "-") + text


def format_share(share: float | None, locale: str) -> str:
    """A share of a whole (an attainment, a goal's progress) as a whole percentage: `87%`;
    over a near-zero target it can be any size: `1.0E17%`."""
    if share is None:
        return MISSING
    if _scientific(abs(share), 2, locale) is not None:
        return format_value(share, Unit.percent, "", locale)
    return format_percent(share, format="#,##0%", locale=locale)


def format_points(difference: float | None, locale: str, decimals: int | None = None) -> str:
    """The change of a percentage, in percentage points: 1,5% to 1,8% is `+0,3 pp`.

    `decimals` shows it with the decimals of the percentages it lies between (take them from
    `value_decimals`): 2.98% to 3.04% is `+0.06 pp`, not `+0.060 pp`.
    """
    if difference is None or math.isnan(difference):
        return MISSING
    size = abs(difference) * 100
    points = _scientific(abs(difference), 2, locale)
    if points is None:
        places = _decimals(size) if decimals is None else decimals
        points = format_decimal(size, format=_fixed("#,##0", places), locale=locale)
    return ("+" if difference >= 0 else "-") + points + " pp"


def format_values(
    values: Sequence[float | None], unit: Unit, currency: str, locale: str
) -> list[str]:
    """Values of one KPI read side by side — value, target, so far, projected, thresholds —
    so that a status that depends on their order can be seen in them.

    Each starts in `format_value`'s digits; only when two different values would print
    alike (or in the wrong order) do they all get more decimals, two at most (money: up to
    its currency's minor unit). Values equal to that many decimals stay as they are.

    >>> format_values([0.0304, 0.0298, 0.026], Unit.percent, "USD", "en")
    ['3.04%', '2.98%', '2.60%']
    >>> format_values([0.03, 0.026], Unit.percent, "USD", "en")
    ['3.0%', '2.6%']
    """
    extra = _extra(values, unit, currency)
    if extra == 0:
        return [format_value(v, unit, currency, locale) for v in values]
    places = _places(values, unit, currency, extra)
    return [
        format_value(v, unit, currency, locale)
        if v is None or not math.isfinite(v)
        else _fixed_value(v, unit, currency, locale, place)
        for v, place in zip(values, places, strict=True)
    ]


def value_decimals(values: Sequence[float | None], unit: Unit, currency: str) -> int:
    """The most decimals `format_values` shows for `values` (of the percentage, for a
    percent KPI): what a change between them in percentage points keeps.

    >>> value_decimals([0.0304, 0.0298], Unit.percent, "USD")
    2
    """
    return max(_places(values, unit, currency, _extra(values, unit, currency)), default=1)


def round_money(value: float | None, currency: str) -> float | None:
    """A money value to its currency's minor unit, as Babel (CLDR) counts it — cents for
    USD and EUR, whole rupiah for IDR and whole yen for JPY — so files and JSON carry
    `31487.0`, not `31486.999999999967`. Missing, NaN and infinite values pass through.

    >>> round_money(31486.999999999967, "USD"), round_money(103666000.4, "IDR")
    (31487.0, 103666000.0)
    """
    if value is None or not math.isfinite(value):
        return value
    return round(value, currency_precision(currency))


_TWO_DAYS = 48 * 60  # durations from here on show days and hours: no decimals to add
_EXTRA = 2  # decimals that may be added to tell values apart
_PRECISION = decimal.Context(prec=400)  # any float, to any decimals shown


def _extra(values: Sequence[float | None], unit: Unit, currency: str) -> int:
    """How many decimals to add so that values differing at the most decimals allowed keep
    their order when shown: 0 when `format_value`'s own digits already do."""
    cap = 1 if unit is Unit.currency else _EXTRA
    present = [v for v in values if v is not None and math.isfinite(v)]
    places = _places(present, unit, currency, cap)
    apart = {_key(v, unit, place): v for v, place in zip(present, places, strict=True)}
    ordered = [apart[key] for key in sorted(apart)]
    for extra in range(cap):
        places = _places(ordered, unit, currency, extra)
        keys = [_key(v, unit, place) for v, place in zip(ordered, places, strict=True)]
        if all(low < high for low, high in itertools.pairwise(keys)):
            return extra
    return cap


def _base_decimals(value: float, unit: Unit) -> int:
    """The decimals `format_value` shows (at most) for `value`."""
    size = abs(value)
    if unit is Unit.percent:
        return _decimals(size * 100)
    if unit is Unit.currency:
        return 0 if size >= 100 or value == int(value) else 2
    if unit is Unit.count:
        return 0
    if unit is Unit.duration:
        return 1 if size < 60 else 0
    if size >= 1000 or value == int(value):
        return 0
    return 1 if size >= 100 else 2


def _places(values: Sequence[float | None], unit: Unit, currency: str, extra: int) -> list[int]:
    """The decimals each value is shown with: `format_value`'s own, or with `extra` more,
    all alike (money: its minor unit where it has fewer — `$47,348.40`, never `$47,348.4`).
    Missing values count as none."""
    bases = [_base_decimals(v, unit) if v is not None and math.isfinite(v) else 0 for v in values]
    if extra == 0:
        return bases
    if unit is Unit.currency:
        return [max(base, currency_precision(currency)) for base in bases]
    return [max(bases, default=0) + extra] * len(values)


def _key(value: float, unit: Unit, decimals: int) -> Decimal:
    """The number a reader sees: `value` rounded as Babel rounds it (half to even, from its
    shortest decimal form), percentages in percent, long durations in whole hours."""
    number = Decimal(str(value))
    if unit is Unit.duration and abs(value) >= _TWO_DAYS:
        return Decimal(round(abs(value)) // 60).copy_sign(number)
    if unit is Unit.percent:
        number = number.scaleb(2)
    step = Decimal(1).scaleb(-decimals)
    return number.quantize(step, rounding=ROUND_HALF_EVEN, context=_PRECISION)


def _fixed_value(value: float, unit: Unit, currency: str, locale: str, decimals: int) -> str:
    outsized = _outsized(value, unit, currency, locale)
    if outsized is not None:
        return outsized
    if unit is Unit.percent:
        return format_percent(value, format=_fixed("#,##0", decimals) + "%", locale=locale)
    if unit is Unit.currency:
        return _money(value, currency, locale, decimals)
    if unit is Unit.duration:
        return format_minutes(value, locale, decimals)
    return format_decimal(value, format=_fixed("#,##0", decimals), locale=locale)


def _fixed(pattern: str, decimals: int) -> str:
    """`pattern` with exactly `decimals` decimals: `#,##0.00`."""
    return pattern + ("." + "0" * decimals if decimals > 0 else "")


def sparkline(values: Sequence[float | None]) -> str:
    """A line of block characters, lowest value ▁ to highest █; gaps (and values that are
    not finite) stay blank."""
    present = [v for v in values if v is not None and math.isfinite(v)]
    if not present:
        return ""
    low, high = min(present) / 2, max(present) / 2  # halves: -1e308 to 1e308 spans no inf
    span = high - low
    out = []
    for value in values:
        if value is None or not math.isfinite(value):
            out.append(" ")
        elif span == 0:
            out.append(_BARS[3])
        else:
            out.append(_BARS[round((value / 2 - low) / span * (len(_BARS) - 1))])
    return "".join(out)
