"""`tolok status`: each KPI's last closed period against its target, grouped as asked.

Read from the store (run `tolok refresh` first). The open period — the one today falls
in — is left out: a part of a period against a whole period's target would mislead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from tolok import clock
from tolok.display import format_change, format_share, format_value, format_values
from tolok.outlook import Outlook, outlook
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Project, Vs
from tolok.track.goals import GoalNode, KpiStanding, goal_tree
from tolok.track.status import Standing
from tolok.verdicts import KpiState, kpi_states

if TYPE_CHECKING:
    from tolok.track.suggest import Suggestion

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
    today = clock.today(project)
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
        cells = _status_row(loaded, name, state, calendar)
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


def _status_row(loaded: LoadedProject, name: str, state: KpiState, calendar: Calendar) -> list[str]:
    """One KPI's cells. Its value, target, so far and projected are written together, with
    the decimals it takes to tell them apart: churn 3.04% and its pace 2.98% against 2.6%
    must not both read "3.0%"."""
    project = loaded.project
    assert project is not None
    kpi = project.kpis[name]
    latest, share = state.latest, state.attainment
    now = outlook(loaded, name, state)
    shown = [latest.value if latest else None, state.target]
    shown += [now.value, now.pace.projected] if now is not None else [None, None]
    value, target, so_far, projected = format_values(
        shown, kpi.unit, project.currency, project.locale.value
    )
    return [
        kpi.title or name,
        calendar.label(latest.period, kpi.grain) if latest else "",
        value,
        target,
        format_share(share, project.locale.value) if share is not None else "",
        state.standing.value.replace("_", " "),
        *_open_period(project, kpi, now, so_far, projected),
        kpi.owner or "",
    ]


def _open_period(
    project: Project, kpi: KPI, now: Outlook | None, so_far: str, projected: str
) -> list[str]:
    """The period today falls in: its label, value so far, projected end (as written with
    the row's other values), heading, and the model's forecast of its end (with its 80%
    interval)."""
    calendar = Calendar.of(project)
    if now is None:
        return ["", "", "", "", ""]
    predicted = ""
    if now.forecast is not None:
        end = now.forecast
        low, high = _value(project, kpi, end.low), _value(project, kpi, end.high)
        predicted = f"{_value(project, kpi, end.mean)} ({low} to {high})"
    return [
        f"{calendar.label(now.period, kpi.grain)} ({now.pace.elapsed:.0%})",
        so_far,
        projected,
        now.pace.heading.value.replace("_", " ") if now.judged else "judged once over",
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
    today = clock.today(project)
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
    progress = format_share(node.progress, project.locale.value)
    driver = ""
    if node.driver:
        title = project.kpis[node.driver].title or node.driver
        driver = f"  gap driven by: {title}"
    state = node.standing.value.replace("_", " ")
    lines.append((f"{indent}{node.title}  [{state}, {progress}]{driver}", _STYLE[node.standing]))
    for name in node.kpis:
        kpi_state = standings[name]
        reached = kpi_state.attainment
        share = format_share(reached, project.locale.value) if reached is not None else "no target"
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
    today = clock.today(project)
    state = kpi_states(loaded, today).get(name)
    if state is None or not state.points:
        errors.print("error: no stored values: run `tolok refresh` first", markup=False)
        raise typer.Exit(1) from None
    # Whole, closed, final periods only: an open month or a conversion still settling
    # would read as a fall.
    judged = [(v.period, v.value) for v in state.verdicts if v.judged]
    found = suggest(kpi, judged, calendar.periods_per_year(kpi.grain))
    if found is None:
        out.print(f"{name}: not enough history to suggest a target", markup=False)
        return
    for line in _suggestion_lines(project, kpi.title or name, kpi, found):
        out.print(line, markup=False)


def _suggestion_lines(project: Project, title: str, kpi: KPI, found: Suggestion) -> list[str]:
    """What history reached, the target it suggests, and whether it holds the recent
    level instead; the README's row for `tolok suggest-target` says the same."""
    compared = "the same period a year before" if found.vs is Vs.last_year else "the period before"
    down = kpi.direction is Direction.down
    locale = project.locale.value
    recent, target, baseline = format_values(
        [found.recent, found.target, found.baseline], kpi.unit, project.currency, locale
    )
    low, high, reached, growth = (
        format_change(rate, locale) for rate in (found.low, found.high, found.reached, found.growth)
    )
    lines = [
        f"{title}: against {compared}, it grew between {low} and {high} half of the time "
        f"({found.samples} periods)."
    ]
    if kpi.direction is Direction.band:
        lines.append(f"Its direction is band: it is asked to stay at its recent level, {recent}.")
    elif found.holds:
        lines.append(
            f"The rate it reached a quarter of the time ({reached}, the "
            f"{'25th' if down else '75th'} percentile) would ask for a target "
            f"{'above' if down else 'below'} its recent level, {recent}: the suggestion "
            "holds that level instead."
        )
    else:
        lines.append(
            f"It reached {reached} or {'less' if down else 'more'} a quarter of "
            f"the time (the {'25th' if down else '75th'} percentile); its recent level is "
            f"{recent}."
        )
    if found.holds:
        lines.append(
            f"Suggested: hold the recent level, {target} ({growth} on {baseline}, {compared}):"
        )
    else:
        lines.append(f"Suggested: {growth}, i.e. {target} from {baseline}:")
    lines.append(f"  target: {{growth: {found.growth:.3f}, vs: {found.vs.value}}}")
    return lines
