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
from tolok.answers.outlook import Outlook, outlook
from tolok.answers.verdicts import KpiState, kpi_states
from tolok.cli.lang import formats, lang_of, number_text, period_label, status_word, words
from tolok.display import format_change, format_share, format_value, format_values
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Project, Vs
from tolok.track.goals import GoalNode, KpiStanding, goal_tree
from tolok.track.status import Standing

if TYPE_CHECKING:
    from tolok.track.suggest import Suggestion

_STYLE = {
    Standing.on_track: "green",
    Standing.at_risk: "yellow",
    Standing.off_track: "red",
    Standing.no_target: "dim",
    Standing.no_data: "dim",
}


def _stored_states(loaded: LoadedProject, errors: Console) -> dict[str, KpiState]:
    """Every KPI's verdicts from the store; exit 1 when nothing is stored yet."""
    project = loaded.project
    assert project is not None
    _ = words(project)
    try:
        states = kpi_states(loaded, clock.today(project))
        if not any(state.points for state in states.values()):
            raise typer.BadParameter(_("no stored values yet: run `tolok refresh` first"))
    except typer.BadParameter as exc:
        errors.print(_("error: {problem}", problem=exc), markup=False)
        raise typer.Exit(1) from None
    return states


def print_status(loaded: LoadedProject, group: str, out: Console, errors: Console) -> None:
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    _ = words(project)
    rows: list[tuple[str, list[str], Standing]] = []
    states = _stored_states(loaded, errors)
    for name, state in states.items():
        kpi = project.kpis[name]
        cells = _status_row(loaded, name, state, calendar)
        rows.append((_group_of(project, kpi, group), cells, state.standing))
    header = [_("kpi"), _("period"), _("value"), _("target"), _("attainment"), _("status")]
    header += [_("open period"), _("so far"), _("projected"), _("heading")]
    header += [_("forecast ({level}%)", level=80), _("owner")]
    groups = {"goal": _("goal"), "level": _("level"), "function": _("function"),
              "indicator": _("indicator")}  # fmt: skip
    ordered = sorted(rows, key=lambda r: r[0])
    if not out.is_terminal:
        typer.echo("\t".join([groups.get(group, group), *header]))
        for heading, cells, _where in ordered:
            typer.echo("\t".join([heading, *cells]))
        return
    title = _("{project}: last closed period", project=project.name)
    table = Table(title=title, title_justify="left")
    for number, column in enumerate([groups.get(group, group), *header]):
        table.add_column(column, justify="right" if number in (3, 4, 5, 8, 9) else "left")
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
    lang = lang_of(project)
    value, target, so_far, projected = format_values(shown, kpi.unit, project.currency, lang)
    return [
        kpi.title or name,
        period_label(project, latest.period, kpi.grain) if latest else "",
        value,
        target,
        format_share(share, lang) if share is not None else "",
        status_word(state.standing.value, words(project)),
        *_open_period(project, kpi, now, so_far, projected),
        kpi.owner or "",
    ]


def _open_period(
    project: Project, kpi: KPI, now: Outlook | None, so_far: str, projected: str
) -> list[str]:
    """The period today falls in: its label, value so far, projected end (as written with
    the row's other values), heading, and the model's forecast of its end (with its 80%
    interval)."""
    if now is None:
        return ["", "", "", "", ""]
    _ = words(project)
    predicted = ""
    if now.forecast is not None:
        end = now.forecast
        low, high = _value(project, kpi, end.low), _value(project, kpi, end.high)
        mean = _value(project, kpi, end.mean)
        predicted = _("{mean} ({low} to {high})", mean=mean, low=low, high=high)
    elapsed = formats(project).share(now.pace.elapsed)
    return [
        f"{period_label(project, now.period, kpi.grain)} ({elapsed})",
        so_far,
        projected,
        status_word(now.pace.heading.value, _) if now.judged else _("judged once over"),
        predicted,
    ]


def _group_of(project: Project, kpi: KPI, group: str) -> str:
    _ = words(project)
    if group == "goal":
        goal = project.goals.get(kpi.goal or "")
        return goal.title if goal else _("(no goal)")
    value = getattr(kpi, group)
    return value.value if value is not None else _("(no {group})", group=group)


def _value(project: Project, kpi: KPI, value: float | None) -> str:
    return format_value(value, kpi.unit, project.currency, lang_of(project))


def print_goals(loaded: LoadedProject, out: Console, errors: Console) -> None:
    """The goal tree: each goal's status, progress and the KPI that drives its gap."""
    project = loaded.project
    assert project is not None
    states = _stored_states(loaded, errors)
    standings = {n: KpiStanding(s.attainment, s.standing) for n, s in states.items()}
    lines: list[tuple[str, str]] = []
    for root in goal_tree(project, standings):
        _goal_lines(root, project, standings, 0, lines)
    if not lines:
        _ = words(project)
        out.print(_("no goals in the project (add them under goals:)"), markup=False)
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
    _, lang = words(project), lang_of(project)
    progress = format_share(node.progress, lang)
    driver = ""
    if node.driver:
        title = project.kpis[node.driver].title or node.driver
        driver = "  " + _("gap driven by: {kpi}", kpi=title)
    state = status_word(node.standing.value, _)
    lines.append((f"{indent}{node.title}  [{state}, {progress}]{driver}", _STYLE[node.standing]))
    for name in node.kpis:
        kpi_state = standings[name]
        reached = kpi_state.attainment
        share = format_share(reached, lang) if reached is not None else _("no target")
        title = project.kpis[name].title or name
        status = status_word(kpi_state.standing.value, _)
        lines.append((f"{indent}  - {title}: {share} ({status})", ""))
    for child in node.children:
        _goal_lines(child, project, standings, depth + 1, lines)


def print_suggestion(loaded: LoadedProject, name: str, out: Console, errors: Console) -> None:
    """A target for the next period from the KPI's own history, as YAML to paste."""
    from tolok.cli.terminal.board import kpi_of
    from tolok.track.suggest import suggest

    project = loaded.project
    assert project is not None
    kpi = kpi_of(project, name, errors)
    calendar = Calendar.of(project)
    today = clock.today(project)
    state = kpi_states(loaded, today).get(name)
    _ = words(project)
    if state is None or not state.points:
        errors.print(_("error: no stored values: run `tolok refresh` first"), markup=False)
        raise typer.Exit(1) from None
    # Whole, closed, final periods only: an open month or a conversion still settling
    # would read as a fall.
    judged = [(v.period, v.value) for v in state.verdicts if v.judged]
    found = suggest(kpi, judged, calendar.periods_per_year(kpi.grain))
    if found is None:
        out.print(_("{name}: not enough history to suggest a target", name=name), markup=False)
        return
    for line in _suggestion_lines(project, kpi.title or name, kpi, found):
        out.print(line, markup=False)


def _suggestion_lines(project: Project, title: str, kpi: KPI, found: Suggestion) -> list[str]:
    """What history reached, the target it suggests, and whether it holds the recent
    level instead; the README's row for `tolok suggest-target` says the same."""
    _ = words(project)
    if found.vs is Vs.last_year:
        compared = _("the same period a year before")
    else:
        compared = _("the period before")
    down = kpi.direction is Direction.down
    locale = lang_of(project)
    recent, target, baseline = format_values(
        [found.recent, found.target, found.baseline], kpi.unit, project.currency, locale
    )
    low, high, reached, growth = (
        format_change(rate, locale) for rate in (found.low, found.high, found.reached, found.growth)
    )
    samples = number_text(found.samples, locale)
    lines = [
        _("{title}: against {compared}, it grew between {low} and {high} half of the time "
          "({samples} periods).", title=title, compared=compared, low=low, high=high,
          samples=samples)
    ]  # fmt: skip
    percentile = _("the 25th percentile") if down else _("the 75th percentile")
    if kpi.direction is Direction.band:
        lines.append(_("Its direction is band: it is asked to stay at its recent level, "
                       "{recent}.", recent=recent))  # fmt: skip
    elif found.holds:
        lines.append(
            (_("The rate it reached a quarter of the time ({reached}, {percentile}) would ask "
               "for a target above its recent level, {recent}: the suggestion holds that level "
               "instead.") if down else
             _("The rate it reached a quarter of the time ({reached}, {percentile}) would ask "
               "for a target below its recent level, {recent}: the suggestion holds that level "
               "instead.")).format(reached=reached, percentile=percentile, recent=recent)
        )  # fmt: skip
    else:
        lines.append(
            (_("It reached {reached} or less a quarter of the time ({percentile}); its recent "
               "level is {recent}.") if down else
             _("It reached {reached} or more a quarter of the time ({percentile}); its recent "
               "level is {recent}.")).format(reached=reached, percentile=percentile, recent=recent)
        )  # fmt: skip
    if found.holds:
        lines.append(_("Suggested: hold the recent level, {target} ({growth} on {baseline}, "
                       "{compared}):", target=target, growth=growth, baseline=baseline,
                       compared=compared))  # fmt: skip
    else:
        lines.append(_("Suggested: {growth}, i.e. {target} from {baseline}:", growth=growth,
                       target=target, baseline=baseline))  # fmt: skip
    lines.append(f"  target: {{growth: {found.growth:.3f}, vs: {found.vs.value}}}")
    return lines
