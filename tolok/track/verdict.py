"""One judgment of a period, read by every surface: whether it is closed, open, not final or
partial, and the verdict that follows — status, heading, attainment, anomaly.

- **open**: today falls in it (or it has not started). Its value is a part of the period's:
  it is never held against the whole target, compared with a whole period or called
  unusual. It is judged by its heading: the value so far against the target pro-rated to
  the share of the period elapsed (by days, or by the KPI's own rhythm), which is the same
  as its projected end against the whole target. A level (MRR, headcount) is not pro-rated:
  its projected end is its value now moved on by its recent change per period.
- **partial**: the data covers only part of it — a first period that the data starts in
  the middle of, a last one that data which stopped ends in the middle of, a rolling
  window or year-to-date that reaches before the data.
  No status, no anomaly: its value is not that of a whole period. (The period under way,
  where recent data stops, is open.)
- **not final**: closed, but its value may still change — a conversion window (`within`)
  of one of its measures, or the KPI's `final_after` allowance for rows that arrive late,
  has not run out since the period ended. Shown as provisional: no status, no anomaly, no
  alert until it is final.
- **closed**: everything else; judged whole.

Pure: callers pass the values, targets and anomalies they read; `judge` decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain
from tolok.track.anomalies import Anomaly, anomalies
from tolok.track.pace import Pace, elapsed, pace, passed
from tolok.track.seasonal import DayProfile
from tolok.track.status import Standing, attainment, standing

UNCOVERED = 0.25
"""A period more than this share of whose days come before the data begins (or after data
that stopped ends) is partial: a data set that starts on the 20th makes its first month
partial, one whose first rows are on the 5th (a holiday, a quiet week, five deals a month)
does not."""


class PeriodState(StrEnum):
    closed = "closed"
    open = "open"
    not_final = "not_final"
    partial = "partial"


@dataclass(frozen=True)
class Settling:
    """What a KPI's periods depend on beyond the calendar: how long after a period ends its
    value may still change, which days the data covers, and how far back its values reach
    (a rolling window of `reach` periods before its own)."""

    allowance: dt.timedelta = dt.timedelta(0)
    first_day: dt.date | None = None
    last_day: dt.date | None = None  # the last day of data that stopped (None: still coming)
    reach: int = 0
    to_date: Grain | None = None  # values from the start of this enclosing period (to_date)


@dataclass(frozen=True)
class Timing:
    state: PeriodState
    elapsed: float | None = None  # the open period's share passed, 0 to 1
    window_elapsed: float | None = None  # of its window (rolling, to_date), when it has one
    final_on: dt.date | None = None  # a not-final period: the day it becomes final


def timing(
    period: dt.date,
    grain: Grain,
    calendar: Calendar,
    today: dt.date,
    settling: Settling,
    profile: DayProfile | None = None,
) -> Timing:
    """Where a period (its first day at `grain`) stands on `today`."""
    end = calendar.end_of(period, grain)
    window_start = calendar.shift(period, grain, -settling.reach) if settling.reach else period
    if settling.to_date is not None:
        window_start = min(window_start, calendar.start_of(period, settling.to_date))
    if today < end:
        share = elapsed(period, grain, calendar, today, profile)
        return Timing(PeriodState.open, share, passed(window_start, end, today, profile))
    if _uncovered(window_start, end, settling) > UNCOVERED:
        return Timing(PeriodState.partial)
    final_on = end + settling.allowance
    if today < final_on:
        return Timing(PeriodState.not_final, final_on=final_on)
    return Timing(PeriodState.closed)


def _uncovered(start: dt.date, end: dt.date, settling: Settling) -> float:
    """The share of the days from `start` up to `end` before the data begins or after it
    stopped (`last_day` is set only for data that stopped: see `tolok.answers.verdicts`)."""
    days = (end - start).days
    if days <= 0:
        return 0.0
    missing = 0
    if settling.first_day is not None and settling.first_day > start:
        missing += (settling.first_day - start).days
    last = end - dt.timedelta(days=1)
    if settling.last_day is not None and settling.last_day < last:
        missing += (last - max(settling.last_day, start - dt.timedelta(days=1))).days
    return min(1.0, missing / days)


@dataclass(frozen=True)
class Verdict:
    """A period's judgment: what every surface shows of it."""

    period: dt.date
    state: PeriodState
    value: float | None
    target: float | None  # the whole period's
    status: Standing | None  # closed: against the target; open: its heading; else none
    attainment: float | None = None
    elapsed: float | None = None
    expected: float | None = None  # open: the target pro-rated to the share elapsed
    projected: float | None = None  # open: where it ends at this pace
    heading: Standing | None = None  # open only
    anomaly: Anomaly | None = None  # closed only
    final_on: dt.date | None = None

    @property
    def judged(self) -> bool:
        """Judged as a whole period: closed, final and covered by the data."""
        return self.state is PeriodState.closed

    @property
    def provisional(self) -> bool:
        return self.state is PeriodState.not_final


@dataclass(frozen=True)
class Series:
    """One slice's periods at one grain, with what judging them needs."""

    kpi: KPI
    grain: Grain
    points: Sequence[tuple[dt.date, float | None, float | None]]  # period, value, target
    additive: bool
    earlier: Sequence[tuple[dt.date, float | None]] = ()  # values before the first point
    profile: DayProfile | None = None  # the KPI's rhythm (target_split: seasonal)
    readable_so_far: bool = True
    """Whether an open period's value so far tells where it heads: not for a distinct
    count (`tolok.track.pace.grows_unevenly`)."""
    windowed: bool = False
    """A sum over a rolling window or to date (rolling(revenue, 3)): the value of an open
    period is its window's so far, pro-rated over the window, not over the period."""
    level: bool = False
    """A level (MRR, headcount: `tolok.track.pace.is_level`): an open period heads where
    its latest value goes at the pace of the last periods' change (`TREND_PERIODS`)."""


def judge(series: Series, calendar: Calendar, today: dt.date, settling: Settling) -> list[Verdict]:
    """Every point's verdict. Anomalies are looked for among whole, final periods only, so a
    month five days old is never "unusually low" and never skews the baseline of others."""
    times = {
        period: timing(period, series.grain, calendar, today, settling, series.profile)
        for period, _, _ in series.points
    }
    unusual = _anomalies(series, calendar, today, settling, times)
    settles = settling.allowance > dt.timedelta(0) or not series.readable_so_far
    return [
        _verdict(series, (period, value, target), times[period], unusual, settles)
        for period, value, target in series.points
    ]


TREND_PERIODS = 3
"""How many periods' change a level's trend is read from."""


def _level_heading(
    series: Series, point: tuple[dt.date, float | None, float | None], when: Timing
) -> Verdict:
    """A level under way is where it is now plus the change per period of the last
    `TREND_PERIODS` periods over what is left of this one: MRR of 130 half-way through a
    month, after months of 100, 110 and 120, heads for 135. With no history, where it is."""
    period, value, target = point
    share = when.elapsed or 0.0
    values = [*series.earlier, *((p, v) for p, v, _ in series.points)]
    before = sorted((p, v) for p, v in values if p < period and v is not None)[
        -(TREND_PERIODS + 1) :
    ]
    step = (before[-1][1] - before[0][1]) / (len(before) - 1) if len(before) > 1 else 0.0
    projected = None if value is None else value + step * (1 - share)
    heading = standing(projected, target, series.kpi) if share > 0 else Standing.no_data
    if target is None and value is not None:
        heading = Standing.no_target
    return Verdict(
        period, when.state, value, target, heading, elapsed=share,
        expected=target, projected=projected, heading=heading,
    )  # fmt: skip


def _anomalies(
    series: Series,
    calendar: Calendar,
    today: dt.date,
    settling: Settling,
    times: dict[dt.date, Timing],
) -> dict[dt.date, Anomaly]:
    history: dict[dt.date, float | None] = {}
    for period, value in series.earlier:
        state = timing(period, series.grain, calendar, today, settling).state
        history[period] = value if state is PeriodState.closed else None
    for period, value, _ in series.points:
        history[period] = value if times[period].state is PeriodState.closed else None
    # Periods not judged stay in as gaps, so that a season back is still a season back.
    whole: list[tuple[dt.date, float | None]] = sorted(history.items())
    season = 7 if series.grain is Grain.day else calendar.periods_per_year(series.grain)
    return {a.period: a for a in anomalies(whole, season=season)}


def _verdict(
    series: Series,
    point: tuple[dt.date, float | None, float | None],
    when: Timing,
    unusual: dict[dt.date, Anomaly],
    settles: bool,
) -> Verdict:
    period, value, target = point
    kpi = series.kpi
    if when.state is PeriodState.open and settles:
        # Trials that start this month convert over the weeks after it, and a month's
        # distinct users grow unevenly: what is there so far says nothing of where the
        # month ends. No heading until it is over (and final).
        return Verdict(period, when.state, value, target, None, elapsed=when.elapsed)
    if when.state is PeriodState.open and series.level:
        return _level_heading(series, point, when)
    if when.state is PeriodState.open:
        share = when.elapsed or 0.0
        run = when.window_elapsed if series.windowed else share
        additive = series.additive or series.windowed
        now: Pace = pace(kpi, additive, value, target, run or 0.0)
        heading = now.heading if share > 0 else Standing.no_data
        if target is None and value is not None:
            heading = Standing.no_target
        return Verdict(
            period, when.state, value, target, heading, elapsed=share,
            expected=now.expected, projected=now.projected, heading=heading,
        )  # fmt: skip
    if when.state is not PeriodState.closed:
        return Verdict(period, when.state, value, target, None, final_on=when.final_on)
    reached = attainment(value, target, kpi) if value is not None and target else None
    return Verdict(
        period, when.state, value, target, standing(value, target, kpi), reached,
        anomaly=unusual.get(period),
    )  # fmt: skip
