"""An embed's page, for another site's `<iframe>`: one KPI's card, one KPI's chart, or the
board's cards, with no navigation and no link into the signed-in app. What it shows (the
cards, their verdicts, the chart) is the share link's page data (`pages.shared`), never
worked out again here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tolok.server.pages import shared
from tolok.server.pages.board import Card, Group
from tolok.server.web import Context

VIEWS = {"card": "kpi", "chart": "kpi", "board": "board"}
"""Each embed view and the kind of share link it shows."""


class EmbedPage(BaseModel):
    view: str  # card, chart or board
    title: str
    cards: list[Card]  # the KPI's card (card, chart); empty for the board
    groups: list[Group] = []  # the board's groups of cards
    figure: dict[str, Any] | None = None  # the chart's Plotly figure
    framed: bool  # some site may frame it: tolok.yaml lists origins in `embed:`
    notice: str | None = None  # when none may, what the admin has to do, in words


def data(ctx: Context, engine: Any, board: Any, view: str, target: str) -> EmbedPage | None:
    """None when what the embed names is gone from the project (or no longer active)."""
    page = shared.data(ctx, engine, board, VIEWS[view], target, chart=view == "chart")
    if page is None:
        return None
    framed = bool(ctx.project.embed.origins)
    notice = None if framed else ctx._(
        "No site may show this in a frame yet: an admin lists the site's origin in "
        "tolok.yaml, under embed: origins."
    )  # fmt: skip
    return EmbedPage(view=view, title=page.title, cards=page.cards, groups=page.groups,
                     figure=page.figure, framed=framed, notice=notice)  # fmt: skip
