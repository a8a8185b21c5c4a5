"""Whether an alert rule's condition holds for a KPI now: pure functions over what the store
holds (the KPI's state, the newest day of data in each dataset) and a way to count volume."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tolok.answers.verdicts import KpiState
from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Direction, Grain
from tolok.spec.sharing import Alert, AlertWhen, ChangeDirection, Watch
from tolok.track.status import Standing

VolumeOf = Callable[[str, str, dt.date], float | None]
"""(KPI, volume name or formula, period) → the sample size in that period, None if unknown."""


@dataclass(frozen=True)
class Seen:
    """What a rule saw of one KPI: whether its condition holds, for which period, and the
    figures a message tells (value, target, status, change…)."""

    holds: bool
    period: dt.date | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What every rule may look at, read once per check."""

    calendar: Calendar
    today: dt.date
    newest: dict[str, dt.date]  # dataset → the newest local day with rows
    datasets: dict[str, set[str]]  # KPI → the datasets it reads
    volume: VolumeOf


def look(rule: Alert, name: str, kpi: KPI, state: KpiState, facts: Facts) -> Seen:
    if rule.when is AlertWhen.stale:
        return _stale(rule, name, kpi, facts)
    latest = state.latest
    if latest is None or latest.value is None:
        return Seen(False)
    detail: dict[str, Any] = {
        "value": latest.value,
        "target": state.target,
        "status": state.standing.value,
        "attainment": state.attainment,
    }
    previous = _previous(state)
    if previous is not None:
        detail["previous"] = previous
        if previous != 0:
            detail["change"] = (latest.value - previous) / abs(previous)
    period = latest.period
    if rule.when is AlertWhen.status:
        return Seen(state.standing.value in rule.statuses, period, detail)
    if rule.when is AlertWhen.target_reached:
        reached = state.standing is Standing.on_track and (state.attainment or 0) >= 1
        return Seen(reached, period, detail)
    if rule.when is AlertWhen.anomaly:
        return _anomaly(kpi, state, facts, detail)
    if rule.when is AlertWhen.threshold:
        return _threshold(rule, state, facts, detail)
    return _change(rule, name, kpi, detail, period, facts)


def _previous(state: KpiState) -> float | None:
    latest = state.latest
    assert latest is not None
    # The judged period before it (never a partial or provisional one), as the board shows.
    before = [v for v in state.verdicts if v.judged and v.period < latest.period]
    return before[-1].value if before else None


def _threshold(rule: Alert, state: KpiState, facts: Facts, detail: dict[str, Any]) -> Seen:
    point = state.latest
    if rule.period is Watch.open:
        now = state.open
        point = next((p for p in state.points if now and p.period == now.period), None)
        if point is None or point.value is None:
            return Seen(False)  # no period under way yet
        detail = {"value": point.value, "open": True}  # the closed period's figures differ
    assert point is not None
    assert point.value is not None
    value = point.value
    crossed = (rule.above is not None and value > rule.above) or (
        rule.below is not None and value < rule.below
    )
    return Seen(crossed, point.period, {**detail, "above": rule.above, "below": rule.below})


def _change(
    rule: Alert, name: str, kpi: KPI, detail: dict[str, Any], period: dt.date, facts: Facts
) -> Seen:
    change = detail.get("change")
    assert rule.change is not None
    if change is None or abs(change) <= rule.change:
        return Seen(False, period, detail)
    worse = change < 0 if kpi.direction is Direction.up else change > 0
    target = detail.get("target")
    if kpi.direction is Direction.band and target is not None:
        # Worse is further from the target than the period before.
        worse = abs(detail["value"] - target) > abs(detail["previous"] - target)
    if rule.direction is ChangeDirection.worse and not worse:
        return Seen(False, period, detail)
    if rule.direction is ChangeDirection.better and worse:
        return Seen(False, period, detail)
    detail = {**detail, "limit": rule.change}
    if rule.min_volume is not None:
        volume = facts.volume(name, rule.volume or "", period)
        detail["volume"] = volume
        detail["min_volume"] = rule.min_volume
        if volume is None or volume < rule.min_volume:
            return Seen(False, period, detail)  # too small a sample to page anyone
    return Seen(True, period, detail)


def _anomaly(kpi: KPI, state: KpiState, facts: Facts, detail: dict[str, Any]) -> Seen:
    """The anomaly of the last judged period, as every surface shows it: an open or
    provisional period is never unusual."""
    latest, verdict = state.latest, state.verdict
    assert latest is not None
    if verdict is None or verdict.anomaly is None:
        return Seen(False, latest.period, detail)
    unusual = verdict.anomaly
    detail = {**detail, "expected": unusual.expected, "score": round(unusual.score, 2)}
    return Seen(True, latest.period, detail)


def _stale(rule: Alert, name: str, kpi: KPI, facts: Facts) -> Seen:
    days = [facts.newest[d] for d in facts.datasets.get(name, set()) if d in facts.newest]
    if not days:
        return Seen(False)
    newest = min(days)  # one source gone quiet is enough: the KPI is not up to date
    limit = rule.after or grain_span(facts.calendar, facts.today, kpi.grain)
    quiet_for = facts.today - newest
    detail = {"newest": newest.isoformat(), "days": quiet_for.days, "after_days": limit.days}
    return Seen(quiet_for > limit, None, detail)


def grain_span(calendar: Calendar, today: dt.date, grain: Grain) -> dt.timedelta:
    """How long the period of `grain` holding today lasts: a month is 28 to 31 days."""
    start = calendar.start_of(today, grain)
    return calendar.end_of(start, grain) - start  # the end is the next period's first day
