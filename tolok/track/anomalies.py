"""Periods far outside what a KPI usually does, robust to trend and season.

Each period's value is compared with what it "should" be: the median of the four periods
before it, shifted by how the same period a season before sat against its own four
predecessors when the history allows — so a December that is always high is no surprise.
The gaps (less their median, which absorbs a steady trend) are scaled by their median
absolute deviation, a spread that outliers do not inflate, and never by less than 2% of the
KPI's typical level; a period whose scaled gap exceeds `threshold` (3.5 by default, the
usual modified z-score cut) is an anomaly.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

MIN_PERIODS = 8


@dataclass(frozen=True)
class Anomaly:
    period: dt.date
    value: float
    expected: float
    score: float  # modified z-score: positive when higher than expected


def anomalies(
    history: list[tuple[dt.date, float | None]], season: int = 1, threshold: float = 3.5
) -> list[Anomaly]:
    """The anomalous periods of a history (in order), or none when it is too short.

    The first time a seasonal peak shows up it is a surprise, and is flagged. A one-off
    spike sets the expectation for the same period a season later too, which may then look
    low: annotate such a spike (`tolok annotate`) so that people reading the board know.
    """
    return _scan(history, [v for _, v in history], season, threshold)


def _scan(
    history: list[tuple[dt.date, float | None]],
    basis: list[float | None],
    season: int,
    threshold: float,
) -> list[Anomaly]:
    values = [v for _, v in history]
    if len([v for v in values if v is not None]) < MIN_PERIODS:
        return []
    expected = [_expected(basis, i, season) for i in range(len(values))]
    gaps = [v - e for v, e in zip(values, expected, strict=True) if v is not None and e is not None]
    if len(gaps) < MIN_PERIODS:
        return []
    center = statistics.median(gaps)
    level = statistics.median(abs(v) for v in values if v is not None)
    spread = max(statistics.median(abs(g - center) for g in gaps) * 1.4826, 0.02 * level)
    if spread == 0:
        return []
    out = []
    for (period, value), guess in zip(history, expected, strict=True):
        if value is None or guess is None:
            continue
        score = (value - guess - center) / spread
        if abs(score) > threshold:
            out.append(Anomaly(period, value, guess, score))
    return out


def _before(values: list[float | None], index: int) -> float | None:
    """The median of the (up to) four periods before, when at least three are known."""
    earlier = [v for v in values[max(0, index - 4) : index] if v is not None]
    return statistics.median(earlier) if len(earlier) >= 3 else None


def _expected(values: list[float | None], index: int, season: int) -> float | None:
    local = _before(values, index)
    if local is None:
        return None
    back = index - season
    if season > 1 and back >= 0:
        then, typical = values[back], _before(values, back)
        if then is not None and typical is not None:
            return local + (then - typical)
    return local
