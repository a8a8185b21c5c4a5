"""`tolok explain KPI`: which values of a dimension explain the KPI's change between a
period and the one before (computed on the spot from the data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tolok.display import format_value
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.formula import Binary, parse_formula
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Unit
from tolok.terminal import kpi_of, project_of, reported
from tolok.track.explain import Contribution, Key, explain_ratio, explain_sum
from tolok.track.pace import is_additive

Values = dict[Key, float | None]


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
    before = calendar.shift(after, kpi.grain, -1)
    parts = _parts(project, name, kpi)
    with reported(loaded, errors):
        series = {
            part: _values(loaded, project, part, formula, kpi, dimensions, before, after)
            for part, formula in parts.items()
        }
    if len(parts) == 1:
        contributions = explain_sum(series["value"][0], series["value"][1])
    else:
        contributions = explain_ratio(series["numerator"], series["denominator"])
    unit = kpi.unit
    label = f"{calendar.label(before, kpi.grain)} -> {calendar.label(after, kpi.grain)}"
    _print(project, kpi, name, dimensions, label, contributions, unit, len(parts) > 1)


def _period(calendar: Calendar, kpi: KPI, project: Project, text: str | None) -> dt.date:
    if text is None:
        today = dt.datetime.now(ZoneInfo(project.timezone)).date()
        return calendar.shift(calendar.start_of(today, kpi.grain), kpi.grain, -1)
    try:
        _, day = calendar.parse(text)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc)) from None
    return calendar.start_of(day, kpi.grain)


def _parts(project: Project, name: str, kpi: KPI) -> dict[str, str]:
    """The formulas to compute: the KPI itself if it adds up, else its two sides."""
    if is_additive(project, name):
        return {"value": kpi.formula}
    tree = parse_formula(kpi.formula)
    if isinstance(tree, Binary) and tree.op == "/":
        text = kpi.formula
        numerator = text[tree.left.span.start : tree.left.span.end]
        denominator = text[tree.right.span.start : tree.right.span.end]
        probe = project.model_copy(
            update={"kpis": {"n": KPI(formula=numerator), "d": KPI(formula=denominator)}}
        )
        if is_additive(probe, "n") and is_additive(probe, "d"):
            return {"numerator": numerator, "denominator": denominator}
    raise typer.BadParameter(
        "explain works for KPIs that add up (sums, counts) and ratios of them; "
        f"'{name}' is {kpi.formula}"
    )


def _values(
    loaded: LoadedProject,
    project: Project,
    part: str,
    formula: str,
    kpi: KPI,
    by: tuple[str, ...],
    before: dt.date,
    after: dt.date,
) -> tuple[Values, Values]:
    from tolok.engine.compute import Request, compute
    from tolok.engine.warehouse import Warehouse

    temporary = f"__explain_{part}"
    kpis = {**project.kpis, temporary: KPI(formula=formula, grain=kpi.grain)}
    probe = replace(loaded, project=project.model_copy(update={"kpis": kpis}))
    end = Calendar.of(project).end_of(after, kpi.grain) - dt.timedelta(days=1)
    request = Request((temporary,), kpi.grain, by, start=before, end=end)
    series = compute(probe, Warehouse(probe), request)[temporary]
    out: tuple[Values, Values] = ({}, {})
    for point in series.points:
        key = tuple(value for _, value in point.slice)
        out[0 if point.period == before else 1][key] = point.value
    return out


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
