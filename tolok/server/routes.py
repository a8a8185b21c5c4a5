"""The pages: each route asks its page module for the data and renders it as HTML, or as
JSON at the same path ending in `.json`. Reading needs a signed-in user, or a token with the
`read` or `write` scope (share links have their own page); forms need the role's right, a
session's CSRF token or a token's `write` scope — the same checks as the API's."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from tolok.auth.roles import Action
from tolok.i18n import DAY_PATTERNS, parse_day
from tolok.server.board import store_stamp
from tolok.server.errors import ApiError
from tolok.server.pages import board as board_page
from tolok.server.pages import goals as goals_page
from tolok.server.pages import kpi as kpi_page
from tolok.server.pages import review as review_page
from tolok.server.security import identify, permitted, refuse, state_of
from tolok.server.web import Context, context, reader, render, wants_json

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/")
def home(request: Request) -> Response:
    reader(request)
    return RedirectResponse("/board", 303)


@router.get("/board")
@router.get("/board.json")
def board(
    request: Request,
    group: Annotated[str | None, Query(max_length=20)] = None,
    owner: Text = None,
    status: Text = None,
    tag: Text = None,
    q: Text = None,
) -> Response:
    """Every KPI at a glance, what needs attention first; `group` by attention, goal, level,
    function, indicator, owner or status (the choice is remembered)."""
    ctx = reader(request)
    asked = group
    group = board_page.chosen_group(group, request.cookies.get(board_page.GROUP_COOKIE))
    if group not in board_page.GROUPS:
        raise ApiError(400, f"group by one of: {', '.join(board_page.GROUPS)}", "group")
    if status and status not in board_page.STATUSES:
        raise ApiError(400, f"status is one of: {', '.join(board_page.STATUSES)}", "status")
    filters = board_page.Filters(
        group=group,
        owner=owner or None,
        status=status or None,
        tag=tag or None,
        q=(q or "").strip() or None,
    )
    state = state_of(request)
    stamp = stamp_of(state.engine)  # before the data: a later change is an event
    done, failed = _refreshed(request)
    page = board_page.data(ctx.loaded, state.board, ctx.fmt, ctx._, filters, done, failed)
    response = render(ctx, "board.html", page, stamp=stamp)
    if asked:
        response.set_cookie(board_page.GROUP_COOKIE, group, max_age=365 * 86400, samesite="lax")
    return response


def _refreshed(request: Request) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When the newest refresh that did its work finished, and the newest that failed."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from tolok.store.schema import Refresh

    newest = func.max(Refresh.finished_at)
    with Session(state_of(request).engine) as session:
        done = session.scalar(select(newest).where(Refresh.status == "done"))
        failed = session.scalar(select(newest).where(Refresh.status == "failed"))
    return done, failed


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
    principal = await run_in_threadpool(identify, request)
    if principal is None:
        raise ApiError(401, "sign in (/signin) to follow the board's updates")
    if not principal.can(Action.read):
        raise refuse(Action.read)
    state = state_of(request)
    engine, stopping, changes = state.engine, state.stopping, state.changes
    since = request.query_params.get("since", "")[:64]

    async def now() -> str:
        """The stamp as this process's watcher last read it (no query per stream); read
        here only when no watcher runs (an app without its lifespan)."""
        if changes is not None and changes.stamp:
            return changes.stamp
        return await run_in_threadpool(stamp_of, engine)

    async def stream() -> AsyncIterator[str]:
        last = await now()
        yield "retry: 3000\n\n"
        if since and since != last:  # changed between the page and this stream
            yield f"event: refresh\ndata: {json.dumps({'stamp': last})}\n\n"
        quiet = 0.0
        while not await request.is_disconnected():
            for _ in range(4):  # a second, but a server asked to stop is not kept waiting
                if stopping.is_set():
                    return
                await asyncio.sleep(0.25)
            stamp = await now()
            if stamp != last:
                last = stamp
                yield f"event: refresh\ndata: {json.dumps({'stamp': stamp})}\n\n"
                quiet = 0.0
            else:
                quiet += 1.0
                if quiet >= 15:  # a comment line keeps proxies from closing the stream
                    yield ": still here\n\n"
                    quiet = 0.0

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def stamp_of(engine: Any) -> str:
    """The store's stamp (see `board.store_stamp`) as a short text a page carries, so its
    stream of events knows what the page was made from."""
    import hashlib

    return hashlib.sha256(repr(store_stamp(engine)).encode()).hexdigest()[:16]


@router.get("/static/{name}")
def static(request: Request, name: str) -> Response:
    """The pages' style sheet and scripts, and Plotly from the installed package. Public:
    they hold no data, and a shared page needs them before anyone signs in. Compressed
    once per process; kept by browsers for a year at the address a page links
    (`?v=` its fingerprint, `assets.url`), asked again (304) at any other."""
    from tolok.server import assets

    headers = request.headers
    try:
        return assets.answer(name, request.query_params.get("v"),
                             headers.get("accept-encoding", ""),
                             headers.get("if-none-match", ""))  # fmt: skip
    except KeyError:
        raise ApiError(404, "no such file") from None


def signed_out_context(request: Request) -> object:
    return context(request, None)


# --- a KPI's page and its forms ---------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What a KPI's page is asked to show: its query string."""

    grain: str | None = None
    start: str | None = None
    end: str | None = None
    compare: str | None = None
    by: str | None = None
    as_reported: bool = False


def shown(
    grain: Annotated[str | None, Query(max_length=20)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    compare: Annotated[str | None, Query(max_length=60)] = None,
    by: Annotated[str | None, Query(max_length=100)] = None,
    as_reported: bool = False,
) -> Shown:
    return Shown(grain, start, end, compare, by, as_reported)


Asked = Annotated[Shown, Depends(shown)]


@router.get("/kpis/{name}.csv")
@router.get("/kpis/{name}.xlsx")
def kpi_file(request: Request, name: str, asked: Asked) -> Response:
    """The series the KPI page shows, as a CSV or Excel file."""
    from tolok.answers.views import SeriesQuery
    from tolok.server.api import series_file
    from tolok.spec.models import Grain

    ctx = reader(request)
    query = _kpi_query(ctx, name, asked)
    series = SeriesQuery(name, Grain(query.grain), (query.by,) if query.by else (), query.start,
                         query.end, None, query.compare, query.as_reported)  # fmt: skip
    return series_file(ctx.loaded, series, request.url.path.rsplit(".", 1)[1])


@router.get("/kpis/{name}")
@router.get("/kpis/{name}.json")
def kpi(request: Request, name: str, asked: Asked) -> Response:
    """A KPI's series, why it moved, its definition, comments and annotations."""
    ctx = reader(request)
    shared = None if wants_json(request) else request.cookies.get(SHARED_COOKIE)
    response = _kpi_page(ctx, name, _kpi_query(ctx, name, asked), shared=shared)
    if shared is not None:  # shown once
        response.delete_cookie(SHARED_COOKIE, path=f"/kpis/{name}")
    return response


SHARED_COOKIE = "tolok_shared"
"""A share link just made on a KPI's page, carried to the page it returns to (a minute)."""


def _kpi_query(ctx: Context, name: str, asked: Shown) -> kpi_page.Query:
    from tolok.spec.models import Grain

    spec = ctx.project.kpis.get(name)
    if spec is None:
        raise ApiError(404, ctx._("There is no KPI called '{name}'.", name=name), "name")
    if asked.grain and asked.grain not in {g.value for g in Grain}:
        grains = ", ".join(g.value for g in Grain)
        raise ApiError(400, ctx._("The period is one of: {grains}.", grains=grains), "grain")
    return kpi_page.Query(
        grain=asked.grain or spec.grain.value,
        start=asked.start or None,
        end=asked.end or None,
        compare=asked.compare or None,
        by=asked.by or None,
        as_reported=asked.as_reported,
    )


def _kpi_page(
    ctx: Context,
    name: str,
    query: kpi_page.Query,
    problems: dict[str, str] | None = None,
    status: int = 200,
    shared: str | None = None,
) -> Response:
    """The KPI's page; `shared`: the address of a share link just made, shown once."""
    state = state_of(ctx.request)
    page = kpi_page.data(ctx, state.engine, state.board, name, query)
    if page.error and status == 200:
        status = 400
        if wants_json(ctx.request):
            raise ApiError(400, page.error, page.error_field)
    return render(ctx, "kpi.html", page, status, problems=problems or {}, shared=shared)


def _form_error(
    ctx: Context, name: str, exc: ApiError, field: str, values: dict[str, str]
) -> Response:
    """The KPI's page again, the problem next to the field it is about."""
    if exc.status in (401, 403, 404):
        raise exc
    query = _kpi_query(ctx, name, Shown())
    problems = {exc.field or field: exc.message, **{f"value:{k}": v for k, v in values.items()}}
    return _kpi_page(ctx, name, query, problems, 400)


@router.post("/kpis/{name}/comments")
async def comment_form(request: Request, name: str) -> Response:
    """The comment form of a KPI's page."""
    from tolok.server.api import add_comment

    principal = await permitted(request, Action.comment, team=True)
    form = await request.form()
    text = str(form.get("text", "")).strip()
    period = str(form.get("period", "")).strip() or None
    ctx = context(request, principal)
    try:
        if not text:
            raise ApiError(400, ctx._("Write a comment first."), "text")
        if len(text) > 5000:
            raise ApiError(400, ctx._("A comment has at most 5,000 characters."), "text")
        await run_in_threadpool(add_comment, request, principal, name, period, text)
    except ApiError as exc:
        return _form_error(ctx, name, exc, "text", {"text": text, "period": period or ""})
    return RedirectResponse(f"/kpis/{name}#comments", 303)


@router.post("/kpis/{name}/annotations")
async def annotation_form(request: Request, name: str) -> Response:
    """The annotation form of a KPI's page: a change made on a day."""
    import datetime as dt

    from tolok.server.api import add_annotation

    principal = await permitted(request, Action.annotate, team=True)
    form = await request.form()
    text = str(form.get("text", "")).strip()
    day = str(form.get("day", "")).strip()
    ctx = context(request, principal)
    try:
        try:
            when = parse_day(day, ctx.lang)
        except ValueError:
            example = dt.date(2026, 3, 15).strftime(DAY_PATTERNS.get(ctx.lang, "%Y-%m-%d"))
            raise ApiError(400, ctx._("Write the day like {example}.", example=example),
                           "day") from None  # fmt: skip
        if not text:
            raise ApiError(400, ctx._("Say what changed."), "note")
        if len(text) > 2000:
            raise ApiError(400, ctx._("A note has at most 2,000 characters."), "note")
        await run_in_threadpool(add_annotation, request, principal, when, text, [name])
    except ApiError as exc:
        return _form_error(ctx, name, exc, "note", {"note": text, "day": day})
    return RedirectResponse(f"/kpis/{name}#annotations", 303)


# --- the catalog ------------------------------------------------------------------------------


@router.get("/catalog")
@router.get("/catalog.json")
def catalog(
    request: Request,
    q: Text = None,
    function: Annotated[str | None, Query(max_length=20)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    indicator: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """KPI templates to choose from, in the reader's language."""
    from tolok.server.pages import catalog as catalog_page
    from tolok.spec.models import Function, Indicator, Level

    ctx = reader(request)
    for field, value, kind in (("function", function, Function), ("level", level, Level),
                               ("indicator", indicator, Indicator)):  # fmt: skip
        if value and value not in {k.value for k in kind}:
            raise ApiError(400, f"{field} is one of: {', '.join(k.value for k in kind)}", field)
    page = catalog_page.data(ctx, (q or "").strip() or None, function or None, level or None,
                             indicator or None)  # fmt: skip
    return render(ctx, "catalog.html", page)


@router.get("/catalog/{name}")
@router.get("/catalog/{name}.json")
def catalog_template(request: Request, name: str) -> Response:
    """One template: what it measures, why, and how it maps onto the project's datasets
    (`dataset.ROLE=DATASET`, `column.COLUMN=YOURS` in the query)."""
    from tolok.catalog.templates import find
    from tolok.server.pages import catalog as catalog_page

    ctx = reader(request)
    found = find(name)
    if found is None:
        raise ApiError(404, ctx._("No template named '{name}' in the catalog.", name=name), "name")
    chosen, columns = {}, {}
    for key, value in request.query_params.items():
        if key.startswith("dataset.") and len(value) <= 200:
            chosen[key.removeprefix("dataset.")] = value
        elif key.startswith("column.") and len(value) <= 500:
            columns[key.removeprefix("column.")] = value.strip()
    page = catalog_page.template_data(ctx, found[0], found[1], chosen, columns)
    return render(ctx, "catalog_template.html", page)
