"""The open period — the one today falls in: its value so far, where it heads at this pace
(its verdict, `tolok.answers.verdicts`, the same every surface shows), and the model's forecast of
its end from the periods before. Shared by `tolok status` and the board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tolok.answers.verdicts import KpiState
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.track.forecast import Forecast, forecast
from tolok.track.pace import Pace
from tolok.track.status import Standing, standing


@dataclass(frozen=True)
class Outlook:
    period: dt.date
    value: float | None  # so far
    target: float | None  # the whole period's
    pace: Pace
    forecast: Forecast | None  # of the period's end, from the judged periods before it
    judged: bool = True  # False: what is there so far says nothing yet (a conversion window)
    forecast_heading: Standing | None = None  # the forecast's end against the target, as
    # `pace.heading` holds the end at this pace against it: where each points


def outlook(loaded: LoadedProject, name: str, state: KpiState) -> Outlook | None:
    """The open period of KPI `name`, None when the store has no value for it yet."""
    project = loaded.project
    assert project is not None
    now = state.open
    if now is None:
        return None
    kpi, calendar = project.kpis[name], Calendar.of(project)
    heading = now.heading or Standing.no_data
    pace = Pace(now.elapsed or 0.0, now.expected, now.projected, heading, heading)
    history = [(v.period, v.value) for v in state.verdicts if v.judged and v.period < now.period]
    # A provisional period may stand between the judged ones and the open one.
    ahead = forecast(history, kpi.grain, calendar, horizon=3) if history else []
    end = next((f for f in ahead if f.period == now.period), None)
    judged = now.heading is not None
    towards = standing(end.mean, now.target, kpi) if end is not None and judged else None
    return Outlook(now.period, now.value, now.target, pace, end, judged, towards)
