"""The goal tree: each goal's roll-up status and progress, the KPI that drives its gap, and
its KPIs' cards; and each goal's definition as the YAML holds it, for the page's editor.

The page writes nothing itself: its script (`static/build-rules.js`) sends a goal's form to
the definitions API (`/api/v1/goals`), which validates the whole project (a parent that
would make a cycle is refused there, under the field) and writes the YAML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tolok.i18n import Formats, status_words, voice
from tolok.server.api_definitions import read_only
from tolok.server.board import BoardCache
from tolok.server.pages.board import Card, cards, states
from tolok.spec import edit
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Level


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


class GoalForm(BaseModel):
    """A goal as its form shows it; `parents` are the goals it may move under (not itself,
    nor one below it: that would be a cycle)."""

    name: str
    title: str
    description: str
    level: str
    owner: str
    parent: str
    weight: str
    file: str
    parents: list[tuple[str, str]]


class GoalsPage(BaseModel):
    project: str
    goals: list[GoalNode]
    unassigned: list[Card]  # KPIs of no goal
    forms: list[GoalForm]  # in the tree's order
    definitions: dict[str, dict[str, Any]]  # as the YAML holds them: other keys stay
    fingerprints: dict[str, str]
    choices: list[tuple[str, str]]  # every goal (name, title): a new goal's parents
    levels: list[tuple[str, str]]
    owners: list[str]  # the owners the project names, as suggestions
    read_only: str | None  # why nobody may change definitions here, in the reader's words


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
    tree = [node(g) for g in goal_tree(project, standings)]
    refused = read_only(loaded)
    lang = fmt.lang
    owners = {k.owner for k in project.kpis.values() if k.owner}
    owners |= {g.owner for g in project.goals.values() if g.owner}
    return GoalsPage(
        project=project.name,
        goals=tree,
        unassigned=unassigned,
        forms=_forms(loaded, tree),
        definitions={n: _written(loaded, n) for n in project.goals},
        fingerprints=edit.fingerprints(loaded),
        choices=[(n, g.title) for n, g in project.goals.items()],
        levels=[(v.value, level_words(_)[v.value]) for v in Level],
        owners=sorted(owners),
        read_only=None
        if refused is None
        else refused.worded(voice(lang) if lang != "en" else None),
    )


def level_words(_: Callable[..., str]) -> dict[str, str]:
    return {"strategic": _("strategic"), "operational": _("operational"),
            "functional": _("functional")}  # fmt: skip


def _written(loaded: LoadedProject, name: str) -> dict[str, Any]:
    written = edit.as_json(loaded.entries[("goals", name)].node)
    return written if isinstance(written, dict) else {}


def _forms(loaded: LoadedProject, tree: list[GoalNode]) -> list[GoalForm]:
    """Each goal's form, walking the tree; a goal's parent choices leave out its subtree."""
    everything = [(n, g.title) for n, g in loaded.project.goals.items()] if loaded.project else []
    out: list[GoalForm] = []

    def below(goal: GoalNode) -> set[str]:
        return {goal.name}.union(*(below(c) for c in goal.children))

    def walk(goal: GoalNode) -> None:
        mine = _written(loaded, goal.name)
        entry = loaded.entries[("goals", goal.name)]
        banned = below(goal)

        def text(key: str) -> str:
            value = mine.get(key)
            return "" if value is None else str(value)

        out.append(GoalForm(
            name=goal.name, title=text("title"), description=text("description"),
            level=text("level"), owner=text("owner"), parent=text("parent"),
            weight=text("weight"), file=edit.relative(entry.file.path, loaded.root),
            parents=[(n, t) for n, t in everything if n not in banned],
        ))  # fmt: skip
        for child in goal.children:
            walk(child)

    for goal in tree:
        walk(goal)
    return out
