"""Anomalies: a spike is flagged, a recurring seasonal peak is not."""

from __future__ import annotations

import datetime as dt
import math

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain
from tolok.track.anomalies import anomalies

CAL = Calendar()


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
