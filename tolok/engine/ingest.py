"""`tolok ingest FILE --dataset NAME`: rows from a file appended to a dataset's warehouse table.

Every row is checked first (declared types, the time column, the key); one bad row and
nothing is written — or, with `skip_bad_rows`, the good rows are written and the bad ones
go to `<file>.rejected.csv` with their line and reason. The rows go in with one
`INSERT … SELECT` that leaves out keys already in the table, so a run stopped at any point
has written all of the file or none of it, and ingesting a file twice adds nothing:
tables tolok creates carry `_tolok_ingest` (the file's digest) for datasets without a key.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from tolok.engine.errors import WarehouseError
from tolok.engine.rows import Raw, RowProblem, parse_value, read_rows
from tolok.engine.warehouse import CASTS, Warehouse, file_digest
from tolok.spec.columns import guess
from tolok.spec.functions import Type
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import ColumnType, Dataset

INGEST_COLUMN = "_tolok_ingest"
_GUESSED = {Type.number: "number", Type.boolean: "boolean", Type.time: "timestamp"}


class IngestError(Exception):
    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


@dataclass
class IngestReport:
    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_file: Path | None = None
    already: bool = False  # this very file was ingested before
    problems: list[RowProblem] = field(default_factory=list)


def ingest(
    loaded: LoadedProject,
    warehouse: Warehouse,
    name: str,
    path: Path,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    idempotency_key: str | None = None,
) -> IngestReport:
    """`idempotency_key` stands for the file's content in recognising a repeat (the API's
    `Idempotency-Key` header): the same key again writes nothing."""
    project = loaded.project
    assert project is not None
    dataset = _target(project.datasets, name)
    schema, _, table_name = dataset.source.strip().rpartition(".")
    backend = warehouse.backend()
    existing = _existing(backend, table_name, schema or None)
    if idempotency_key:
        digest = hashlib.sha256(f"key:{idempotency_key}".encode()).hexdigest()[:32]
    else:
        digest = file_digest(path)[:32]
    report = IngestReport()
    if existing is not None and INGEST_COLUMN in existing.columns:
        seen = existing.filter(existing[INGEST_COLUMN] == digest).count().execute()
        if seen:
            report.already = True
            return report
    zone = ZoneInfo(dataset.timezone or project.timezone)
    types = _declared_types(dataset, existing)
    good, problems = _checked(path, dataset, types, existing, zone, report, progress)
    if problems and not skip_bad_rows:
        raise IngestError(
            f"{len(problems)} bad row{'s' if len(problems) > 1 else ''} in {path.name}; "
            "nothing was written (--skip-bad-rows writes the good ones)",
            [problem for problem, _ in problems],
        )
    if problems:
        report.rejected = len(problems)
        report.problems = [problem for problem, _ in problems]
        report.rejected_file = _write_rejected(path, problems)
    if not good:
        return report
    frame = _frame(good, types)
    if existing is None:
        existing = _create(backend, table_name, schema or None, frame, types, dataset)
    if INGEST_COLUMN in existing.columns:
        frame[INGEST_COLUMN] = digest
    report.written, report.duplicates = _insert(
        backend, existing, table_name, schema, frame, dataset
    )
    return report


def _target(datasets: dict[str, Dataset], name: str) -> Dataset:
    dataset = datasets.get(name)
    if dataset is None:
        raise IngestError(f"no dataset '{name}' (datasets: {', '.join(datasets)})")
    if dataset.is_manual:
        raise IngestError(f"'{name}' is a manual dataset: type its values in with tolok enter")
    if dataset.file_pattern is not None:
        raise IngestError(
            f"'{name}' reads files ({dataset.source}): put the file where that pattern finds "
            "it; ingest appends to warehouse tables"
        )
    return dataset


def _existing(backend: object, table: str, schema: str | None) -> ir.Table | None:
    try:
        found: ir.Table = backend.table(table, database=schema)  # type: ignore[attr-defined]
    except Exception:
        return None
    return found


def _kind(dtype: object) -> str:
    for test, kind in (
        ("is_boolean", "boolean"),
        ("is_integer", "integer"),
        ("is_floating", "number"),
        ("is_decimal", "number"),
        ("is_timestamp", "timestamp"),
        ("is_date", "date"),
    ):
        if getattr(dtype, test)():
            return kind
    return "string"


def _declared_types(dataset: Dataset, existing: ir.Table | None) -> dict[str, str]:
    """Column types to check rows against: the table's, then the YAML's `columns:`."""
    types: dict[str, str] = {}
    if existing is not None:
        types.update({c: _kind(t) for c, t in existing.schema().items() if c != INGEST_COLUMN})
    types.update({c: t.value for c, t in dataset.columns.items()})
    if dataset.time and dataset.time not in types:
        types[dataset.time] = "timestamp"
    return types


def _checked(
    path: Path,
    dataset: Dataset,
    types: dict[str, str],
    existing: ir.Table | None,
    zone: ZoneInfo,
    report: IngestReport,
    progress: Callable[[int], None] | None,
) -> tuple[list[tuple[int, dict[str, object]]], list[tuple[RowProblem, Raw]]]:
    good: list[tuple[int, dict[str, object]]] = []
    problems: list[tuple[RowProblem, Raw]] = []
    required = {c for c in [dataset.time, *dataset.key] if c}
    try:
        rows = list(read_rows(path))
    except (OSError, ValueError) as exc:
        raise IngestError(f"cannot read {path.name}: {exc}") from exc
    for line, raw in rows:
        report.read += 1
        problem, parsed = _check_row(line, raw, types, required, existing, zone)
        if problem is not None:
            problems.append((problem, raw))
        else:
            good.append((line, parsed))
        if progress and report.read % 10_000 == 0:
            progress(report.read)
    if progress:
        progress(report.read)
    return good, problems


def _check_row(
    line: int,
    raw: Raw,
    types: dict[str, str],
    required: set[str],
    existing: ir.Table | None,
    zone: ZoneInfo,
) -> tuple[RowProblem | None, dict[str, object]]:
    if "__error__" in raw:
        return RowProblem(line, None, str(raw["__error__"])), {}
    if "__extra__" in raw:
        return RowProblem(line, None, "more values than the header has columns"), {}
    parsed: dict[str, object] = {}
    for column, value in raw.items():
        if existing is not None and column not in types:
            return RowProblem(line, column, "no such column in the table"), {}
        try:
            parsed[column] = parse_value(value, types.get(column, "string"), zone)
        except (ValueError, TypeError) as exc:
            return RowProblem(line, column, str(exc)), {}
    for column in sorted(required):
        if parsed.get(column) is None:
            return RowProblem(line, column, "is empty, and every row needs it"), {}
    return None, parsed


def _frame(good: list[tuple[int, dict[str, object]]], types: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([row for _, row in good])
    for column in frame.columns:
        if column not in types:
            values = [str(v) for v in frame[column] if v is not None]
            types[column] = _GUESSED.get(guess(values), "string")
            if types[column] != "string":
                zone = ZoneInfo("UTC")
                parsed = [parse_value(v, types[column], zone) for v in frame[column]]
                frame[column] = pd.Series(parsed, index=frame.index, dtype=object)
    return frame


def _create(
    backend: object,
    table: str,
    schema: str | None,
    frame: pd.DataFrame,
    types: dict[str, str],
    dataset: Dataset,
) -> ir.Table:
    columns = {c: CASTS[ColumnType(types.get(c, "string"))] for c in frame.columns}
    if not dataset.key:
        columns[INGEST_COLUMN] = "string"
    created: ir.Table = backend.create_table(  # type: ignore[attr-defined]
        table, schema=ibis.schema(columns), database=schema
    )
    return created


def _insert(
    backend: object,
    existing: ir.Table,
    table: str,
    schema: str,
    frame: pd.DataFrame,
    dataset: Dataset,
) -> tuple[int, int]:
    """Append the rows whose key is new, in one statement; (written, duplicates)."""
    keys = list(dataset.key)
    before = len(frame)
    if keys:
        frame = frame.drop_duplicates(subset=keys, keep="first")
    for column in existing.columns:
        if column not in frame.columns:
            frame[column] = None
    schema_of = existing.schema()
    rows = ibis.memtable(frame[list(existing.columns)]).cast(
        {c: schema_of[c] for c in existing.columns}
    )
    if keys:
        rows = rows.anti_join(existing, keys)
    new = int(rows.count().execute()) if keys else before
    if new:
        try:
            backend.insert(table, rows, database=schema or None)  # type: ignore[attr-defined]
        except Exception as exc:
            raise WarehouseError(f"writing to {table} failed: {str(exc).splitlines()[0]}") from exc
    return new, before - new


def _write_rejected(path: Path, problems: list[tuple[RowProblem, Raw]]) -> Path:
    """The rejected rows beside the input, as they were, with their line and the reason."""
    target = path.with_name(path.stem + ".rejected.csv")
    columns: list[str] = []
    for _, raw in problems:
        columns += [c for c in raw if c not in columns and not c.startswith("__")]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["_line", "_reason", *columns])
        for problem, raw in problems:
            values = ["" if raw.get(c) is None else raw.get(c) for c in columns]
            writer.writerow([problem.line, str(problem).split(": ", 1)[1], *values])
    return target
