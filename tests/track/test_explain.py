"""Contributions to a change: they sum to the total change; mix and rate for ratios; rounded
parts that add up; the split by a formula's inputs (logarithmic, else Shapley) by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tolok.spec.models import Direction
from tolok.track.explain import (
    InputsError,
    effect,
    explain_inputs,
    explain_ratio,
    explain_sum,
    formula_inputs,
    round_parts,
    split_product,
)


def test_sum_contributions_are_each_slices_change() -> None:
    before = {("Bali",): 100.0, ("Jawa",): 300.0, ("Papua",): 20.0}
    after = {("Bali",): 150.0, ("Jawa",): 240.0, ("Sumatera",): 10.0}
    got = explain_sum(before, after)
    assert [(c.slice, c.total) for c in got] == [
        (("Jawa",), -60.0),
        (("Bali",), 50.0),
        (("Papua",), -20.0),
        (("Sumatera",), 10.0),
    ]
    assert sum(c.total for c in got) == pytest.approx(sum(after.values()) - sum(before.values()))


def test_ratio_change_splits_into_mix_and_rate_and_sums_exactly() -> None:
    # Conversion = orders / sessions. Web keeps its rate (2%) but gains traffic share;
    # the app's rate rises from 4% to 5% with the same traffic.
    orders = ({("web",): 20.0, ("app",): 40.0}, {("web",): 60.0, ("app",): 50.0})
    sessions = ({("web",): 1000.0, ("app",): 1000.0}, {("web",): 3000.0, ("app",): 1000.0})
    got = {c.slice: c for c in explain_ratio(orders, sessions)}
    before, after = 60 / 2000, 110 / 4000
    assert sum(c.total for c in got.values()) == pytest.approx(after - before)
    web, app = got[("web",)], got[("app",)]
    assert web.rate == pytest.approx(0.0)  # 2% both times
    assert (web.before, web.after) == (pytest.approx(0.02), pytest.approx(0.02))
    assert web.mix == pytest.approx(60 / 4000 - 20 / 2000)
    # App: rate +1 point at an average share of (0.5 + 0.25) / 2.
    assert app.rate == pytest.approx(0.01 * 0.375)
    assert app.total == pytest.approx(50 / 4000 - 40 / 2000)


def test_a_slice_with_no_denominator_in_one_period() -> None:
    orders = ({("web",): 10.0}, {("web",): 10.0, ("shop",): 5.0})
    sessions = ({("web",): 100.0}, {("web",): 100.0})
    got = {c.slice: c for c in explain_ratio(orders, sessions)}
    assert sum(c.total for c in got.values()) == pytest.approx(15 / 100 - 10 / 100)
    assert got[("shop",)].rate == 0.0
    assert got[("shop",)].mix == pytest.approx(0.05)


# --- rounding that adds up ---------------------------------------------------------------


def test_rounded_parts_add_up_where_rounding_each_does_not() -> None:
    # Three thirds of 1.0 at one decimal: each alone rounds to 0.3 (0.9 in all).
    parts, total = round_parts([1 / 3, 1 / 3, 1 / 3], 1.0, 1)
    assert total == 1.0
    assert sorted(parts) == [0.3, 0.3, 0.4]
    assert parts == [0.4, 0.3, 0.3]  # ties go to the first (the largest, as callers sort)
    # -16.667 and +13.333 of a -3.333 change at two decimals: -16.67 + 13.33 = -3.34.
    parts, total = round_parts([-200 / 12, 40 / 3], -10 / 3, 2)
    assert total == -3.33
    assert parts == [-16.66, 13.33]
    assert sum(parts) == pytest.approx(total)


def test_rounding_gives_the_missing_units_to_the_largest_remainders() -> None:
    # 4.46, 2.27, 3.27 (10.00): floors 4.4, 2.2, 3.2 miss 0.2, given to .06 and .07s first.
    parts, total = round_parts([4.46, 2.27, 3.27], 10.0, 1)
    assert total == 10.0
    assert parts == [4.4, 2.3, 3.3]
    assert round_parts([], 0.0, 1) == ([], 0.0)
    assert round_parts([12.3, -2.5], 9.8, 0) == ([12.0, -2.0], 10.0)  # -2.5 lost the most


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=12),
    st.integers(0, 3),
)
def test_rounded_parts_always_add_up_and_move_less_than_one_unit(
    parts: list[float], decimals: int
) -> None:
    shown, total = round_parts(parts, math.fsum(parts), decimals)
    unit = 10**-decimals
    assert round(sum(shown) / unit) == round(total / unit)
    for exact, rounded in zip(parts, shown, strict=True):
        assert abs(exact - rounded) < unit * 1.000001


def test_good_and_bad_follow_the_direction() -> None:
    assert effect(2.0, Direction.up) == "good"
    assert effect(-2.0, Direction.up) == "bad"
    assert effect(2.0, Direction.down) == "bad"
    assert effect(-2.0, Direction.down) == "good"
    assert effect(0.0, Direction.up) is None
    assert effect(2.0, Direction.band) is None


# --- by the inputs of a formula ----------------------------------------------------------


def test_revenue_as_visitors_times_conversion_times_order_value_splits_by_logs() -> None:
    # 1000 visitors at 2% and $50 a order ($1,000), then 1200 at 2.5% and $40 ($1,200).
    before = {"visitors": 1000.0, "conversion": 0.02, "order_value": 50.0}
    after = {"visitors": 1200.0, "conversion": 0.025, "order_value": 40.0}
    got = {p.input: p.part for p in explain_inputs("visitors * conversion * order_value",
                                                    before, after)}  # fmt: skip
    weight = (1200 - 1000) / math.log(1200 / 1000)  # the logarithmic mean of the totals
    assert got["visitors"] == pytest.approx(weight * math.log(1.2))  # = 200: the whole change
    assert got["visitors"] == pytest.approx(200.0)
    assert got["conversion"] == pytest.approx(weight * math.log(1.25))
    assert got["order_value"] == pytest.approx(weight * math.log(0.8))
    assert got["conversion"] == pytest.approx(-got["order_value"])  # x1.25 and x0.8 cancel
    assert sum(got.values()) == pytest.approx(200.0, abs=1e-9)


def test_a_ratio_of_inputs_splits_by_logs_and_adds_up() -> None:
    # Conversion = orders / sessions: 30 / 1000 (3%), then 40 / 1200 (3.33%).
    got = {p.input: p for p in explain_inputs("orders / sessions",
                                              {"orders": 30.0, "sessions": 1000.0},
                                              {"orders": 40.0, "sessions": 1200.0})}  # fmt: skip
    change = 40 / 1200 - 30 / 1000
    weight = change / math.log((40 / 1200) / (30 / 1000))
    assert got["orders"].part == pytest.approx(weight * math.log(40 / 30))
    assert got["sessions"].part == pytest.approx(-weight * math.log(1200 / 1000))
    assert got["orders"].part + got["sessions"].part == pytest.approx(change, abs=1e-15)
    assert (got["sessions"].before, got["sessions"].after) == (1000.0, 1200.0)


def test_a_factor_from_zero_falls_back_to_shapley_values() -> None:
    # a * b with a from 0 to 2 and b from 3 to 5: the product goes from 0 to 10.
    # a's part: the average of its effect with b before (2*3 - 0*3) and after (2*5 - 0*5).
    got = {p.input: p.part for p in explain_inputs("a * b", {"a": 0.0, "b": 3.0},
                                                    {"a": 2.0, "b": 5.0})}  # fmt: skip
    assert got == {"a": pytest.approx((6 + 10) / 2), "b": pytest.approx((0 + 4) / 2)}


def test_a_sign_change_falls_back_to_shapley_values_and_still_adds_up() -> None:
    # (revenue - spend) * 2 / spend: revenue - spend goes from -10 to +30.
    formula = "(revenue - spend) * 2 / spend"
    before, after = {"revenue": 40.0, "spend": 50.0}, {"revenue": 90.0, "spend": 60.0}
    got = {p.input: p.part for p in explain_inputs(formula, before, after)}
    change = (90 - 60) * 2 / 60 - (40 - 50) * 2 / 50  # 1.0 - (-0.4) = 1.4
    assert sum(got.values()) == pytest.approx(change, abs=1e-12)
    # By hand: the factors are m = revenue - spend (-10 -> 30) and s = spend (50 -> 60)
    # in 2 * m / s. Shapley: m's part = ((2*30/50 - 2*-10/50) + (2*30/60 - 2*-10/60)) / 2.
    m_part = ((60 / 50 + 20 / 50) + (60 / 60 + 20 / 60)) / 2
    s_part = change - m_part
    # m's part passes to revenue (+50) and spend (-10) in proportion to their parts of m's
    # own change (+40); spend also gets s's part.
    assert got["revenue"] == pytest.approx(m_part * 50 / 40)
    assert got["spend"] == pytest.approx(m_part * -10 / 40 + s_part)


def test_sums_pass_each_terms_change_on_and_constants_take_no_part() -> None:
    got = {p.input: p.part for p in explain_inputs("100 * (promoters - detractors) / responses",
                                                    {"promoters": 20.0, "detractors": 10.0,
                                                     "responses": 40.0},
                                                    {"promoters": 30.0, "detractors": 10.0,
                                                     "responses": 40.0})}  # fmt: skip
    # Only promoters moved: the whole change (25 -> 50) is theirs.
    assert got == {"promoters": pytest.approx(25.0), "detractors": 0.0, "responses": 0.0}
    assert formula_inputs("ratio(a, b) - a + growth(c)") == ["a", "b", "growth(c)"]


def test_an_input_that_appears_twice_gets_one_part_and_no_value_is_an_error() -> None:
    got = explain_inputs("(a - b) / a", {"a": 10.0, "b": 5.0}, {"a": 20.0, "b": 5.0})
    assert [p.input for p in got] == ["a", "b"]
    assert sum(p.part for p in got) == pytest.approx(15 / 20 - 5 / 10)
    with pytest.raises(InputsError):
        explain_inputs("a / b", {"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 2.0})


QUARTERS = st.integers(-40, 40).map(lambda n: n / 4)


@given(
    st.lists(st.tuples(QUARTERS, QUARTERS), min_size=1, max_size=5),
)
def test_split_product_always_adds_up(values: list[tuple[float, float]]) -> None:
    factors = [(x0, x1, 1 if i % 3 else -1) for i, (x0, x1) in enumerate(values)]
    assume(all(x0 != 0 and x1 != 0 for x0, x1, power in factors if power < 0))
    y0 = math.prod(x0**power for x0, _, power in factors)
    y1 = math.prod(x1**power for _, x1, power in factors)
    parts = split_product(factors)
    assert math.fsum(parts) == pytest.approx(y1 - y0, abs=1e-6)
