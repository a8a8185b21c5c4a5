"""The open period — the one today falls in: its value so far, where it heads at this pace,
and the model's forecast of its end from the periods before. Shared by `tolok status` and the
board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import TargetSplit
from tolok.store.points import StoredPoint
from tolok.track.forecast import Forecast, forecast
from tolok.track.pace import Pace, elapsed, is_additive, pace
from tolok.track.targets import target_series


@dataclass(frozen=True)
class Outlook:
    period: dt.date
    value: float | None  # so far
    target: float | None  # the whole period's
    pace: Pace
    forecast: Forecast | None  # of the period's end, from the closed periods before it


def outlook(
    loaded: LoadedProject, name: str, points: list[StoredPoint], today: dt.date
) -> Outlook | None:
    """The open period of KPI `name`, None when the store has no value for it yet. With
    `target_split: seasonal`, "how far it has run" weighs the days by the KPI's rhythm."""
    project = loaded.project
    assert project is not None
    kpi, calendar = project.kpis[name], Calendar.of(project)
    current = calendar.start_of(today, kpi.grain)
    point = next((p for p in points if p.period == current), None)
    if point is None:
        return None
    actuals = {p.period: p.value for p in points}
    target = target_series(kpi, [current], calendar, actuals)[current]
    additive = is_additive(project, name)
    profile = None
    if kpi.target_split is TargetSplit.seasonal and additive:
        from tolok.views import day_profile_of

        profile = day_profile_of(loaded, name)
    share = elapsed(current, kpi.grain, calendar, today, profile)
    history = [(p.period, p.value) for p in points if p.period < current]
    ahead = forecast(history, kpi.grain, calendar, horizon=1) if history else []
    end = ahead[0] if ahead and ahead[0].period == current else None
    return Outlook(
        current, point.value, target, pace(kpi, additive, point.value, target, share), end
    )
