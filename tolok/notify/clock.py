"""When a schedule is due: its occurrences in the project's time zone, turned into UTC.

`every: day, at: "08:00"` in Asia/Jakarta is due at 01:00 UTC each day; `every: month,
on: 31` runs on the last day of shorter months; `every: hour, at: ":15"` at a quarter past.
"""

from __future__ import annotations

import calendar as months
import datetime as dt
from zoneinfo import ZoneInfo

from tolok.spec.base import Weekday
from tolok.spec.sharing import Every, Schedule

WEEKDAYS = list(Weekday)


def latest_due(schedule: Schedule, now: dt.datetime, zone: str) -> dt.datetime:
    """The newest occurrence at or before `now` (both UTC, naive)."""
    step = 0
    candidate = _occurrence(schedule, now, ZoneInfo(zone), step)
    while candidate > now:
        step -= 1
        candidate = _occurrence(schedule, now, ZoneInfo(zone), step)
    return candidate


def next_due(schedule: Schedule, now: dt.datetime, zone: str) -> dt.datetime:
    """The first occurrence after `now` (both UTC, naive)."""
    step = 0
    candidate = _occurrence(schedule, now, ZoneInfo(zone), step)
    while candidate <= now:
        step += 1
        candidate = _occurrence(schedule, now, ZoneInfo(zone), step)
    return candidate


def _occurrence(schedule: Schedule, now: dt.datetime, zone: ZoneInfo, step: int) -> dt.datetime:
    """The occurrence in the hour, day, week or month `step` away from `now`'s, in UTC.
    Compared in UTC, not on the wall clock: around a change to or from summer time the
    local clock skips or repeats an hour. An hourly schedule steps through real hours (the
    repeated one runs twice); a time of day that does not exist that day (02:30 when the
    clock jumps from 02:00 to 03:00) runs an hour later on the wall clock."""
    hour, minute = _clock(schedule)
    if schedule.every is Every.hour:
        base = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=step)
        local = base.replace(tzinfo=dt.UTC).astimezone(zone).replace(minute=minute)
        return local.astimezone(dt.UTC).replace(tzinfo=None)
    day = now.replace(tzinfo=dt.UTC).astimezone(zone).date()
    if schedule.every is Every.day:
        day += dt.timedelta(days=step)
    elif schedule.every is Every.week:
        weekday = WEEKDAYS.index(schedule.on) if isinstance(schedule.on, Weekday) else 0
        day += dt.timedelta(days=weekday - day.weekday() + 7 * step)
    else:
        index = day.year * 12 + day.month - 1 + step
        year, month = divmod(index, 12)
        wanted = schedule.on if isinstance(schedule.on, int) else 1
        day = dt.date(year, month + 1, min(wanted, months.monthrange(year, month + 1)[1]))
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _clock(schedule: Schedule) -> tuple[int, int]:
    at = schedule.at or (":00" if schedule.every is Every.hour else "07:00")
    hours, minutes = at.split(":")
    return int(hours or 0), int(minutes)
