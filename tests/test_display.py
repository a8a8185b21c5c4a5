"""Values as people read them: units, locales, and small shares that keep their digits."""

from __future__ import annotations

import pytest

from tolok.display import format_change, format_points, format_value
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
