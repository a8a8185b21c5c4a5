"""Values as people read them: units, locales, and small shares that keep their digits."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tolok.display import (
    MISSING,
    format_change,
    format_minutes,
    format_points,
    format_value,
    format_values,
    round_money,
    sparkline,
    value_decimals,
    within_range,
)
from tolok.i18n import Formats
from tolok.jsontext import dumps
from tolok.spec.calendar import Calendar
from tolok.spec.models import Unit


@pytest.mark.parametrize(("value", "en", "id_"), [
    (0.125, "12.5%", "12,5%"),
    (0.004, "0.4%", "0,4%"),
    (0.00018, "0.018%", "0,018%"),  # an ad's click-through rate: not "0.0%"
    (0.0, "0.0%", "0,0%"),
])  # fmt: skip
def test_percent(value: float, en: str, id_: str) -> None:
    assert format_value(value, Unit.percent, "USD", "en") == en
    assert format_value(value, Unit.percent, "IDR", "id") == id_


def test_points_and_changes() -> None:
    assert format_points(0.003, "en") == "+0.3 pp"
    assert format_points(-0.0000021, "en") == "-0.00021 pp"
    assert format_change(-0.141, "id") == "-14,1%"


def test_currency_and_count() -> None:
    assert format_value(1234567, Unit.currency, "IDR", "id") == "Rp\u00a01.234.567"
    assert format_value(42.5, Unit.currency, "USD", "en") == "$42.50"
    assert format_value(1234.4, Unit.count, "USD", "en") == "1,234"
    assert format_value(95, Unit.duration, "USD", "en") == "1 h 35 min"


def test_plain_numbers_keep_decimals_only_when_they_have_some() -> None:
    """`tolok show revenue --by region` printed 50.00 under 100 for two whole sums."""
    assert format_value(50.0, Unit.number, "USD", "en") == "50"
    assert format_value(100.0, Unit.number, "USD", "en") == "100"
    assert format_value(12.346, Unit.number, "USD", "en") == "12.35"
    assert format_value(0.5, Unit.number, "IDR", "id") == "0,50"
    assert format_value(123.46, Unit.number, "USD", "en") == "123.5"
    assert format_value(12345.6, Unit.number, "IDR", "id") == "12.346"


def test_values_that_decide_a_status_are_told_apart() -> None:
    """Churn 3.04% (off track) and its pace 2.98% (at risk) both printed "3.0%" against a
    2.6% target: together they keep the second decimal, the target too."""
    shares = [0.0304, 0.0298, 0.026]
    assert format_values(shares, Unit.percent, "USD", "en") == ["3.04%", "2.98%", "2.60%"]
    assert format_values(shares, Unit.percent, "IDR", "id") == ["3,04%", "2,98%", "2,60%"]


def test_values_already_apart_or_equal_stay_short() -> None:
    assert format_values([0.03, 0.026, None], Unit.percent, "USD", "en") == [
        "3.0%",
        "2.6%",
        MISSING,
    ]
    assert format_values([0.03, 0.03], Unit.percent, "USD", "en") == ["3.0%", "3.0%"]
    # Equal but for float noise: no digits chasing it.
    assert format_values([0.1 + 0.2, 0.3], Unit.percent, "USD", "en") == ["30.0%", "30.0%"]
    assert format_values([], Unit.percent, "USD", "en") == []


def test_money_adds_its_minor_unit_or_nothing() -> None:
    """Dollars gain cents; rupiah have none to gain (Babel: IDR 0 decimals)."""
    amounts = [47348.4, 47348.2, 45000.0]
    assert format_values(amounts, Unit.currency, "USD", "en") == [
        "$47,348.40",
        "$47,348.20",
        "$45,000.00",
    ]
    assert format_values(amounts, Unit.currency, "IDR", "id") == [
        "Rp\u00a047.348",
        "Rp\u00a047.348",
        "Rp\u00a045.000",
    ]
    assert format_values([47348.0, 45000.0], Unit.currency, "USD", "en") == ["$47,348", "$45,000"]


def test_other_units_gain_decimals_in_their_own_habit() -> None:
    # 50 and 50.004 read "50" and "50.00": the same number; a third decimal parts them.
    assert format_values([50.0, 50.004], Unit.number, "USD", "en") == ["50.000", "50.004"]
    assert format_values([1234.6, 1235.0], Unit.count, "IDR", "id") == ["1.234,6", "1.235,0"]
    assert format_values([95.4, 95.2], Unit.duration, "USD", "en") == [
        "1 h 35.4 min",
        "1 h 35.2 min",
    ]
    assert format_values([95.4, 30.04, 30.01], Unit.duration, "USD", "en") == [
        "1 h 35.40 min",
        "30.04 min",
        "30.01 min",
    ]


def test_a_whole_number_and_one_just_under_it() -> None:
    """149.96 reads "150.0" beside a whole 150: two decimals, alike, tell them apart."""
    assert format_values([149.96, 150.0], Unit.number, "USD", "en") == ["149.96", "150.00"]


def test_points_keep_the_decimals_of_their_values() -> None:
    shares = [0.0304, 0.0298]
    assert value_decimals(shares, Unit.percent, "USD") == 2
    assert format_points(0.0304 - 0.0298, "en", decimals=2) == "+0.06 pp"  # not "+0.060 pp"
    assert value_decimals([0.03, 0.026], Unit.percent, "USD") == 1
    assert format_points(0.026 - 0.03, "id", decimals=1) == "-0,4 pp"
    assert format_points(0.0006, "en") == "+0.060 pp"  # alone: two significant digits


def test_formats_expose_values_together() -> None:
    formats = Formats("id", "IDR", Calendar())
    shares = [0.0304, 0.0298, 0.026]
    assert formats.values(shares, "percent") == ["3,04%", "2,98%", "2,60%"]
    assert formats.points(0.0006, formats.value_decimals(shares, "percent")) == "+0,06 pp"


@pytest.mark.parametrize(("value", "currency", "rounded"), [
    (31486.999999999967, "USD", 31487.0),
    (12.345678, "USD", 12.35),
    (103666000.4, "IDR", 103666000.0),  # Babel gives the rupiah no decimals
    (1234.5678, "JPY", 1235.0),
    (None, "USD", None),
])  # fmt: skip
def test_money_is_rounded_to_the_minor_unit(
    value: float | None, currency: str, rounded: float | None
) -> None:
    assert round_money(value, currency) == rounded


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(("value", "unit", "en", "id_"), [
    (1e308, Unit.number, "1.0E308", "1,0E308"),
    (-1e30, Unit.number, "-1.0E30", "-1,0E30"),
    (1e30, Unit.count, "1.0E30", "1,0E30"),
    (1e30, Unit.currency, "$1.0E30", "Rp\u00a01,0E30"),
    (-1.5e20, Unit.currency, "-$1.5E20", "-Rp\u00a01,5E20"),
    (1e307, Unit.percent, "1.0E309%", "1,0E309%"),  # beyond a float, in percent
    (1e30, Unit.duration, "1.0E30 min", "1,0E30 min"),
    (1.5e15 + 1, Unit.number, "1.5E15", "1,5E15"),
    (1e15, Unit.number, "1,000,000,000,000,000", "1.000.000.000.000.000"),  # the largest
    (INF, Unit.number, "∞", "∞"),
    (-INF, Unit.currency, "-$∞", "-Rp\u00a0∞"),
    (INF, Unit.percent, "∞%", "∞%"),
    (NAN, Unit.number, MISSING, MISSING),
    (NAN, Unit.percent, MISSING, MISSING),
])  # fmt: skip
def test_huge_and_odd_numbers_are_written_not_raised(
    value: float, unit: Unit, en: str, id_: str
) -> None:
    """An amount of 1e308 in the data made every page fail (Babel's arithmetic keeps 28
    digits): past 1e15 a number is written in scientific notation, infinity as ∞."""
    assert format_value(value, unit, "USD", "en") == en
    assert format_value(value, unit, "IDR", "id") == id_
    assert format_values([value, 1.0], unit, "USD", "en")[0] == en
    assert format_values([value, value], unit, "IDR", "id") == [id_, id_]


def test_values_told_apart_beside_a_huge_one_still_show() -> None:
    """Decimals added to tell 149.96 from 150 went through Babel for the huge value too."""
    shown = format_values([149.96, 150.0, 1e30], Unit.number, "USD", "en")
    assert shown == ["149.96", "150.00", "1.0E30"]
    assert format_values([0.0304, 0.0298, 1e300], Unit.percent, "IDR", "id")[2] == "1,0E302%"


def test_huge_changes_points_durations_and_shares() -> None:
    assert format_change(1e308, "en") == "+1.0E310%"
    assert format_change(-INF, "id") == "-∞%"
    assert format_change(NAN, "en") == MISSING
    assert format_points(1e308, "id") == "+1,0E310 pp"
    assert format_points(NAN, "en") == MISSING
    assert format_minutes(-1e20, "en") == "-1.0E20 min"
    assert format_minutes(INF, "id") == "∞ min"
    formats = Formats("id", "IDR", Calendar())
    assert formats.share(1e300) == "1,0E302%"  # attainment over a near-zero target
    assert formats.share(INF) == "∞%"
    assert formats.share(0.87) == "87%"


def test_a_sparkline_spans_any_finite_range_and_skips_the_rest() -> None:
    assert sparkline([1e308, -1e308, None, INF, NAN, 0.0]) == "█▁   ▅"
    assert sparkline([INF, NAN]) == ""


def test_what_may_be_typed_in() -> None:
    assert [within_range(v) for v in (1e15, -1e15, 0.5)] == [True, True, True]
    assert [within_range(v) for v in (1e15 + 2, -1e30, NAN, INF, -INF)] == [False] * 5


def test_json_never_carries_nan_or_infinity() -> None:
    """Python's json writes NaN and Infinity, which JSON.parse refuses: null instead."""
    data = {"value": INF, "points": [1.5, NAN, {"low": -INF}], "pair": (1, NAN), "ok": 1e308}
    assert dumps(data) == (
        '{"value": null, "points": [1.5, null, {"low": null}], "pair": [1, null], "ok": 1e+308}'
    )
    assert dumps({"a": 1}, separators=(",", ":")) == '{"a":1}'


def test_the_patterns_read_once_write_what_babel_writes() -> None:
    """`display` reads each number pattern and locale once; what it writes is Babel's own
    `format_decimal`, `format_percent` and `format_currency`, digit for digit."""
    import random

    from babel import numbers

    from tolok import display

    rng = random.Random(7)
    values = [0.0, -0.0, 0.5, 1.005, -2.675, 999.95, 1e15, -123456789.125]
    values += [rng.uniform(-1e9, 1e9) for _ in range(200)] + [rng.random() for _ in range(50)]
    for locale in ("en", "id"):
        for value in values:
            for pattern in ("#,##0", "#,##0.#", "#,##0.00", "00"):
                mine = display.format_decimal(value, format=pattern, locale=locale)
                assert mine == numbers.format_decimal(value, format=pattern, locale=locale)
            for pattern in ("#,##0.0%", "#,##0%"):
                mine = display.format_percent(value, format=pattern, locale=locale)
                assert mine == numbers.format_percent(value, format=pattern, locale=locale)
            for currency in ("IDR", "USD"):
                mine = display.format_currency(
                    value, currency, format="¤#,##0.00", locale=locale, currency_digits=False
                )
                theirs = numbers.format_currency(
                    value, currency, format="¤#,##0.00", locale=locale, currency_digits=False
                )
                assert mine == theirs


def test_the_minor_units_kept_in_tolok_are_babels() -> None:
    """`MINOR_DIGITS` spares a command Babel's global data: it must say what Babel says."""
    from babel.numbers import get_currency_precision

    from tolok.display import MINOR_DIGITS, currency_precision

    assert {c: get_currency_precision(c) for c in MINOR_DIGITS} == MINOR_DIGITS
    assert currency_precision("KWD") == 3  # not kept: asked of Babel


def test_the_symbols_kept_in_tolok_are_babels() -> None:
    """`NUMBER_SYMBOLS` and `CURRENCY_SYMBOLS` spare a command Babel's locale data: they
    must say what Babel says, for every currency whose minor unit tolok keeps."""
    from babel import Locale
    from babel.numbers import get_currency_symbol

    from tolok.display import CURRENCY_SYMBOLS, MINOR_DIGITS, NUMBER_SYMBOLS, currency_symbol

    assert set(NUMBER_SYMBOLS) == set(CURRENCY_SYMBOLS) == {"en", "id"}
    for lang, symbols in NUMBER_SYMBOLS.items():
        assert dict(Locale.parse(lang).number_symbols["latn"]) == symbols
        theirs = {c: get_currency_symbol(c, lang) for c in MINOR_DIGITS}
        assert CURRENCY_SYMBOLS[lang] == theirs
    assert currency_symbol("KWD", "en") == get_currency_symbol("KWD", "en")  # asked of Babel


def test_values_are_written_without_babels_locale_data() -> None:
    """Values in tolok's languages and common currencies, in full and outsized, are written
    from tolok's tables: Babel's locale data is not read (a new process, as a command)."""
    code = (
        "import sys\n"
        "from tolok.display import format_values, format_value\n"
        "from tolok.spec.models import Unit\n"
        "for lang in ('en', 'id'):\n"
        "    for unit in Unit:\n"
        "        format_values([1234.5, 0.25, 1e30, None], unit, 'IDR', lang)\n"
        "    format_value(-12.5, Unit.currency, 'USD', lang)\n"
        "import babel.localedata\n"
        "print(sorted(babel.localedata._cache))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
