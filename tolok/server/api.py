"""The JSON API under /api/v1: every route needs a signed-in user or a token (see
`security.need`); answers are cached by ETag; lists are paged (`limit`, `offset`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok import clock, jsontext
from tolok.answers.views import anomaly_json
from tolok.auth import accounts
from tolok.auth.roles import Action
from tolok.server import models as m
from tolok.server.board import BoardCache
from tolok.server.errors import ApiError
from tolok.server.security import Principal, need, signed_in, state_of
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Grain, Project, Status, Unit
from tolok.store.people import Comment
from tolok.store.schema import Annotation, AuditEntry

if TYPE_CHECKING:
    from collections.abc import Callable

    from tolok.answers.verdicts import KpiState
    from tolok.track.verdict import Verdict

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": m.ErrorBody} for status in (400, 401, 403, 404, 409, 422)
}
ERRORS[304] = {"description": "Not modified: the ETag sent in If-None-Match still holds."}
router = APIRouter(prefix="/api/v1", responses=ERRORS)

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many items.")]


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
    text = jsontext.dumps(data, ensure_ascii=False, default=_plain, separators=(",", ":"))
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
    return clock.today(project)


def _states(loaded: LoadedProject, board: BoardCache | None) -> dict[str, KpiState]:
    """Every active KPI's state, kept in `board` until the store or the project changes."""
    from tolok.answers.verdicts import kpi_states

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
        money = _money(project, kpi)
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
            "value": money(latest.value if latest else None),
            "target": money(state.target if state else None),
            "attainment": state.attainment if state else None,
            "status": state.standing.value if state else "no_data",
            **_attention(state),
            "anomaly": anomaly_json(state.verdict.anomaly if state and state.verdict else None),
            "open": _open_json(calendar, kpi, state.open if state else None, money),
        }
    return cards


def _attention(state: KpiState | None) -> dict[str, Any]:
    """Why the KPI needs attention and where that puts it, as the board orders its cards
    (`board_groups`: the same verdicts read the same way)."""
    from tolok.server.pages.board_groups import attention_of, rank_of

    attention = attention_of(state) if state else None
    status = state.standing.value if state else "no_data"
    return {"attention": attention, "attention_rank": rank_of(attention, status)}


def _money(project: Project, kpi: KPI) -> Callable[[float | None], float | None]:
    """Money to its currency's minor unit, as the series API gives it; other values as
    they are."""
    from tolok.display import round_money

    if kpi.unit is not Unit.currency:
        return lambda value: value
    return lambda value: round_money(value, project.currency)


def _open_json(
    calendar: Calendar, kpi: KPI, now: Verdict | None, money: Callable[[float | None], float | None]
) -> dict[str, Any] | None:
    """The period under way, judged by its heading (as on every surface)."""
    if now is None:
        return None
    return {
        "period": calendar.label(now.period, kpi.grain),
        "start": now.period.isoformat(),
        "elapsed": round(now.elapsed or 0.0, 4),
        "value": money(now.value),
        "target": money(now.target),
        "target_so_far": money(now.expected),
        "projected": money(now.projected),
        "heading": now.heading.value if now.heading else None,
    }


def _audit_out(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": utc(entry.at), "actor": entry.actor, "action": entry.action,
            "subject": entry.subject,
            "before": json.loads(entry.before) if entry.before else None,
            "after": json.loads(entry.after) if entry.after else None}  # fmt: skip


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


SERIES_FILES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        {"schema": {"type": "string", "format": "binary"}}}}}  # fmt: skip
"""The series as a file (`format=csv` or `xlsx`), besides JSON."""


@router.get("/kpis/{name}/series", response_model=m.Series, tags=["kpis"],
            responses=SERIES_FILES)  # fmt: skip
def get_series(
    request: Request,
    name: str,
    _: Annotated[Principal, Depends(need(Action.read))],
    grain: Grain | None = None,
    start: Annotated[
        str | None, Query(alias="from", max_length=40, json_schema_extra=m.LABEL)
    ] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40, json_schema_extra=m.LABEL)] = None,
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
    from tolok.answers.views import SeriesQuery

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
    from tolok.answers.export import as_csv, as_xlsx

    view = _series_view(loaded, query)
    body = as_csv(view).encode("utf-8") if kind == "csv" else as_xlsx(view)
    name = f"{query.kpi}-{view.result.grain.value}.{kind}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=FILES[kind], headers=headers)


def series_data(loaded: LoadedProject, query: Any) -> dict[str, Any]:
    """The series as the API and share links give it; bad input is a 4xx."""
    from tolok.answers.views import series_json

    return series_json(_series_view(loaded, query), query.as_reported)


def _series_view(loaded: LoadedProject, query: Any) -> Any:
    from tolok.answers.views import ViewError, series_view
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError

    try:
        return series_view(loaded, query)
    except ViewError as exc:
        raise ApiError(404 if exc.field == "kpi" else 400, exc.message, exc.field) from None
    except CompileError as exc:
        raise ApiError(400, exc.message) from None
    except WarehouseError as exc:  # the request is sound; the warehouse's data is not there
        hint = f" ({exc.hint})" if exc.hint else ""
        raise ApiError(409, exc.message + hint) from None


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
