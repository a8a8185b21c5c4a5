"""Periods on the Python side: where a period starts, what it is called, what comes next.

A period is identified by its first day (a `datetime.date`) and its grain. Labels are what
people read and write in YAML: `2026-03-15`, `2026-W09`, `2026-03`, `2026-Q1`, `2026`,
`FY2026`, `FY2026-Q1`.

Weeks start on the project's `week_start`. A week belongs to the year in which its fourth
day falls and week 1 is the week holding January 4th — ISO 8601 when weeks start on Monday,
the same rule for any other start day. Some years have a week 53.

Fiscal years start on the first day of `fiscal_year_start`; by default a fiscal year is
named after the calendar year in which it ends (FY2026 = April 2025 to March 2026 when it
starts in April), or after the year it starts in with `fiscal_year_label: start`.

>>> cal = Calendar(week_start=0, fiscal_start_month=4, fiscal_label_end=True)
>>> cal.label(dt.date(2025, 4, 1), Grain.fiscal_year)
'FY2026'
>>> cal.parse("2026-W01")
(<Grain.week: 'week'>, datetime.date(2025, 12, 29))
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
import re
from dataclasses import dataclass

from tolok.spec.models import FiscalYearLabel, Grain, Month, Settings, Weekday

_WEEKDAYS = list(Weekday)
_MONTHS = list(Month)
MONTH_BASED = {
    Grain.month: 1,
    Grain.quarter: 3,
    Grain.year: 12,
    Grain.fiscal_quarter: 3,
    Grain.fiscal_year: 12,
}
_LABEL = re.compile(
    r"^(?:(?P<fy>FY)(?P<fyear>\d{4})(?:-Q(?P<fq>[1-4]))?"
    r"|(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?|-W(?P<week>\d{2})|-Q(?P<q>[1-4]))?)$"
)


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Calendar:
    week_start: int = 0  # Monday = 0 ... Sunday = 6, as datetime.date.weekday()
    fiscal_start_month: int = 1
    fiscal_label_end: bool = True

    @classmethod
    def of(cls, settings: Settings) -> Calendar:
        return cls(
            week_start=_WEEKDAYS.index(settings.week_start),
            fiscal_start_month=_MONTHS.index(settings.fiscal_year_start) + 1,
            fiscal_label_end=settings.fiscal_year_label is FiscalYearLabel.end,
        )

    def start_of(self, day: dt.date, grain: Grain) -> dt.date:
        """The first day of the period of `grain` that holds `day`."""
        if grain is Grain.day:
            return day
        if grain is Grain.week:
            return day - dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        index = self._month_index(day)
        size = MONTH_BASED[grain]
        offset = self._fiscal_offset(grain)
        start = (index - offset) // size * size + offset
        return _from_month_index(start)

    def shift(self, start: dt.date, grain: Grain, periods: int) -> dt.date:
        """The start of the period `periods` after (or before, if negative) this one."""
        if grain is Grain.day:
            return start + dt.timedelta(days=periods)
        if grain is Grain.week:
            return start + dt.timedelta(weeks=periods)
        return _from_month_index(self._month_index(start) + periods * MONTH_BASED[grain])

    def end_of(self, start: dt.date, grain: Grain) -> dt.date:
        """The first day after the period (exclusive end)."""
        return self.shift(start, grain, 1)

    def year_ago(self, start: dt.date, grain: Grain) -> dt.date:
        """The same period a year before: 52 weeks for weeks, the same date for days."""
        if grain is Grain.week:
            return start - dt.timedelta(weeks=52)
        if grain is Grain.day:
            year = start.year - 1
            last = stdlib_calendar.monthrange(year, start.month)[1]
            return dt.date(year, start.month, min(start.day, last))
        return self.shift(start, grain, -(12 // MONTH_BASED[grain]))

    def periods_per_year(self, grain: Grain) -> int:
        return {Grain.day: 365, Grain.week: 52}.get(grain) or 12 // MONTH_BASED[grain]

    def spine(self, first: dt.date, last: dt.date, grain: Grain) -> list[dt.date]:
        """Every period start from the period holding `first` to the one holding `last`."""
        out: list[dt.date] = []
        current, stop = self.start_of(first, grain), self.start_of(last, grain)
        while current <= stop:
            out.append(current)
            current = self.shift(current, grain, 1)
        return out

    def label(self, start: dt.date, grain: Grain) -> str:
        if grain is Grain.day:
            return start.isoformat()
        if grain is Grain.week:
            year, number = self._week_number(start)
            return f"{year}-W{number:02d}"
        if grain is Grain.month:
            return f"{start.year}-{start.month:02d}"
        if grain is Grain.quarter:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        if grain is Grain.year:
            return str(start.year)
        fiscal_year = self._fiscal_year_of(start)
        if grain is Grain.fiscal_year:
            return f"FY{fiscal_year}"
        months_in = (start.month - self.fiscal_start_month) % 12
        return f"FY{fiscal_year}-Q{months_in // 3 + 1}"

    def parse(self, text: str) -> tuple[Grain, dt.date]:
        """A period label back to its grain and first day."""
        match = _LABEL.match(text.strip())
        if not match:
            raise PeriodError(f"'{text}' is not a period label")
        parts = match.groupdict()
        try:
            if parts["fy"]:
                first_year = int(parts["fyear"]) - (1 if self._fiscal_shifts_label() else 0)
                start = dt.date(first_year, self.fiscal_start_month, 1)
                if parts["fq"]:
                    return Grain.fiscal_quarter, self.shift(
                        start, Grain.fiscal_quarter, int(parts["fq"]) - 1
                    )
                return Grain.fiscal_year, start
            year = int(parts["year"])
            if parts["day"]:
                return Grain.day, dt.date(year, int(parts["month"]), int(parts["day"]))
            if parts["month"]:
                return Grain.month, dt.date(year, int(parts["month"]), 1)
            if parts["week"]:
                return Grain.week, self._week_start_of(year, int(parts["week"]))
            if parts["q"]:
                return Grain.quarter, dt.date(year, (int(parts["q"]) - 1) * 3 + 1, 1)
            return Grain.year, dt.date(year, 1, 1)
        except ValueError as exc:
            raise PeriodError(f"'{text}' is not a period: {exc}") from None

    def _month_index(self, day: dt.date) -> int:
        return day.year * 12 + day.month - 1

    def _fiscal_offset(self, grain: Grain) -> int:
        if grain in (Grain.fiscal_quarter, Grain.fiscal_year):
            return self.fiscal_start_month - 1
        return 0

    def _fiscal_shifts_label(self) -> bool:
        """A fiscal year that starts after January and is named by its end year."""
        return self.fiscal_label_end and self.fiscal_start_month != 1

    def _fiscal_year_of(self, start: dt.date) -> int:
        first_year = start.year if start.month >= self.fiscal_start_month else start.year - 1
        return first_year + (1 if self._fiscal_shifts_label() else 0)

    def _first_week(self, year: int) -> dt.date:
        return self.start_of(dt.date(year, 1, 4), Grain.week)

    def _week_number(self, start: dt.date) -> tuple[int, int]:
        year = (start + dt.timedelta(days=3)).year
        return year, (start - self._first_week(year)).days // 7 + 1

    def _week_start_of(self, year: int, number: int) -> dt.date:
        start = self._first_week(year) + dt.timedelta(weeks=number - 1)
        if self._week_number(start) != (year, number):
            raise PeriodError(f"{year} has no week {number}")
        return start


def _from_month_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)
