"""Embeds: share links made for another site's `<iframe>` (a KPI's card or chart, or the
board), read at `/e/SECRET` by anyone who has the link, without signing in and without a
cookie (a browser keeps cookies from framed sites). Signed, read-only, expiring and
revocable as share links are: they are share links, with `embed` set.

Framing: an embed's answer lets the sites listed in `tolok.yaml` (`embed: {origins: […]}`)
frame it (CSP `frame-ancestors`), and no other; every other answer of tolok keeps
`X-Frame-Options: DENY` and `frame-ancestors 'none'` (`harden`)."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.server import models as m
from tolok.server.errors import ApiError
from tolok.server.harden import framed_by
from tolok.server.pages import embed as embed_page
from tolok.server.security import state_of
from tolok.store.people import ShareLink, User

router = APIRouter()
THEMES = ("light", "dark")
HEIGHTS = {"card": 340, "chart": 420, "board": 640}  # the snippet's first height, in px
GONE = "this link does not exist, has expired or was revoked"


def share_of(request: Request, secret: str, embedded: bool) -> tuple[ShareLink, Any]:
    """The live link of `secret` and the project: a share link's page (`embedded` false)
    or an embed. A link answers at its own address only, so an embed's secret shows
    nothing at /s/ and a page's nothing at /e/ (404 otherwise)."""
    state = state_of(request)
    with Session(state.engine) as session:
        link = accounts.resolve_share(session, secret)
        if link is not None:
            session.expunge(link)
    if link is None or (link.embed is not None) != embedded:
        raise ApiError(404, GONE)
    return link, state.project()


def create_link(
    session: Session, user: User, kind: str, target: str, embed: str | None,
    expires_at: dt.datetime | None,
) -> tuple[ShareLink, str]:  # fmt: skip
    """A share link, or with `embed` (card, chart, board) an embed of what it names."""
    if embed is not None and embed_page.VIEWS.get(embed) != kind:
        raise accounts.AccountError(
            f"an embed shows a KPI's card or chart, or the board; not the {embed} of a {kind}"
        )
    return accounts.create_share(session, user, kind, target, expires_at, embed)


def address(request: Request, link: ShareLink, secret: str) -> str:
    """Where a new link is read: its page (/s/…) or its embed (/e/…)."""
    return str(request.url_for("embedded" if link.embed else "shared", secret=secret))


def iframe(url: str, title: str, view: str) -> str:
    """The `<iframe>` to paste into a page, as Metabase and Grafana give one."""
    return (
        f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" '
        f'height="{HEIGHTS[view]}" frameborder="0" loading="lazy"></iframe>'
    )


missing: dict[int | str, dict[str, Any]] = {404: {"model": m.ErrorBody}}


@router.get("/e/{secret}.json", tags=["sharing"], responses=missing)
def embedded_json(request: Request, secret: str) -> Response:
    """What an embed shows, as JSON: the KPI's card (and chart), or the board's cards."""
    from tolok.server.web import context, render

    link, _ = share_of(request, secret, embedded=True)
    ctx = context(request, None)
    state = state_of(request)
    page = embed_page.data(ctx, state.engine, state.board, link.embed or "", link.target)
    if page is None:
        raise ApiError(404, "what this link named is no longer in the project")
    return render(ctx, "embed.html", page)


@router.get("/e/{secret}", name="embedded", include_in_schema=False)
def embedded(request: Request, secret: str) -> Response:
    """An embed as a page for another site's frame; a link that is gone answers 404 with a
    page the frame can show, in the reader's language."""
    from tolok.server.web import TEMPLATES, context

    ctx = context(request, None)
    state = state_of(request)
    page = None
    try:
        link, _ = share_of(request, secret, embedded=True)
    except ApiError:
        link = None
    if link is not None:
        page = embed_page.data(ctx, state.engine, state.board, link.embed or "", link.target)
    theme = request.query_params.get("theme", "")
    response = TEMPLATES.TemplateResponse(
        request,
        "embed.html",
        {"page": page, "ctx": ctx, "_": ctx._, "lang": ctx.lang, "user": None,
         "theme": theme if theme in THEMES else "auto",
         "gone": ctx._("This embed does not exist, has expired or was revoked.")},
        status_code=200 if page is not None else 404,
    )  # fmt: skip
    response.headers["content-security-policy"] = framed_by(ctx.project.embed.origins)
    response.headers["referrer-policy"] = "no-referrer"  # the secret stays in this page
    response.headers["cache-control"] = "no-store"
    response.headers["link"] = f'<{request.url.path}.json>; rel="alternate"'
    return response
