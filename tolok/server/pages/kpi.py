"""A KPI's page: its series as asked (grain, range, comparison, breakdown, as reported) with
target, forecast cone, anomalies and annotations; why it moved; its definition in plain
words, lint findings and versions; comments per period and annotations with their impact."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.answers.views import SeriesQuery, reads_snapshot
from tolok.display import MISSING
from tolok.i18n import status_words
from tolok.server.charts import Cone, Line, Marker, series_figure
from tolok.server.pages import kpi_parts
from tolok.server.pages.board import Card, cards, outlooks, states
from tolok.server.web import Context
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Project
from tolok.store.people import Comment
from tolok.store.schema import Annotation

COMPARES = ("", "previous", "last_year")


class Query(BaseModel):
    grain: str
    start: str | None = None
    end: str | None = None
    compare: str | None = None
    by: str | None = None
    as_reported: bool = False


class Row(BaseModel):
    period: str
    start: dt.date
    slice: str | None
    value: float | None
    value_text: str
    target_text: str | None
    status: str | None
    compare_text: str | None
    change_text: str | None
    reported_text: str | None  # the value first reported, when it differs from today's
    anomaly: str | None
    state: str = "closed"  # closed, open, not_final, partial (tolok.track.verdict)
    status_text: str = ""  # the verdict in words: "On track", "So far 16%: heading on track"


class Said(BaseModel):
    id: int
    period: str | None
    text: str
    author: str
    when: str


class Note(BaseModel):
    id: int
    day: dt.date
    day_text: str
    text: str
    author: str
    verdict: str | None


class KpiPage(BaseModel):
    name: str
    card: Card
    query: Query
    error: str | None  # what is wrong with the query asked
    error_field: str | None
    grains: list[str]
    dimensions: list[str]
    rows: list[Row]
    figure: dict[str, Any] | None
    stale: bool
    explanation: kpi_parts.Explanation | None
    explain_note: str | None
    definition: kpi_parts.Definition
    findings: list[kpi_parts.FindingOut]
    versions: list[kpi_parts.Version]
    comments: list[Said]
    annotations: list[Note]
    periods: list[tuple[str, str]]  # (label, text) to comment on, newest first
    can_comment: bool
    can_annotate: bool
    can_set_targets: bool
    can_share: bool
    my_alerts: list[tuple[str, str]]  # (rule, what it watches in words): the reader's own
    can_alert: bool
    can_mail: bool = True  # the project has an e-mail server, so alerts reach their readers
    watched_since: str | None = None  # a current-state KPI: the first refresh's period


def data(ctx: Context, engine: Engine, board: Any, name: str, query: Query) -> KpiPage:
    from tolok.auth.roles import Action

    project: Project = ctx.project
    kpi = project.kpis[name]
    card = next(c for c in cards(ctx.loaded, board, ctx.fmt, ctx._) if c.name == name)
    state = states(ctx.loaded, board)[name]
    calendar = Calendar.of(project)
    notes = _notes(engine, name)  # read once: for the chart and the list
    rows, figure, stale, error, field = _series(ctx, board, name, query, notes)
    explanation, note = kpi_parts.explanation(
        ctx, name, query.by, card.period_start, query.grain, query.compare, query.end, board
    )
    closed = [p for p in state.points if card.period_start and p.period <= card.period_start]
    return KpiPage(
        name=name,
        card=card,
        query=query,
        error=error,
        error_field=field,
        grains=[g.value for g in Grain],
        dimensions=kpi_parts.dimensions(project, name),
        rows=rows,
        figure=figure,
        stale=stale,
        explanation=explanation,
        explain_note=note,
        definition=kpi_parts.definition(ctx, name),
        findings=kpi_parts.findings(ctx, name, state, outlooks(ctx.loaded, board).get(name)),
        versions=kpi_parts.versions(ctx, engine, name),
        comments=_comments(ctx, engine, name),
        annotations=_annotations(ctx, notes, name, [(p.period, p.value) for p in closed], board),
        watched_since=(
            calendar.label(state.points[0].period, kpi.grain)
            if state.points and reads_snapshot(project, name)
            else None
        ),
        periods=[
            (calendar.label(p.period, kpi.grain), ctx.fmt.period(p.period, kpi.grain))
            for p in reversed(state.points[-24:])
        ],
        can_comment=ctx.can(Action.comment, kpi.owner),
        can_annotate=ctx.can(Action.annotate, kpi.owner),
        can_set_targets=ctx.can(Action.set_targets, kpi.owner),
        can_share=ctx.can(Action.share),
        my_alerts=_my_alerts(ctx, engine, name),
        can_alert=ctx.principal is not None and ctx.can(Action.alert_rules),
        can_mail=project.email is not None,
    )


def _my_alerts(ctx: Context, engine: Engine, name: str) -> list[tuple[str, str]]:
    from tolok.notify.alerts import rules_made_by
    from tolok.spec.sharing import AlertWhen

    if ctx.principal is None:
        return []
    words = {
        AlertWhen.status: ctx._("When it is at risk or off track"),
        AlertWhen.target_reached: ctx._("When it reaches its target"),
        AlertWhen.change: ctx._("When it moves more than 20%"),
        AlertWhen.anomaly: ctx._("When a period is unusual"),
    }
    out = []
    for rule_name, rule in rules_made_by(engine, ctx.principal.user_id):
        if name not in rule.kpis:
            continue
        said = words.get(rule.when, rule.when.value)
        if rule.when is AlertWhen.status and [s.value for s in rule.statuses] == ["off_track"]:
            said = ctx._("When it is off track")
        out.append((rule_name, said))
    return out


def _series(
    ctx: Context, board: Any, name: str, query: Query, notes: list[Annotation]
) -> tuple[list[Row], dict[str, Any] | None, bool, str | None, str | None]:
    from tolok.answers.views import ViewError, reported_json, series_json
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError

    asked = SeriesQuery(
        name,
        Grain(query.grain),
        (query.by,) if query.by else (),
        query.start,
        query.end,
        None,
        query.compare or None,
        query.as_reported,
    )
    try:
        view = _view(ctx, board, asked)
        series = series_json(view, query.as_reported)
        reported = None
        if not query.as_reported and view.stored is not None:
            reported = reported_json(ctx.loaded, asked)  # values only: not judged again
    except ViewError as exc:
        return [], None, False, exc.message, exc.field
    except CompileError as exc:
        return [], None, False, exc.message, None
    except WarehouseError as exc:
        return [], None, False, exc.message + (f" ({exc.hint})" if exc.hint else ""), None
    rows = _rows(ctx, series, reported)
    figure = _figure(ctx, board, name, query, series, notes, rows)
    return rows, figure, view.stale, None, None


VIEWS_KEPT = 64
"""Series views kept between requests (each a few hundred points at most)."""


def _view(ctx: Context, board: Any, asked: SeriesQuery) -> Any:
    """The series the page asks for. One the store does not hold (another grain, a
    breakdown no refresh keeps) is computed from the warehouse, 100-400 ms: it is kept as
    the board's values are, until a refresh or the day changes, the most recent
    `VIEWS_KEPT` of them. An error is not kept: the next request asks again."""
    from tolok.answers.views import series_view
    from tolok.server.pages.board import today_of

    if board is None:
        return series_view(ctx.loaded, asked)
    return board.get_few(
        f"view:{asked!r}",
        ctx.loaded,
        today_of(ctx.project),
        lambda: series_view(ctx.loaded, asked),
        "views",
        VIEWS_KEPT,
    )


def _slice_text(point: dict[str, Any]) -> str | None:
    found = point.get("slice")
    if not found:
        return None
    return ", ".join(MISSING if v is None else str(v) for v in found.values())


def _rows(ctx: Context, series: dict[str, Any], reported: dict[str, Any] | None) -> list[Row]:
    unit = series["unit"]
    first = {}
    if reported is not None:
        first = {(p["start"], _slice_text(p)): p["value"] for p in reported["points"]}
    out = []
    targeted = any(p.get("target") is not None for p in series["points"])
    periods: dict[str, str] = {}  # by start: a breakdown repeats each period per slice
    for point in series["points"]:
        key = (point["start"], _slice_text(point))
        was = first.get(key, point["value"])
        differs = (
            was is not None
            and point["value"] is not None
            and abs(was - point["value"]) > (1e-9 * max(1.0, abs(was)))
        )
        anomaly = point.get("anomaly")
        start = dt.date.fromisoformat(point["start"])
        if point["start"] not in periods:
            periods[point["start"]] = ctx.fmt.period(start, series["grain"])
        shown = (  # side by side with its target; alone, as `values` would write it alone
            ctx.fmt.values([point["value"], point["target"]], unit)
            if point.get("target") is not None
            else [ctx.fmt.value(point["value"], unit), MISSING]
        )
        out.append(
            Row(
                period=periods[point["start"]],
                start=start,
                slice=_slice_text(point),
                value=point["value"],
                value_text=shown[0],
                target_text=shown[1] if targeted else None,
                status=point.get("status"),
                compare_text=ctx.fmt.value(point["compare"], unit) if "compare" in point else None,
                change_text=ctx.fmt.change(point.get("change")) if "compare" in point else None,
                reported_text=ctx.fmt.value(was, unit) if differs else None,
                anomaly=(ctx._("high") if anomaly["score"] > 0 else ctx._("low"))
                if anomaly
                else None,
                state=point["state"],
                status_text=verdict_words(ctx, point),
            )
        )
    return out


def verdict_words(ctx: Context, point: dict[str, Any]) -> str:
    """A point's verdict as the page says it: an open period by its heading, a provisional
    or partial one as such, a whole one by its status."""
    _ = ctx._
    words = status_words(_)
    if point["state"] == "open":
        heading, elapsed = point.get("heading"), ctx.fmt.share(point.get("elapsed"))
        if not heading:  # a conversion or a distinct count: no pace says where it ends
            return _("So far ({elapsed}): judged once the period is over", elapsed=elapsed)
        return _(
            "So far ({elapsed}): heading {heading}", elapsed=elapsed, heading=words[heading].lower()
        )
    if point["state"] == "not_final":
        if point.get("final_on"):
            day = ctx.fmt.day(dt.date.fromisoformat(point["final_on"]))
            return _("Provisional: final on {day}", day=day)
        return _("Provisional: may still change")
    if point["state"] == "partial":
        return _("Partial: the data covers part of the period")
    status = point.get("status")
    return words[status] if status else ""


def _figure(
    ctx: Context,
    board: Any,
    name: str,
    query: Query,
    series: dict[str, Any],
    notes: list[Annotation],
    rows: list[Row],
) -> dict[str, Any] | None:
    """The chart of the series; `rows` (one per point) give its hover texts as the table
    writes them."""
    points = series["points"]
    if not points:
        return None
    unit, kpi = series["unit"], ctx.project.kpis[name]
    lines: dict[str, Line] = {}
    partial: dict[str, Line] = {}  # open, provisional and partly covered periods, drawn apart
    whole = all(p["state"] in ("closed", "open") for p in points)
    for p, row in zip(points, rows, strict=True):
        start = row.start
        key = row.slice or (kpi.title or name)
        lines.setdefault(key, Line(key, [], [], []))
        if p["state"] != "closed":
            apart = (
                ctx._("{name} so far", name=key) if whole else ctx._("{name}, not final", name=key)
            )
            line = partial.setdefault(key, Line(apart, [], [], []))
        else:
            line = lines[key]
        line.starts.append(start)
        line.values.append(p["value"])
        assert line.texts is not None
        line.texts.append(row.value_text)
    single = not series["by"]
    first = Line("", [row.start for row in rows], [])
    target = compare = cone = None
    band = None
    if single and any(p.get("target") is not None for p in points):
        goal = [p.get("target") for p in points]
        if kpi.direction.value == "band" and kpi.tolerance:
            band = (
                Line(
                    ctx._("Target band"), first.starts, [_times(t, 1 - kpi.tolerance) for t in goal]
                ),
                Line(
                    ctx._("Target band"), first.starts, [_times(t, 1 + kpi.tolerance) for t in goal]
                ),
            )
        else:
            target = Line(
                ctx._("Target"), first.starts, goal, [r.target_text or MISSING for r in rows]
            )
    if single and series["compare"]:
        compare = Line(ctx._("Comparison"), first.starts, [p.get("compare") for p in points],
                       [r.compare_text or MISSING for r in rows])  # fmt: skip
    if single and series["grain"] == kpi.grain.value and not query.as_reported:
        cone = _cone(ctx, board, name)
    unusual = [
        (dt.date.fromisoformat(p["start"]), p["value"])
        for p in points
        if p.get("anomaly") and p["value"] is not None and single
    ]
    markers = [Marker(n.day, n.text) for n in notes]
    so_far = [partial.get(k) for k in lines]
    return series_figure(
        list(lines.values()),
        unit,
        ctx.fmt,
        ctx._,
        so_far=so_far,
        target=target,
        band=band,
        compare=compare,
        cone=cone,
        anomalies=unusual,
        notes=markers,
        grain=series["grain"],
        filename=name,
    )


def _today(ctx: Context) -> dt.date:
    from tolok.server.pages.board import today_of

    return today_of(ctx.project)


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _cone(ctx: Context, board: Any, name: str) -> Cone | None:
    from tolok.track.forecast import forecast

    kpi = ctx.project.kpis[name]
    state = states(ctx.loaded, board)[name]
    latest = state.latest
    if latest is None:
        return None
    closed = [(p.period, p.value) for p in state.points if p.period <= latest.period]
    ahead = board.get(  # kept as the states it comes from are: a fit costs 10-30 ms
        f"cone:{name}", ctx.loaded, _today(ctx),
        lambda: forecast(closed, kpi.grain, Calendar.of(ctx.project), horizon=3),
    )  # fmt: skip
    if not ahead or latest.value is None:
        return None
    return Cone(
        [latest.period, *(f.period for f in ahead)],
        [latest.value, *(f.mean for f in ahead)],
        [latest.value, *(f.low for f in ahead)],
        [latest.value, *(f.high for f in ahead)],
        ahead[0].level,
    )


def _notes(engine: Engine, name: str) -> list[Annotation]:
    with Session(engine) as session:
        found = list(session.scalars(select(Annotation).order_by(Annotation.day)))
        session.expunge_all()
    return [n for n in found if name in json.loads(n.kpis)]


def _comments(ctx: Context, engine: Engine, name: str) -> list[Said]:
    kpi = ctx.project.kpis[name]
    with Session(engine) as session:
        rows = session.scalars(select(Comment).where(Comment.kpi == name).order_by(Comment.id))
        return [
            Said(
                id=c.id,
                period=ctx.fmt.period(c.period, kpi.grain) if c.period else None,
                text=c.text,
                author=c.author,
                when=ctx.fmt.moment(c.created_at),
            )
            for c in rows
        ]


def _annotations(
    ctx: Context,
    notes: list[Annotation],
    name: str,
    closed: list[tuple[dt.date, float | None]],
    board: Any,
) -> list[Note]:
    out = []
    for note in notes:
        verdict = kpi_parts.impact_words(ctx, name, closed, note.day, board)
        out.append(
            Note(
                id=note.id,
                day=note.day,
                day_text=ctx.fmt.day(note.day),
                text=note.text,
                author=note.author,
                verdict=verdict,
            )
        )
    return out
