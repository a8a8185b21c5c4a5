"""`tolok status`: each KPI's last closed period against its target, grouped as asked.

Read from the store (run `tolok refresh` first). The open period — the one today falls
in — is left out: a part of a period against a whole period's target would mislead.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from tolok.display import format_value
from tolok.engine.series import Request
from tolok.engine.stored import read
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project, Status
from tolok.store.points import StoredPoint
from tolok.track.pace import elapsed, is_additive, pace
from tolok.track.status import Standing, attainment, standing
from tolok.track.targets import target_series

_STYLE = {
    Standing.on_track: "green",
    Standing.at_risk: "yellow",
    Standing.off_track: "red",
    Standing.no_target: "dim",
    Standing.no_data: "dim",
}


def print_status(loaded: LoadedProject, group: str, out: Console, errors: Console) -> None:
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    today = dt.datetime.now(ZoneInfo(project.timezone)).date()
    rows: list[tuple[str, list[str], Standing]] = []
    stored_any = False
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        stored = read(loaded, Request((name,), kpi.grain), False)
        stored_any = stored_any or bool(stored and stored.points)
        points = stored.points if stored else []
        actuals = {p.period: p.value for p in points}
        closed = [p for p in points if calendar.end_of(p.period, kpi.grain) <= today]
        latest = closed[-1] if closed else None
        value = latest.value if latest else None
        target = None
        if latest is not None:
            target = target_series(kpi, [latest.period], calendar, actuals)[latest.period]
        share = attainment(value, target, kpi) if value is not None and target else None
        state = standing(value, target, kpi)
        cells = [
            kpi.title or name,
            calendar.label(latest.period, kpi.grain) if latest else "",
            _value(project, kpi, value),
            _value(project, kpi, target),
            f"{share:.0%}" if share is not None else "",
            state.value.replace("_", " "),
            *_open_period(project, name, kpi, points, actuals, calendar, today),
            kpi.owner or "",
        ]
        rows.append((_group_of(project, kpi, group), cells, state))
    if not stored_any:
        errors.print("error: no stored values yet: run `tolok refresh` first", markup=False)
        raise typer.Exit(1)
    header = ["kpi", "period", "value", "target", "attainment", "status"]
    header += ["open period", "so far", "projected", "heading", "owner"]
    ordered = sorted(rows, key=lambda r: r[0])
    if not out.is_terminal:
        typer.echo("\t".join([group, *header]))
        for heading, cells, _ in ordered:
            typer.echo("\t".join([heading, *cells]))
        return
    table = Table(title=f"{project.name}: last closed period", title_justify="left")
    numbers = ("value", "target", "attainment", "so far", "projected")
    for column in [group, *header]:
        table.add_column(column, justify="right" if column in numbers else "left")
    shown = None
    for heading, cells, state in ordered:
        coloured = f"[{_STYLE[state]}]{cells[5]}[/]"
        table.add_row(heading if heading != shown else "", *cells[:5], coloured, *cells[6:])
        shown = heading
    out.print(table)


def _open_period(
    project: Project,
    name: str,
    kpi: KPI,
    points: list[StoredPoint],
    actuals: dict[dt.date, float | None],
    calendar: Calendar,
    today: dt.date,
) -> list[str]:
    """The period today falls in: its label, value so far, projected end, and heading."""
    current = calendar.start_of(today, kpi.grain)
    point = next((p for p in points if p.period == current), None)
    if point is None:
        return ["", "", "", ""]
    target = target_series(kpi, [current], calendar, actuals)[current]
    share = elapsed(current, kpi.grain, calendar, today)
    now = pace(kpi, is_additive(project, name), point.value, target, share)
    return [
        f"{calendar.label(current, kpi.grain)} ({share:.0%})",
        _value(project, kpi, point.value),
        _value(project, kpi, now.projected),
        now.heading.value.replace("_", " "),
    ]


def _group_of(project: Project, kpi: KPI, group: str) -> str:
    if group == "goal":
        goal = project.goals.get(kpi.goal or "")
        return goal.title if goal else "(no goal)"
    value = getattr(kpi, group)
    return value.value if value is not None else f"(no {group})"


def _value(project: Project, kpi: KPI, value: float | None) -> str:
    return format_value(value, kpi.unit, project.currency, project.locale.value)
