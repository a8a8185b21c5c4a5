"""Target suggestions from history, hand-computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from tolok.spec.models import KPI, Vs
from tolok.track.suggest import suggest


def history(values: Sequence[float | None]) -> list[tuple[dt.date, float | None]]:
    return [(dt.date(2026, 1, 1) + dt.timedelta(days=31 * i), v) for i, v in enumerate(values)]


def test_up_asks_for_the_upper_quartile_of_past_growth() -> None:
    # Growth against the period before: +10%, +20%, +0%, +30%, +10%.
    values = [100.0, 110.0, 132.0, 132.0, 171.6, 188.76]
    found = suggest(KPI(formula="x"), history(values), per_year=12)
    assert found is not None
    assert found.vs is Vs.previous
    assert found.samples == 5
    # statistics.quantiles (exclusive) of [0, .1, .1, .2, .3]: .05, .1, .25
    assert (found.low, found.growth, found.high) == (
        pytest.approx(0.05),
        pytest.approx(0.25),
        pytest.approx(0.25),
    )
    assert found.baseline == pytest.approx(188.76)
    assert found.target == pytest.approx(188.76 * 1.25)
    assert found.recent == 171.6  # the median of the last three: above it, nothing to hold
    assert not found.holds


def test_down_asks_for_the_lower_quartile_and_a_year_of_history_compares_years() -> None:
    # Falling by one a month: against a year before, -12/100, -12/99, ..., -12/93.
    values = [float(100 - i) for i in range(20)]
    found = suggest(KPI.model_validate({"formula": "x", "direction": "down"}), history(values), 12)
    assert found is not None
    assert found.vs is Vs.last_year
    # statistics.quantiles (exclusive) of the 8 rates, lowest: (3 * -12/94 + -12/95) / 4
    assert found.reached == pytest.approx((3 * -12 / 94 - 12 / 95) / 4)
    assert found.reached == pytest.approx(found.low)
    # The last three fell faster (median -12/94) than that quartile: holding their pace,
    # on the next period's value a year before (92), is the stricter target.
    assert found.baseline == 92.0
    assert found.holds
    assert found.growth == pytest.approx(-12 / 94)
    assert found.target == pytest.approx(92 * 82 / 94)
    assert found.target == pytest.approx(found.recent)


def test_a_cost_that_rose_is_held_at_its_recent_level() -> None:
    """Costs up every month: the 25th percentile of growth would let them rise again."""
    values = [50.0, 60.0, 70.0, 80.0, 90.0, 100.0]  # +20%, +16.7%, +14.3%, +12.5%, +11.1%
    found = suggest(KPI.model_validate({"formula": "x", "direction": "down"}), history(values), 12)
    assert found is not None
    assert found.vs is Vs.previous
    assert found.reached == pytest.approx((1 / 9 + 1 / 8) / 2)  # +11.8%: costs up again
    assert found.recent == 90.0  # the median of 80, 90 and 100
    assert found.holds
    assert found.target == pytest.approx(90.0)
    assert found.growth == pytest.approx(-0.1)  # 90 from the last 100


def test_a_step_up_a_year_ago_is_not_asked_again() -> None:
    """A cost that doubled a year ago and stayed there (quarters): +100% against a year
    before every quarter, but the suggestion holds it at 20, not 40."""
    values = [10.0, 10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0]
    found = suggest(KPI.model_validate({"formula": "x", "direction": "down"}), history(values), 4)
    assert found is not None
    assert found.vs is Vs.last_year
    assert found.reached == pytest.approx(1.0)
    assert found.baseline == 20.0
    assert found.holds
    assert (found.recent, found.target, found.growth) == (20.0, 20.0, 0.0)


def test_a_season_is_not_taken_for_a_level() -> None:
    """Quarters with a low first quarter, all 10% above a year before: the next first
    quarter is asked 10% above the last one (6.05), not the last quarters' 11."""
    values = [5.0, 10.0, 10.0, 10.0, 5.5, 11.0, 11.0, 11.0]
    found = suggest(KPI(formula="x"), history(values), 4)
    assert found is not None
    assert found.vs is Vs.last_year
    assert found.baseline == 5.5
    assert found.recent == pytest.approx(5.5 * 1.1)
    assert not found.holds
    assert found.growth == pytest.approx(0.1)
    assert found.target == pytest.approx(6.05)


def test_band_holds_its_recent_level() -> None:
    values = [100.0, 104.0, 98.0, 102.0, 101.0]
    kpi = KPI.model_validate({"formula": "x", "direction": "band", "tolerance": 0.05})
    found = suggest(kpi, history(values), 12)
    assert found is not None
    assert found.holds
    assert found.recent == 101.0  # the median of 98, 102 and 101
    assert found.target == pytest.approx(101.0)
    assert found.growth == pytest.approx(0.0)  # the last value is 101 too


def test_a_gap_keeps_periods_in_place() -> None:
    """A missing period is no shift: growth is against the period before it, not the one
    before that."""
    values: list[float | None] = [100.0, None, 110.0, 121.0, 133.1, 146.41]
    found = suggest(KPI(formula="x"), history(values), 12)
    assert found is not None
    assert found.samples == 3  # 121/110, 133.1/121, 146.41/133.1: all +10%
    assert found.growth == pytest.approx(0.1)
    assert found.target == pytest.approx(146.41 * 1.1)


def test_too_little_history() -> None:
    assert suggest(KPI(formula="x"), history([1.0, 2.0, None]), 12) is None
