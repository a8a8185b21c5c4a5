"""`tolok explain KPI`: which values of a dimension explain the KPI's change between a
period and the one before (computed on the spot from the data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tolok.display import format_value
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.formula import Binary, parse_formula
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Unit
from tolok.terminal import reported
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
    project = loaded.project
    assert project is not None
    kpi = project.kpis.get(name)
    if kpi is None:
        errors.print(f"error: no KPI '{name}' (KPIs: {', '.join(project.kpis)})", markup=False)
        raise typer.Exit(1)
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
