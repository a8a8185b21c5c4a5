"""Where a KPI stands against its target, with its direction applied.

Attainment is 1 on target, more when better, less when worse, in shares of the target:
1 + (value - target) / |target| when up is good (value / target for a positive target),
1 + (target - value) / |target| when down is good. For a band (a value should stay near the
target), attainment is 1 inside the tolerance and falls by the distance beyond it, as a
share of the target. Attainment never goes below 0; a target of 0 gives none.

The thresholds turn attainment into a standing: `on_track` from `at_risk` (0.95 by default)
up, `at_risk` from `off_track` (0.85) up, `off_track` below.
"""

from __future__ import annotations

from enum import StrEnum

from tolok.spec.models import KPI, Direction


class Standing(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    off_track = "off_track"
    no_target = "no_target"
    no_data = "no_data"


def attainment(value: float, target: float, kpi: KPI) -> float | None:
    """The share of the target reached (1 = on target), or None when it means nothing."""
    if target == 0:
        return None
    if kpi.direction is Direction.band:
        distance = abs(value - target) / abs(target)
        return 1 - max(0.0, distance - (kpi.tolerance or 0.0))
    better = value - target if kpi.direction is Direction.up else target - value
    return max(0.0, 1 + better / abs(target))


def standing(value: float | None, target: float | None, kpi: KPI) -> Standing:
    if value is None:
        return Standing.no_data
    if target is None:
        return Standing.no_target
    share = attainment(value, target, kpi)
    if share is None:
        return Standing.no_target
    if share >= kpi.thresholds.at_risk:
        return Standing.on_track
    if share >= kpi.thresholds.off_track:
        return Standing.at_risk
    return Standing.off_track
