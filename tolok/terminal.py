"""The terminal side of `tolok refresh`, `show` and `history`: progress, board, tables.

Imported only by those commands, so that `tolok validate` never pays for it. Ibis and pandas
are imported only when something is computed: `show` answers from the store when it can.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from tolok.display import format_change, format_points, format_value, sparkline
from tolok.engine.errors import WarehouseError
from tolok.engine.series import KpiSeries, Point, Request, compare_range
from tolok.engine.stored import StoredAnswer, answer
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Grain, Project, TargetSplit, Unit
from tolok.spec.problems import Location, Problem

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tolok.engine.refresh import Refreshed
    from tolok.track.anomalies import Anomaly
    from tolok.track.seasonal import DayProfile

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
    """Every KPI's latest period: value, change against the period before, trend, owner."""
    project = project_of(loaded)
    series = refreshed.totals
    header = ["kpi", "period", "value", "vs previous", f"last {SPARK_PERIODS}", "owner"]
    rows: list[tuple[list[str], str]] = []
    for name, kpi_series in series.items():
        kpi = project.kpis[name]
        points = [p for p in kpi_series.points if not p.slice]
        latest = points[-1] if points else None
        before = points[-2] if len(points) > 1 else None
        change = _change(latest, before)
        cells = [
            kpi.title or name,
            latest.label if latest else "",
            _value(project, kpi, latest.value if latest else None),
            _movement(kpi, latest, before, change, project.locale.value),
            sparkline([p.value for p in points[-SPARK_PERIODS:]]),
            kpi.owner or "",
        ]
        rows.append((cells, _change_style(kpi, change)))
    if refreshed.breakdowns:
        names = sorted(f"{kpi} by {' x '.join(by)}" for kpi, by in refreshed.breakdowns)
        note = "also computed: " + ", ".join(names)
    else:
        note = ""
    if not out.is_terminal:
        for cells in [header, *[r[0] for r in rows]]:
            typer.echo("\t".join(cells))
        if note:
            typer.echo(note, err=True)
        return
    table = Table(title=f"{project.name}: {len(rows)} KPIs", title_justify="left", caption=note)
    for column in header:
        table.add_column(column, justify="right" if column in ("value", "vs previous") else "left")
    for cells, style in rows:
        table.add_row(*cells[:3], f"[{style}]{cells[3]}[/]" if style else cells[3], *cells[4:])
    out.print(table)


def kpi_of(project: Project, name: str, errors: Console) -> KPI:
    """The KPI of that name, or exit 1 listing the ones there are."""
    kpi = project.kpis.get(name)
    if kpi is None:
        errors.print(f"error: no KPI '{name}' (KPIs: {', '.join(project.kpis)})", markup=False)
        raise typer.Exit(1)
    return kpi


def run_show(loaded: LoadedProject, options: ShowOptions, out: Console, errors: Console) -> None:
    project = project_of(loaded)
    kpi = kpi_of(project, options.kpi, errors)
    calendar = Calendar.of(project)
    request = Request(
        (options.kpi,),
        options.grain or kpi.grain,
        options.by,
        _day(calendar, options.start, last=False),
        _day(calendar, options.end, last=True),
        options.where,
        options.compare,
    )
    if request.start and request.end and request.start > request.end:
        raise typer.BadParameter(f"--from {options.start} comes after --to {options.end}")
    repeated = sorted({d for d in options.by if options.by.count(d) > 1})
    if repeated:
        raise typer.BadParameter(f"--by {repeated[0]} is given twice")
    if options.where:
        _check_filter(loaded, options.where, errors)
    try:
        compare_range(calendar, options.compare)
    except WarehouseError as exc:
        raise typer.BadParameter(f"{exc.message}; {exc.hint or ''}".rstrip("; ")) from None
    with reported(loaded, errors):
        stored = _from_store(loaded, request, options.as_reported, errors)
        result = stored.series if stored else _computed(loaded, request)
    if stored is not None and not stored.current:
        errors.print(
            f"note: {options.kpi}'s definition changed since the last refresh; "
            "these are the stored values (tolok refresh to recompute)",
            markup=False,
        )
    known = _known(loaded, request)
    other = request.grain is not kpi.grain and not request.by and bool(kpi.target)
    per_year = calendar.periods_per_year
    if other:
        with reported(loaded, errors):
            at_own = Request((options.kpi,), kpi.grain, where=options.where)
            found = _from_store(loaded, at_own, False, errors)
            series = found.series if found else _computed(loaded, at_own)
            known = replace(known, own={p.period: p.value for p in series.points})
    if other and kpi.target_split is TargetSplit.seasonal:
        with reported(loaded, errors):
            known = replace(known, profile=day_profile_of(loaded, options.kpi))
    if other and per_year(request.grain) < per_year(kpi.grain):
        with reported(loaded, errors):
            known = replace(known, weights=denominator_of(loaded, options.kpi))
    if options.output.value == "json":
        data = _as_json(project, kpi, result, known)
        data["computed_at"] = (
            stored.computed_at.isoformat() + "Z" if stored and stored.computed_at else None
        )
        data["as_reported"] = options.as_reported
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif options.output.value == "csv":
        typer.echo(_as_csv(project, kpi, result, known), nl=False)
    else:
        _print_series(project, kpi, result, out, known)


def _from_store(
    loaded: LoadedProject, request: Request, as_reported: bool, errors: Console
) -> StoredAnswer | None:
    found = answer(loaded, request, as_reported)
    if as_reported and found is None:
        errors.print(
            "error: --as-reported reads stored values: run `tolok refresh` first, and ask for "
            "a grain and breakdown a refresh computes, without --where",
            markup=False,
        )
        raise typer.Exit(1)
    return found


def _computed(loaded: LoadedProject, request: Request) -> KpiSeries:
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.store.manual import source as manual_source

    store = _existing_store(loaded)
    manual = manual_source(store) if store is not None else None
    return compute(loaded, Warehouse(loaded, manual=manual), request)[request.kpis[0]]


def _existing_store(loaded: LoadedProject) -> Engine | None:
    """The project's store, unless it is an SQLite file that does not exist yet."""
    from tolok.store.database import open_store, store_url
    from tolok.store.reader import sqlite_path

    project = project_of(loaded)
    path = sqlite_path(project.store, loaded.root)
    if path is not None and not path.exists():
        return None
    return open_store(store_url(project.store, loaded.root))


def print_history(loaded: LoadedProject, kpi: str, out: Console) -> None:
    """Every recorded version of a KPI's definition: when, why, and what changed."""
    from sqlalchemy.orm import Session

    from tolok.store.versions import history

    project = project_of(loaded)
    kpi_of(project, kpi, out)
    store = _existing_store(loaded)
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


def _day(calendar: Calendar, text: str | None, *, last: bool) -> dt.date | None:
    if text is None:
        return None
    try:
        grain, start = calendar.parse(text)
    except PeriodError as exc:
        raise typer.BadParameter(
            f"{exc}; write a day (2026-03-15) or a period (2026-03, 2026-Q1, 2026, FY2026)"
        ) from None
    return calendar.end_of(start, grain) - dt.timedelta(days=1) if last else start


def _check_filter(loaded: LoadedProject, where: str, errors: Console) -> None:
    from tolok.spec.formula import FormulaError, parse_formula

    try:
        parse_formula(where)
    except FormulaError as exc:
        errors.print(f"error: --where: {exc.message}", markup=False)
        errors.print(f"  {where}\n  {' ' * exc.span.start}^", markup=False)
        raise typer.Exit(2) from None


@dataclass(frozen=True)
class Known:
    """What the store knows beyond the points shown: earlier values by slice (for growth
    rules reaching before the range), and targets people set ((period, slice JSON))."""

    values: dict[tuple[object, ...], dict[dt.date, float | None]]
    targets: dict[tuple[dt.date, str], float]
    profile: DayProfile | None = None  # the KPI's own rhythm, for `target_split: seasonal`
    weights: dict[dt.date, float | None] | None = None
    """For a ratio KPI shown at a coarser grain: its denominator per KPI-grain period."""
    own: dict[dt.date, float | None] | None = None
    """At another grain: the KPI's values at its own grain (for growth rules and ramps)."""


def denominator_of(loaded: LoadedProject, name: str) -> dict[dt.date, float | None] | None:
    """A ratio KPI's denominator at the KPI's grain (sessions, for orders / sessions), so
    that its targets roll up as the ratio of the targets they imply; None for other KPIs."""
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.formula import Binary, Call, FormulaError, parse_formula

    project = project_of(loaded)
    kpi = project.kpis[name]
    try:
        tree = parse_formula(kpi.formula)
    except FormulaError:
        return None
    if isinstance(tree, Binary) and tree.op == "/":
        below = tree.right
    elif isinstance(tree, Call) and tree.func == "ratio" and len(tree.args) == 2:
        below = tree.args[1]
    else:
        return None
    text = kpi.formula[below.span.start : below.span.end]
    helper = "__denominator"
    kpis = {**project.kpis, helper: KPI(formula=text, grain=kpi.grain)}
    scratch = replace(loaded, project=project.model_copy(update={"kpis": kpis}))
    series = compute(scratch, Warehouse(scratch), Request((helper,), kpi.grain))[helper]
    return {p.period: p.value for p in series.points}


def day_profile_of(loaded: LoadedProject, name: str) -> DayProfile | None:
    """A KPI's weekday and month rhythm, from its whole daily history (a live query)."""
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse
    from tolok.track.seasonal import day_profile

    series = compute(loaded, Warehouse(loaded), Request((name,), Grain.day))[name]
    return day_profile({p.period: p.value for p in series.points})


def targets_of(
    project: Project, kpi: KPI, result: KpiSeries, known: Known | None = None
) -> list[tuple[float | None, str]]:
    """Each point's target and standing ([] when the KPI has no target at all)."""
    from tolok.track.pace import is_additive
    from tolok.track.status import standing
    from tolok.track.targets import target_series, targets_at

    known = known or Known({}, {})
    if not kpi.target and not known.targets:
        return []
    calendar = Calendar.of(project)
    additive = is_additive(project, result.kpi)
    by_slice: dict[tuple[tuple[str, object], ...], dict[dt.date, float | None]] = {}
    for key, points in _by_slice(result).items():
        earlier = known.values.get(tuple(v for _, v in key), {})
        actuals = {**earlier, **{p.period: p.value for p in points}}
        periods = [p.period for p in points]
        if result.grain is kpi.grain:
            shown = json.dumps(dict(key), ensure_ascii=False, sort_keys=True, default=str)
            people = {p: v for (p, k), v in known.targets.items() if k == shown}
            by_slice[key] = target_series(kpi, periods, calendar, actuals, dict(key), people)
        elif not key:
            profile = known.profile if kpi.target_split is TargetSplit.seasonal else None
            own = known.own or {}
            by_slice[key] = targets_at(
                kpi, result.grain, periods, calendar, own, additive, known.weights, profile
            )
        else:
            by_slice[key] = dict.fromkeys(periods)
    out = []
    for point in result.points:
        target = by_slice[point.slice].get(point.period)
        out.append((target, standing(point.value, target, kpi).value))
    return out


def unusual_of(project: Project, result: KpiSeries, known: Known) -> list[Anomaly | None]:
    """Each point's anomaly (a value far outside what the KPI usually does), or None.

    The earlier values the store holds count as history, so a narrow `--from` range still
    has enough periods to judge by."""
    from tolok.track.anomalies import anomalies

    calendar = Calendar.of(project)
    season = 7 if result.grain is Grain.day else calendar.periods_per_year(result.grain)
    found: dict[tuple[tuple[tuple[str, object], ...], dt.date], Anomaly] = {}
    for key, points in _by_slice(result).items():
        earlier = known.values.get(tuple(v for _, v in key), {})
        history = {**earlier, **{p.period: p.value for p in points}}
        for anomaly in anomalies(sorted(history.items()), season=season):
            found[(key, anomaly.period)] = anomaly
    return [found.get((p.slice, p.period)) for p in result.points]


def _unusual_text(anomaly: Anomaly | None) -> str:
    if anomaly is None:
        return ""
    return ("▲ high" if anomaly.score > 0 else "▼ low") + f" ({anomaly.score:+.1f})"


def _anomaly_json(anomaly: Anomaly | None) -> dict[str, float] | None:
    if anomaly is None:
        return None
    return {"expected": anomaly.expected, "score": round(anomaly.score, 2)}


def _known(loaded: LoadedProject, request: Request) -> Known:
    """What the store holds for the series asked for (nothing without a store)."""
    from tolok.engine.stored import read

    stored = read(loaded, replace(request, start=None, end=None, compare=None), False)
    values: dict[tuple[object, ...], dict[dt.date, float | None]] = {}
    for point in stored.points if stored else []:
        values.setdefault(point.slice, {})[point.period] = point.value
    return Known(values, stored.targets if stored else {})


def _print_series(
    project: Project, kpi: KPI, result: KpiSeries, out: Console, known: Known
) -> None:
    locale = project.locale.value
    dims = list(result.by)
    header = ["period", *dims, "value"]
    if result.compare:
        header += [result.compare.replace("_", " "), "change"]
    targets = targets_of(project, kpi, result, known)
    if targets:
        header += ["target", "status"]
    unusual = unusual_of(project, result, known)
    if any(unusual):
        header.append("unusual")
    rows = []
    for index, point in enumerate(result.points):
        cells = [
            point.label,
            *[_text(v) for _, v in point.slice],
            _value(project, kpi, point.value),
        ]
        if result.compare:
            cells += [_value(project, kpi, point.compare), format_change(point.change, locale)]
        if targets:
            target, state = targets[index]
            cells += [_value(project, kpi, target), state.replace("_", " ")]
        if any(unusual):
            cells.append(_unusual_text(unusual[index]))
        rows.append(cells)
    if not out.is_terminal:
        for cells in [header, *rows]:
            typer.echo("\t".join(cells))
        return
    table = Table(title=f"{kpi.title or result.kpi} ({result.grain.value})", title_justify="left")
    for column in header:
        table.add_column(
            column, justify="left" if column == "period" or column in dims else "right"
        )
    for cells in rows:
        table.add_row(*cells)
    out.print(table)
    for key, points in _by_slice(result).items():
        label = ", ".join(f"{k}={_text(v)}" for k, v in key) or "trend"
        out.print(f"{label}: {sparkline([p.value for p in points[-SPARK_PERIODS * 2 :]])}")


def _by_slice(result: KpiSeries) -> dict[tuple[tuple[str, object], ...], list[Point]]:
    out: dict[tuple[tuple[str, object], ...], list[Point]] = {}
    for point in result.points:
        out.setdefault(point.slice, []).append(point)
    return out


def _as_json(project: Project, kpi: KPI, result: KpiSeries, known: Known) -> dict[str, object]:
    """The series as JSON; `computed_at` and `as_reported` are added by the caller."""
    targets = targets_of(project, kpi, result, known)
    unusual = unusual_of(project, result, known)
    return {
        "kpi": result.kpi,
        "title": kpi.title,
        "unit": kpi.unit.value,
        "currency": project.currency if kpi.unit.value == "currency" else None,
        "grain": result.grain.value,
        "by": list(result.by),
        "compare": result.compare,
        "points": [
            {
                "period": p.label,
                "start": p.period.isoformat(),
                **({"slice": dict(p.slice)} if result.by else {}),
                "value": p.value,
                **({"compare": p.compare, "change": p.change} if result.compare else {}),
                **({"target": targets[i][0], "status": targets[i][1]} if targets else {}),
                "anomaly": _anomaly_json(unusual[i]),
            }
            for i, p in enumerate(result.points)
        ],
    }


def _as_csv(project: Project, kpi: KPI, result: KpiSeries, known: Known) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["period", "start", *result.by, "value"]
    if result.compare:
        header += ["compare", "change"]
    targets = targets_of(project, kpi, result, known)
    if targets:
        header += ["target", "status"]
    unusual = unusual_of(project, result, known)
    header.append("anomaly_score")
    writer.writerow(header)
    for index, p in enumerate(result.points):
        row: list[object] = [p.label, p.period.isoformat(), *[v for _, v in p.slice], p.value]
        if result.compare:
            row += [p.compare, p.change]
        if targets:
            row += list(targets[index])
        anomaly = unusual[index]
        row.append(None if anomaly is None else round(anomaly.score, 2))
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def _change(latest: Point | None, before: Point | None) -> float | None:
    if latest is None or before is None or latest.value is None or before.value in (None, 0):
        return None
    assert before.value is not None
    return (latest.value - before.value) / abs(before.value)


def _movement(
    kpi: KPI, latest: Point | None, before: Point | None, change: float | None, locale: str
) -> str:
    """Percentages move in points (1,5% to 1,8% is +0,3 pp), other values by a share."""
    if kpi.unit is Unit.percent:
        if latest is None or before is None or latest.value is None or before.value is None:
            return format_points(None, locale)
        return format_points(latest.value - before.value, locale)
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
