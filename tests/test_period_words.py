"""Periods and times of day as readers write them (issue 21, items 3 and 4): a quarter is
`Q3 2025` / `Kuartal 3 2025`, a week `Week 41, 2026` / `Minggu ke-41 2026`, a fiscal year
`FY2027` / `TA 2027`; a time of day `06:51` in English and `06.51` in Indonesian, in every
moment a page, an e-mail or a report shows. Machine labels (`2025-Q3`) stay the calendar's."""

from __future__ import annotations

import datetime as dt

import pytest

from tolok.i18n import Formats
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain

APRIL = Calendar(fiscal_start_month=4)  # fiscal years named by the year they end in


@pytest.mark.parametrize(
    ("start", "grain", "en", "id_"),
    [
        (dt.date(2025, 7, 1), Grain.quarter, "Q3 2025", "Kuartal 3 2025"),
        (dt.date(2026, 10, 5), Grain.week, "Week 41, 2026", "Minggu ke-41 2026"),
        (dt.date(2026, 1, 5), Grain.week, "Week 2, 2026", "Minggu ke-2 2026"),
        (dt.date(2024, 12, 30), Grain.week, "Week 1, 2025", "Minggu ke-1 2025"),  # ISO year
        (dt.date(2026, 4, 1), Grain.fiscal_year, "FY2027", "TA 2027"),
        (dt.date(2026, 4, 1), Grain.fiscal_quarter, "Q1 FY2027", "Kuartal 1 TA 2027"),
        (dt.date(2027, 1, 1), Grain.fiscal_quarter, "Q4 FY2027", "Kuartal 4 TA 2027"),
        (dt.date(2026, 1, 1), Grain.year, "2026", "2026"),
        (dt.date(2026, 10, 1), Grain.month, "Oct 2026", "Okt 2026"),
    ],
)
def test_a_period_is_named_in_words(start: dt.date, grain: Grain, en: str, id_: str) -> None:
    assert Formats("en", "IDR", APRIL).period(start, grain) == en
    assert Formats("id", "IDR", APRIL).period(start, grain) == id_


def test_the_calendars_label_is_unchanged_for_machines() -> None:
    assert APRIL.label(dt.date(2025, 7, 1), Grain.quarter) == "2025-Q3"
    assert APRIL.label(dt.date(2026, 10, 5), Grain.week) == "2026-W41"
    assert APRIL.label(dt.date(2026, 4, 1), Grain.fiscal_quarter) == "FY2027-Q1"


def test_a_time_of_day_follows_the_language() -> None:
    morning = dt.datetime(2026, 12, 7, 6, 51)
    assert Formats("en", "IDR", Calendar()).moment(morning) == "7 Dec 2026 06:51"
    assert Formats("id", "IDR", Calendar()).moment(morning) == "7 Des 2026 06.51"
    afternoon = dt.datetime(2026, 12, 7, 7, 5)  # UTC: 14:05 in Jakarta
    assert Formats("en", "IDR", Calendar()).moment_in(afternoon, "Asia/Jakarta") == (
        "7 Dec 2026 14:05 WIB"
    )
    assert Formats("id", "IDR", Calendar()).moment_in(afternoon, "Asia/Jakarta") == (
        "7 Des 2026 14.05 WIB"
    )
    assert Formats("id", "IDR", Calendar()).moment_in(afternoon, "Asia/Kathmandu") == (
        "7 Des 2026 12.50 UTC+0545"
    )


def test_chart_ticks_and_hover_name_periods_as_the_pages_do() -> None:
    from tolok.server.chart_axes import x_axis

    starts = ["2025-01-01", "2025-04-01", "2025-07-01"]
    data = [{"x": starts}]
    english = x_axis(data, Grain.quarter, Formats("en", "IDR", Calendar()))
    assert english["ticktext"] == ["Q1 2025", "Q2 2025", "Q3 2025"]
    assert english["hoverformat"] == "Q%q %Y"
    indonesian = x_axis(data, Grain.quarter, Formats("id", "IDR", Calendar()))
    assert indonesian["ticktext"] == ["Kuartal 1<br>2025", "Kuartal 2<br>2025", "Kuartal 3<br>2025"]
    assert indonesian["hoverformat"] == "Kuartal %q %Y"
    weeks = x_axis([{"x": ["2026-10-05"]}], Grain.week, Formats("id", "IDR", Calendar()))
    assert weeks["ticktext"] == ["Minggu ke-41<br>2026"]
    assert weeks["hoverformat"] == "Minggu ke-%V %G"  # d3's ISO week: Monday weeks are ISO's
    sunday = Formats("en", "IDR", Calendar(week_start=6))
    assert x_axis([{"x": ["2026-10-04"]}], Grain.week, sunday)["hoverformat"] == "%-d %b %Y"
    fiscal = x_axis([{"x": ["2026-04-01"]}], Grain.fiscal_quarter, Formats("id", "IDR", APRIL))
    assert fiscal["ticktext"] == ["Kuartal 1<br>TA 2027"]
