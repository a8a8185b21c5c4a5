"""The texts `tolok explain` and the KPI page share: changes with a sign, percentages in
points, parts rounded at the decimals shown so that they add up, good and bad by direction."""

from __future__ import annotations

import datetime as dt

from tolok.answers.explanation import InputsExplanation, Words, tell_inputs
from tolok.i18n import gettext
from tolok.spec.models import KPI, Direction, Unit
from tolok.track.explain import InputPart

OCTOBER, NOVEMBER = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


Shown = tuple[list[str], str, list[str | None]]  # the parts, the total, good or bad


def told(
    parts: dict[str, float],
    unit: Unit,
    lang: str = "en",
    currency: str = "USD",
    direction: Direction = Direction.up,
) -> Shown:
    found = InputsExplanation(
        OCTOBER, NOVEMBER, [InputPart(k, 1.0, 2.0, v) for k, v in parts.items()], 0.1, 0.2,
        dict.fromkeys(parts, Unit.number),
    )  # fmt: skip
    kpi = KPI(formula=" / ".join(parts), unit=unit, direction=direction)
    shown = tell_inputs(found, kpi, Words(lang, currency, gettext(lang)))
    return [line.part for line in shown.lines], shown.total, [line.effect for line in shown.lines]


def test_a_small_total_of_larger_parts_keeps_its_digits_in_points() -> None:
    # +0.163 pp and -0.128 pp: at one decimal the total would read +0.0 pp.
    parts, total, effects = told({"visits": 0.00163, "orders": -0.00128}, Unit.percent)
    assert (parts, total) == (["+0.163 pp", "-0.128 pp"], "+0.035 pp")
    assert effects == ["good", "bad"]


def test_parts_that_round_apart_are_made_to_add_up() -> None:
    # Three thirds of +1.0 pp: +0.3 each would make +0.9.
    parts, total, _ = told({"a": 1 / 300, "b": 1 / 300, "c": 1 / 300}, Unit.percent)
    assert (parts, total) == (["+0.4 pp", "+0.3 pp", "+0.3 pp"], "+1.0 pp")
    # Cents under $100: 16.667 and 13.333 apart, -3.33 together.
    parts, total, _ = told({"n": -50 / 3, "s": 40 / 3}, Unit.currency)
    assert (parts, total) == (["-$16.66", "+$13.33"], "-$3.33")


def test_indonesian_numbers_and_a_down_is_good_kpi() -> None:
    parts, total, effects = told({"spend": 1_500_000.4, "buyers": -250_000.2}, Unit.currency,
                                 "id", "IDR", Direction.down)  # fmt: skip
    assert (parts, total) == (["+Rp\u00a01.500.000", "-Rp\u00a0250.000"], "+Rp\u00a01.250.000")
    assert effects == ["bad", "good"]
