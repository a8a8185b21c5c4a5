"""`tolok explain KPI`: which values of a dimension explain the KPI's change between a
period and the one before (computed on the spot from the data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tolok.display import format_value
from tolok.explanation import ExplainError, explain
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Unit
from tolok.terminal import kpi_of, project_of, reported
from tolok.track.explain import Contribution


def run_explain(
    loaded: LoadedProject,
    name: str,
    period: str | None,
    by: list[str],
    out: Console,
    errors: Console,
) -> None:
    project = project_of(loaded)
    kpi = kpi_of(project, name, errors)
    dimensions = tuple(by) or (tuple(kpi.breakdowns[0]) if kpi.breakdowns else ())
    if not dimensions:
        raise typer.BadParameter("name a dimension to explain by: --by Region")
    calendar = Calendar.of(project)
    after = _period(calendar, kpi, project, period)
    with reported(loaded, errors):
        try:
            found = explain(loaded, name, after, dimensions)
        except ExplainError as exc:
            raise typer.BadParameter(str(exc)) from None
    label = f"{calendar.label(found.before, kpi.grain)} -> {calendar.label(after, kpi.grain)}"
    _print(project, kpi, name, dimensions, label, found.contributions, kpi.unit, found.ratio)


def _period(calendar: Calendar, kpi: KPI, project: Project, text: str | None) -> dt.date:
    if text is None:
        today = dt.datetime.now(ZoneInfo(project.timezone)).date()
        return calendar.shift(calendar.start_of(today, kpi.grain), kpi.grain, -1)
    try:
        _, day = calendar.parse(text)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc)) from None
    return calendar.start_of(day, kpi.grain)


def _print(
    project: Project,
    kpi: KPI,
    name: str,
    by: tuple[str, ...],
    label: str,
    contributions: list[Contribution],
    unit: Unit,
    ratio: bool,
) -> None:
    def show(value: float | None) -> str:
        return format_value(value, unit, project.currency, project.locale.value)

    header = [*by, "before", "after", "contribution"] + (["mix", "rate"] if ratio else [])
    typer.echo(f"{kpi.title or name}: change {label}, by {', '.join(by)}")
    typer.echo("\t".join(header))
    for item in contributions:
        cells = [*("(empty)" if v is None else str(v) for v in item.slice)]
        cells += [show(item.before), show(item.after), show(item.total)]
        if ratio:
            cells += [show(item.mix), show(item.rate)]
        typer.echo("\t".join(cells))
    total = sum(item.total for item in contributions)
    typer.echo("\t".join(["total", *[""] * (len(by) + 1), show(total)]))


def run_annotate(
    loaded: LoadedProject, kpis: list[str], day: str, text: str, author: str, out: Console
) -> None:
    """Record a change made on a day, and the KPIs it should move."""
    from sqlalchemy.orm import Session

    from tolok.store.annotations import annotate
    from tolok.store.database import open_store, store_url

    project = loaded.project
    assert project is not None
    unknown = [k for k in kpis if k not in project.kpis]
    if unknown:
        raise typer.BadParameter(f"no KPI '{unknown[0]}' (KPIs: {', '.join(project.kpis)})")
    try:
        when = dt.date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"'{day}' is not a day: write it as 2026-03-15") from None
    with Session(open_store(store_url(project.store, loaded.root))) as session, session.begin():
        note = annotate(session, when, text, kpis, author)
        number = note.id
    out.print(f"annotation {number}: {when.isoformat()} {text} ({', '.join(kpis)})", markup=False)


def run_impact(loaded: LoadedProject, number: int, out: Console, errors: Console) -> None:
    """For each KPI of an annotation: the effect since the change, against a forecast."""
    import json

    from sqlalchemy.orm import Session

    from tolok.engine.series import Request
    from tolok.engine.stored import answer
    from tolok.store.database import open_store, store_url
    from tolok.store.schema import Annotation
    from tolok.track.impact import impact, verdict

    project = loaded.project
    assert project is not None
    with Session(open_store(store_url(project.store, loaded.root))) as session:
        note = session.get(Annotation, number)
        if note is None:
            errors.print(f"error: no annotation {number}", markup=False)
            raise typer.Exit(1)
        day, text, kpis = note.day, note.text, json.loads(note.kpis)
    out.print(f"annotation {number}: {day.isoformat()} {text}", markup=False)
    calendar = Calendar.of(project)
    today = dt.datetime.now(ZoneInfo(project.timezone)).date()
    for name in kpis:
        kpi = project.kpis[name]
        stored = answer(loaded, Request((name,), kpi.grain), False)
        points = stored.series.points if stored else ()
        closed = [
            (p.period, p.value) for p in points if calendar.end_of(p.period, kpi.grain) <= today
        ]
        result = impact(closed, day, kpi.grain, calendar)
        title = kpi.title or name
        if result is None:
            out.print(f"  {title}: not enough history before and periods after", markup=False)
            continue
        show = _effect_format(project, kpi)
        words = verdict(
            result, title.lower(), show(result.effect), show(result.low), show(result.high)
        )
        out.print(
            f"  {title}: {words} ({result.level}% interval, {result.periods} periods)", markup=False
        )


def _effect_format(project: Project, kpi: KPI) -> Callable[[float], str]:
    """Effects of percentages are in points; others in the KPI's unit."""
    from tolok.display import format_points

    if kpi.unit is Unit.percent:
        return lambda v: format_points(v, project.locale.value).lstrip("+")
    return lambda v: format_value(v, kpi.unit, project.currency, project.locale.value)
