"""`tolok lint`: gather the facts the rules may use (history, data freshness), print findings."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.table import Table

from tolok import clock
from tolok.cli.lang import lang_of, spoken
from tolok.i18n import gettext
from tolok.lint import RULES, Facts, KpiFacts, Level, lint
from tolok.lint.report import as_json, as_sarif, as_text, summary
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Status


def gather_facts(loaded: LoadedProject) -> Facts:
    """What the store holds of each KPI and how new each dataset's rows are."""
    project = loaded.project
    assert project is not None
    today = clock.today(project)
    return Facts(today=today, kpis=_kpi_facts(loaded, today), last_day=_last_days(loaded))


def _kpi_facts(loaded: LoadedProject, today: dt.date) -> dict[str, KpiFacts]:
    from tolok.answers.verdicts import kpi_states
    from tolok.engine.series import Request
    from tolok.engine.stored import read
    from tolok.track.targets import target_series

    project = loaded.project
    assert project is not None
    states = kpi_states(loaded, today)  # nothing stored yet: the history rules stay silent
    calendar = Calendar.of(project)
    out: dict[str, KpiFacts] = {}
    for name, state in states.items():
        kpi = project.kpis[name]
        # The judged periods (closed, final, whole), as every surface reads them.
        values = tuple(v.value for v in state.verdicts if v.judged and v.value is not None)
        ahead = None
        if kpi.target is not None:
            stored = read(loaded, Request((name,), kpi.grain), False)
            people = {p: v for (p, k), v in (stored.targets if stored else {}).items() if k == "{}"}
            actuals = {p.period: p.value for p in state.points}
            period = calendar.start_of(today, kpi.grain)
            ahead = target_series(kpi, [period], calendar, actuals, None, people)[period]
        out[name] = KpiFacts(values, ahead, state.standing.value)
    return out


def _last_days(loaded: LoadedProject) -> dict[str, dt.date | None]:
    """The newest row's day of each dataset active KPIs read (files and tables only)."""
    from tolok.engine.errors import WarehouseError
    from tolok.engine.warehouse import Warehouse

    project = loaded.project
    assert project is not None
    if not any(k.status is Status.active for k in project.kpis.values()):
        return {}
    warehouse = Warehouse(loaded)
    out: dict[str, dt.date | None] = {}
    for name, dataset in project.datasets.items():
        if dataset.is_manual or dataset.time is None:
            continue
        try:
            newest = warehouse.table(name)[dataset.time].max().execute()
        except (WarehouseError, OSError):
            continue  # unreadable now: `tolok refresh` reports why
        if newest is None or newest != newest:  # NULL or NaT
            out[name] = None
        else:
            out[name] = newest.date() if isinstance(newest, dt.datetime) else newest
    return out


def run_lint(
    loaded: LoadedProject,
    output: str,
    strict: bool,
    errors: list[str],
    use_data: bool,
    out: Console,
) -> bool:
    """Print the findings; False when one of them is an error."""
    project = loaded.project
    assert project is not None
    facts = gather_facts(loaded) if use_data else None
    findings = lint(spoken(loaded), facts, errors, strict)  # its messages in `tolok --lang`'s
    locale = lang_of(project)
    if output == "json":
        typer.echo(as_json(findings, loaded.root, locale))
    elif output == "sarif":
        typer.echo(as_sarif(findings, loaded.root, locale))
    else:
        style = {Level.error: "bold red", Level.warning: "bold yellow", Level.note: "bold cyan"}
        for finding in findings:
            text = as_text(finding, loaded.root, loaded.lines(finding.where.file), locale)
            head, _, rest = text.partition("\n")
            out.print(head, style=style[finding.level], markup=False)
            out.print(rest, markup=False)
            out.print()
        out.print(summary(findings, locale), style="bold", markup=False)
    return not any(f.level is Level.error for f in findings)


def print_rules(locale: str, out: Console) -> None:
    _ = gettext(locale)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in (_("code"), _("name"), _("concern"), _("level"), _("checks")):
        table.add_column(column)
    for spec, _ in RULES.values():
        table.add_row(spec.code, spec.name, spec.concern, spec.level.value, spec.summary(locale))
    out.print(table)
