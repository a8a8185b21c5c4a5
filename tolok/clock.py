"""The one clock every verdict reads: today in the project's time zone, and now.

`TOLOK_TODAY=2026-12-06` (a day) or `TOLOK_NOW=2026-12-06T09:30` (a moment in the project's
zone) pins the clock, so that a test can hold the surfaces against each other on the 1st,
the 5th and the last day of a month, and a user's report can be reproduced as they saw it.
Left unset, the clock is the machine's.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from tolok.spec.models import Settings

TODAY_VARIABLE = "TOLOK_TODAY"
NOW_VARIABLE = "TOLOK_NOW"


class ClockError(ValueError):
    """The pinned clock cannot be read; the message says how to write it."""


def now(project: Settings | None = None) -> dt.datetime:
    """The wall-clock time in the project's zone (naive), pinned or the machine's; without
    a project, in the machine's zone."""
    moment = os.environ.get(NOW_VARIABLE, "").strip()
    day = os.environ.get(TODAY_VARIABLE, "").strip()
    if moment:
        try:
            found = dt.datetime.fromisoformat(moment)
        except ValueError:
            raise ClockError(
                f"{NOW_VARIABLE}={moment!r} is not a moment; write it as 2026-12-06T09:30"
            ) from None
        if found.tzinfo is not None:
            zone = ZoneInfo(project.timezone) if project is not None else None
            found = found.astimezone(zone).replace(tzinfo=None)
        return found
    if day:
        try:
            pinned = dt.date.fromisoformat(day)
        except ValueError:
            raise ClockError(
                f"{TODAY_VARIABLE}={day!r} is not a day; write it as 2026-12-06"
            ) from None
        return dt.datetime.combine(pinned, dt.time(12))
    if project is None:
        return dt.datetime.now()
    return dt.datetime.now(ZoneInfo(project.timezone)).replace(tzinfo=None)


def today(project: Settings | None = None) -> dt.date:
    """Today in the project's time zone: the day the open period is measured against."""
    return now(project).date()
