"""Impact of a change on synthetic data with a known injected effect."""

from __future__ import annotations

import datetime as dt
import math
import random

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain
from tolok.track.impact import impact, verdict

CAL = Calendar()
START = dt.date(2023, 1, 1)


def series(effect: float, seed: int) -> list[tuple[dt.date, float | None]]:
    """Three years of a seasonal, trending KPI with noise; `effect` added from month 31."""
    rng = random.Random(seed)
    out: list[tuple[dt.date, float | None]] = []
    for t in range(36):
        value = 100 + 1.5 * t + 8 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 1.0)
        out.append((CAL.shift(START, Grain.month, t), value + (effect if t > 30 else 0)))
    return out


CHANGE = dt.date(2025, 7, 10)  # in month 30 (July 2025): months 31-35 are after it


def test_an_injected_effect_is_found_and_its_interval_covers_it() -> None:
    for seed in range(3):
        result = impact(series(15.0, seed), CHANGE, Grain.month, CAL)
        assert result is not None
        assert result.periods == 5
        assert result.low <= 15.0 <= result.high
        assert result.clear
        assert result.low > 0


def test_no_effect_covers_zero() -> None:
    for seed in range(3):
        result = impact(series(0.0, seed), CHANGE, Grain.month, CAL)
        assert result is not None
        assert result.low <= 0.0 <= result.high
        assert not result.clear


def test_verdict_in_plain_words() -> None:
    raised = impact(series(15.0, 0), CHANGE, Grain.month, CAL)
    assert raised is not None
    assert verdict(raised, "revenue", "15", "10", "20") == (
        "likely raised revenue by 10 to 20 (about 15)"
    )
    flat = impact(series(0.0, 0), CHANGE, Grain.month, CAL)
    assert flat is not None
    assert (
        verdict(flat, "revenue", "0", "-3", "4") == "no clear effect on revenue: between -3 and 4"
    )


def test_too_little_history_or_nothing_after() -> None:
    assert impact(series(0.0, 0)[:3], CHANGE, Grain.month, CAL) is None
    assert impact(series(0.0, 0)[:31], CHANGE, Grain.month, CAL) is None
