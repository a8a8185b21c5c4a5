"""Target suggestions from history, hand-computed."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.spec.models import KPI, Vs
from tolok.track.suggest import suggest


def history(values: list[float | None]) -> list[tuple[dt.date, float | None]]:
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


def test_down_asks_for_the_lower_quartile_and_a_year_of_history_compares_years() -> None:
    values = [float(100 - i) for i in range(20)]  # falling by one a month
    found = suggest(KPI.model_validate({"formula": "x", "direction": "down"}), history(values), 12)
    assert found is not None
    assert found.vs is Vs.last_year
    assert found.growth == pytest.approx(found.low)
    assert found.growth < 0


def test_too_little_history() -> None:
    assert suggest(KPI(formula="x"), history([1.0, 2.0, None]), 12) is None
