"""The open period: elapsed share, additivity, pace against a pro-rated target."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import EXAMPLE
from tolok.spec import load_project
from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Grain, Project
from tolok.track.pace import (
    accrues,
    elapsed,
    grows_unevenly,
    is_additive,
    is_level,
    pace,
    sums_over_window,
)
from tolok.track.status import Standing


def test_elapsed_share_of_a_period() -> None:
    cal = Calendar()
    november = dt.date(2026, 11, 1)
    assert elapsed(november, Grain.month, cal, dt.date(2026, 11, 16)) == pytest.approx(15 / 30)
    assert elapsed(november, Grain.month, cal, dt.date(2026, 10, 20)) == 0.0
    assert elapsed(november, Grain.month, cal, dt.date(2027, 1, 5)) == 1.0
    q4 = dt.date(2026, 10, 1)
    assert elapsed(q4, Grain.quarter, cal, dt.date(2026, 11, 1)) == pytest.approx(31 / 92)


def test_which_kpis_add_up_over_time() -> None:
    loaded = load_project(EXAMPLE)
    assert loaded.project is not None
    project = loaded.project
    additive = {name for name in project.kpis if is_additive(project, name)}
    # Sums and counts add up; ratios, medians, distinct counts and growth do not.
    assert additive == {"revenue", "tickets_resolved", "traffic"}
    # A distinct count (new customers) grows unevenly; a ratio over one (CAC) is read as it
    # stands.
    uneven = {name for name in project.kpis if grows_unevenly(project, name)}
    assert uneven == {"new_customers"}
    # None of the example's KPIs is a sum over a window.
    assert not any(sums_over_window(project, name) for name in project.kpis)


def test_a_flow_over_a_level_accrues_and_a_level_over_a_level_does_not() -> None:
    project = Project.model_validate(
        {
            "name": "x",
            "datasets": {
                "subs": {
                    "source": "t",
                    "time": "month",
                    "measures": {
                        "cancelled": {"agg": "count"},
                        "paying": {"agg": "count", "over_time": "first"},
                        "mrr": {"agg": "sum", "expr": "m", "over_time": "last"},
                        "visits": {"agg": "sum", "expr": "v"},
                        "orders": {"agg": "count"},
                    },
                }
            },
            "kpis": {
                "churn": {"formula": "ratio(cancelled, paying)"},
                "arpu": {"formula": "mrr / paying"},
                "conversion": {"formula": "orders / visits"},
                "count": {"formula": "cancelled"},
            },
        }
    )
    accruing = {name for name in project.kpis if accrues(project, name)}
    # Cancellations over customers at the start grow through the quarter as a count does; a
    # level over a level (ARPU) is a level; a flow over a flow (conversion) a ratio.
    assert accruing == {"churn", "count"}
    assert not is_additive(project, "churn")  # not across slices: explain splits it as a ratio
    assert is_level(project, "arpu")


def test_a_rolling_or_to_date_sum_is_a_sum_over_a_window() -> None:
    loaded = load_project(EXAMPLE)
    assert loaded.project is not None
    project = loaded.project
    kpis = {
        "r3": KPI(formula="rolling(revenue, 3)"),
        "ytd": KPI(formula="to_date(revenue)"),
        "avg3": KPI(formula="rolling(revenue, 3, 'avg')"),
        "rate3": KPI(formula="rolling(revenue / paid_orders, 3)"),
    }
    probe = project.model_copy(update={"kpis": {**project.kpis, **kpis}})
    assert {name for name in kpis if sums_over_window(probe, name)} == {"r3", "ytd"}


def test_pace_of_an_additive_kpi_is_pro_rated() -> None:
    kpi = KPI(formula="revenue")
    half = pace(kpi, True, 60.0, 100.0, 0.5)
    assert (half.expected, half.projected) == (50.0, 120.0)
    assert (half.on_pace, half.heading) == (Standing.on_track, Standing.on_track)
    slow = pace(kpi, True, 40.0, 100.0, 0.5)
    assert (slow.projected, slow.on_pace, slow.heading) == (
        80.0,
        Standing.off_track,
        Standing.off_track,
    )
    started = pace(kpi, True, 0.0, 100.0, 0.0)
    assert (started.projected, started.on_pace) == (None, Standing.no_data)


def test_pace_of_a_ratio_is_its_value_so_far() -> None:
    kpi = KPI.model_validate({"formula": "a / b", "direction": "down"})
    now = pace(kpi, False, 0.9, 1.0, 0.3)
    assert (now.expected, now.projected) == (1.0, 0.9)
    assert now.heading is Standing.on_track
