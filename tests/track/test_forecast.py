"""Forecasts on series whose future is known, and the backtest's error against naive."""

from __future__ import annotations

import datetime as dt
import math

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain
from tolok.track.forecast import backtest, forecast, season_length

CAL = Calendar()


def months(
    values: list[float | None], start: dt.date = dt.date(2024, 1, 1)
) -> list[tuple[dt.date, float | None]]:
    return [(CAL.shift(start, Grain.month, i), v) for i, v in enumerate(values)]


def seasonal(n: int) -> list[float]:
    """A trend of 2 a month and a yearly swing of ±10."""
    return [100 + 2 * t + 10 * math.sin(2 * math.pi * t / 12) for t in range(n)]


def test_a_seasonal_series_is_forecast_with_an_interval_around_the_truth() -> None:
    history = months(seasonal(36))
    ahead = forecast(history, Grain.month, CAL, horizon=3)
    truth = seasonal(39)[36:]
    assert [f.period for f in ahead] == [
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
        dt.date(2027, 3, 1),
    ]
    for predicted, actual in zip(ahead, truth, strict=True):
        assert predicted.low <= actual <= predicted.high
        assert abs(predicted.mean - actual) < 2
        assert predicted.level == 80


def test_backtest_beats_seasonal_naive_on_a_trend() -> None:
    result = backtest(months(seasonal(36)), Grain.month, folds=6)
    assert result is not None
    assert result.season == 12
    # Seasonal naive misses by a year of trend (24); the model follows the trend.
    assert result.naive_mae > 20
    assert result.mase < 0.2


def test_too_short_or_gappy_histories_give_no_forecast() -> None:
    assert forecast(months([1.0, 2.0, 3.0]), Grain.month, CAL) == []
    assert forecast(months([1.0, 2.0, None, 4.0, 5.0]), Grain.month, CAL) == []
    leading_gap = forecast(months([None, None, 5.0, 6.0, 7.0, 8.0, 9.0]), Grain.month, CAL, 1)
    assert len(leading_gap) == 1
    assert abs(leading_gap[0].mean - 10.0) < 0.5
    assert backtest(months([1.0, 2.0, 3.0, 4.0, 5.0]), Grain.month, folds=6) is None


def test_season_needs_two_full_seasons() -> None:
    assert season_length(Grain.month, 23) == 1
    assert season_length(Grain.month, 24) == 12
    assert season_length(Grain.year, 50) == 1
