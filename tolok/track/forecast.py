"""Forecasts of a KPI's next periods with a prediction interval, and how good they are.

The model is statsforecast's AutoETS (exponential smoothing, chosen by information
criterion), seasonal when the history holds at least two full seasons (12 months, 4
quarters, 52 weeks, 7 days), otherwise without a season; a history too short for it gets a
random walk with drift. Its error is measured by a
backtest: for each of the last periods, a forecast from the history before it, scored as
MASE — the mean absolute error divided by that of the seasonal-naive forecast (the same
period a season before, or the period before) — so below 1 beats the naive rule.

statsforecast takes a second to import; it is imported only when a forecast is made.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain

SEASON = {Grain.day: 7, Grain.week: 52, Grain.month: 12, Grain.quarter: 4, Grain.fiscal_quarter: 4}
MIN_HISTORY = 4


@dataclass(frozen=True)
class Forecast:
    period: dt.date
    mean: float
    low: float  # the interval's bounds at `level` percent
    high: float
    level: int


def season_length(grain: Grain, periods: int) -> int:
    """The grain's season when the history covers two of them, else 1 (no season)."""
    season = SEASON.get(grain, 1)
    return season if periods >= 2 * season else 1


def forecast(
    history: list[tuple[dt.date, float | None]],
    grain: Grain,
    calendar: Calendar,
    horizon: int = 3,
    level: int = 80,
) -> list[Forecast]:
    """The next `horizon` periods after the history (which must end with its last period).

    Leading empty periods are dropped; a history with gaps inside, or shorter than four
    periods, gives no forecast (an empty list) rather than a made-up one.
    """
    values = _series(history)
    if values is None or horizon < 1:
        return []
    predicted = _fit(values, season_length(grain, len(values))).predict(h=horizon, level=[level])
    last = history[-1][0]
    return [
        Forecast(
            calendar.shift(last, grain, step + 1),
            float(predicted["mean"][step]),
            float(predicted[f"lo-{level}"][step]),
            float(predicted[f"hi-{level}"][step]),
            level,
        )
        for step in range(horizon)
    ]


@dataclass(frozen=True)
class Backtest:
    periods: int  # how many one-step forecasts were scored
    mase: float  # the model's error relative to the seasonal-naive error (< 1 is better)
    model_mae: float
    naive_mae: float
    season: int


def backtest(
    history: list[tuple[dt.date, float | None]], grain: Grain, folds: int = 6
) -> Backtest | None:
    """One-step-ahead forecasts for each of the last `folds` periods, from what came before."""
    values = _series(history)
    if values is None or len(values) < MIN_HISTORY + folds:
        return None
    season = season_length(grain, len(values) - folds)
    lag = season if season > 1 else 1
    model_errors, naive_errors = [], []
    for cut in range(len(values) - folds, len(values)):
        past = values[:cut]
        fitted = _fit(past, season_length(grain, len(past)))
        model_errors.append(abs(float(fitted.predict(h=1)["mean"][0]) - values[cut]))
        naive_errors.append(abs(values[cut - lag] - values[cut]))
    model_mae = float(np.mean(model_errors))
    naive_mae = float(np.mean(naive_errors))
    mase = model_mae / naive_mae if naive_mae > 0 else math.inf
    return Backtest(folds, mase, model_mae, naive_mae, season)


def _series(history: list[tuple[dt.date, float | None]]) -> np.ndarray | None:
    values = [v for _, v in history]
    while values and values[0] is None:
        values.pop(0)
    if len(values) < MIN_HISTORY or any(v is None or not math.isfinite(v) for v in values):
        return None
    return np.array(values, dtype=float)


def _fit(values: np.ndarray, season: int) -> Any:
    """AutoETS; on histories too short for it, a random walk with drift (the trend of the
    whole history carried forward, with an interval that widens with each step)."""
    from statsforecast.models import AutoETS, RandomWalkWithDrift

    try:
        return AutoETS(season_length=season).fit(values)
    except (NotImplementedError, ValueError):
        return RandomWalkWithDrift().fit(values)
