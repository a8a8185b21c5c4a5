"""Goal roll-up: a goal's progress and status from its KPIs and child goals, and what drives
its gap.

Progress is the weighted mean of what each part has reached, counting at most 1 per part
(beating one target does not make up for missing another): a KPI's attainment, a child
goal's progress. KPIs weigh their `weight` (1 by default), child goals theirs. Parts without
a target do not count. The status follows the default thresholds (0.95 and 0.85). The
driver of a goal's gap is the part that loses it the most progress — weight times shortfall —
followed down to a KPI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tolok.spec.models import Project, Thresholds
from tolok.track.status import Standing

_DEFAULT = Thresholds()


@dataclass(frozen=True)
class KpiStanding:
    attainment: float | None
    standing: Standing


@dataclass
class GoalNode:
    name: str
    title: str
    progress: float | None = None
    standing: Standing = Standing.no_target
    driver: str | None = None  # the KPI that costs the goal the most progress
    kpis: list[str] = field(default_factory=list)
    children: list[GoalNode] = field(default_factory=list)
    loss: float = 0.0  # weighted shortfall of the driver, to compare across parts


def goal_tree(project: Project, kpis: dict[str, KpiStanding]) -> list[GoalNode]:
    """The goals as a forest (roots first), each rolled up from its KPIs and children."""
    nodes = {name: GoalNode(name, goal.title) for name, goal in project.goals.items()}
    for name, kpi in project.kpis.items():
        if kpi.goal in nodes and name in kpis:
            nodes[kpi.goal].kpis.append(name)
    roots = []
    for name, goal in project.goals.items():
        if goal.parent in nodes:
            nodes[goal.parent].children.append(nodes[name])
        else:
            roots.append(nodes[name])
    for root in roots:
        _roll_up(root, project, kpis, set())
    return roots


def _roll_up(
    node: GoalNode, project: Project, kpis: dict[str, KpiStanding], seen: set[str]
) -> None:
    seen = seen | {node.name}
    parts: list[tuple[float, float, str | None]] = []  # weight, reached, driver
    for name in node.kpis:
        reached = kpis[name].attainment
        if reached is not None:
            parts.append((project.kpis[name].weight or 1.0, min(reached, 1.0), name))
    for child in node.children:
        if child.name in seen:
            continue
        _roll_up(child, project, kpis, seen)
        if child.progress is not None:
            weight = project.goals[child.name].weight or 1.0
            parts.append((weight, min(child.progress, 1.0), child.driver))
    if not parts:
        return
    total = sum(weight for weight, _, _ in parts)
    node.progress = sum(weight * reached for weight, reached, _ in parts) / total
    weight, reached, driver = max(parts, key=lambda part: part[0] * (1 - part[1]))
    node.loss = weight * (1 - reached)
    node.driver = driver if node.loss > 0 else None
    if node.progress >= _DEFAULT.at_risk:
        node.standing = Standing.on_track
    elif node.progress >= _DEFAULT.off_track:
        node.standing = Standing.at_risk
    else:
        node.standing = Standing.off_track
