"""The one judgment of a period (`tolok.track.verdict`): open periods judged by their heading
against a target pro-rated by hand, not-final and partial periods left unjudged, anomalies
only among whole periods."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain, Settings
from tolok.track.seasonal import DayProfile
from tolok.track.status import Standing
from tolok.track.verdict import PeriodState, Series, Settling, Verdict, judge, timing

CALENDAR = Calendar.of(Settings(name="x"))
D = dt.date


def one(kpi: KPI, grain: Grain, period: dt.date, value: float, target: float, today: dt.date,
        settling: Settling | None = None, additive: bool = True) -> Verdict:  # fmt: skip
    series = Series(kpi, grain, [(period, value, target)], additive)
    [verdict] = judge(series, CALENDAR, today, settling or Settling())
    return verdict


@pytest.mark.parametrize(
    ("value", "heading"),
    [(6000, Standing.on_track), (4500, Standing.at_risk), (4000, Standing.off_track)],
)
def test_an_open_month_is_held_against_the_target_pro_rated_to_the_days_passed(
    value: float, heading: Standing
) -> None:
    # 6 December: five of December's 31 days have passed; a 31,000 target is 5,000 so far.
    verdict = one(KPI(formula="x"), Grain.month, D(2026, 12, 1), value, 31000, D(2026, 12, 6))
    assert verdict.state is PeriodState.open
    assert verdict.elapsed == pytest.approx(5 / 31)
    assert verdict.expected == pytest.approx(5000)
    assert verdict.projected == pytest.approx(value * 31 / 5)
    assert verdict.heading is heading
    assert verdict.status is heading  # an open period's status is its heading, nothing else
    assert verdict.anomaly is None


def test_an_open_week_and_an_open_quarter_pro_rate_by_their_own_days() -> None:
    kpi = KPI(formula="x", grain=Grain.week)
    # ISO week 49 of 2026: Monday 30 November to Sunday 6 December; on Thursday three days
    # have passed. A target of 700 a week is 300 so far; 280 is 93% of it: at risk.
    week = one(kpi, Grain.week, D(2026, 11, 30), 280, 700, D(2026, 12, 3))
    assert (week.elapsed, week.expected) == (pytest.approx(3 / 7), pytest.approx(300))
    assert week.heading is Standing.at_risk
    # Q4: 92 days; on 15 November 45 have passed. 92,000 a quarter is 45,000 so far.
    quarter = one(kpi, Grain.quarter, D(2026, 10, 1), 45000, 92000, D(2026, 11, 15))
    assert (quarter.elapsed, quarter.expected) == (pytest.approx(45 / 92), pytest.approx(45000))
    assert quarter.heading is Standing.on_track


def test_an_open_ratio_is_judged_as_it_stands_and_on_the_first_day_not_at_all() -> None:
    kpi = KPI(formula="a / b")
    ratio = one(kpi, Grain.month, D(2026, 12, 1), 0.029, 0.03, D(2026, 12, 6), additive=False)
    assert ratio.heading is Standing.on_track  # 0.029 / 0.03 = 97%
    first = one(kpi, Grain.month, D(2026, 12, 1), 0.01, 0.03, D(2026, 12, 1), additive=False)
    assert (first.elapsed, first.heading, first.status) == (0.0, Standing.no_data, Standing.no_data)


def test_a_seasonal_rhythm_weighs_the_days_passed() -> None:
    # Weekends carry three times a weekday. On Sunday 6 December 2026 the days before today
    # are Tuesday 1 to Friday 4 (4) and Saturday 5 (3): 7 of December's whole weight.
    profile = DayProfile((1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0), (1.0,) * 12)
    weekends = sum(1 for d in range(1, 32) if D(2026, 12, d).weekday() >= 5)
    whole = (31 - weekends) + 3 * weekends
    found = timing(D(2026, 12, 1), Grain.month, CALENDAR, D(2026, 12, 6), Settling(), profile)
    assert found.elapsed == pytest.approx(7 / whole)


def test_a_conversion_window_keeps_a_closed_month_provisional_until_it_runs_out() -> None:
    kpi = KPI(formula="x")
    window = Settling(allowance=dt.timedelta(days=30))
    # November's last trials (30 November) may convert until 30 December: final on the 31st.
    on_6th = one(kpi, Grain.month, D(2026, 11, 1), 0.185, 0.243, D(2026, 12, 6), window)
    assert on_6th.state is PeriodState.not_final
    assert (on_6th.status, on_6th.anomaly, on_6th.final_on) == (None, None, D(2026, 12, 31))
    on_30th = one(kpi, Grain.month, D(2026, 11, 1), 0.185, 0.243, D(2026, 12, 30), window)
    assert on_30th.state is PeriodState.not_final
    on_31st = one(kpi, Grain.month, D(2026, 11, 1), 0.185, 0.243, D(2026, 12, 31), window)
    assert on_31st.state is PeriodState.closed
    assert on_31st.status is Standing.off_track  # 0.185 / 0.243 = 76%
    # The month under way converts over the weeks after it: no heading from its start.
    now = one(kpi, Grain.month, D(2026, 12, 1), 0.018, 0.243, D(2026, 12, 6), window)
    assert (now.state, now.heading, now.status) == (PeriodState.open, None, None)


def test_a_first_period_the_data_starts_late_in_is_partial() -> None:
    kpi = KPI(formula="x")
    late = Settling(first_day=D(2026, 3, 20))  # a first quarter with 12 of its 90 days
    q1 = one(kpi, Grain.quarter, D(2026, 1, 1), 100, 1000, D(2026, 6, 1), late)
    assert (q1.state, q1.status, q1.anomaly) == (PeriodState.partial, None, None)
    q2 = one(kpi, Grain.quarter, D(2026, 4, 1), 1000, 1000, D(2026, 7, 1), late)
    assert q2.state is PeriodState.closed
    # Thursday 3 December: a week with four of its seven days is partial; a month whose
    # first rows are on the 5th (4 of 31 days before them) is judged whole.
    week = one(kpi, Grain.week, D(2026, 11, 30), 10, 70, D(2026, 12, 14),
               Settling(first_day=D(2026, 12, 3)))  # fmt: skip
    assert week.state is PeriodState.partial
    month = one(kpi, Grain.month, D(2026, 1, 1), 10, 70, D(2026, 3, 1),
                Settling(first_day=D(2026, 1, 5)))  # fmt: skip
    assert month.state is PeriodState.closed


def test_a_rolling_window_reaching_before_the_data_is_partial() -> None:
    kpi = KPI(formula="rolling(x, 3)")
    # rolling(x, 3) in October reads August to October; the data starts on 1 September.
    rolling = Settling(first_day=D(2026, 9, 1), reach=2)
    october = one(kpi, Grain.month, D(2026, 10, 1), 10, 10, D(2026, 12, 6), rolling)
    november = one(kpi, Grain.month, D(2026, 11, 1), 10, 10, D(2026, 12, 6), rolling)
    assert (october.state, november.state) == (PeriodState.partial, PeriodState.closed)
    # Year to date in March reads from January; data from 15 February misses 45 of 90 days.
    ytd = Settling(first_day=D(2026, 2, 15), to_date=Grain.year)
    march = one(kpi, Grain.month, D(2026, 3, 1), 10, 10, D(2026, 12, 6), ytd)
    assert march.state is PeriodState.partial


def test_only_whole_final_periods_are_unusual() -> None:
    kpi = KPI(formula="x")
    months = [D(2025, m, 1) for m in range(1, 13)] + [D(2026, m, 1) for m in range(1, 13)]
    values = [1000.0 + (i % 3) for i in range(len(months))]
    values[-1] = 150.0  # December 2026 so far: five days of a month
    series = Series(
        kpi, Grain.month, [(p, v, None) for p, v in zip(months, values, strict=True)], True
    )
    verdicts = judge(series, CALENDAR, D(2026, 12, 6), Settling())
    assert verdicts[-1].state is PeriodState.open
    assert all(v.anomaly is None for v in verdicts)
    # The same drop in a closed month is unusual.
    closed = judge(series, CALENDAR, D(2027, 1, 1), Settling())
    assert closed[-1].anomaly is not None
    assert closed[-1].anomaly.score < 0
    # And in a month still provisional, it is not (yet).
    provisional = judge(series, CALENDAR, D(2027, 1, 1), Settling(dt.timedelta(days=30)))
    assert provisional[-1].state is PeriodState.not_final
    assert provisional[-1].anomaly is None


def test_a_distinct_count_under_way_gets_no_heading() -> None:
    # 2,574 active users by the 5th against a month's 3,510: a month's distinct users are
    # not five days' users times six, nor already "off track".
    series = Series(KPI(formula="users"), Grain.month, [(D(2026, 10, 1), 2574, 3510)], False,
                    readable_so_far=False)  # fmt: skip
    [verdict] = judge(series, CALENDAR, D(2026, 10, 5), Settling())
    assert (verdict.state, verdict.heading, verdict.status) == (PeriodState.open, None, None)
    assert verdict.elapsed == pytest.approx(4 / 31)


def test_a_last_period_that_stopped_data_ends_early_in_is_partial() -> None:
    kpi = KPI(formula="x")
    # The data stopped on 10 November (last_day is only set for data that stopped): 20 of
    # November's 30 days are missing; October is whole; December has no data at all.
    stopped = Settling(last_day=D(2026, 11, 10))
    today = D(2027, 1, 15)
    october = one(kpi, Grain.month, D(2026, 10, 1), 10, 10, today, stopped)
    november = one(kpi, Grain.month, D(2026, 11, 1), 3, 10, today, stopped)
    december = one(kpi, Grain.month, D(2026, 12, 1), 0, 10, today, stopped)
    assert october.state is PeriodState.closed
    assert (november.state, november.status) == (PeriodState.partial, None)
    assert december.state is PeriodState.partial
    # Data that stopped on the 28th misses 2 of 30 days: still judged whole.
    late = one(kpi, Grain.month, D(2026, 11, 1), 9, 10, today, Settling(last_day=D(2026, 11, 28)))
    assert late.state is PeriodState.closed


def test_an_open_rolling_sum_is_pro_rated_over_its_window() -> None:
    # rolling(revenue, 3) on 6 December: October, November and five days of December — 66
    # of the window's 92 days. 6,600 against a 9,200 target is 6,600 / (9,200 x 66/92) =
    # 100%, not the 72% of a whole window.
    kpi = KPI(formula="rolling(revenue, 3)")
    series = Series(kpi, Grain.month, [(D(2026, 12, 1), 6600, 9200)], False, windowed=True)
    [verdict] = judge(series, CALENDAR, D(2026, 12, 6), Settling(reach=2))
    assert verdict.elapsed == pytest.approx(5 / 31)  # the month's share, as shown
    assert verdict.expected == pytest.approx(9200 * 66 / 92)
    assert verdict.heading is Standing.on_track
    # A ratio over a window is read as it stands.
    ratio = Series(kpi, Grain.month, [(D(2026, 12, 1), 0.029, 0.03)], False)
    [rate] = judge(ratio, CALENDAR, D(2026, 12, 6), Settling(reach=2))
    assert (rate.expected, rate.heading) == (0.03, Standing.on_track)


def test_an_open_level_heads_where_its_trend_takes_it() -> None:
    """MRR of 100, 110 and 120 at the ends of February to April, 124 on 16 May: half of May's
    31 days are left, and at +10 a month it ends May at 124 + 10 x 16/31 = 129.2, which is
    on track for 133 (97 %, at least 95 %) although 124 alone is only at risk (93 %)."""
    kpi = KPI(formula="mrr")
    points = [(D(2026, 2, 1), 100.0, 133.0), (D(2026, 3, 1), 110.0, 133.0),
              (D(2026, 4, 1), 120.0, 133.0), (D(2026, 5, 1), 124.0, 133.0)]  # fmt: skip
    series = Series(kpi, Grain.month, points, additive=False, level=True)
    verdict = judge(series, CALENDAR, D(2026, 5, 16), Settling())[-1]
    assert verdict.state is PeriodState.open
    assert verdict.elapsed == pytest.approx(15 / 31)
    assert verdict.projected == pytest.approx(124 + 10 * 16 / 31)
    assert verdict.expected == 133.0  # a level's target is not pro-rated
    assert verdict.heading is Standing.on_track
    # Without history there is no trend: where it stands now.
    alone = Series(kpi, Grain.month, points[-1:], additive=False, level=True)
    assert judge(alone, CALENDAR, D(2026, 5, 16), Settling())[-1].heading is Standing.at_risk
