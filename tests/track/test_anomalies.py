"""Anomalies: a spike is flagged, a recurring seasonal peak is not, and nothing echoes a
spike one season later."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain
from tolok.track.anomalies import anomalies

CAL = Calendar()
History = list[tuple[dt.date, float | None]]


def months(values: list[float | None]) -> list[tuple[dt.date, float | None]]:
    return [(CAL.shift(dt.date(2024, 1, 1), Grain.month, i), v) for i, v in enumerate(values)]


def wave(n: int) -> list[float | None]:
    """A trend, a mild season and a December peak every year, with a little wobble."""
    return [
        100 + t + 5 * math.sin(2 * math.pi * t / 12) + (40 if t % 12 == 11 else 0) + (t % 3)
        for t in range(n)
    ]


def test_a_spike_is_flagged() -> None:
    values = wave(29)  # up to May 2026: the June after the spike is another story
    values[17] = (values[17] or 0) + 80  # June 2025
    found = {a.period: a for a in anomalies(months(values), season=12)}
    assert found[dt.date(2025, 6, 1)].score > 3.5
    # The spike, and the first December peak (a surprise the first time only).
    assert set(found) == {dt.date(2024, 12, 1), dt.date(2025, 6, 1)}


def test_a_recurring_december_peak_is_no_anomaly_once_a_year_is_known() -> None:
    found = anomalies(months(wave(36)), season=12)
    assert [a.period for a in found if a.period.year > 2024] == []


def test_short_histories_and_flat_ones_give_nothing() -> None:
    assert anomalies(months([1.0, 2.0, 3.0])) == []
    assert anomalies(months([5.0] * 20)) == []


# --- no echoes (issue 18): synthetic series whose anomalies are known ---------------------

SEEDS = range(5)


def days(values: list[float | None], first: dt.date = dt.date(2024, 1, 1)) -> History:
    return [(first + dt.timedelta(days=i), v) for i, v in enumerate(values)]


def daily(seed: int, n: int = 730) -> tuple[np.ndarray, float]:
    """Two years by day: level 500, a trend, a weekday pattern, a yearly wave, noise sigma."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    weekday = rng.normal(0, 30, 7)
    yearly = rng.uniform(40, 90) * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 2 * np.pi))
    sigma = rng.uniform(12, 20)
    trend = rng.uniform(0, 0.2) * t
    noise = rng.normal(0, sigma, n)
    return 500 + trend + weekday[t % 7] - weekday.mean() + yearly + noise, sigma


def monthly(seed: int, n: int = 60) -> tuple[np.ndarray, float]:
    """Five years by month: level 2,000, a trend, a pattern by month of the year, noise."""
    rng = np.random.default_rng(seed + 1000)
    t = np.arange(n)
    by_month = rng.normal(0, 150, 12)
    sigma = rng.uniform(50, 80)
    trend = rng.uniform(0, 12) * t
    return 2000 + trend + by_month[t % 12] - by_month.mean() + rng.normal(0, sigma, n), sigma


def plant(seed: int, n: int, season: int, sigma: float, count: int) -> dict[int, float]:
    """Spikes and drops of 8-12 sigmas at random periods with a season back, none within
    four periods of another nor one to four whole seasons from another."""
    rng = np.random.default_rng(seed + 2000)
    chosen: dict[int, float] = {}
    while len(chosen) < count:
        at = int(rng.integers(season + 4, n))
        apart = [abs(at - o) for o in chosen]
        if all(d > 4 and (d % season or d > 4 * season) for d in apart):
            chosen[at] = float(rng.choice([-1.0, 1.0]) * rng.uniform(8, 12) * sigma)
    return chosen


def flagged(values: np.ndarray, season: int) -> dict[int, float]:
    """Index: score of each flagged period."""
    history = days([float(v) for v in values])
    index = {period: i for i, (period, _) in enumerate(history)}
    return {index[a.period]: a.score for a in anomalies(history, season=season)}


SERIES = {"daily": (daily, 7, 8), "monthly": (monthly, 12, 3)}


@pytest.mark.parametrize("kind", SERIES)
def test_clean_seasonal_series_are_flagged_at_most_once_in_a_hundred_points(kind: str) -> None:
    make, season, _ = SERIES[kind]
    points = flags = 0
    for seed in SEEDS:
        values, _ = make(seed)
        points += len(values)
        flags += len(flagged(values, season))
    assert flags <= 0.01 * points


@pytest.mark.parametrize("kind", SERIES)
def test_planted_anomalies_are_found_and_not_echoed_a_season_later(kind: str) -> None:
    """An echo is a flag one season after a planted anomaly that the same series without
    the anomaly does not have (a flag the noise alone makes there is no echo)."""
    make, season, count = SERIES[kind]
    for seed in SEEDS:
        values, sigma = make(seed)
        planted = plant(seed, len(values), season, sigma, count)
        spiked = values.copy()
        for at, size in planted.items():
            spiked[at] += size
        before, after = flagged(values, season), flagged(spiked, season)
        for at, size in planted.items():
            assert at in after, (seed, at)
            assert after[at] * size > 0, (seed, at)
            echo = at + season
            assert echo not in after or echo in before, (seed, at)


def test_a_spike_is_not_the_reference_for_the_same_month_a_year_later() -> None:
    values = wave(36)
    values[17] = (values[17] or 0) + 80  # June 2025; June 2026 is an ordinary June
    found = {a.period for a in anomalies(months(values), season=12)}
    assert found == {dt.date(2024, 12, 1), dt.date(2025, 6, 1)}


def test_an_outage_on_a_weekday_does_not_echo_a_week_later() -> None:
    weekday = [20, 25, 22, 24, 30, -40, -50]  # busy Friday, quiet weekend
    values: list[float | None] = [
        1000 + 0.5 * t + weekday[t % 7] + 6 * math.sin(t * 2.1) for t in range(120)
    ]
    values[60] = (values[60] or 0) - 400  # an outage
    found = {a.period: a.score for a in anomalies(days(values), season=7)}
    assert list(found) == [dt.date(2024, 3, 1)]
    assert found[dt.date(2024, 3, 1)] < -3.5


def test_a_step_change_is_flagged_for_a_few_periods_and_then_followed() -> None:
    values, sigma = daily(7)
    before = flagged(values, 7)
    stepped = values.copy()
    stepped[400:] += 15 * sigma  # a price change, a new tracking tag
    new = set(flagged(stepped, 7)) - set(before)
    assert 400 in new
    assert new <= {400, 401, 402}


def test_missing_periods_are_skipped_not_taken_for_zero() -> None:
    values, sigma = daily(3, n=200)
    history = days([float(v) for v in values])
    history[100] = (history[100][0], float(values[100] + 10 * sigma))
    for gap in (50, 51, 120):
        history[gap] = (history[gap][0], None)
    found = {a.period for a in anomalies(history, season=7)}
    assert history[100][0] in found
    assert not found & {history[i][0] for i in (52, 53, 107, 121, 122)}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), power=st.integers(-20, 20))
def test_verdicts_do_not_depend_on_the_unit(seed: int, power: int) -> None:
    """Cents or dollars, thousands or units: the same periods, with the same scores."""
    values, _ = daily(seed, n=120)
    plain = anomalies(days([float(v) for v in values]), season=7)
    scaled = anomalies(days([float(v) * 2.0**power for v in values]), season=7)
    assert [(a.period, a.score) for a in scaled] == [(a.period, a.score) for a in plain]
