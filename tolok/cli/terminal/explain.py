"""`tolok explain KPI`: why the KPI moved between a period and the one it is compared with
(the period before, or the same period last year), computed on the spot from the data: by the
values of a dimension, or by the inputs of its formula. Also `annotate` and `impact`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from tolok.answers.explanation import (
    Compare,
    ExplainError,
    Explanation,
    InputsExplanation,
    Told,
    Words,
    explain,
    explain_by_inputs,
    last_closed,
    last_judged,
    tell,
    tell_inputs,
)
from tolok.display import format_value
from tolok.i18n import gettext
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Unit

if TYPE_CHECKING:
    from tolok.track.impact import Impact
from tolok.cli.lang import formats, lang_of, period_label, words
from tolok.cli.terminal.board import kpi_of, project_of, reported

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
        after = last_judged(loaded, name) or after
    dimensions = tuple(by) or (tuple(kpi.breakdowns[0]) if kpi.breakdowns else ())
    lang = lang_of(project)
    told_in = Words(lang, project.currency, gettext(lang))
    shown = False
    with reported(loaded, errors):
        if dimensions and (by or not inputs):
            try:
                found = explain(loaded, name, after, dimensions, compare)
            except ExplainError as exc:
                if by or not _has_inputs(kpi):
                    hint = ""
                    if _has_inputs(kpi):
                        _ = words(project)
                        hint = _("; or by its inputs: --inputs")
                    raise typer.BadParameter(str(exc) + hint) from None
            else:
                _print_dimensions(project, kpi, name, found, tell(found, kpi, told_in))
                shown = True
        if inputs or not shown:
            if shown:
                typer.echo("")
            _explain_inputs(loaded, project, kpi, name, after, compare, told_in)


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
    told_in: Words,
) -> None:
    _ = words(project)
    if not _has_inputs(kpi):
        raise typer.BadParameter(
            _(
                "'{name}' is one input ({formula}): name a dimension to explain by: --by Region",
                name=name, formula=kpi.formula,
            )
        )  # fmt: skip
    try:
        found = explain_by_inputs(loaded, name, after, compare)
    except ExplainError as exc:
        raise typer.BadParameter(str(exc)) from None
    _print_inputs(project, kpi, name, found, tell_inputs(found, kpi, told_in))


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
        label = period_label(project, start, kpi.grain)
        _ = words(project)
        errors.print(
            _("note: {period} is not over yet: its value so far is compared with a whole period",
              period=label),
            markup=False,
        )  # fmt: skip
    return start


def _coloured(text: str, effect: str | None) -> str:
    """Green for a part that helps the KPI, red for one that hurts it; click drops the
    colour when the output is not a terminal, the sign stays."""
    return typer.style(text, fg=_COLOURS[effect]) if effect else text


def _heading(project: Project, kpi: KPI, name: str, before: dt.date, after: dt.date) -> str:
    label = " -> ".join(period_label(project, day, kpi.grain) for day in (before, after))
    _ = words(project)
    return _("{kpi}: change {periods}", kpi=kpi.title or name, periods=label)


def _print_dimensions(
    project: Project, kpi: KPI, name: str, found: Explanation, told: Told
) -> None:
    by = found.dimensions
    _ = words(project)
    heading = _heading(project, kpi, name, found.before, found.after)
    typer.echo(_("{heading}, by {dimensions}", heading=heading, dimensions=", ".join(by)))
    header = [*by, _("before"), _("after"), _("contribution")]
    header += [_("mix"), _("rate")] if found.ratio else []
    typer.echo("\t".join(header))
    for item, line in zip(found.contributions, told.lines, strict=True):
        cells = [_("(empty)") if v is None else str(v) for v in item.slice]
        cells += [line.before, line.after, _coloured(line.part, line.effect)]
        if found.ratio:
            cells += [line.mix or "", line.rate or ""]
        typer.echo("\t".join(cells))
    blanks = [""] * (len(by) - 1)
    total = _coloured(told.total, told.effect)
    typer.echo("\t".join([_("total"), *blanks, told.before, told.after, total]))
    if told.sentence:
        typer.echo(told.sentence)


def _print_inputs(
    project: Project, kpi: KPI, name: str, found: InputsExplanation, told: Told
) -> None:
    _ = words(project)
    heading = _heading(project, kpi, name, found.before, found.after)
    typer.echo(_("{heading}, by its inputs", heading=heading))
    typer.echo("\t".join([_("input"), _("before"), _("after"), _("part")]))
    for line in told.lines:
        typer.echo("\t".join([line.label, line.before, line.after,
                              _coloured(line.part, line.effect)]))  # fmt: skip
    total = _coloured(told.total, told.effect)
    typer.echo("\t".join([_("total"), told.before, told.after, total]))


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
    _ = words(project)
    said = _("annotation {number}: {day} {note} ({kpis})", number=number,
                          day=when.isoformat(), note=text, kpis=", ".join(kpis))  # fmt: skip
    out.print(said, markup=False)


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
        _ = words(project)
        if note is None:
            errors.print(_("error: no annotation {number}", number=number), markup=False)
            raise typer.Exit(1)
        day, text, kpis = note.day, note.text, json.loads(note.kpis)
    shown = day.isoformat() if lang_of(project) == "en" else formats(project).day(day)
    out.print(_("annotation {number}: {day} {note}", number=number, day=shown, note=text),
              markup=False)  # fmt: skip
    from tolok.answers.verdicts import kpi_states
    from tolok.clock import today

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
            out.print(f"  {title}: " + _("not enough history before and periods after"),
                      markup=False)  # fmt: skip
            continue
        show = _effect_format(project, kpi)
        if lang_of(project) == "en":
            said = verdict(
                result, title.lower(), show(result.effect), show(result.low), show(result.high)
            )
        else:
            said = _effect_words(result, show, _)
        interval = _("({level}% interval, {n} periods)", level=result.level, n=result.periods)
        out.print(f"  {title}: {said} {interval}", markup=False)


def _effect_words(result: Impact, show: Callable[[float], str], _: Callable[..., str]) -> str:
    """The change's likely effect in the pages' words (the KPI's page says the same)."""
    low, high = show(abs(result.low)), show(abs(result.high))
    if result.low > 0:
        return _("likely raised it by {low} to {high}", low=low, high=high)
    if result.high < 0:
        return _("likely lowered it by {low} to {high}", low=high, high=low)
    return _("no clear effect: between {low} and {high}", low=show(result.low),
             high=show(result.high))  # fmt: skip


def _effect_format(project: Project, kpi: KPI) -> Callable[[float], str]:
    """Effects of percentages are in points; others in the KPI's unit."""
    from tolok.display import format_points

    lang = lang_of(project)
    if kpi.unit is Unit.percent:
        return lambda v: format_points(v, lang).lstrip("+")
    return lambda v: format_value(v, kpi.unit, project.currency, lang)
