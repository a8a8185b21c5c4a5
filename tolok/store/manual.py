"""Numbers people type in: manual datasets' values per period and slice, with an audit trail.

An entry names a dataset with `source: manual`, one of its measures, a period label
(`2026-03`, `2026-Q1`, `2026-W09`, `2026-03-15`, `FY2026`…) and, optionally, a value for
some of its dimensions. Entering the same key again is an edit: the value changes and the
audit log keeps who changed it from what to what, and when.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.display import ALLOWED, within_range
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.models import Grain, Project
from tolok.store.schema import AuditEntry, ManualValue


class EntryError(ValueError):
    """An entry that cannot be taken; `line` is its line in a CSV file (1 = header)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Entry:
    dataset: str
    measure: str
    grain: Grain
    period: dt.date
    slice: tuple[tuple[str, str], ...]  # (dimension, value), in the dataset's order
    value: float

    @property
    def slice_json(self) -> str:
        return json.dumps(dict(self.slice), ensure_ascii=False, sort_keys=True)

    def subject(self, calendar: Calendar) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.slice)
        label = calendar.label(self.period, self.grain)
        return f"{self.dataset}.{self.measure} {label}" + (f" [{where}]" if where else "")


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    before: float | None  # the value it replaced, if it was an edit


def make_entry(
    project: Project,
    dataset: str,
    measure: str,
    period: str,
    value: str | float,
    by: dict[str, str],
    line: int | None = None,
) -> Entry:
    """An entry checked against the project: a manual dataset, its measure, its dimensions."""
    found = project.datasets.get(dataset)
    if found is None or not found.is_manual:
        manual = [n for n, d in project.datasets.items() if d.is_manual]
        raise EntryError(
            f"'{dataset}' is not a manual dataset (manual datasets: {', '.join(manual) or 'none'})",
            line,
        )
    if measure not in found.measures:
        raise EntryError(
            f"dataset '{dataset}' has no measure '{measure}' "
            f"(measures: {', '.join(found.measures)})",
            line,
        )
    unknown = [d for d in by if d not in found.dimensions]
    if unknown:
        raise EntryError(
            f"'{unknown[0]}' is not a dimension of '{dataset}' "
            f"(dimensions: {', '.join(found.dimensions) or 'none'})",
            line,
        )
    calendar = Calendar.of(project)
    try:
        grain, start = calendar.parse(period)
    except PeriodError as exc:
        raise EntryError(
            f"{exc}; write 2026-03, 2026-Q1, 2026-W09, 2026-03-15 or FY2026", line
        ) from None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EntryError(f"'{value}' is not a number", line) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise EntryError(f"'{value}' is not a number", line)
    if not within_range(number):  # pages write it in full, and a float holds it exactly
        raise EntryError(f"'{value}' is too large: write {ALLOWED}", line)
    ordered = tuple((d, str(by[d])) for d in found.dimensions if d in by and by[d] != "")
    return Entry(dataset, measure, grain, start, ordered, number)


def read_csv(project: Project, dataset: str, path: Path) -> list[Entry]:
    """Entries from a CSV file with columns `measure`, `period`, `value` and any dimensions.

    Every row is checked before anything is stored; the first bad row stops it all, with
    its line number.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return read_rows(project, dataset, handle)
    except OSError as exc:
        raise EntryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise EntryError(f"{path} is not UTF-8 text (save it as CSV UTF-8)") from None


def read_rows(project: Project, dataset: str, handle: Iterable[str]) -> list[Entry]:
    """Entries from CSV lines (a file, or an upload's text), checked as `read_csv` says."""
    entries = []
    reader = csv.DictReader(handle)
    needed = {"measure", "period", "value"}
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise EntryError(f"the CSV needs the columns {', '.join(sorted(missing))}", 1)
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise EntryError("the row does not have as many values as the header", line)
        by = {k: v for k, v in row.items() if k not in needed}
        entries.append(
            make_entry(project, dataset, row["measure"], row["period"], row["value"], by, line)
        )
    return entries


def enter(session: Session, project: Project, entries: list[Entry], actor: str) -> list[Outcome]:
    """Store the entries (new ones inserted, existing ones edited) and audit every change."""
    calendar = Calendar.of(project)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    outcomes = []
    for entry in entries:
        existing = session.scalars(
            select(ManualValue).where(
                ManualValue.dataset == entry.dataset,
                ManualValue.measure == entry.measure,
                ManualValue.grain == entry.grain.value,
                ManualValue.period == entry.period,
                ManualValue.slice == entry.slice_json,
            )
        ).first()
        before = existing.value if existing else None
        if existing is not None and existing.value == entry.value:
            outcomes.append(Outcome(entry, before))
            continue
        if existing is None:
            session.add(
                ManualValue(
                    dataset=entry.dataset,
                    measure=entry.measure,
                    grain=entry.grain.value,
                    period=entry.period,
                    slice=entry.slice_json,
                    value=entry.value,
                    entered_by=actor,
                    entered_at=now,
                )
            )
        else:
            existing.value, existing.entered_by, existing.entered_at = entry.value, actor, now
        session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="manual_value.enter" if existing is None else "manual_value.edit",
                subject=entry.subject(calendar),
                before=None if before is None else json.dumps({"value": before}),
                after=json.dumps({"value": entry.value}),
            )
        )
        outcomes.append(Outcome(entry, before))
    return outcomes


@dataclass(frozen=True)
class StoredValue:
    measure: str
    grain: Grain
    period: dt.date
    slice: dict[str, str]
    value: float


def manual_values(session: Session, dataset: str) -> list[StoredValue]:
    rows = session.scalars(select(ManualValue).where(ManualValue.dataset == dataset))
    return [
        StoredValue(r.measure, Grain(r.grain), r.period, json.loads(r.slice), r.value) for r in rows
    ]


def source(engine: Engine) -> Callable[[str], list[StoredValue]]:
    """A reader of one dataset's typed-in values, for the engine."""

    def read(dataset: str) -> list[StoredValue]:
        with Session(engine) as session:
            return manual_values(session, dataset)

    return read


def audit_trail(session: Session, subject_prefix: str = "") -> list[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if subject_prefix:
        statement = statement.where(AuditEntry.subject.startswith(subject_prefix))
    return list(session.scalars(statement))
