"""Which period a row falls in, as an Ibis date expression (the period's first day)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tolok.compile.dialect import Dialect
from tolok.spec.calendar import MONTH_BASED, Calendar
from tolok.spec.models import Grain

_TRUNCATE = {Grain.month: "M", Grain.quarter: "Q", Grain.year: "Y"}


def bucket(
    local: ir.TimestampValue | ir.DateValue, grain: Grain, calendar: Calendar, dialect: Dialect
) -> ir.DateValue:
    """The first day of the period holding `local` (a wall-clock timestamp or a date).

    Weeks and fiscal periods are computed with date arithmetic that every backend has;
    calendar months, quarters and years use the backend's truncation where it is native.
    """
    day = local.date() if isinstance(local, ir.TimestampValue) else local
    if grain is Grain.day:
        return day
    if grain is Grain.week:
        back = (day.day_of_week.index() - calendar.week_start + 7) % 7
        start: ir.DateValue = day - back.as_interval("D")
        return start
    if dialect.native_truncate and grain in _TRUNCATE:
        truncated: ir.DateValue = day.truncate(_TRUNCATE[grain])
        return truncated
    size = MONTH_BASED[grain]
    offset = calendar.fiscal_start_month - 1 if grain.value.startswith("fiscal") else 0
    index = day.year() * 12 + day.month() - 1
    first = ((index - offset) // size) * size + offset
    made: ir.DateValue = ibis.date(first // 12, first % 12 + 1, 1)
    return made
