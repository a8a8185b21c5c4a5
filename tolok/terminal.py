"""The terminal side of `tolok refresh`, `show` and `history`: progress, board, tables.

Imported only by those commands, so that `tolok validate` never pays for it. Ibis and pandas
are imported only when something is computed: `show` answers from the store when it can.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from tolok.display import (
    format_change,
    format_points,
    format_value,
    format_values,
    sparkline,
    value_decimals,
)
from tolok.engine.errors import WarehouseError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Grain, Project, Unit
from tolok.spec.problems import Location, Problem
from tolok.track.verdict import PeriodState, Verdict
from tolok.views import SeriesView, change_of, existing_store, slices_of

if TYPE_CHECKING:
    from tolok.engine.refresh import Refreshed
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
        _print_error(loaded, console, exc.message, exc.where, exc.hint)
        raise typer.Exit(1) from None
    except (CompileError, StoreError) as exc:
        _print_error(loaded, console, exc.message, None, getattr(exc, "hint", None))
        raise typer.Exit(1) from None


def _print_error(
    loaded: LoadedProject,
    console: Console,
    message: str,
    where: Location | None,
    hint: str | None,
) -> None:
    if where is None:
        console.print(f"error: {message}", style="bold red", markup=False)
        if hint:
            console.print(f"  hint: {hint}", markup=False)
        return
    problem = Problem("TLK020", message, where, hint)
    console.print(problem.render(loaded.root, loaded.lines(where.file)), markup=False)


def run_refresh(
    loaded: LoadedProject, reason: str | None, full: bool, errors: Console
) -> Refreshed:
    """Compute every KPI and keep the values in the store; say what changed definition."""
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
    told = {(f.message, f.where, f.hint): None for f in stored.failed.values()}
    for message, where, hint in told:  # a dataset that fails fails each KPI reading it
        _print_error(loaded, errors, message, where, hint)
    if stored.failed:
        errors.print(
            f"{len(stored.failed)} KPIs not computed ({', '.join(stored.failed)}); "
            "the others were stored",
            style="bold red",
            markup=False,
        )
    partial = {n: d for n, d in stored.recomputed.items() if d is not None}
    if partial or stored.unchanged:
        since = min(partial.values()).isoformat() if partial else ""
        whole = len(stored.recomputed) - len(partial)
        errors.print(
            f"incremental: {len(partial)} KPIs from {since or '-'}, {whole} whole, "
            f"{len(stored.unchanged)} unchanged (--full recomputes everything)",
            markup=False,
        )
    first = [name for name, number in stored.new_versions.items() if number == 1]
    if first:
        errors.print(f"recorded the definitions of {len(first)} KPIs (v1)", markup=False)
    for name, number in stored.new_versions.items():
        if number > 1:
            what = "values restated" if name in stored.restated else "values unchanged"
            errors.print(f"{name}: definition v{number} ({what})", markup=False)
    return refreshed


def print_board(loaded: LoadedProject, refreshed: Refreshed, out: Console) -> None:
    """Every KPI's last judged period (closed, final, whole): value, change against the
    period before, trend, status; beside it the period under way, so far and where it is
    heading; the owner. The verdicts are those of `tolok status` and the web board."""
    from tolok import clock
    from tolok.verdicts import kpi_states

    project = project_of(loaded)
    states = kpi_states(loaded, clock.today(project))
    header = ["kpi", "period", "value", "vs previous", f"last {SPARK_PERIODS}", "status"]
    header += ["open period", "so far", "heading", "owner"]
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
            kpi.unit, project.currency, project.locale.value,
        )  # fmt: skip
        cells = [
            kpi.title or name,
            _label(project, kpi, latest.period) if latest else "",
            shown,
            _movement(kpi, latest, before, change, project.locale.value),
            sparkline([v.value for v in judged[-SPARK_PERIODS:]]),
            state.standing.value.replace("_", " "),
            *_open_cells(project, kpi, now, so_far),
            kpi.owner or "",
        ]
        rows.append((cells, _change_style(kpi, change)))
    note = ""
    if refreshed.breakdowns:
        names = sorted(f"{kpi} by {' x '.join(by)}" for kpi, by in refreshed.breakdowns)
        note = "also computed: " + ", ".join(names)
    if not out.is_terminal:
        for cells in [header, *[r[0] for r in rows]]:
            typer.echo("\t".join(cells))
        if note:
            typer.echo(note, err=True)
        return
    table = Table(title=f"{project.name}: {len(rows)} KPIs", title_justify="left", caption=note)
    for column in header:
        table.add_column(
            column, justify="right" if column in ("value", "vs previous", "so far") else "left"
        )
    for cells, style in rows:
        table.add_row(*cells[:3], f"[{style}]{cells[3]}[/]" if style else cells[3], *cells[4:])
    out.print(table)


def _open_cells(project: Project, kpi: KPI, now: Verdict | None, so_far: str) -> list[str]:
    """The period under way: its label with the share elapsed, the value so far, and the
    heading (its value so far against the target pro-rated to that share)."""
    if now is None:
        return ["", "", ""]
    heading = now.heading.value.replace("_", " ") if now.heading else ""
    label = f"{_label(project, kpi, now.period)} ({now.elapsed or 0:.0%})"
    return [label, so_far, heading or "judged once over"]


def _label(project: Project, kpi: KPI, period: dt.date) -> str:
    from tolok.spec.calendar import Calendar

    return Calendar.of(project).label(period, kpi.grain)


def kpi_of(project: Project, name: str, errors: Console) -> KPI:
    """The KPI of that name, or exit 1 listing the ones there are."""
    kpi = project.kpis.get(name)
    if kpi is None:
        errors.print(f"error: no KPI '{name}' (KPIs: {', '.join(project.kpis)})", markup=False)
        raise typer.Exit(1)
    return kpi


def run_show(loaded: LoadedProject, options: ShowOptions, out: Console, errors: Console) -> None:
    from tolok.views import SeriesQuery, ViewError, series_json, series_view

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
        if exc.field == "where":
            errors.print(f"error: --{exc.message}", markup=False)
            errors.print(f"  {options.where}", markup=False)
            raise typer.Exit(2) from None
        if exc.field is None:
            errors.print(f"error: {exc.cli}", markup=False)
            raise typer.Exit(1) from None
        raise typer.BadParameter(exc.cli) from None
    if view.stale:
        errors.print(
            f"note: {options.kpi}'s definition changed since the last refresh; "
            "these are the stored values (tolok refresh to recompute)",
            markup=False,
        )
    if options.output.value == "json":
        data = series_json(view, options.as_reported)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif options.output.value == "csv":
        from tolok.export import as_csv

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
        out.print(f"{kpi}: no versions recorded yet (tolok refresh records them)", markup=False)
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


def _unusual_text(anomaly: Anomaly | None) -> str:
    if anomaly is None:
        return ""
    return ("▲ high" if anomaly.score > 0 else "▼ low") + f" ({anomaly.score:+.1f})"


def _status_text(verdict: Verdict) -> str:
    """A period's verdict in a word or three: an open period by where it is heading, a
    provisional or partial one as such (it gets no status until it is whole and final)."""
    if verdict.state is PeriodState.open:
        if verdict.heading is None:
            return f"so far ({verdict.elapsed or 0:.0%}), provisional"
        heading = verdict.heading.value.replace("_", " ")
        return f"so far ({verdict.elapsed or 0:.0%}), heading {heading}"
    if verdict.state is PeriodState.not_final:
        until = f" until {verdict.final_on.isoformat()}" if verdict.final_on else ""
        return f"provisional{until}"
    if verdict.state is PeriodState.partial:
        return "partial data"
    return verdict.status.value.replace("_", " ") if verdict.status else ""


def _print_series(view: SeriesView, out: Console) -> None:
    project, kpi, result = view.project, view.kpi, view.result
    locale = project.locale.value
    dims = list(result.by)
    header = ["period", *dims, "value"]
    if result.compare:
        header += [result.compare.replace("_", " "), "change"]
    targeted = any(v.target is not None for v in view.verdicts)
    if targeted:
        header += ["target"]
    header.append("status")
    unusual = [v.anomaly for v in view.verdicts]
    if any(unusual):
        header.append("unusual")
    rows = []
    for point, verdict in zip(result.points, view.verdicts, strict=True):
        cells = [
            point.label,
            *[_text(v) for _, v in point.slice],
            _value(project, kpi, point.value),
        ]
        if result.compare:
            change = change_of(point, verdict)
            cells += [_value(project, kpi, point.compare), format_change(change, locale)]
        if targeted:
            cells.append(_value(project, kpi, verdict.target))
        cells.append(_status_text(verdict))
        if any(unusual):
            cells.append(_unusual_text(verdict.anomaly))
        rows.append(cells)
    if not out.is_terminal:
        for cells in [header, *rows]:
            typer.echo("\t".join(cells))
        return
    table = Table(title=f"{kpi.title or result.kpi} ({result.grain.value})", title_justify="left")
    for column in header:
        table.add_column(
            column, justify="left" if column in ("period", "status") or column in dims else "right"
        )
    for cells in rows:
        table.add_row(*cells)
    out.print(table)
    for key, points in slices_of(result).items():
        label = ", ".join(f"{k}={_text(v)}" for k, v in key) or "trend"
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
    return format_value(value, kpi.unit, project.currency, project.locale.value)


def _text(value: object) -> str:
    return "(empty)" if value is None else str(value)


def project_of(loaded: LoadedProject) -> Project:
    assert loaded.project is not None
    return loaded.project
