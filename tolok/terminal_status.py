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

from tolok.display import MISSING, format_value
from tolok.outlook import outlook
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project
from tolok.store.points import StoredPoint
from tolok.track.goals import GoalNode, KpiStanding, goal_tree
from tolok.track.status import Standing
from tolok.views import kpi_states

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
    try:
        states = kpi_states(loaded, today)
        if not any(state.points for state in states.values()):
            raise typer.BadParameter("no stored values yet: run `tolok refresh` first")
    except typer.BadParameter as exc:
        errors.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    for name, state in states.items():
        kpi = project.kpis[name]
        latest, share = state.latest, state.attainment
        cells = [
            kpi.title or name,
            calendar.label(latest.period, kpi.grain) if latest else "",
            _value(project, kpi, latest.value if latest else None),
            _value(project, kpi, state.target),
            f"{share:.0%}" if share is not None else "",
            state.standing.value.replace("_", " "),
            *_open_period(loaded, name, state.points, today),
            kpi.owner or "",
        ]
        rows.append((_group_of(project, kpi, group), cells, state.standing))
    header = ["kpi", "period", "value", "target", "attainment", "status"]
    header += ["open period", "so far", "projected", "heading", "forecast (80%)", "owner"]
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
    for heading, cells, where in ordered:
        coloured = f"[{_STYLE[where]}]{cells[5]}[/]"
        table.add_row(heading if heading != shown else "", *cells[:5], coloured, *cells[6:])
        shown = heading
    out.print(table)


def _open_period(
    loaded: LoadedProject, name: str, points: list[StoredPoint], today: dt.date
) -> list[str]:
    """The period today falls in: its label, value so far, projected end, heading, and the
    model's forecast of its end (with its 80% interval)."""
    project = loaded.project
    assert project is not None
    kpi, calendar = project.kpis[name], Calendar.of(project)
    now = outlook(loaded, name, points, today)
    if now is None:
        return ["", "", "", "", ""]
    predicted = ""
    if now.forecast is not None:
        end = now.forecast
        low, high = _value(project, kpi, end.low), _value(project, kpi, end.high)
        predicted = f"{_value(project, kpi, end.mean)} ({low} to {high})"
    return [
        f"{calendar.label(now.period, kpi.grain)} ({now.pace.elapsed:.0%})",
        _value(project, kpi, now.value),
        _value(project, kpi, now.pace.projected),
        now.pace.heading.value.replace("_", " "),
        predicted,
    ]


def _group_of(project: Project, kpi: KPI, group: str) -> str:
    if group == "goal":
        goal = project.goals.get(kpi.goal or "")
        return goal.title if goal else "(no goal)"
    value = getattr(kpi, group)
    return value.value if value is not None else f"(no {group})"


def _value(project: Project, kpi: KPI, value: float | None) -> str:
    return format_value(value, kpi.unit, project.currency, project.locale.value)


def print_goals(loaded: LoadedProject, out: Console, errors: Console) -> None:
    """The goal tree: each goal's status, progress and the KPI that drives its gap."""
    project = loaded.project
    assert project is not None
    today = dt.datetime.now(ZoneInfo(project.timezone)).date()
    try:
        states = kpi_states(loaded, today)
        if not any(state.points for state in states.values()):
            raise typer.BadParameter("no stored values yet: run `tolok refresh` first")
    except typer.BadParameter as exc:
        errors.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    standings = {n: KpiStanding(s.attainment, s.standing) for n, s in states.items()}
    lines: list[tuple[str, str]] = []
    for root in goal_tree(project, standings):
        _goal_lines(root, project, standings, 0, lines)
    if not lines:
        out.print("no goals in the project (add them under goals:)", markup=False)
    for text, style in lines:
        out.print(text, style=style or None, markup=False)


def _goal_lines(
    node: GoalNode,
    project: Project,
    standings: dict[str, KpiStanding],
    depth: int,
    lines: list[tuple[str, str]],
) -> None:
    indent = "  " * depth
    progress = f"{node.progress:.0%}" if node.progress is not None else MISSING
    driver = ""
    if node.driver:
        title = project.kpis[node.driver].title or node.driver
        driver = f"  gap driven by: {title}"
    state = node.standing.value.replace("_", " ")
    lines.append((f"{indent}{node.title}  [{state}, {progress}]{driver}", _STYLE[node.standing]))
    for name in node.kpis:
        kpi_state = standings[name]
        reached = kpi_state.attainment
        share = f"{reached:.0%}" if reached is not None else "no target"
        title = project.kpis[name].title or name
        status = kpi_state.standing.value.replace("_", " ")
        lines.append((f"{indent}  - {title}: {share} ({status})", ""))
    for child in node.children:
        _goal_lines(child, project, standings, depth + 1, lines)


def print_suggestion(loaded: LoadedProject, name: str, out: Console, errors: Console) -> None:
    """A target for the next period from the KPI's own history, as YAML to paste."""
    from tolok.terminal import kpi_of
    from tolok.track.suggest import suggest

    project = loaded.project
    assert project is not None
    kpi = kpi_of(project, name, errors)
    calendar = Calendar.of(project)
    today = dt.datetime.now(ZoneInfo(project.timezone)).date()
    state = kpi_states(loaded, today).get(name)
    if state is None or not state.points:
        errors.print("error: no stored values: run `tolok refresh` first", markup=False)
        raise typer.Exit(1) from None
    closed = [
        (p.period, p.value) for p in state.points if calendar.end_of(p.period, kpi.grain) <= today
    ]
    found = suggest(kpi, closed, calendar.periods_per_year(kpi.grain))
    if found is None:
        out.print(f"{name}: not enough history to suggest a target", markup=False)
        return
    compared = (
        "the same period a year before" if found.vs.value == "last_year" else "the period before"
    )
    out.print(
        f"{kpi.title or name}: against {compared}, it grew between {found.low:+.1%} and "
        f"{found.high:+.1%} half of the time ({found.samples} periods).",
        markup=False,
    )
    out.print(
        f"Suggested: {found.growth:+.1%}, i.e. {_value(project, kpi, found.target)} from "
        f"{_value(project, kpi, found.baseline)}:",
        markup=False,
    )
    out.print(f"  target: {{growth: {found.growth:.3f}, vs: {found.vs.value}}}", markup=False)
