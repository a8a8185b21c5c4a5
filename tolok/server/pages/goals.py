"""The goal tree: each goal's roll-up status and progress, the KPI that drives its gap, and
its KPIs' cards."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from tolok.i18n import Formats, status_words
from tolok.server.board import BoardCache
from tolok.server.pages.board import Card, cards, states
from tolok.spec.loaded import LoadedProject


class GoalNode(BaseModel):
    name: str
    title: str
    description: str | None
    owner: str | None
    progress: float | None
    progress_text: str
    status: str
    status_text: str
    driver: str | None
    driver_title: str | None
    kpis: list[Card]
    children: list[GoalNode]


class GoalsPage(BaseModel):
    project: str
    goals: list[GoalNode]
    unassigned: list[Card]  # KPIs of no goal


def data(
    loaded: LoadedProject, board: BoardCache, fmt: Formats, _: Callable[..., str]
) -> GoalsPage:
    from tolok.track.goals import GoalNode as Node
    from tolok.track.goals import KpiStanding, goal_tree

    project = loaded.project
    assert project is not None
    found = states(loaded, board)
    standings = {n: KpiStanding(s.attainment, s.standing) for n, s in found.items()}
    by_name = {c.name: c for c in cards(loaded, board, fmt, _)}
    words = status_words(_)

    def node(goal: Node) -> GoalNode:
        spec = project.goals[goal.name]
        driver = project.kpis[goal.driver] if goal.driver else None
        return GoalNode(
            name=goal.name,
            title=goal.title,
            description=spec.description,
            owner=spec.owner,
            progress=goal.progress,
            progress_text=fmt.share(goal.progress),
            status=goal.standing.value,
            status_text=words[goal.standing.value],
            driver=goal.driver,
            driver_title=(driver.title or goal.driver) if driver else None,
            kpis=[by_name[k] for k in goal.kpis if k in by_name],
            children=[node(c) for c in goal.children],
        )

    unassigned = [c for c in by_name.values() if c.goal not in project.goals]
    return GoalsPage(
        project=project.name,
        goals=[node(g) for g in goal_tree(project, standings)],
        unassigned=unassigned,
    )
