"""Targets split and pro-rated by the KPI's own rhythm (`target_split: seasonal`)."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain, Project
from tolok.track.pace import elapsed
from tolok.track.seasonal import day_profile
from tolok.track.targets import targets_at

CALENDAR = Calendar.of(Project(name="t"))


def weekday_history(weeks: int = 10) -> dict[dt.date, float | None]:
    """Weekdays 10 a day, weekends 5, from Monday 2026-03-02."""
    start = dt.date(2026, 3, 2)
    return {
        start + dt.timedelta(days=i): 10.0 if (start + dt.timedelta(days=i)).weekday() < 5 else 5.0
        for i in range(weeks * 7)
    }


def test_weekday_factors_from_full_weeks() -> None:
    profile = day_profile(weekday_history())
    assert profile is not None
    # a week is 60: mean 60/7 a day; a weekday is 10/(60/7) = 7/6, a weekend day 7/12
    assert profile.weekday == pytest.approx((7 / 6,) * 5 + (7 / 12,) * 2)
    assert profile.month == (1.0,) * 12  # under a year: no month rhythm
    assert day_profile(weekday_history(weeks=7)) is None  # under eight weeks


def test_month_factors_need_a_year_either_side() -> None:
    history: dict[dt.date, float | None] = {}
    day = dt.date(2024, 1, 1)
    while day < dt.date(2026, 1, 1):
        history[day] = 20.0 if day.month == 12 else 10.0
        day += dt.timedelta(days=1)
    profile = day_profile(history)
    assert profile is not None
    # every weekday alike; a December day sells twice an ordinary one
    assert profile.weekday == pytest.approx((1.0,) * 7)
    assert profile.month[11] / profile.month[0] == pytest.approx(2.0)
    assert profile.month[3] == pytest.approx(profile.month[0])


def test_a_month_target_splits_to_days_and_weeks_by_the_rhythm() -> None:
    profile = day_profile(weekday_history())
    kpi = KPI.model_validate({"formula": "orders", "target": {"value": 600}})
    june = dt.date(2026, 6, 1)  # a Monday; June has 22 weekdays and 8 weekend days
    days = [june, dt.date(2026, 6, 6)]  # Monday, Saturday
    split = targets_at(kpi, Grain.day, days, CALENDAR, {}, True, profile=profile)
    # weights 2 (weekday) and 1 (weekend): 22 * 2 + 8 = 52 shares of 600
    assert split[june] == pytest.approx(600 * 2 / 52)
    assert split[dt.date(2026, 6, 6)] == pytest.approx(600 / 52)
    week = targets_at(kpi, Grain.week, [june], CALENDAR, {}, True, profile=profile)
    assert week[june] == pytest.approx(600 * 12 / 52)  # 5 weekdays and a weekend
    even = targets_at(kpi, Grain.day, [june], CALENDAR, {}, True)
    assert even[june] == pytest.approx(20.0)  # 600 / 30 days


def test_pace_counts_the_weight_of_the_days_passed() -> None:
    profile = day_profile(weekday_history())
    june, saturday = dt.date(2026, 6, 1), dt.date(2026, 6, 6)
    # Monday to Friday passed: 10 of 52 shares, where by days it is 5 of 30
    assert elapsed(june, Grain.month, CALENDAR, saturday, profile) == pytest.approx(10 / 52)
    assert elapsed(june, Grain.month, CALENDAR, saturday) == pytest.approx(5 / 30)
