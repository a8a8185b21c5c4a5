"""The terminal side of the commands that bring data in: `tolok enter`, `tolok ingest`,
and the audit log that records what people changed."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from sqlalchemy import Engine

from tolok.cli.terminal.board import project_of, reported
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject


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
    try:
        if file is not None:
            entries = read_csv(project, dataset, file)
        else:
            if len(values) != 3:
                raise EntryError("give MEASURE PERIOD VALUE, or --file values.csv")
            pairs = dict(_pair(item) for item in by)
            measure, period, value = values
            entries = [make_entry(project, dataset, measure, period, value, pairs)]
    except EntryError as exc:
        where = f"{file}:{exc.line}: " if file is not None and exc.line else ""
        errors.print(f"error: {where}{exc.message}; nothing was stored", markup=False)
        raise typer.Exit(1) from None
    with reported(loaded, errors):
        store = open_store(store_url(project.store, loaded.root))
        with Session(store) as session, session.begin():
            outcomes = enter(session, project, entries, actor)
    if outcomes:
        recompute(loaded, store, errors)
    calendar = Calendar.of(project)
    if not outcomes:
        out.print(f"0 values of {dataset}: the file has no rows", markup=False)
        return
    if len(outcomes) > 10:
        new = sum(1 for o in outcomes if o.before is None)
        same = sum(1 for o in outcomes if o.before == o.entry.value)
        out.print(
            f"{len(outcomes)} values of {dataset}: {new} new, "
            f"{len(outcomes) - new - same} changed, {same} unchanged",
            markup=False,
        )
        return
    for outcome in outcomes:
        entry = outcome.entry
        text = f"{entry.subject(calendar)}: {_plain_number(entry.value)}"
        if outcome.before is not None and outcome.before != entry.value:
            text += f" (was {_plain_number(outcome.before)})"
        elif outcome.before == entry.value:
            text += " (unchanged)"
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
            errors.print(f"stored; the KPIs are recomputed at the next refresh: {exc.message}",
                         markup=False)  # fmt: skip


def _pair(text: str) -> tuple[str, str]:
    from tolok.store.manual import EntryError

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise EntryError(f"--by takes dimension=value, not '{text}'")
    return name.strip(), value.strip()


def _plain_number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def print_audit(loaded: LoadedProject, subject: str, out: Console) -> None:
    """The audit log, oldest first: when, who, what, from what to what."""
    from sqlalchemy.orm import Session

    from tolok.store.database import open_store, store_url
    from tolok.store.manual import audit_trail

    project = project_of(loaded)
    with Session(open_store(store_url(project.store, loaded.root))) as session:
        entries = audit_trail(session, subject)
    for entry in entries:
        change = f"{entry.before or '-'} -> {entry.after or '-'}"
        when = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        typer.echo(f"{when}\t{entry.actor}\t{entry.action}\t{entry.subject}\t{change}")


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
        task = progress.add_task(f"checking {file.name}", total=None)

        def step(rows: int) -> None:
            progress.update(task, description=f"checked {rows:,} rows of {file.name}")

        try:
            report = ingest(loaded, Warehouse(loaded), dataset, file, skip_bad_rows, step)
        except IngestError as exc:
            errors.print(f"error: {exc.message}", markup=False)
            for problem in exc.problems[:20]:
                errors.print(f"  {file.name}: {problem}", markup=False)
            if len(exc.problems) > 20:
                errors.print(f"  … and {len(exc.problems) - 20} more", markup=False)
            raise typer.Exit(1) from None
    if report.already:
        out.print(f"{file.name} was ingested into {dataset} before: nothing to do", markup=False)
        return
    parts = [f"{report.written:,} rows written to {dataset}"]
    if report.duplicates:
        parts.append(f"{report.duplicates:,} already there (same key)")
    if report.rejected:
        parts.append(f"{report.rejected:,} rejected, see {report.rejected_file}")
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
    try:
        number = float(value)
    except ValueError:
        errors.print(f"error: '{value}' is not a number", markup=False)
        raise typer.Exit(1) from None
    try:
        pairs = dict(_pair(item) for item in by)
        with reported(loaded, errors):
            store = open_store(store_url(project.store, loaded.root))
            with Session(store) as session, session.begin():
                before = set_target(session, project, kpi, period, number, pairs, actor)
    except EntryError as exc:
        errors.print(f"error: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    was = f" (was {_plain_number(before)})" if before is not None else ""
    out.print(f"target of {kpi} for {period}: {_plain_number(number)}{was}", markup=False)
