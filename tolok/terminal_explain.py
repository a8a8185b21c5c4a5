"""`tolok explain KPI`: why the KPI moved between a period and the one it is compared with
(the period before, or the same period last year), computed on the spot from the data: by the
values of a dimension, or by the inputs of its formula. Also `annotate` and `impact`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import typer
from rich.console import Console

from tolok.display import format_value
from tolok.explanation import (
    Compare,
    ExplainError,
    Explanation,
    InputsExplanation,
    Told,
    Words,
    explain,
    explain_by_inputs,
    last_closed,
    tell,
    tell_inputs,
)
from tolok.i18n import gettext
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Unit
from tolok.terminal import kpi_of, project_of, reported

_COLOURS = {"good": "green", "bad": "red"}


def run_explain(
    loaded: LoadedProject,
    name: str,
    period: str | None,
    by: list[str],
    out: Console,
    errors: Console,
    compare: Compare = Compare.previous,
    inputs: bool = False,
) -> None:
    """By `--by` (else the KPI's first breakdown), by its inputs with `--inputs`; with
    neither and no breakdown, or a KPI that does not split by a dimension, by its inputs."""
    project = project_of(loaded)
    kpi = kpi_of(project, name, errors)
    after = _period(Calendar.of(project), kpi, project, period, errors)
    if period is None:
        after = _last_judged(loaded, name) or after
    dimensions = tuple(by) or (tuple(kpi.breakdowns[0]) if kpi.breakdowns else ())
    lang = project.locale.value
    words = Words(lang, project.currency, gettext(lang))
    shown = False
    with reported(loaded, errors):
        if dimensions and (by or not inputs):
            try:
                found = explain(loaded, name, after, dimensions, compare)
            except ExplainError as exc:
                if by or not _has_inputs(kpi):
                    hint = "; or by its inputs: --inputs" if _has_inputs(kpi) else ""
                    raise typer.BadParameter(str(exc) + hint) from None
            else:
                _print_dimensions(project, kpi, name, found, tell(found, kpi, words))
                shown = True
        if inputs or not shown:
            if shown:
                typer.echo("")
            _explain_inputs(loaded, project, kpi, name, after, compare, words)


def _has_inputs(kpi: KPI) -> bool:
    from tolok.track.explain import formula_inputs

    return len(formula_inputs(kpi.formula)) > 1


def _explain_inputs(
    loaded: LoadedProject,
    project: Project,
    kpi: KPI,
    name: str,
    after: dt.date,
    compare: Compare,
    words: Words,
) -> None:
    if not _has_inputs(kpi):
        raise typer.BadParameter(
            f"'{name}' is one input ({kpi.formula}): name a dimension to explain by: --by Region"
        )
    try:
        found = explain_by_inputs(loaded, name, after, compare)
    except ExplainError as exc:
        raise typer.BadParameter(str(exc)) from None
    _print_inputs(project, kpi, name, found, tell_inputs(found, kpi, words))


def _last_judged(loaded: LoadedProject, name: str) -> dt.date | None:
    """The KPI's last judged period (closed, final, covered by the data), as the board and
    `tolok status` show it; None before the first refresh."""
    from tolok.clock import today
    from tolok.verdicts import kpi_states

    project = project_of(loaded)
    state = kpi_states(loaded, today(project)).get(name)
    return state.latest.period if state is not None and state.latest is not None else None


def _period(
    calendar: Calendar, kpi: KPI, project: Project, text: str | None, errors: Console
) -> dt.date:
    """The period asked for, else the last closed one (today from `tolok.clock`)."""
    closed = last_closed(project, kpi.grain)
    if text is None:
        return closed
    try:
        _, day = calendar.parse(text)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc)) from None
    start = calendar.start_of(day, kpi.grain)
    if start > closed:
        label = calendar.label(start, kpi.grain)
        errors.print(
            f"note: {label} is not over yet: its value so far is compared with a whole period",
            markup=False,
        )
    return start


def _coloured(text: str, effect: str | None) -> str:
    """Green for a part that helps the KPI, red for one that hurts it; click drops the
    colour when the output is not a terminal, the sign stays."""
    return typer.style(text, fg=_COLOURS[effect]) if effect else text


def _heading(project: Project, kpi: KPI, name: str, before: dt.date, after: dt.date) -> str:
    calendar = Calendar.of(project)
    label = f"{calendar.label(before, kpi.grain)} -> {calendar.label(after, kpi.grain)}"
    return f"{kpi.title or name}: change {label}"


def _print_dimensions(
    project: Project, kpi: KPI, name: str, found: Explanation, told: Told
) -> None:
    by = found.dimensions
    typer.echo(f"{_heading(project, kpi, name, found.before, found.after)}, by {', '.join(by)}")
    header = [*by, "before", "after", "contribution"] + (["mix", "rate"] if found.ratio else [])
    typer.echo("\t".join(header))
    for item, line in zip(found.contributions, told.lines, strict=True):
        cells = ["(empty)" if v is None else str(v) for v in item.slice]
        cells += [line.before, line.after, _coloured(line.part, line.effect)]
        if found.ratio:
            cells += [line.mix or "", line.rate or ""]
        typer.echo("\t".join(cells))
    blanks = [""] * (len(by) - 1)
    total = _coloured(told.total, told.effect)
    typer.echo("\t".join(["total", *blanks, told.before, told.after, total]))
    if told.sentence:
        typer.echo(told.sentence)


def _print_inputs(
    project: Project, kpi: KPI, name: str, found: InputsExplanation, told: Told
) -> None:
    typer.echo(f"{_heading(project, kpi, name, found.before, found.after)}, by its inputs")
    typer.echo("\t".join(["input", "before", "after", "part"]))
    for line in told.lines:
        typer.echo("\t".join([line.label, line.before, line.after,
                              _coloured(line.part, line.effect)]))  # fmt: skip
    total = _coloured(told.total, told.effect)
    typer.echo("\t".join(["total", told.before, told.after, total]))


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
    from tolok.clock import today
    from tolok.verdicts import kpi_states

    calendar = Calendar.of(project)
    states = kpi_states(loaded, today(project))
    for name in kpis:
        kpi = project.kpis[name]
        state = states.get(name)
        # The judged periods (closed, final, whole), as every surface reads them.
        closed = [(v.period, v.value) for v in state.verdicts if v.judged] if state else []
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
