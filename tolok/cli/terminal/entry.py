"""The terminal side of the commands that bring data in: `tolok enter`, `tolok ingest`,
and the audit log that records what people changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from sqlalchemy import Engine

from tolok.cli.lang import lang_of, number_text, words
from tolok.cli.terminal.board import project_of, reported
from tolok.said import error_text, row_problem, said_in
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project

if TYPE_CHECKING:
    from tolok.store.schema import AuditEntry


def run_enter(
    loaded: LoadedProject,
    dataset: str,
    values: list[str],
    by: list[str],
    file: Path | None,
    actor: str,
    out: Console,
    errors: Console,
) -> None:
    """Store typed-in values (from arguments or a CSV), all or nothing, and say what changed."""
    from sqlalchemy.orm import Session

    from tolok.store.database import open_store, store_url
    from tolok.store.manual import EntryError, enter, make_entry, read_csv

    project = project_of(loaded)
    _, lang = words(project), lang_of(project)
    try:
        if file is not None:
            entries = read_csv(project, dataset, file)
        else:
            if len(values) != 3:
                raise EntryError(_("give MEASURE PERIOD VALUE, or --file values.csv"))
            pairs = dict(_pair(item, _) for item in by)
            measure, period, value = values
            entries = [make_entry(project, dataset, measure, period, value, pairs)]
    except EntryError as exc:
        where = f"{file}:{exc.line}: " if file is not None and exc.line else ""
        problem = where + said_in(exc.message, _)
        errors.print(_("error: {problem}; nothing was stored", problem=problem), markup=False)
        raise typer.Exit(1) from None
    with reported(loaded, errors):
        store = open_store(store_url(project.store, loaded.root))
        with Session(store) as session, session.begin():
            outcomes = enter(session, project, entries, actor)
    if outcomes:
        recompute(loaded, store, errors)
    calendar = Calendar.of(project)
    if not outcomes:
        out.print(_("0 values of {dataset}: the file has no rows", dataset=dataset), markup=False)
        return
    if len(outcomes) > 10:
        new = sum(1 for o in outcomes if o.before is None)
        same = sum(1 for o in outcomes if o.before == o.entry.value)
        stored = _counted(len(outcomes), _("{n} value of {dataset}"),
                          _("{n} values of {dataset}"), lang, dataset=dataset)  # fmt: skip
        changes = _("{new} new, {changed} changed, {same} unchanged",
                    new=number_text(new, lang), same=number_text(same, lang),
                    changed=number_text(len(outcomes) - new - same, lang))  # fmt: skip
        out.print(f"{stored}: {changes}", markup=False)
        return
    for outcome in outcomes:
        entry = outcome.entry
        text = f"{entry.subject(calendar)}: {_plain_number(entry.value, lang)}"
        if outcome.before is not None and outcome.before != entry.value:
            text += " " + _("(was {before})", before=_plain_number(outcome.before, lang))
        elif outcome.before == entry.value:
            text += " " + _("(unchanged)")
        out.print(text, markup=False)


def recompute(loaded: LoadedProject, store: Engine, errors: Console) -> None:
    """The KPIs that read the values just entered, recomputed (an incremental refresh), as the
    server's entry form does: a running `tolok serve` reads the store, so its board and its
    stream of events show the new values at once. When the warehouse is busy, the values
    stay stored and the next refresh computes them."""
    from tolok.engine.errors import WarehouseError
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.store.manual import source

    with reported(loaded, errors):
        try:
            warehouse = Warehouse(loaded, manual=source(store))
            refresh_into_store(loaded, warehouse, store, "tolok enter", board=False)
        except WarehouseError as exc:  # the values are stored all the same
            _ = words(loaded.project)
            errors.print(_("stored; the KPIs are recomputed at the next refresh: {problem}",
                           problem=exc.message), markup=False)  # fmt: skip


def _pair(text: str, _: Callable[..., str]) -> tuple[str, str]:
    from tolok.store.manual import EntryError

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise EntryError(_("--by takes dimension=value, not '{text}'", text=text))
    return name.strip(), value.strip()


def _counted(number: int, one: str, many: str, lang: str, **values: object) -> str:
    """`counted`, with more placeholders than `{n}`: `1.204 baris ditulis ke orders`."""
    return (one if number == 1 else many).format(n=number_text(number, lang), **values)


def _plain_number(value: float, lang: str = "en") -> str:
    """A value as typed, every digit kept: `1500000`; in Indonesian grouped as people write
    it, `1.500.000` (`2,5` for 2.5)."""
    if lang == "en":
        return str(int(value)) if value == int(value) else str(value)
    from babel.numbers import format_decimal

    return str(format_decimal(value, "#,##0.##########", locale=lang))


def print_audit(loaded: LoadedProject, subject: str, out: Console) -> None:
    """The audit log, oldest first: when, who, what, from what to what."""
    from sqlalchemy.orm import Session

    from tolok.store.database import open_store, store_url
    from tolok.store.manual import audit_trail

    project = project_of(loaded)
    with Session(open_store(store_url(project.store, loaded.root))) as session:
        entries = audit_trail(session, subject)
    if not out.is_terminal:
        # Piped: tab-separated machine lines (time, who, action code, subject, JSON before
        # -> after), the same in every language, for a script or a spreadsheet.
        for entry in entries:
            change = f"{entry.before or '-'} -> {entry.after or '-'}"
            when = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
            typer.echo(f"{when}\t{entry.actor}\t{entry.action}\t{entry.subject}\t{change}")
        return
    _audit_table(project, entries, out)


def _audit_table(project: Project, entries: Sequence[AuditEntry], out: Console) -> None:
    """On a terminal: the log as a table, its headings and actions in the reader's words
    (the pages' words for them)."""
    from rich.table import Table

    from tolok.server.pages.admin import audit_words

    _ = words(project)
    if not entries:
        out.print(_("no audit entries yet"), markup=False)
        return
    actions = audit_words(_)
    table = Table(_("When (UTC)"), _("Who"), _("What"), _("Subject"), _("Before"), _("After"))
    for entry in entries:
        table.add_row(entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.actor,
                      actions.get(entry.action, entry.action), entry.subject,
                      entry.before or "-", entry.after or "-")  # fmt: skip
    out.print(table)


def run_ingest(
    loaded: LoadedProject,
    dataset: str,
    file: Path,
    skip_bad_rows: bool,
    out: Console,
    errors: Console,
) -> None:
    """Append a file's rows to a dataset's table; report what was written and what was not."""
    from tolok.engine.ingest import IngestError, ingest
    from tolok.engine.warehouse import Warehouse

    _, lang = words(loaded.project), lang_of(loaded.project)
    with (
        reported(loaded, errors),
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            console=errors,
            transient=True,
            disable=not errors.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(_("checking {file}", file=file.name), total=None)

        def step(rows: int) -> None:
            checked = _counted(rows, _("checked {n} row of {file}"),
                               _("checked {n} rows of {file}"), lang, file=file.name)  # fmt: skip
            progress.update(task, description=checked)

        try:
            report = ingest(loaded, Warehouse(loaded), dataset, file, skip_bad_rows, step)
        except IngestError as exc:
            errors.print(error_text(exc.message, _), markup=False)
            for problem in exc.problems[:20]:
                errors.print(f"  {file.name}: {row_problem(problem, _)}", markup=False)
            if len(exc.problems) > 20:
                more = number_text(len(exc.problems) - 20, lang)
                errors.print("  " + _("… and {n} more", n=more), markup=False)
            raise typer.Exit(1) from None
    if report.already:
        out.print(_("{file} was ingested into {dataset} before: nothing to do", file=file.name,
                    dataset=dataset), markup=False)  # fmt: skip
        return
    parts = [_counted(report.written, _("{n} row written to {dataset}"),
                      _("{n} rows written to {dataset}"), lang, dataset=dataset)]  # fmt: skip
    if report.duplicates:
        parts.append(_("{n} already there (same key)", n=number_text(report.duplicates, lang)))
    if report.rejected:
        parts.append(_("{n} rejected, see {file}", n=number_text(report.rejected, lang),
                       file=report.rejected_file))  # fmt: skip
    out.print("; ".join(parts), markup=False)


def run_set_target(
    loaded: LoadedProject,
    kpi: str,
    period: str,
    value: str,
    by: list[str],
    actor: str,
    out: Console,
    errors: Console,
) -> None:
    """A person's target for one period (and slice), over the YAML's; audited."""
    from sqlalchemy.orm import Session

    from tolok.store.database import open_store, store_url
    from tolok.store.manual import EntryError
    from tolok.store.targets import set_target

    project = project_of(loaded)
    _, lang = words(project), lang_of(project)
    try:
        number = float(value)
    except ValueError:
        errors.print(error_text(f"'{value}' is not a number", _), markup=False)
        raise typer.Exit(1) from None
    try:
        pairs = dict(_pair(item, _) for item in by)
        with reported(loaded, errors):
            store = open_store(store_url(project.store, loaded.root))
            with Session(store) as session, session.begin():
                before = set_target(session, project, kpi, period, number, pairs, actor)
    except EntryError as exc:
        errors.print(error_text(exc.message, _), markup=False)
        raise typer.Exit(1) from None
    was = ""
    if before is not None:
        was = " " + _("(was {before})", before=_plain_number(before, lang))
    said = _("target of {kpi} for {period}: {value}", kpi=kpi, period=period,
             value=_plain_number(number, lang))  # fmt: skip
    out.print(said + was, markup=False)
