"""The review: what is off track or at risk in its last closed period, with owners, what
people said about that period and the actions the KPI names — the page a team opens in its
weekly KPI meeting; what heads off track in the open period; and what reached its target."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.i18n import Formats
from tolok.server.board import BoardCache
from tolok.server.pages.board import Card, cards
from tolok.spec.loaded import LoadedProject
from tolok.store.people import Comment


class Said(BaseModel):
    author: str
    text: str
    when: str


class ReviewItem(BaseModel):
    card: Card
    comments: list[Said]  # about the card's period


class ReviewPage(BaseModel):
    project: str
    attention: list[ReviewItem]  # off track first, then at risk
    heading_off: list[Card]  # closed period fine, open period heading off track or at risk
    reached: list[Card]  # target reached in the last closed period
    without_target: int


def data(
    loaded: LoadedProject,
    board: BoardCache,
    fmt: Formats,
    _: Callable[..., str],
    engine: object,
) -> ReviewPage:
    project = loaded.project
    assert project is not None
    every = cards(loaded, board, fmt, _)
    order = {"off_track": 0, "at_risk": 1}
    attention = sorted((c for c in every if c.status in order), key=lambda c: order[c.status])
    said = _comments(engine, [(c.name, c.period_start) for c in attention], fmt)
    heading = [
        c for c in every if c.status not in order and c.open is not None and c.open.heading in order
    ]
    reached = [
        c
        for c in every
        if c.attainment is not None and c.status == "on_track" and c.attainment >= 1
    ]
    return ReviewPage(
        project=project.name,
        attention=[ReviewItem(card=c, comments=said.get(c.name, [])) for c in attention],
        heading_off=heading,
        reached=sorted(reached, key=lambda c: -(c.attainment or 0)),
        without_target=sum(project.kpis[c.name].target is None for c in every),
    )


def _comments(
    engine: object, wanted: list[tuple[str, dt.date | None]], fmt: Formats
) -> dict[str, list[Said]]:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    periods = dict(wanted)
    if not periods:
        return {}
    out: dict[str, list[Said]] = {}
    with Session(engine) as session:
        rows = session.scalars(
            select(Comment).where(Comment.kpi.in_(list(periods))).order_by(Comment.id)
        )
        for comment in rows:
            if comment.period is None or comment.period == periods[comment.kpi]:
                out.setdefault(comment.kpi, []).append(
                    Said(
                        author=comment.author,
                        text=comment.text,
                        when=fmt.moment(comment.created_at),
                    )
                )
    return out
