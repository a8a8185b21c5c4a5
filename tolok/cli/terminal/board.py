"""The terminal side of `tolok refresh`, `show` and `history`: progress, board, tables.

Imported only by those commands, so that `tolok validate` never pays for it. Ibis and pandas
are imported only when something is computed: `show` answers from the store when it can.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from tolok.answers.views import SeriesView, change_of, existing_store, slices_of
from tolok.cli.lang import counted, formats, lang_of, period_label, status_word, words
from tolok.display import (
    format_change,
    format_points,
    format_value,
    format_values,
    sparkline,
    value_decimals,
)
from tolok.engine.errors import WarehouseError
from tolok.i18n import voice
from tolok.said import said_in
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Grain, Project, Unit
from tolok.spec.problems import Location, Problem, Text
from tolok.track.verdict import PeriodState, Verdict

if TYPE_CHECKING:
    from tolok.engine.refresh import Refreshed, Stored
    from tolok.track.anomalies import Anomaly

SPARK_PERIODS = 12


@dataclass(frozen=True)
class ShowOptions:
    kpi: str
    by: tuple[str, ...]
    grain: Grain | None
    start: str | None
    end: str | None
    compare: str | None
    where: str | None
    output: StrEnum
    as_reported: bool = False


@contextmanager
def reported(loaded: LoadedProject, console: Console) -> Iterator[None]:
    """Data errors as a place in the YAML and a hint, then exit 1; never a traceback."""
    from tolok.compile.errors import CompileError
    from tolok.store.errors import StoreError

    try:
        yield
    except WarehouseError as exc:
        _print_error(loaded, console, exc.said or exc.message, exc.where, exc.hinted or exc.hint)
        raise typer.Exit(1) from None
    except (CompileError, StoreError) as exc:
        _print_error(loaded, console, exc.message, None, getattr(exc, "hint", None))
        raise typer.Exit(1) from None


def _print_error(
    loaded: LoadedProject,
    console: Console,
    message: str | Text,
    where: Location | None,
    hint: str | Text | None,
) -> None:
    """A `say(…)` text in the reader's words; a plain sentence said again where the
    terminal knows its shape (`said_in`)."""
    _, spoken = words(loaded.project), voice(lang_of(loaded.project))

    def worded(text: str | Text) -> str:
        return text.worded(spoken) if isinstance(text, Text) else said_in(text, _)

    shown, hinted = worded(message), None if hint is None else worded(hint)
    if where is None:
        console.print(_("error: {problem}", problem=shown), style="bold red", markup=False)
        if hinted:
            console.print("  " + _("hint: {hint}", hint=hinted), markup=False)
        return
    problem = Problem("TLK020", shown, where, hinted)
    console.print(problem.render(loaded.root, loaded.lines(where.file), spoken), markup=False)


def run_refresh(
    loaded: LoadedProject, reason: str | None, full: bool, errors: Console
) -> Refreshed:
    """Compute every KPI and keep the values in the store; say what changed definition.
    (Rich's progress bar is imported here: `show` and `history` draw none.)"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source as manual_source

    project = project_of(loaded)
    with (
        reported(loaded, errors),
        Progress(
            SpinnerColumn(),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=errors,
            transient=True,
            disable=not errors.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("refreshing", total=None)

        def step(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        store = open_store(store_url(project.store, loaded.root))
        warehouse = Warehouse(loaded, manual=manual_source(store))
        refreshed, stored = refresh_into_store(loaded, warehouse, store, reason, step, full)
    told = {(f.message, f.where, f.hint): f for f in stored.failed.values()}
    for failure in told.values():  # a dataset that fails fails each KPI reading it
        said, hinted = failure.said or failure.message, failure.hinted or failure.hint
        _print_error(loaded, errors, said, failure.where, hinted)
    _print_stored(project, stored, errors)
    return refreshed


def _print_stored(project: Project, stored: Stored, errors: Console) -> None:
    """What a refresh kept: what failed, what was computed incrementally, new versions."""
    _, lang = words(project), lang_of(project)
    if stored.failed:
        failed = counted(len(stored.failed), _("{n} KPI"), _("{n} KPIs"), lang)
        errors.print(
            _("{failed} not computed ({names}); the others were stored",
              failed=failed, names=", ".join(stored.failed)),
            style="bold red",
            markup=False,
        )  # fmt: skip
    partial = {n: d for n, d in stored.recomputed.items() if d is not None}
    if partial or stored.unchanged:
        first_day = min(partial.values()) if partial else None
        since = "-" if first_day is None else first_day.isoformat()
        if lang != "en" and first_day is not None:
            since = formats(project).day(first_day)
        kpis = counted(len(partial), _("{n} KPI"), _("{n} KPIs"), lang)
        errors.print(
            _("incremental: {partial} from {since}, {whole} whole, {unchanged} unchanged "
              "(--full recomputes everything)", partial=kpis, since=since,
              whole=len(stored.recomputed) - len(partial), unchanged=len(stored.unchanged)),
            markup=False,
        )  # fmt: skip
    first = [name for name, number in stored.new_versions.items() if number == 1]
    if first:
        kpis = counted(len(first), _("{n} KPI"), _("{n} KPIs"), lang)
        errors.print(_("recorded the definitions of {kpis} (v1)", kpis=kpis), markup=False)
    for name, number in stored.new_versions.items():
        if number > 1:
            what = _("values restated") if name in stored.restated else _("values unchanged")
            errors.print(
                _("{name}: definition v{number} ({what})", name=name, number=number, what=what),
                markup=False,
            )


def print_board(loaded: LoadedProject, refreshed: Refreshed, out: Console) -> None:
    """Every KPI's last judged period (closed, final, whole): value, change against the
    period before, trend, status; beside it the period under way, so far and where it is
    heading; the owner. The verdicts are those of `tolok status` and the web board."""
    from tolok import clock
    from tolok.answers.verdicts import kpi_states

    project = project_of(loaded)
    states = kpi_states(loaded, clock.today(project))
    _, lang = words(project), lang_of(project)
    header = [_("kpi"), _("period"), _("value"), _("vs previous"), _("last {n}", n=SPARK_PERIODS)]
    header += [_("status"), _("open period"), _("so far"), _("heading"), _("owner")]
    rows: list[tuple[list[str], str]] = []
    for name in refreshed.totals:
        state = states.get(name)
        if state is None:
            continue
        kpi = project.kpis[name]
        judged = [v for v in state.verdicts if v.judged]
        latest = judged[-1] if judged else None
        before = judged[-2] if len(judged) > 1 else None
        change = _change(latest, before)
        now = state.open
        # The month closed and the one under way, in digits that tell them apart.
        shown, so_far = format_values(
            [latest.value if latest else None, now.value if now else None],
            kpi.unit, project.currency, lang,
        )  # fmt: skip
        cells = [
            kpi.title or name,
            _label(project, kpi, latest.period) if latest else "",
            shown,
            _movement(kpi, latest, before, change, lang),
            sparkline([v.value for v in judged[-SPARK_PERIODS:]]),
            status_word(state.standing.value, _),
            *_open_cells(project, kpi, now, so_far),
            kpi.owner or "",
        ]
        rows.append((cells, _change_style(kpi, change)))
    note = ""
    if refreshed.breakdowns:
        names = sorted(_("{kpi} by {by}", kpi=kpi, by=" x ".join(by))
                       for kpi, by in refreshed.breakdowns)  # fmt: skip
        note = _("also computed: {names}", names=", ".join(names))
    if not out.is_terminal:
        for cells in [header, *[r[0] for r in rows]]:
            typer.echo("\t".join(cells))
        if note:
            typer.echo(note, err=True)
        return
    kpis = counted(len(rows), _("{n} KPI"), _("{n} KPIs"), lang)
    title = f"{project.name}: {kpis}"
    table = Table(title=title, title_justify="left", caption=note)
    for number, column in enumerate(header):
        table.add_column(column, justify="right" if number in (2, 3, 7) else "left")
    for cells, style in rows:
        table.add_row(*cells[:3], f"[{style}]{cells[3]}[/]" if style else cells[3], *cells[4:])
    out.print(table)


def _open_cells(project: Project, kpi: KPI, now: Verdict | None, so_far: str) -> list[str]:
    """The period under way: its label with the share elapsed, the value so far, and the
    heading (its value so far against the target pro-rated to that share)."""
    if now is None:
        return ["", "", ""]
    _ = words(project)
    heading = status_word(now.heading.value, _) if now.heading else ""
    label = f"{_label(project, kpi, now.period)} ({formats(project).share(now.elapsed or 0)})"
    return [label, so_far, heading or _("judged once over")]


def _label(project: Project, kpi: KPI, period: dt.date) -> str:
    return period_label(project, period, kpi.grain)


def kpi_of(project: Project, name: str, errors: Console) -> KPI:
    """The KPI of that name, or exit 1 listing the ones there are."""
    kpi = project.kpis.get(name)
    if kpi is None:
        _ = words(project)
        errors.print(_("error: no KPI '{name}' (KPIs: {names})", name=name,
                       names=", ".join(project.kpis)), markup=False)  # fmt: skip
        raise typer.Exit(1)
    return kpi


def run_show(loaded: LoadedProject, options: ShowOptions, out: Console, errors: Console) -> None:
    from tolok.answers.views import SeriesQuery, ViewError, series_json, series_view

    project = project_of(loaded)
    kpi_of(project, options.kpi, errors)
    query = SeriesQuery(
        options.kpi,
        options.grain,
        options.by,
        options.start,
        options.end,
        options.where,
        options.compare,
        options.as_reported,
    )
    try:
        with reported(loaded, errors):
            view = series_view(loaded, query)
    except ViewError as exc:
        from tolok.said import error_text

        if exc.field == "where":
            errors.print(error_text(f"--{exc.message}", words(project)), markup=False)
            errors.print(f"  {options.where}", markup=False)
            raise typer.Exit(2) from None
        if exc.field is None:
            errors.print(error_text(exc.cli, words(project)), markup=False)
            raise typer.Exit(1) from None
        raise typer.BadParameter(exc.cli) from None
    if view.stale:
        _ = words(project)
        errors.print(
            _("note: {kpi}'s definition changed since the last refresh; these are the stored "
              "values (tolok refresh to recompute)", kpi=options.kpi),
            markup=False,
        )  # fmt: skip
    if options.output.value == "json":
        data = series_json(view, options.as_reported)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif options.output.value == "csv":
        from tolok.answers.export import as_csv

        typer.echo(as_csv(view), nl=False)
    else:
        _print_series(view, out)


def print_history(loaded: LoadedProject, kpi: str, out: Console) -> None:
    """Every recorded version of a KPI's definition: when, why, and what changed."""
    from sqlalchemy.orm import Session

    from tolok.store.versions import history

    project = project_of(loaded)
    kpi_of(project, kpi, out)
    store = existing_store(loaded)
    versions = []
    if store is not None:
        with Session(store) as session:
            versions = history(session, kpi)
    if not versions:
        _ = words(project)
        out.print(_("{kpi}: no versions recorded yet (tolok refresh records them)", kpi=kpi),
                  markup=False)  # fmt: skip
        return
    for version in versions:
        when = version.created_at.strftime("%Y-%m-%d %H:%M UTC")
        out.print(
            f"v{version.number}  {when}  {version.reason or ''}".rstrip(),
            style="bold",
            markup=False,
        )
        if version.number > 1 and version.diff:
            for line in version.diff.splitlines()[2:]:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                out.print(f"  {line}", style=style, markup=False)


def _unusual_text(anomaly: Anomaly | None, _: Callable[..., str]) -> str:
    if anomaly is None:
        return ""
    word = _("high") if anomaly.score > 0 else _("low")
    return ("▲ " if anomaly.score > 0 else "▼ ") + f"{word} ({anomaly.score:+.1f})"


def _status_text(verdict: Verdict, project: Project) -> str:
    """A period's verdict in a word or three: an open period by where it is heading, a
    provisional or partial one as such (it gets no status until it is whole and final)."""
    _ = words(project)
    if verdict.state is PeriodState.open:
        elapsed = formats(project).share(verdict.elapsed or 0)
        if verdict.heading is None:
            return _("so far ({elapsed}), provisional", elapsed=elapsed)
        heading = status_word(verdict.heading.value, _)
        return _("so far ({elapsed}), heading {heading}", elapsed=elapsed, heading=heading)
    if verdict.state is PeriodState.not_final:
        if verdict.final_on is None:
            return _("provisional")
        day = verdict.final_on.isoformat()
        if lang_of(project) != "en":
            day = formats(project).day(verdict.final_on)
        return _("provisional until {day}", day=day)
    if verdict.state is PeriodState.partial:
        return _("partial data")
    return status_word(verdict.status.value, _) if verdict.status else ""


def _series_header(view: SeriesView, _: Callable[..., str]) -> list[str]:
    result = view.result
    header = [_("period"), *result.by, _("value")]
    if result.compare:
        compared = {"previous": _("previous"), "last_year": _("last year")}
        header += [compared.get(result.compare, result.compare), _("change")]
    if any(v.target is not None for v in view.verdicts):
        header += [_("target")]
    header.append(_("status"))
    if any(v.anomaly for v in view.verdicts):
        header.append(_("unusual"))
    return header


def _print_series(view: SeriesView, out: Console) -> None:
    project, kpi, result = view.project, view.kpi, view.result
    _, lang = words(project), lang_of(project)
    dims = list(result.by)
    header = _series_header(view, _)
    targeted = any(v.target is not None for v in view.verdicts)
    unusual = any(v.anomaly for v in view.verdicts)
    rows = []
    for point, verdict in zip(result.points, view.verdicts, strict=True):
        label = point.label if lang == "en" else formats(project).period(point.period, result.grain)
        cells = [label, *[_text(v, _) for _k, v in point.slice], _value(project, kpi, point.value)]
        if result.compare:
            change = change_of(point, verdict)
            cells += [_value(project, kpi, point.compare), format_change(change, lang)]
        if targeted:
            cells.append(_value(project, kpi, verdict.target))
        cells.append(_status_text(verdict, project))
        if unusual:
            cells.append(_unusual_text(verdict.anomaly, _))
        rows.append(cells)
    if not out.is_terminal:
        for cells in [header, *rows]:
            typer.echo("\t".join(cells))
        return
    table = Table(title=f"{kpi.title or result.kpi} ({result.grain.value})", title_justify="left")
    lefts = {0, *range(1, len(dims) + 1), header.index(_("status"))}
    for number, column in enumerate(header):
        table.add_column(column, justify="left" if number in lefts else "right")
    for cells in rows:
        table.add_row(*cells)
    out.print(table)
    for key, points in slices_of(result).items():
        label = ", ".join(f"{k}={_text(v, _)}" for k, v in key) or _("trend")
        out.print(f"{label}: {sparkline([p.value for p in points[-SPARK_PERIODS * 2 :]])}")


def _change(latest: Verdict | None, before: Verdict | None) -> float | None:
    if latest is None or before is None or latest.value is None or before.value in (None, 0):
        return None
    assert before.value is not None
    return (latest.value - before.value) / abs(before.value)


def _movement(
    kpi: KPI, latest: Verdict | None, before: Verdict | None, change: float | None, locale: str
) -> str:
    """Percentages move in points (1,5% to 1,8% is +0,3 pp), other values by a share."""
    if kpi.unit is Unit.percent:
        if latest is None or before is None or latest.value is None or before.value is None:
            return format_points(None, locale)
        decimals = value_decimals([latest.value, before.value], kpi.unit, "")
        return format_points(latest.value - before.value, locale, decimals)
    return format_change(change, locale)


def _change_style(kpi: KPI, change: float | None) -> str:
    if change is None or change == 0 or kpi.direction is Direction.band:
        return ""
    good = (change > 0) == (kpi.direction is Direction.up)
    return "green" if good else "red"


def _value(project: Project, kpi: KPI, value: float | None) -> str:
    return format_value(value, kpi.unit, project.currency, lang_of(project))


def _text(value: object, _: Callable[..., str]) -> str:
    return _("(empty)") if value is None else str(value)


def project_of(loaded: LoadedProject) -> Project:
    assert loaded.project is not None
    return loaded.project
