"""Slice targets, targets people set and periods a target covers in part, at every grain;
and the slice a `where` filter names — hand-computed."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain
from tolok.track.seasonal import DayProfile
from tolok.track.targets import judged_slice, people_targets, targets_at, where_slice

CAL = Calendar()
WEST = {"region": "West"}
Q4 = dt.date(2014, 10, 1)


def kpi(**fields: object) -> KPI:
    return KPI.model_validate({"formula": "x", **fields})


REVENUE = kpi(
    target=[
        {"value": 60000, "from": "2014-01"},
        {"value": 25000, "from": "2014-01", "slice": WEST},
    ]
)


def test_a_slice_target_rolls_up_to_the_quarter() -> None:
    got = targets_at(REVENUE, Grain.quarter, [Q4], CAL, {}, True, slice_=WEST)
    assert got == {Q4: pytest.approx(75000)}  # 3 months of 25k
    east = targets_at(REVENUE, Grain.quarter, [Q4], CAL, {}, True, slice_={"region": "East"})
    assert east == {Q4: None}  # no target of its own, and never the total's


def test_a_slice_target_splits_to_a_week_across_two_months() -> None:
    k = kpi(
        target=[
            {"period": "2014-09", "value": 30000, "slice": WEST},
            {"period": "2014-10", "value": 31000, "slice": WEST},
        ]
    )
    week = dt.date(2014, 9, 29)  # 2014-W40: 29-30 September and 1-5 October
    got = targets_at(k, Grain.week, [week], CAL, {}, True, slice_=WEST)
    assert got == {week: pytest.approx(30000 * 2 / 30 + 31000 * 5 / 31)}  # 2000 + 5000


def test_a_target_set_by_a_person_counts_in_the_quarter() -> None:
    people = {dt.date(2014, 12, 1): 99000.0}
    got = targets_at(REVENUE, Grain.quarter, [Q4], CAL, {}, True, overrides=people)
    assert got == {Q4: pytest.approx(60000 + 60000 + 99000)}
    west = {dt.date(2014, 11, 1): 30000.0}
    got = targets_at(REVENUE, Grain.quarter, [Q4], CAL, {}, True, slice_=WEST, overrides=west)
    assert got == {Q4: pytest.approx(25000 + 30000 + 25000)}


def test_a_ratio_slice_target_is_weighted_by_the_slices_denominator() -> None:
    conversion = kpi(
        target=[
            {"value": 0.5, "from": "2014-01"},  # the total's: not West's
            {"period": "2014-10", "value": 0.1, "slice": WEST},
            {"period": "2014-11", "value": 0.2, "slice": WEST},
            {"period": "2014-12", "value": 0.4, "slice": WEST},
        ]
    )
    sessions = {
        dt.date(2014, 10, 1): 100.0,
        dt.date(2014, 11, 1): 300.0,
        dt.date(2014, 12, 1): 100.0,
    }
    got = targets_at(conversion, Grain.quarter, [Q4], CAL, {}, False, sessions, slice_=WEST)
    assert got == {Q4: pytest.approx((10 + 60 + 40) / 500)}  # 0.22, not the mean 0.233


def test_a_growth_rule_of_a_slice_reads_the_slices_own_values() -> None:
    k = kpi(target=[{"growth": 0.1, "vs": "last_year", "slice": WEST}])
    own = {dt.date(2013, m, 1): 1000.0 * (m - 9) for m in (10, 11, 12)}  # 1000, 2000, 3000
    got = targets_at(k, Grain.quarter, [Q4], CAL, own, True, slice_=WEST)
    assert got == {Q4: pytest.approx(1.1 * 6000)}


def test_the_iso_week_at_a_targets_start_gets_its_part() -> None:
    week = dt.date(2025, 12, 29)  # 2026-W01: 29-31 December (no target) and 1-4 January
    revenue = kpi(target={"value": 310, "from": "2026-01"})
    # 4 of January's 31 days: 40; at the same 10 a day, the whole week's 7 days: 70
    assert targets_at(revenue, Grain.week, [week], CAL, {}, True) == {week: pytest.approx(70)}
    rate = kpi(target={"value": 0.03, "from": "2026-01"})
    assert targets_at(rate, Grain.week, [week], CAL, {}, False) == {week: pytest.approx(0.03)}
    weighted = targets_at(rate, Grain.week, [week], CAL, {}, False, {dt.date(2026, 1, 1): 9.0})
    assert weighted == {week: pytest.approx(0.03)}


def test_a_week_at_a_targets_start_by_the_kpis_rhythm() -> None:
    profile = DayProfile((2, 2, 2, 2, 2, 1, 1), (1,) * 12)  # weekdays weigh 2, weekends 1
    week = dt.date(2025, 12, 29)
    revenue = kpi(target={"value": 530, "from": "2026-01"})
    # January 2026: 22 weekdays and 9 weekend days weigh 53; 1-4 January (Thu, Fri, Sat,
    # Sun) weigh 6: 60. The week weighs 12 (Mon-Wed in December weigh 6): 120.
    got = targets_at(revenue, Grain.week, [week], CAL, {}, True, profile=profile)
    assert got == {week: pytest.approx(120)}


def test_a_quarter_whose_first_month_has_no_target() -> None:
    revenue = kpi(target={"value": 100, "from": "2026-02"})
    q1 = dt.date(2026, 1, 1)
    # February and March (59 days) hold 200; the quarter's 90 days at that rate
    got = targets_at(revenue, Grain.quarter, [q1], CAL, {}, True)
    assert got == {q1: pytest.approx(200 * 90 / 59)}


def test_a_ramp_without_from_starts_once_at_the_first_period_asked() -> None:
    ramp = kpi(target={"ramp": {"to": 60, "by": "2026-07", "baseline": 30}})
    quarters = [dt.date(2026, 1, 1), dt.date(2026, 4, 1)]
    # January to July in 6 steps of 5: 30, 35, 40 | 45, 50, 55
    got = targets_at(ramp, Grain.quarter, quarters, CAL, {}, True)
    assert got == {quarters[0]: pytest.approx(105), quarters[1]: pytest.approx(150)}


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("region == 'West'", {"region": "West"}),
        ("'web' == channel and region == 'West'", {"region": "West", "channel": "web"}),
        ("region == 'West' and (channel == 'web' and store == 3)",
         {"region": "West", "channel": "web", "store": 3}),
        ("region == 'West' and region == 'West'", {"region": "West"}),
        ("region == 'West' and region == 'East'", None),
        ("region != 'West'", None),
        ("region == 'West' or region == 'East'", None),
        ("region in ('West',)", None),
        ("amount > 10", None),
        ("region == channel", None),
        ("region ==", None),
    ],
)  # fmt: skip
def test_the_slice_a_filter_names(where: str, named: dict[str, object] | None) -> None:
    assert where_slice(where) == named


def test_the_slice_a_series_is_judged_as() -> None:
    assert judged_slice({}, None) == {}
    assert judged_slice(WEST, None) == WEST
    assert judged_slice({}, "region == 'West'") == WEST
    assert judged_slice(WEST, "channel == 'web'") == {"region": "West", "channel": "web"}
    assert judged_slice(WEST, "region == 'East'") is None
    assert judged_slice(WEST, "amount > 10") is None


def test_people_targets_of_one_slice() -> None:
    oct_, nov = dt.date(2014, 10, 1), dt.date(2014, 11, 1)
    stored = {
        (oct_, "{}"): 1.0,
        (oct_, '{"region": "West"}'): 2.0,
        (nov, '{"channel": "web", "region": "West"}'): 3.0,
        (nov, '{"store": "3"}'): 4.0,
    }
    assert people_targets(stored, {}) == {oct_: 1.0}
    assert people_targets(stored, WEST) == {oct_: 2.0}
    assert people_targets(stored, {"region": "West", "channel": "web"}) == {nov: 3.0}
    assert people_targets(stored, {"store": 3}) == {nov: 4.0}


def test_a_level_is_held_against_its_last_months_target() -> None:
    """MRR rising 120k, 128k, 136k a month: Q3's MRR (September's) against 136k, not the
    408k of a sum nor the 128k of a mean."""
    mrr = KPI.model_validate(
        {"formula": "mrr", "target": [
            {"period": "2026-07", "value": 120000}, {"period": "2026-08", "value": 128000},
            {"period": "2026-09", "value": 136000},
        ]}
    )  # fmt: skip
    q3 = dt.date(2026, 7, 1)
    got = targets_at(mrr, Grain.quarter, [q3], CAL, {}, False, level=True)
    assert got == {q3: 136000}
    assert targets_at(mrr, Grain.quarter, [q3], CAL, {}, False) == {q3: 128000}


def test_a_levels_target_splits_as_the_same_level() -> None:
    """A quarterly MRR target of 136k holds for each of its months, not a third of it."""
    mrr = KPI.model_validate(
        {"grain": "quarter", "formula": "mrr", "target": [{"period": "2026-Q3", "value": 136000}]}
    )
    months = [dt.date(2026, m, 1) for m in (7, 8, 9)]
    got = targets_at(mrr, Grain.month, months, CAL, {}, False, level=True)
    assert got == dict.fromkeys(months, 136000)
    flow = targets_at(mrr, Grain.month, months, CAL, {}, True)
    assert flow[months[0]] == pytest.approx(136000 * 31 / 92)
