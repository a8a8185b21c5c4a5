"""Targets per period for each form, and standing for each direction — hand-computed."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain
from tolok.track.status import Standing, attainment, standing
from tolok.track.targets import target_series, targets_at

CAL = Calendar()
MONTHS = [dt.date(2026, m, 1) for m in range(1, 7)]


def kpi(**fields: object) -> KPI:
    return KPI.model_validate({"formula": "x", **fields})


def test_constant_from_and_until() -> None:
    k = kpi(target={"value": 0.03, "from": "2026-02", "until": "2026-04"})
    assert list(target_series(k, MONTHS, CAL, {}).values()) == [None, 0.03, 0.03, 0.03, None, None]


def test_points_and_a_later_form_overrides_an_earlier_one() -> None:
    k = kpi(
        target=[
            {"value": 100, "from": "2026-01"},
            {"period": "2026-03", "value": 160},
            {"period": "2026-05-20", "value": 220},  # a day: its month at month grain
        ]
    )
    assert list(target_series(k, MONTHS, CAL, {}).values()) == [100, 100, 160, 100, 220, 100]


def test_growth_against_last_year_and_previous() -> None:
    actuals = {dt.date(2025, 1, 1): 50.0, dt.date(2025, 2, 1): 80.0, dt.date(2026, 1, 1): 70.0}
    yearly = kpi(target={"growth": 0.2, "vs": "last_year"})
    got = target_series(yearly, MONTHS[:3], CAL, actuals)
    assert got[dt.date(2026, 1, 1)] == pytest.approx(60.0)
    assert got[dt.date(2026, 2, 1)] == pytest.approx(96.0)
    assert got[dt.date(2026, 3, 1)] is None  # no actual a year before
    monthly = kpi(target={"growth": 0.1, "vs": "previous", "from": "2026-02"})
    got = target_series(monthly, MONTHS[:2], CAL, actuals)
    assert got == {dt.date(2026, 1, 1): None, dt.date(2026, 2, 1): pytest.approx(77.0)}


def test_ramp_with_and_without_a_baseline() -> None:
    given = kpi(target={"ramp": {"to": 50, "by": "2026-05", "baseline": 30}, "from": "2026-01"})
    assert list(target_series(given, MONTHS, CAL, {}).values()) == [30, 35, 40, 45, 50, 50]
    measured = kpi(target={"ramp": {"to": 100, "by": "2026-03"}, "from": "2026-01"})
    got = target_series(measured, MONTHS[:4], CAL, {dt.date(2025, 12, 1): 40.0})
    assert list(got.values()) == [40, 70, 100, 100]


def test_slice_targets_belong_to_their_slice() -> None:
    k = kpi(
        target=[
            {"value": 10, "from": "2026-01"},
            {"value": 3, "from": "2026-01", "slice": {"region": "Bali"}},
        ]
    )
    assert target_series(k, MONTHS[:1], CAL, {})[MONTHS[0]] == 10
    assert target_series(k, MONTHS[:1], CAL, {}, {"region": "Bali"})[MONTHS[0]] == 3
    assert target_series(k, MONTHS[:1], CAL, {}, {"region": "Jawa"})[MONTHS[0]] is None


@pytest.mark.parametrize(
    ("fields", "value", "target", "share", "expected"),
    [
        ({}, 96, 100, 0.96, Standing.on_track),
        ({}, 90, 100, 0.90, Standing.at_risk),
        ({}, 80, 100, 0.80, Standing.off_track),
        ({}, 130, 100, 1.30, Standing.on_track),
        ({"direction": "down"}, 60, 60, 1.0, Standing.on_track),
        ({"direction": "down"}, 66, 60, 0.9, Standing.at_risk),
        ({"direction": "down"}, 75, 60, 0.75, Standing.off_track),
        ({"direction": "down"}, 30, 60, 1.5, Standing.on_track),
        ({"direction": "band", "tolerance": 0.1}, 4.3, 4.0, 1.0, Standing.on_track),
        ({"direction": "band", "tolerance": 0.1}, 3.5, 4.0, 0.975, Standing.on_track),
        ({"direction": "band", "tolerance": 0.1}, 4.8, 4.0, 0.9, Standing.at_risk),
        ({"direction": "band", "tolerance": 0.1}, 2.8, 4.0, 0.8, Standing.off_track),
        ({"thresholds": {"at_risk": 0.99, "off_track": 0.9}}, 96, 100, 0.96, Standing.at_risk),
        ({}, -50, -100, 1.5, Standing.on_track),  # a smaller loss than the target loss
    ],
)
def test_attainment_and_standing(
    fields: dict[str, object], value: float, target: float, share: float, expected: Standing
) -> None:
    k = kpi(**fields)
    assert attainment(value, target, k) == pytest.approx(share)
    assert standing(value, target, k) is expected


def test_no_data_and_no_target() -> None:
    k = kpi()
    assert standing(None, 10, k) is Standing.no_data
    assert standing(5, None, k) is Standing.no_target
    assert standing(5, 0, k) is Standing.no_target


def test_attainment_never_goes_below_zero() -> None:
    assert attainment(300, 75, kpi(direction="down")) == 0.0


def test_targets_roll_up_to_coarser_grains() -> None:
    revenue = kpi(target={"value": 100, "from": "2026-01"})
    q1 = [dt.date(2026, 1, 1)]
    assert targets_at(revenue, Grain.quarter, q1, CAL, {}, additive=True) == {q1[0]: 300}
    # A quarter none of whose days has a target has none (one in part: test_targets_grains).
    q4 = [dt.date(2025, 10, 1)]
    assert targets_at(revenue, Grain.quarter, q4, CAL, {}, additive=True) == {q4[0]: None}
    # A rate: 2% in January, 3% in February and March; sessions weigh them.
    conversion = kpi(
        target=[{"value": 0.02, "from": "2026-01"}, {"value": 0.03, "from": "2026-02"}]
    )
    sessions = {dt.date(2026, 1, 1): 1000.0, dt.date(2026, 2, 1): 500.0, dt.date(2026, 3, 1): 500.0}
    got = targets_at(conversion, Grain.quarter, q1, CAL, {}, additive=False, weights=sessions)
    assert got[q1[0]] == pytest.approx((20 + 15 + 15) / 2000)
    equal = targets_at(conversion, Grain.quarter, q1, CAL, {}, additive=False)
    assert equal[q1[0]] == pytest.approx(0.08 / 3)


def test_targets_split_to_finer_grains() -> None:
    revenue = kpi(target={"value": 310, "from": "2026-01"})
    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    assert targets_at(revenue, Grain.day, days, CAL, {}, additive=True) == {
        days[0]: pytest.approx(10.0),
        days[1]: pytest.approx(10.0),
    }
    rate = kpi(target={"value": 0.03, "from": "2026-01"})
    assert targets_at(rate, Grain.day, days, CAL, {}, additive=False) == dict.fromkeys(days, 0.03)
    # A week across two months: 6 of January's 31 days and 1 of February's 28.
    week = [dt.date(2026, 1, 26)]
    got = targets_at(revenue, Grain.week, week, CAL, {}, additive=True)
    assert got[week[0]] == pytest.approx(310 * 6 / 31 + 310 / 28)
