"""The pages: each route asks its page module for the data and renders it as HTML, or as
JSON at the same path ending in `.json`. Reading needs a signed-in user (share links have
their own page); forms need the editor's or admin's right and the session's CSRF token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from tolok.server.board import store_stamp
from tolok.server.errors import ApiError
from tolok.server.pages import board as board_page
from tolok.server.pages import goals as goals_page
from tolok.server.pages import review as review_page
from tolok.server.security import identify, state_of
from tolok.server.web import context, reader, render

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/")
def home(request: Request) -> Response:
    reader(request)
    return RedirectResponse("/board", 303)


@router.get("/board")
@router.get("/board.json")
def board(
    request: Request,
    group: Annotated[str, Query(max_length=20)] = "goal",
    owner: Text = None,
    status: Text = None,
    tag: Text = None,
    q: Text = None,
) -> Response:
    """Every KPI at a glance; `group` by goal, level, function, indicator, owner or status."""
    ctx = reader(request)
    if group not in board_page.GROUPS:
        raise ApiError(400, f"group by one of: {', '.join(board_page.GROUPS)}", "group")
    if status and status not in board_page.STATUSES:
        raise ApiError(400, f"status is one of: {', '.join(board_page.STATUSES)}", "status")
    filters = board_page.Filters(group=group, owner=owner or None, status=status or None,
                                 tag=tag or None, q=(q or "").strip() or None)  # fmt: skip
    state = state_of(request)
    page = board_page.data(ctx.loaded, state.board, ctx.fmt, ctx._, filters, _refreshed(request))
    return render(ctx, "board.html", page)


def _refreshed(request: Request) -> object:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from tolok.store.schema import Refresh

    with Session(state_of(request).engine) as session:
        return session.scalar(select(func.max(Refresh.finished_at)))


@router.get("/goals")
@router.get("/goals.json")
def goals(request: Request) -> Response:
    """The goal tree with roll-up status and progress."""
    ctx = reader(request)
    page = goals_page.data(ctx.loaded, state_of(request).board, ctx.fmt, ctx._)
    return render(ctx, "goals.html", page)


@router.get("/review")
@router.get("/review.json")
def review(request: Request) -> Response:
    """What needs the team's attention this period, and what went well."""
    ctx = reader(request)
    state = state_of(request)
    page = review_page.data(ctx.loaded, state.board, ctx.fmt, ctx._, state.engine)
    return render(ctx, "review.html", page)


@router.get("/events")
async def events(request: Request) -> Response:
    """Server-sent events: `refresh` whenever a refresh finishes or something people write
    (a value, a target, a comment) changes what the pages show."""
    if await run_in_threadpool(identify, request) is None:
        raise ApiError(401, "sign in (/signin) to follow the board's updates")
    engine = state_of(request).engine

    async def stream() -> AsyncIterator[str]:
        last = await run_in_threadpool(store_stamp, engine)
        yield "retry: 3000\n\n"
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(1.0)
            stamp = await run_in_threadpool(store_stamp, engine)
            if stamp != last:
                last = stamp
                yield f"event: refresh\ndata: {json.dumps({'stamp': str(stamp[1])})}\n\n"
                quiet = 0.0
            else:
                quiet += 1.0
                if quiet >= 15:  # a comment line keeps proxies from closing the stream
                    yield ": still here\n\n"
                    quiet = 0.0

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


ASSETS = {"tolok.css": "text/css", "tolok.js": "text/javascript"}


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The pages' style sheet and scripts, and Plotly from the installed package. Public:
    they hold no data, and a shared page needs them before anyone signs in."""
    if name == "plotly.min.js":
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        kind = "text/javascript"
    elif name in ASSETS:
        path, kind = STATIC / name, ASSETS[name]
    else:
        raise ApiError(404, "no such file")
    headers = {"cache-control": "public, max-age=86400"}
    return FileResponse(path, media_type=kind, headers=headers)


def signed_out_context(request: Request) -> object:
    return context(request, None)
