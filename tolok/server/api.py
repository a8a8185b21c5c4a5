"""The JSON API under /api/v1: every route needs a signed-in user or a token (see
`security.need`); answers are cached by ETag; lists are paged (`limit`, `offset`)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.roles import Action, ScopeError, parse_scopes
from tolok.server import idempotency
from tolok.server import models as m
from tolok.server.board import BoardCache
from tolok.server.errors import ApiError
from tolok.server.idempotency import KeyedRequest
from tolok.server.security import Principal, need, signed_in, state_of
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Project, Status
from tolok.store.people import ApiToken, Comment, ShareLink, User
from tolok.store.schema import Annotation, AuditEntry

if TYPE_CHECKING:
    from tolok.engine.ingest import Incoming, IngestReport
    from tolok.server.state import State
    from tolok.views import KpiState

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": m.ErrorBody} for status in (400, 401, 403, 404, 409, 422)
}
ERRORS[304] = {"description": "Not modified: the ETag sent in If-None-Match still holds."}
log = logging.getLogger("tolok.server")
router = APIRouter(prefix="/api/v1", responses=ERRORS)

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many items.")]
MAX_BODY = 50 * 1024 * 1024


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """The store keeps naive UTC; answers say so (RFC 3339 with an offset)."""
    return None if moment is None else moment.replace(tzinfo=dt.UTC)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def cached(request: Request, data: Any, status: int = 200) -> Response:
    """JSON with an ETag; 304 when the client already has this very answer."""
    text = json.dumps(data, ensure_ascii=False, default=_plain, separators=(",", ":"))
    tag = '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    sent = request.headers.get("if-none-match", "")
    if status == 200 and tag in [t.strip() for t in sent.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(text, status, headers=headers, media_type="application/json")


def page(request: Request, items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    chunk = items[offset : offset + limit]
    following = None
    if offset + limit < len(items):
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {"items": chunk, "total": len(items), "limit": limit, "offset": offset,
            "next": following}  # fmt: skip


def _loaded(request: Request) -> LoadedProject:
    loaded = state_of(request).project()
    if loaded.project is None:
        raise ApiError(409, "the project does not validate: run `tolok validate`")
    return loaded


def _project(request: Request) -> Project:
    loaded = _loaded(request)
    assert loaded.project is not None
    return loaded.project


def _kpi(project: Project, name: str) -> None:
    if name not in project.kpis:
        raise ApiError(404, f"no KPI named '{name}'", "name")


def _today(project: Project) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(project.timezone)).date()


def _states(loaded: LoadedProject, board: BoardCache | None) -> dict[str, KpiState]:
    """Every active KPI's state, kept in `board` until the store or the project changes."""
    from tolok.views import kpi_states

    assert loaded.project is not None
    today = _today(loaded.project)
    if board is None:
        return kpi_states(loaded, today)
    return board.get("states", loaded, today, lambda: kpi_states(loaded, today))


def _cards(loaded: LoadedProject, board: BoardCache | None = None) -> dict[str, dict[str, Any]]:
    """The KPI cards of the board (kept in `board` like the states they are made of)."""
    assert loaded.project is not None
    if board is None:
        return _build_cards(loaded, _states(loaded, None))
    today = _today(loaded.project)
    return board.get("cards", loaded, today, lambda: _build_cards(loaded, _states(loaded, board)))


def _build_cards(loaded: LoadedProject, states: dict[str, KpiState]) -> dict[str, dict[str, Any]]:
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    cards = {}
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        state = states.get(name)
        latest = state.latest if state else None
        cards[name] = {
            "name": name,
            "title": kpi.title or name,
            "description": kpi.description,
            "unit": kpi.unit.value,
            "direction": kpi.direction.value,
            "grain": kpi.grain.value,
            "owner": kpi.owner,
            "goal": kpi.goal,
            "level": kpi.level.value if kpi.level else None,
            "function": kpi.function.value if kpi.function else None,
            "indicator": kpi.indicator.value if kpi.indicator else None,
            "period": calendar.label(latest.period, kpi.grain) if latest else None,
            "value": latest.value if latest else None,
            "target": state.target if state else None,
            "attainment": state.attainment if state else None,
            "status": state.standing.value if state else "no_data",
        }
    return cards


# --- me, tokens ----------------------------------------------------------------------------


@router.get("/me", response_model=m.Me, tags=["account"])
def me(principal: Annotated[Principal, Depends(signed_in)]) -> dict[str, Any]:
    """Who this request is: e-mail, role, the token's scopes, teams."""
    return {"email": principal.email, "role": principal.role.value,
            "scopes": list(principal.scopes) if principal.scopes is not None else None,
            "teams": sorted(principal.teams), "csrf": principal.csrf}  # fmt: skip


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "scopes": token.scopes.split(), "created_at": utc(token.created_at),
            "last_used_at": utc(token.last_used_at),
            "revoked_at": utc(token.revoked_at)}  # fmt: skip


@router.get("/tokens", response_model=m.Page[m.TokenOut], tags=["account"])
def list_tokens(
    request: Request, principal: Annotated[Principal, Depends(need(Action.own_tokens))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Your API tokens (never the secrets)."""
    with Session(state_of(request).engine) as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        items = [_token_out(t) for t in accounts.tokens_of(session, user)]
    return cached(request, page(request, items, limit, offset))


@router.post("/tokens", response_model=m.TokenCreated, status_code=201, tags=["account"])
def create_token(
    request: Request, body: m.TokenIn,
    principal: Annotated[Principal, Depends(need(Action.own_tokens))],
) -> dict[str, Any]:  # fmt: skip
    """A token for programs, with scopes no wider than your role: shown once."""
    if principal.scopes is not None:
        raise ApiError(403, "tokens are created by a signed-in user, not by another token")
    project = _project(request)
    try:
        scopes = parse_scopes(" ".join(body.scopes), principal.role, list(project.datasets))
    except ScopeError as exc:
        raise ApiError(400, str(exc), "scopes") from None
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        token, secret = accounts.create_token(session, user, body.name, scopes)
        return {**_token_out(token), "token": secret}


@router.delete("/tokens/{token_id}", status_code=204, tags=["account"])
def revoke_token(
    request: Request, token_id: int,
    principal: Annotated[Principal, Depends(need(Action.own_tokens))],
) -> Response:  # fmt: skip
    """Revoke one of your tokens (an admin may revoke anyone's)."""
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        try:
            accounts.revoke_token(session, token_id, user, principal.can(Action.manage_users))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "token_id") from None
    return Response(status_code=204)


# --- KPIs ----------------------------------------------------------------------------------


@router.get("/kpis", response_model=m.Page[m.KpiCard], tags=["kpis"])
async def list_kpis(
    request: Request, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every active KPI: its last closed period's value, target, attainment and status."""
    from starlette.concurrency import run_in_threadpool

    loaded = _loaded(request)
    board = state_of(request).board
    assert loaded.project is not None
    stamp = getattr(request.state, "store_stamp", None)  # read by the token check
    cards: dict[str, dict[str, Any]] | None = board.peek(
        "cards", loaded, _today(loaded.project), stamp
    )
    if cards is None:  # kept cards are answered in the event loop, a build in a thread
        cards = await run_in_threadpool(_cards, loaded, board)
    return cached(request, page(request, list(cards.values()), limit, offset))


@router.get("/kpis/{name}", response_model=m.KpiDetail, tags=["kpis"])
def get_kpi(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))]
) -> Response:
    """One KPI: its definition, where it stands, and the forecast of the next periods."""
    from tolok.track.forecast import forecast

    loaded = _loaded(request)
    project = loaded.project
    assert project is not None
    _kpi(project, name)
    kpi = project.kpis[name]
    board = state_of(request).board
    card = _cards(loaded, board).get(name)
    if card is None:
        raise ApiError(404, f"KPI '{name}' is not active (status: {kpi.status.value})", "name")
    calendar = Calendar.of(project)
    state = _states(loaded, board).get(name)
    closed = [p for p in (state.points if state else []) if p.period <= (
        state.latest.period if state and state.latest else dt.date.min)]  # fmt: skip
    ahead = forecast([(p.period, p.value) for p in closed], kpi.grain, calendar) if closed else []
    detail = {
        **card,
        "formula": kpi.formula,
        "definition": kpi.model_dump(mode="json", by_alias=True, exclude_none=True),
        "forecast": [
            {"period": calendar.label(f.period, kpi.grain), "mean": f.mean, "low": f.low,
             "high": f.high, "level": f.level} for f in ahead
        ],
    }  # fmt: skip
    return cached(request, detail)


@router.get("/kpis/{name}/series", response_model=m.Series, tags=["kpis"])
def get_series(
    request: Request,
    name: str,
    _: Annotated[Principal, Depends(need(Action.read))],
    grain: Grain | None = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    by: Annotated[list[str] | None, Query(max_length=5)] = None,
    compare: Annotated[str | None, Query(max_length=60)] = None,
    where: Annotated[str | None, Query(max_length=1000)] = None,
    as_reported: bool = False,
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="json, or a file: csv or xlsx.")
    ] = "json",
) -> Response:
    """A KPI per period: grain, range, breakdown, comparison, as first reported; as JSON, or
    as a CSV or Excel file to download."""
    from tolok.views import SeriesQuery

    loaded = _loaded(request)
    assert loaded.project is not None
    _kpi(loaded.project, name)
    query = SeriesQuery(name, grain, tuple(by or ()), start, end, where, compare, as_reported)
    if format != "json":
        return series_file(loaded, query, format)
    return cached(request, series_data(loaded, query))


FILES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def series_file(loaded: LoadedProject, query: Any, kind: str) -> Response:
    """The series as a file to download (the API's `format=` and the KPI page's links)."""
    from tolok.export import as_csv, as_xlsx

    view = _series_view(loaded, query)
    body = as_csv(view).encode("utf-8") if kind == "csv" else as_xlsx(view)
    name = f"{query.kpi}-{view.result.grain.value}.{kind}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=FILES[kind], headers=headers)


def series_data(loaded: LoadedProject, query: Any) -> dict[str, Any]:
    """The series as the API and share links give it; bad input is a 4xx."""
    from tolok.views import series_json

    return series_json(_series_view(loaded, query), query.as_reported)


def _series_view(loaded: LoadedProject, query: Any) -> Any:
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError
    from tolok.views import ViewError, series_view

    try:
        return series_view(loaded, query)
    except ViewError as exc:
        raise ApiError(404 if exc.field == "kpi" else 400, exc.message, exc.field) from None
    except CompileError as exc:
        raise ApiError(400, exc.message) from None
    except WarehouseError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise ApiError(422, exc.message + hint) from None


# --- goals ---------------------------------------------------------------------------------


def goals_data(loaded: LoadedProject, board: BoardCache | None = None) -> list[dict[str, Any]]:
    """The goal tree with each goal's roll-up (kept in `board` like the KPI states)."""
    assert loaded.project is not None
    if board is None:
        return _build_goals(loaded, _states(loaded, None))
    today = _today(loaded.project)
    return board.get("goals", loaded, today, lambda: _build_goals(loaded, _states(loaded, board)))


def _build_goals(loaded: LoadedProject, states: dict[str, KpiState]) -> list[dict[str, Any]]:
    from tolok.track.goals import GoalNode, KpiStanding, goal_tree

    project = loaded.project
    assert project is not None
    standings = {n: KpiStanding(s.attainment, s.standing) for n, s in states.items()}

    def node(goal: GoalNode) -> dict[str, Any]:
        return {"name": goal.name, "title": goal.title, "progress": goal.progress,
                "status": goal.standing.value, "driver": goal.driver, "kpis": goal.kpis,
                "children": [node(c) for c in goal.children]}  # fmt: skip

    return [node(g) for g in goal_tree(project, standings)]


@router.get("/goals", response_model=list[m.Goal], tags=["goals"])
def list_goals(request: Request, _: Annotated[Principal, Depends(need(Action.read))]) -> Response:
    """The goal tree: each goal's progress rolled up from its KPIs and child goals."""
    return cached(request, goals_data(_loaded(request), state_of(request).board))


# --- annotations and comments --------------------------------------------------------------


def _annotation_out(note: Annotation) -> dict[str, Any]:
    return {"id": note.id, "day": note.day, "text": note.text, "kpis": json.loads(note.kpis),
            "author": note.author, "created_at": utc(note.created_at)}  # fmt: skip


@router.get("/annotations", response_model=m.Page[m.Annotation], tags=["annotations"])
def list_annotations(
    request: Request, _: Annotated[Principal, Depends(need(Action.read))],
    kpi: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Changes people made and the KPIs they should move (oldest first)."""
    from tolok.store.annotations import list_annotations as stored

    with Session(state_of(request).engine) as session:
        items = [_annotation_out(a) for a in stored(session, kpi)]
    return cached(request, page(request, items, limit, offset))


@router.post("/annotations", response_model=m.Annotation, status_code=201, tags=["annotations"])
def create_annotation(
    request: Request, body: m.AnnotationIn, principal: Annotated[Principal, Depends(signed_in)]
) -> dict[str, Any]:
    """Record a change (a campaign, a new checkout) on a day, and the KPIs it should move."""
    return add_annotation(request, principal, body.day, body.text, body.kpis)


def add_annotation(
    request: Request, principal: Principal, day: dt.date, text: str, kpis: list[str]
) -> dict[str, Any]:
    """An annotation by `principal` (the API and the KPI page's form)."""
    from tolok.store.annotations import annotate

    project = _project(request)
    for name in kpis:
        _kpi(project, name)
        if not principal.can_edit_kpi(Action.annotate, project.kpis[name].owner):
            raise ApiError(403, f"your role or token does not allow annotating {name}")
    with Session(state_of(request).engine) as session, session.begin():
        note = annotate(session, day, text, kpis, principal.email)
        return _annotation_out(note)


def _comment_out(comment: Comment) -> dict[str, Any]:
    return {"id": comment.id, "kpi": comment.kpi, "period": comment.period,
            "text": comment.text, "author": comment.author,
            "created_at": utc(comment.created_at)}  # fmt: skip


@router.get("/kpis/{name}/comments", response_model=m.Page[m.Comment], tags=["kpis"])
def list_comments(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """What people said about a KPI (oldest first)."""
    _kpi(_project(request), name)
    with Session(state_of(request).engine) as session:
        rows = session.scalars(select(Comment).where(Comment.kpi == name).order_by(Comment.id))
        items = [_comment_out(c) for c in rows]
    return cached(request, page(request, items, limit, offset))


@router.post("/kpis/{name}/comments", response_model=m.Comment, status_code=201, tags=["kpis"])
def create_comment(
    request: Request, name: str, body: m.CommentIn,
    principal: Annotated[Principal, Depends(signed_in)],
) -> dict[str, Any]:  # fmt: skip
    """Leave a comment on a KPI (optionally about one period)."""
    return add_comment(request, principal, name, body.period, body.text)


def add_comment(
    request: Request, principal: Principal, name: str, period_text: str | None, text: str
) -> dict[str, Any]:
    """A comment by `principal` (the API and the KPI page's form)."""
    project = _project(request)
    _kpi(project, name)
    kpi = project.kpis[name]
    if not principal.can_edit_kpi(Action.comment, kpi.owner):
        raise ApiError(403, "your role or token does not allow commenting")
    period = None
    if period_text:
        calendar = Calendar.of(project)
        try:
            _, day = calendar.parse(period_text)
        except PeriodError as exc:
            raise ApiError(400, f"{exc}; write 2026-03, 2026-Q1 or 2026-03-15", "period") from None
        period = calendar.start_of(day, kpi.grain)
    with Session(state_of(request).engine) as session, session.begin():
        comment = Comment(kpi=name, period=period, text=text, author=principal.email,
                          created_at=accounts.now())  # fmt: skip
        session.add(comment)
        session.flush()
        accounts.audit(session, principal.email, "comment.add", f"{name} comment {comment.id}",
                       None, {"text": text, "period": period_text})  # fmt: skip
        return _comment_out(comment)


# --- targets and manual values -------------------------------------------------------------


@router.put("/kpis/{name}/targets", response_model=m.TargetSet, tags=["kpis"])
def set_target(
    request: Request, name: str, body: m.TargetIn,
    principal: Annotated[Principal, Depends(signed_in)],
) -> dict[str, Any]:  # fmt: skip
    """Set a KPI's target for one period (and slice); it wins over the YAML's."""
    return put_target(request, principal, name, body.period, body.value, body.by)


def put_target(
    request: Request,
    principal: Principal,
    name: str,
    period: str,
    value: float,
    by: dict[str, str] | None,
) -> dict[str, Any]:
    """A target set by `principal` (the API and the data-entry form)."""
    from tolok.store.manual import EntryError
    from tolok.store.targets import set_target as store_target

    project = _project(request)
    _kpi(project, name)
    if not principal.can_edit_kpi(Action.set_targets, project.kpis[name].owner):
        raise ApiError(403, "your role or token does not allow setting targets")
    if value != value or abs(value) == float("inf"):
        raise ApiError(400, "value must be a number", "value")
    with Session(state_of(request).engine) as session, session.begin():
        try:
            before = store_target(session, project, name, period, value, by or {}, principal.email)
        except EntryError as exc:
            raise ApiError(400, str(exc)) from None
    return {"kpi": name, "period": period, "value": value, "before": before}


def _manual(project: Project, name: str) -> None:
    dataset = project.datasets.get(name)
    if dataset is None:
        raise ApiError(404, f"no dataset named '{name}'", "name")
    if not dataset.is_manual:
        raise ApiError(400, f"'{name}' is not a manual dataset (source: manual)", "name")


@router.get("/datasets/{name}/values", response_model=m.Page[m.ValueOut], tags=["data"])
def list_values(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """The values typed into a manual dataset."""
    from tolok.store.manual import manual_values

    _manual(_project(request), name)
    with Session(state_of(request).engine) as session:
        items = [
            {"measure": v.measure, "grain": v.grain.value, "period": v.period,
             "slice": v.slice, "value": v.value}
            for v in manual_values(session, name)
        ]  # fmt: skip
    items.sort(key=lambda v: (v["measure"], v["period"], json.dumps(v["slice"])))
    return cached(request, page(request, items, limit, offset))


@router.post("/datasets/{name}/values", response_model=m.Entered, tags=["data"])
def enter_values(
    request: Request, name: str, body: list[m.ValueIn],
    principal: Annotated[Principal, Depends(need(Action.enter_values))],
) -> dict[str, int]:  # fmt: skip
    """Enter values of a manual dataset, all or none; entering a key again is an edit."""
    from tolok.store.manual import EntryError, make_entry

    project = _project(request)
    _manual(project, name)
    if not body:
        raise ApiError(400, "send at least one value")
    entries = []
    for index, item in enumerate(body):
        try:
            entries.append(make_entry(project, name, item.measure, item.period, item.value,
                                      item.by, index + 1))  # fmt: skip
        except EntryError as exc:
            raise ApiError(400, f"value {index + 1}: {exc}", f"{index}") from None
    return store_values(request, principal, entries)


def store_values(request: Request, principal: Principal, entries: list[Any]) -> dict[str, int]:
    """Manual values entered by `principal` (the API and the data-entry page), then a
    refresh soon, so KPIs that read them show them."""
    from tolok.store.manual import enter

    state = state_of(request)
    with Session(state.engine) as session, session.begin():
        outcomes = enter(session, _project(request), entries, principal.email)
    if state.refresher is not None:
        state.refresher.soon()
    edited = sum(o.before is not None for o in outcomes)
    return {"entered": len(outcomes) - edited, "edited": edited}


@router.get("/datasets/{name}/values/history", response_model=m.Page[m.AuditOut], tags=["data"])
def value_history(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every entry and edit of a manual dataset's values: who, when, from what to what."""
    from tolok.store.manual import audit_trail

    _manual(_project(request), name)
    with Session(state_of(request).engine) as session:
        items = [_audit_out(e) for e in audit_trail(session, f"{name}.")]
    return cached(request, page(request, items, limit, offset))


# --- ingestion -----------------------------------------------------------------------------


@router.post("/datasets/{name}/rows", response_model=m.Ingested, tags=["data"],
             responses={409: {"model": m.ErrorBody, "description": "The Idempotency-Key came "
                              "with other rows before."},
                        413: {"model": m.ErrorBody}, 415: {"model": m.ErrorBody}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                 "application/x-ndjson": {"schema": {"type": "string"}},
                 "text/csv": {"schema": {"type": "string"}}}}})  # fmt: skip
async def ingest_rows(
    request: Request, response: Response, name: str,
    principal: Annotated[Principal, Depends(signed_in)],
) -> dict[str, Any]:  # fmt: skip
    """Append rows to a dataset's table: a JSON array, NDJSON or CSV. Each row is checked;
    one bad row and nothing is written. Rows whose key is in the table already add nothing.
    A body sent again with the same `Idempotency-Key` (within a day) gets the first answer
    again, with `Idempotent-Replayed: true`; the key with another body gets 409. An
    incremental refresh follows."""
    project = _project(request)
    dataset = project.datasets.get(name)
    if dataset is None:
        raise ApiError(404, f"no dataset named '{name}'", "name")
    if not principal.can(Action.ingest, name) and not (
        principal.scopes is None and principal.can(Action.ingest)
    ):
        raise ApiError(403, f"your role or token does not allow ingesting into {name}")
    if dataset.is_manual or dataset.source.startswith("file:"):
        raise ApiError(400, f"'{name}' reads {dataset.source}: rows go into warehouse tables")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"send at most {MAX_BODY // 1024 // 1024} MB per request")
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    suffix = {"application/json": ".json", "application/x-ndjson": ".jsonl",
              "application/jsonl": ".jsonl", "text/csv": ".csv"}.get(kind)  # fmt: skip
    if suffix is None:
        raise ApiError(415, "send application/json (an array), application/x-ndjson or text/csv")
    key = request.headers.get(idempotency.HEADER)
    keyed = None if key is None else idempotency.KeyedRequest.of(
        principal.user_id, key, name, suffix, raw)  # fmt: skip
    answer, replayed = await _ingest(request, name, raw, suffix, keyed)
    if replayed:
        response.headers[idempotency.REPLAYED] = "true"
    return answer


async def _ingest(
    request: Request, name: str, raw: bytes, suffix: str, keyed: KeyedRequest | None
) -> tuple[dict[str, Any], bool]:
    """The body's rows checked and written in a worker thread, through the server's one
    warehouse connection; no temporary file. With a key: the first answer to it, if any."""
    from starlette.concurrency import run_in_threadpool

    from tolok.engine.errors import WarehouseError
    from tolok.engine.ingest import IngestError
    from tolok.engine.locks import WarehouseBusyError

    incoming = _incoming(raw, suffix)
    header = 1 if suffix == ".csv" else 0  # a CSV's first line names the columns
    loaded = _loaded(request)
    state = state_of(request)

    def write() -> tuple[dict[str, Any], bool]:
        if keyed is None:
            return _written(state, state.ingest(loaded, name, incoming, None), header), False
        with state.keyed:  # one request per key at a time: a retry waits for the first
            first = idempotency.recall(state.engine, keyed)
            if first is not None:
                return first, True
            report = state.ingest(loaded, name, incoming, keyed.engine_key)
            answer = _written(state, report, header)
            return idempotency.remember(state.engine, keyed, answer), False

    try:
        return await run_in_threadpool(write)
    except IngestError as exc:
        problems = [_problem(p, header) for p in exc.problems[:100]]
        raise ApiError(422, exc.message, None, extra={"problems": problems}) from None
    except WarehouseBusyError as exc:  # who holds it (a path, a command line) is logged only
        log.warning("ingestion into %s waited in vain: %s", name, exc.message)
        raise ApiError(409, "the warehouse is in use by another program (a `tolok refresh`?); "
                       "nothing was written: send the rows again shortly", None,
                       {"Retry-After": "5"}) from None  # fmt: skip
    except WarehouseError as exc:
        raise ApiError(422, exc.message) from None
    except csv.Error as exc:
        raise ApiError(400, f"the CSV cannot be read: {exc}") from None
    except ApiError:
        raise
    except Exception as exc:  # the warehouse refused (a name clash, a conflict): say so
        log.exception("ingestion into %s failed", name)
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ApiError(422, f"the warehouse did not take these rows: {first}") from None


def _incoming(raw: bytes, suffix: str) -> Incoming:
    from tolok.engine.ingest import Incoming

    if suffix != ".json":
        return Incoming.body(raw, "csv" if suffix == ".csv" else "jsonl")
    try:
        rows = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply to be rows") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError(400, "send a JSON array of objects, one per row")
    return Incoming.records(rows)


def _problem(p: Any, header: int) -> dict[str, Any]:
    where = f"column '{p.column}': " if p.column else ""
    return {"row": p.line - header, "reason": where + p.reason}


def _written(state: State, report: IngestReport, header: int) -> dict[str, Any]:
    """The answer to rows taken; an incremental refresh is set off when any were new."""
    written = report.written > 0
    if written and state.refresher is not None:
        state.refresher.soon()
    return {"accepted": report.written, "duplicates": report.duplicates,
            "rejected": report.rejected, "repeat": report.already,
            "problems": [_problem(p, header) for p in report.problems],
            "refresh": "scheduled" if written and state.refresher else "none"}  # fmt: skip


# --- audit ---------------------------------------------------------------------------------


def _audit_out(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": utc(entry.at), "actor": entry.actor, "action": entry.action,
            "subject": entry.subject,
            "before": json.loads(entry.before) if entry.before else None,
            "after": json.loads(entry.after) if entry.after else None}  # fmt: skip


@router.get("/audit", response_model=m.Page[m.AuditOut], tags=["admin"])
def audit(
    request: Request, _: Annotated[Principal, Depends(need(Action.read_audit))],
    subject: Annotated[str, Query(max_length=1000)] = "", limit: Limit = 100,
    offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every change: who, what, when, before and after (admins)."""
    from tolok.store.manual import audit_trail

    with Session(state_of(request).engine) as session:
        items = [_audit_out(e) for e in audit_trail(session, subject)]
    return cached(request, page(request, items, limit, offset))


# --- users and share links -----------------------------------------------------------------


def _user_out(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "role": user.role,
            "disabled": user.disabled, "created_at": utc(user.created_at)}  # fmt: skip


@router.get("/users", response_model=m.Page[m.UserOut], tags=["admin"])
def list_users(
    request: Request, _: Annotated[Principal, Depends(need(Action.manage_users))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every account (admins)."""
    with Session(state_of(request).engine) as session:
        items = [_user_out(u) for u in accounts.list_users(session)]
    return cached(request, page(request, items, limit, offset))


@router.post("/users", response_model=m.UserCreated, status_code=201, tags=["admin"])
def add_user(
    request: Request, body: m.UserIn,
    principal: Annotated[Principal, Depends(need(Action.manage_users))],
) -> dict[str, Any]:  # fmt: skip
    """A new account; its password is in the answer, once (admins)."""
    with Session(state_of(request).engine) as session, session.begin():
        try:
            user, secret = accounts.add_user(session, body.email, body.name, body.role,
                                             principal.email)  # fmt: skip
        except accounts.AccountError as exc:
            raise ApiError(409 if "already" in str(exc) else 400, str(exc), "email") from None
        return {**_user_out(user), "password": secret}


@router.post("/users/{email}/disable", response_model=m.UserOut, tags=["admin"])
def disable_user(
    request: Request, email: str,
    principal: Annotated[Principal, Depends(need(Action.manage_users))],
) -> dict[str, Any]:  # fmt: skip
    """Disable an account: its sessions end and its tokens stop working (admins)."""
    with Session(state_of(request).engine) as session, session.begin():
        try:
            return _user_out(accounts.set_disabled(session, email, True, principal.email))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "email") from None


def _share_out(link: ShareLink) -> dict[str, Any]:
    return {"id": link.id, "kind": link.kind, "target": link.target, "prefix": link.prefix,
            "created_at": utc(link.created_at), "expires_at": utc(link.expires_at),
            "revoked_at": utc(link.revoked_at)}  # fmt: skip


@router.get("/shares", response_model=m.Page[m.ShareOut], tags=["sharing"])
def list_shares(
    request: Request, principal: Annotated[Principal, Depends(need(Action.share))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Your share links (all of them for admins)."""
    with Session(state_of(request).engine) as session:
        statement = select(ShareLink).order_by(ShareLink.id)
        if not principal.can(Action.manage_users):
            statement = statement.where(ShareLink.created_by == principal.user_id)
        items = [_share_out(s) for s in session.scalars(statement)]
    return cached(request, page(request, items, limit, offset))


@router.post("/shares", response_model=m.ShareCreated, status_code=201, tags=["sharing"])
def create_share(
    request: Request, body: m.ShareIn,
    principal: Annotated[Principal, Depends(need(Action.share))],
) -> dict[str, Any]:  # fmt: skip
    """A read-only link to one KPI, one goal or the whole board; shown once."""
    project = _project(request)
    if body.kind == "kpi":
        _kpi(project, body.target)
    if body.kind == "goal" and body.target not in project.goals:
        raise ApiError(404, f"no goal named '{body.target}'", "target")
    expires = body.expires_at
    if expires is not None and expires.tzinfo is not None:
        expires = expires.astimezone(dt.UTC).replace(tzinfo=None)
    if expires is not None and expires <= accounts.now():
        raise ApiError(400, "expires_at is in the past", "expires_at")
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        link, secret = accounts.create_share(session, user, body.kind, body.target, expires)
        url = str(request.url_for("shared", secret=secret))
        return {**_share_out(link), "url": url}


@router.delete("/shares/{share_id}", status_code=204, tags=["sharing"])
def revoke_share(
    request: Request, share_id: int, principal: Annotated[Principal, Depends(need(Action.share))]
) -> Response:
    """Revoke a share link: it stops working at once."""
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        try:
            accounts.revoke_share(session, share_id, user, principal.can(Action.manage_users))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "share_id") from None
    return Response(status_code=204)
