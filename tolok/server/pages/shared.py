"""A share link's page, for people who are not signed in: the one KPI (with its chart), the
one goal (with its KPIs) or the whole board it names — nothing beyond."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tolok.server.pages import goals as goals_page
from tolok.server.pages.board import Card, Filters, Group, cards
from tolok.server.pages.board import data as board_data
from tolok.server.web import Context


class SharedPage(BaseModel):
    kind: str  # kpi, goal or board
    title: str
    cards: list[Card]
    goal: goals_page.GoalNode | None = None
    groups: list[Group] = []
    figure: dict[str, Any] | None = None


def data(
    ctx: Context, engine: Any, board: Any, kind: str, target: str | None, chart: bool = True
) -> SharedPage | None:
    """None when what the link names is gone from the project (or no longer active). A KPI
    comes with its chart unless `chart` is false (an embed of its card alone)."""
    from tolok.server.pages.kpi import Query, _notes, _series

    every = {c.name: c for c in cards(ctx.loaded, board, ctx.fmt, ctx._)}
    if kind == "kpi":
        card = every.get(target or "")
        if card is None:
            return None
        if not chart:
            return SharedPage(kind=kind, title=card.title, cards=[card])
        query = Query(grain=card.grain)
        notes = _notes(engine, card.name)
        _, figure, _, _, _ = _series(ctx, board, card.name, query, notes)
        return SharedPage(kind=kind, title=card.title, cards=[card], figure=figure)
    if kind == "goal":
        found = _find(goals_page.data(ctx.loaded, board, ctx.fmt, ctx._).goals, target or "")
        if found is None:
            return None
        return SharedPage(kind=kind, title=found.title, cards=[], goal=found)
    whole = board_data(ctx.loaded, board, ctx.fmt, ctx._, Filters(), None)
    return SharedPage(kind=kind, title=whole.project, cards=[], groups=whole.groups)


def _find(goals: list[goals_page.GoalNode], name: str) -> goals_page.GoalNode | None:
    for goal in goals:
        if goal.name == name:
            return goal
        found = _find(goal.children, name)
        if found is not None:
            return found
    return None
