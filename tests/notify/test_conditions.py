"""Alert conditions on small, hand-made KPI states: which way is worse, open periods, and
stale data across several datasets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tolok.answers.verdicts import KpiState
from tolok.notify.conditions import Facts, look
from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain, Settings
from tolok.spec.sharing import Alert
from tolok.store.points import StoredPoint
from tolok.track.status import attainment, standing
from tolok.track.verdict import PeriodState, Series, Settling, judge

TODAY = dt.date(2026, 11, 15)
CALENDAR = Calendar.of(Settings(name="x"))


def state(
    kpi: KPI, values: list[float], target: float | None, open_value: float | None = None
) -> KpiState:
    """Closed months up to October 2026, and November (open on TODAY) when given, judged as
    every surface judges them."""
    months = [dt.date(2026, m, 1) for m in range(11 - len(values), 11)]
    points = [
        StoredPoint(p, (), v, 1, dt.datetime(2026, 11, 1))
        for p, v in zip(months, values, strict=True)
    ]
    if open_value is not None:
        points.append(
            StoredPoint(dt.date(2026, 11, 1), (), open_value, 1, dt.datetime(2026, 11, 1))
        )
    series = Series(kpi, Grain.month, [(p.period, p.value, target) for p in points], True)
    verdicts = judge(series, CALENDAR, TODAY, Settling())
    latest = points[len(values) - 1]
    share = attainment(values[-1], target, kpi) if target else None
    now = next((v for v in verdicts if v.state is PeriodState.open), None)
    return KpiState(
        points, latest, target, share, standing(values[-1], target, kpi),
        verdicts[len(values) - 1], now, tuple(verdicts),
    )  # fmt: skip


def facts(newest: dict[str, dt.date] | None = None, datasets: set[str] | None = None) -> Facts:
    return Facts(CALENDAR, TODAY, newest or {}, {"k": datasets or set()}, lambda *a: None)


def rule(**given: Any) -> Alert:
    return Alert.model_validate({"notify": ["ops@example.com"], **given})


@pytest.mark.parametrize(
    ("direction", "values", "wanted", "holds"),
    [
        ("up", [100, 70], "worse", True),  # down 30% on a KPI that should go up
        ("up", [100, 130], "worse", False),
        ("down", [100, 130], "worse", True),  # costs up 30%
        ("down", [100, 70], "worse", False),
        ("down", [100, 70], "better", True),
        ("up", [100, 130], "any", True),
    ],
)  # fmt: skip
def test_a_change_is_worse_in_the_kpis_bad_direction(
    direction: str, values: list[float], wanted: str, holds: bool
) -> None:
    kpi = KPI(formula="x", direction=direction)
    seen = look(
        rule(when="change", change=0.2, direction=wanted),
        "k",
        kpi,
        state(kpi, values, None),
        facts(),
    )
    assert seen.holds is holds
    assert seen.detail["change"] == pytest.approx((values[1] - values[0]) / values[0])


def test_a_band_kpi_is_worse_when_it_moves_away_from_its_target() -> None:
    kpi = KPI(formula="x", direction="band", tolerance=0.05)
    worse = rule(when="change", change=0.2, direction="worse")
    better = rule(when="change", change=0.2, direction="better")
    away = state(kpi, [100, 130], target=100)  # 0 from the target, then 30
    closer = state(kpi, [130, 100], target=100)  # 30 from it, then 0
    assert look(worse, "k", kpi, away, facts()).holds
    assert not look(better, "k", kpi, away, facts()).holds
    assert look(better, "k", kpi, closer, facts()).holds
    assert not look(worse, "k", kpi, closer, facts()).holds


def test_an_open_period_threshold_tells_only_the_open_value() -> None:
    kpi = KPI(formula="x")
    seen = look(rule(when="threshold", above=50, period="open"), "k", kpi,
                state(kpi, [10, 20], target=40, open_value=60), facts())  # fmt: skip
    assert seen.holds
    assert seen.period == dt.date(2026, 11, 1)
    assert seen.detail == {"value": 60, "open": True, "above": 50, "below": None}


def test_stale_data_follows_the_quietest_dataset() -> None:
    kpi = KPI(formula="x", grain="day")
    newest = {"orders": TODAY - dt.timedelta(days=1), "sessions": TODAY - dt.timedelta(days=9)}
    seen = look(rule(when="stale", after="3 days"), "k", kpi, state(kpi, [1, 2], None),
                facts(newest, {"orders", "sessions"}))  # fmt: skip
    assert seen.holds
    assert seen.detail["newest"] == (TODAY - dt.timedelta(days=9)).isoformat()
    assert seen.detail["days"] == 9


def test_after_shorter_than_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="dated by the day"):
        rule(when="stale", after="6 hours")
    assert rule(when="stale", after="P2D").after == dt.timedelta(days=2)  # as stored
