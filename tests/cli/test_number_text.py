"""Counts in the terminal's language are written as Babel writes them, without Babel's
locale data for English and Indonesian (a command that prints `6 KPIs` need not load it)."""

from __future__ import annotations

import pytest
from babel.numbers import format_decimal

from tolok.cli.lang import number_text


@pytest.mark.parametrize("number", [0, 1, 12, 999, 1000, 386_962, -1_234_567, 10**12])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_count_as_babel_writes_it(number: int, lang: str) -> None:
    assert number_text(number, lang) == format_decimal(number, "#,##0", locale=lang)


def test_the_written_forms() -> None:
    assert (number_text(386_962, "en"), number_text(386_962, "id")) == ("386,962", "386.962")
