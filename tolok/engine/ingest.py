"""`tolok ingest FILE --dataset NAME`: rows from a file appended to a dataset's warehouse table.

Every row is checked first (declared types, the time column, the key; rows sharing a key
but not their values, control characters a spreadsheet cannot hold, NaN and infinity are bad
rows too, named by line and column); one bad row and nothing is written — or, with
`skip_bad_rows`, the good rows are written and the bad ones go to `<file>.rejected.csv`
with their line and reason. The rows go in with one
`INSERT … SELECT` that leaves out keys already in the table, so a run stopped at any point
has written all of the file or none of it, and ingesting a file twice adds nothing:
tables tolok creates carry `_tolok_ingest` (the file's digest) for datasets without a key.

Rows are checked a column at a time (see `rows.parse_column`). On DuckDB they go in as an
Arrow table registered on the connection, through an `INSERT … SELECT` that Ibis compiles
once per table; other warehouses take Ibis's insert of a pandas frame.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from tolok.engine.errors import WarehouseError
from tolok.engine.rows import (
    Columns,
    Raw,
    RowProblem,
    check_rows,
    read_body,
    read_rows,
)
from tolok.engine.warehouse import CASTS, Warehouse, file_digest
from tolok.spec.columns import guess
from tolok.spec.formula import FormulaError, Name, parse_formula, quote_name
from tolok.spec.functions import Type
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Agg, ColumnType, Dataset
from tolok.spec.problems import say

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


@dataclass(frozen=True)
class Incoming:
    """Rows to ingest: what messages call them, how to read them, and the digest of their
    content (what recognises the same rows sent again, for tables without a key)."""

    label: str
    rows: Callable[[], Iterator[tuple[int, Raw]]]
    digest: Callable[[], str]
    path: Path | None = None  # a file, beside which rejected rows are written

    @classmethod
    def file(cls, path: Path) -> Incoming:
        return cls(path.name, lambda: read_rows(path), lambda: file_digest(path), path)

    @classmethod
    def body(cls, data: bytes, kind: str, label: str = "the request") -> Incoming:
        """A request's body: `kind` is "csv" or "jsonl"."""
        return cls(label, lambda: read_body(data, kind), lambda: hashlib.sha256(data).hexdigest())

    @classmethod
    def records(cls, records: list[Raw], label: str = "the request") -> Incoming:
        """A JSON array's objects, numbered from 1; their digest is that of the same rows
        as JSON lines."""

        def digest() -> str:
            text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        return cls(label, lambda: enumerate(records, start=1), digest)


def ingest(
    loaded: LoadedProject,
    warehouse: Warehouse,
    name: str,
    path: Path | Incoming,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    idempotency_key: str | None = None,
) -> IngestReport:
    """Rows from a file (or from anywhere: a request's body, see `Incoming`) into a
    dataset's table. `idempotency_key` (the API's `Idempotency-Key` header) joins the
    content in recognising a repeat: the same key with the same rows again writes nothing,
    while the same rows under another key are new rows (two identical events), and so are
    other rows under a key that was used before (the server refuses that while it keeps the
    key, a day; later the key is free again)."""
    incoming = path if isinstance(path, Incoming) else Incoming.file(path)
    project = loaded.project
    assert project is not None
    dataset = _target(project.datasets, name)
    assert dataset.table is not None  # `_target` refused the others
    schema, _, table_name = dataset.table.rpartition(".")
    backend = warehouse.backend()
    existing = _existing(warehouse, table_name, schema or None)

    @functools.cache
    def digest() -> str:
        if idempotency_key:
            both = f"key:{idempotency_key}:{incoming.digest()}"
            return hashlib.sha256(both.encode()).hexdigest()[:32]
        return incoming.digest()[:32]

    report = IngestReport()
    untracked = existing is not None and INGEST_COLUMN not in existing.columns
    if idempotency_key and untracked and not dataset.key:
        raise IngestError(
            f"the table of '{name}' has no `key:` and was not created by tolok, so a repeat "
            "cannot be recognised: declare the dataset's key, or send no Idempotency-Key"
        )
    keyless = existing is not None and INGEST_COLUMN in existing.columns
    if keyless and _seen(backend, existing, table_name, schema, digest()):
        report.already = True
        return report
    zone = ZoneInfo(dataset.timezone or project.timezone)
    types = _declared_types(dataset, existing)
    _check_time_type(name, dataset, existing, incoming.label)
    rows = _read(incoming, report, progress)
    if existing is None:
        _guess_types(rows, types)
    required = sorted({c for c in [dataset.time, *dataset.key] if c})
    good, count, problems = check_rows(rows, required, types, existing is not None, zone)
    good, count, problems = _without_conflicts(rows, good, count, problems, list(dataset.key))
    if problems and not skip_bad_rows:
        raise IngestError(
            f"{len(problems)} bad row{'s' if len(problems) > 1 else ''} in {incoming.label}; "
            "nothing was written (--skip-bad-rows writes the good ones)",
            [problem for problem, _ in problems],
        )
    if problems:
        report.rejected = len(problems)
        report.problems = [problem for problem, _ in problems]
        if incoming.path is not None:
            report.rejected_file = _write_rejected(incoming.path, problems)
    if not count:
        return report
    if existing is None:
        existing = _create(backend, table_name, schema or None, list(good), types, dataset)
        _keep(warehouse, table_name, schema or None, existing)
        if INGEST_COLUMN in existing.columns and _seen(
            backend, existing, table_name, schema, digest()
        ):  # the same rows, written meanwhile by whoever made the table
            report.already = True
            return report
    if INGEST_COLUMN in existing.columns:
        good[INGEST_COLUMN] = [digest()] * count
    report.written, report.duplicates = _insert(
        backend, existing, table_name, schema, good, count, dataset, types
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
    if dataset.sql is not None:
        raise IngestError(
            f"'{name}' is a query (source: {{sql: …}}): ingest appends to a warehouse table; "
            "ingest into a table the query reads"
        )
    return dataset


def _existing(warehouse: Warehouse, table: str, schema: str | None) -> ir.Table | None:
    """The table, or None; asking Ibis costs a catalog query (4-10 ms a batch), so a DuckDB
    table is asked for once per connection (see `_keep`)."""
    kept = warehouse.known_tables.get((schema, table))
    if kept is not None:
        return kept
    try:
        found: ir.Table = warehouse.backend().table(table, database=schema)
    except Exception:
        return None
    _keep(warehouse, table, schema, found)
    return found


def _keep(warehouse: Warehouse, table: str, schema: str | None, found: ir.Table) -> None:
    """A DuckDB table's columns are kept while the connection is open: DuckDB's file lock
    keeps other programs from changing the table meanwhile, and tolok changes a table's
    columns nowhere else. Other warehouses have other writers: asked every time."""
    if warehouse.backend().name == "duckdb":
        warehouse.known_tables[(schema, table)] = found


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
    """Column types to check rows against: the table's, then the YAML's `columns:`; for a
    table still to be made, a column a measure adds up (`sum`, `avg`, …) is a number."""
    types: dict[str, str] = {}
    if existing is not None:
        types.update({c: _kind(t) for c, t in existing.schema().items() if c != INGEST_COLUMN})
    else:
        types.update(dict.fromkeys(_numeric_columns(dataset), "number"))
    types.update({c: t.value for c, t in dataset.columns.items()})
    if dataset.time and dataset.time not in types:
        types[dataset.time] = "timestamp"
    return types


_NUMERIC = {Agg.sum, Agg.avg, Agg.median, Agg.percentile}


def _numeric_columns(dataset: Dataset) -> list[str]:
    """Columns that measures add up or average as they are (`expr` a single column)."""
    found: list[str] = []
    for measure_name, measure in dataset.measures.items():
        if measure.agg not in _NUMERIC:
            continue
        try:
            tree = parse_formula(measure.expr or quote_name(measure_name))
        except FormulaError:
            continue
        if isinstance(tree, Name) and tree.qualifier is None:
            found.append(tree.name)
    return found


def _check_time_type(name: str, dataset: Dataset, existing: ir.Table | None, label: str) -> None:
    """The time column must hold dates or timestamps, or no KPI can tell a row's period:
    refused before a row is read, naming where the other type comes from (a declared type
    wins over the table's, as when KPIs read it)."""
    time = dataset.time
    if time is None:
        return
    declared = dataset.columns.get(time)
    if declared is not None:
        if declared in (ColumnType.date, ColumnType.timestamp):
            return
        kind, origin = declared.value, "`columns:` declares"
    elif existing is not None and time in existing.columns:
        dtype = existing.schema()[time]
        if not (dtype.is_string() or dtype.is_numeric() or dtype.is_boolean()):
            return
        kind, origin = _kind(dtype), f"the table {dataset.table} holds"
    else:
        return
    raise IngestError(
        f"dataset '{name}': {origin} its time column '{time}' as {kind}, not dates or "
        f"timestamps, so no row of {label} could be given a period; nothing was written "
        f"(declare `columns: {{{quote_name(time)}: timestamp}}`, or change the table's column)"
    )


def _read(
    incoming: Incoming, report: IngestReport, progress: Callable[[int], None] | None
) -> list[tuple[int, Raw]]:
    rows: list[tuple[int, Raw]] = []
    try:
        for row in incoming.rows():
            rows.append(row)
            if progress and len(rows) % 10_000 == 0:
                progress(len(rows))
    except (OSError, ValueError) as exc:
        raise IngestError(f"cannot read {incoming.label}: {exc}") from exc
    report.read = len(rows)
    if progress:
        progress(report.read)
    return rows


def _guess_types(rows: list[tuple[int, Raw]], types: dict[str, str]) -> None:
    """Columns a new table would get without a declared type: guessed from their values.
    NaN, inf and the like among numbers make a number column (and are refused there),
    not a text column that would keep them."""
    names: set[str] = set()
    for _, raw in rows:
        names.update(raw)
    for column in sorted(names - types.keys()):
        if column.startswith("__"):
            continue
        texts = [str(v).strip() for _, raw in rows if (v := raw.get(column)) is not None]
        texts = [t for t in texts if t]
        kind = guess(texts)
        if kind is Type.text:
            finite = [t for t in texts if t.lower().lstrip("+-") not in _NON_FINITE]
            if len(finite) < len(texts) and guess(finite) is Type.number:
                kind = Type.number
        types[column] = _GUESSED.get(kind, "string")


_NON_FINITE = {"nan", "inf", "infinity"}


def _create(
    backend: object,
    table: str,
    schema: str | None,
    names: list[str],
    types: dict[str, str],
    dataset: Dataset,
) -> ir.Table:
    columns = {c: CASTS[ColumnType(types.get(c, "string"))] for c in names}
    if not dataset.key:
        columns[INGEST_COLUMN] = "string"
    if getattr(backend, "name", "") == "pyspark":
        from tolok.engine.spark import clear_uncommitted

        clear_uncommitted(backend, table, schema)
    try:
        created: ir.Table = backend.create_table(  # type: ignore[attr-defined]
            table, schema=ibis.schema(columns), database=schema
        )
    except Exception as exc:
        # Another process (a second server worker, a `tolok ingest`) may have made it since
        # it was found missing: its rows and these are then told apart as in any table.
        raced = _made_meanwhile(backend, table, schema)
        if raced is not None:
            return raced
        raise WarehouseError(
            say("cannot create the table {table}: {problem}", table=table, problem=_said(exc))
        ) from exc
    return created


def _made_meanwhile(backend: object, table: str, schema: str | None) -> ir.Table | None:
    try:
        made: ir.Table = backend.table(table, database=schema)  # type: ignore[attr-defined]
    except Exception:  # not there: the warehouse's own error about the creation is told
        return None
    return made


def _said(exc: BaseException) -> str:
    """A driver's error in one line, a JVM's in its own words (see `spark.reason`)."""
    from tolok.engine.spark import reason

    return reason(exc)


def _insert(
    backend: object,
    existing: ir.Table,
    table: str,
    schema: str,
    columns: Columns,
    count: int,
    dataset: Dataset,
    types: dict[str, str],
) -> tuple[int, int]:
    """Append the rows whose key is new, in one statement; (written, duplicates)."""
    keys = list(dataset.key)
    before = count
    if keys:
        columns, count = _first_of_each_key(columns, count, keys)
    for column in existing.columns:
        columns.setdefault(column, [None] * count)
    write = _Write(backend, existing, table, schema, columns, keys, types)
    fast = _ARROW_INSERTS.get(getattr(backend, "name", ""))
    new = fast(write) if fast else None
    if new is None:
        new = _insert_frame(write)
    return new, before - new


def _first_of_each_key(columns: Columns, count: int, keys: list[str]) -> tuple[Columns, int]:
    """Rows repeating an earlier row (same key, same values: `_without_conflicts` refused
    the others) left out."""
    seen: set[tuple[object, ...]] = set()
    keep: list[int] = []
    for index, key in enumerate(zip(*(columns.get(k, [None] * count) for k in keys), strict=True)):
        if key not in seen:
            seen.add(key)
            keep.append(index)
    if len(keep) == count:
        return columns, count
    return {c: [values[i] for i in keep] for c, values in columns.items()}, len(keep)


def _without_conflicts(
    rows: list[tuple[int, Raw]],
    good: Columns,
    count: int,
    problems: list[tuple[RowProblem, Raw]],
    keys: list[str],
) -> tuple[Columns, int, list[tuple[RowProblem, Raw]]]:
    """Good rows that share a key but not their values are problems, every one of them:
    which one is right cannot be told. Rows equal to an earlier one stay (one is written)."""
    if not keys or not count:
        return good, count, problems
    first: dict[tuple[object, ...], int] = {}
    repeated: dict[tuple[object, ...], list[int]] = {}
    for index, key in enumerate(zip(*(good.get(k, [None] * count) for k in keys), strict=True)):
        seen = first.setdefault(key, index)
        if seen != index:
            repeated.setdefault(key, [seen]).append(index)
    names = list(good)
    clashing = {
        key: members
        for key, members in repeated.items()
        if len({tuple(good[c][i] for c in names) for i in members}) > 1
    }
    if not clashing:
        return good, count, problems
    bad_lines = {problem.line for problem, _ in problems}
    lines = [line for line, _ in rows if line not in bad_lines]  # by good row
    raw_of = dict(rows)
    found: dict[int, RowProblem] = {}
    for key, members in clashing.items():
        shown = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))
        for index in members:
            others = tuple(lines[i] for i in members if i != index)
            reason = "but other values: keep one of them"
            found[index] = RowProblem(lines[index], None, reason, shown, others)
    merged = problems + [(p, raw_of[p.line]) for p in found.values()]
    merged.sort(key=lambda item: item[0].line)
    keep = [i for i in range(count) if i not in found]
    return {c: [v[i] for i in keep] for c, v in good.items()}, len(keep), merged


@dataclass(frozen=True)
class _Write:
    """Checked rows on their way into a table (one value per row in every table column)."""

    backend: Any
    existing: ir.Table
    table: str
    schema: str
    columns: Columns
    keys: list[str]
    types: dict[str, str]


def _insert_frame(write: _Write) -> int:
    """Any backend: the rows as an Ibis memtable, cast to the table's types.

    The memtable's columns are named `c0`, `c1`, … and renamed back in SQL: Ibis uploads
    a memtable through the driver's parameter syntax, where a name like `Jumlah (Rp)`
    or `Share %` is read as a placeholder (psycopg's `%(name)s`, MySQL's `%`)."""
    backend, existing, table, schema, keys = (
        write.backend, write.existing, write.table, write.schema, write.keys)  # fmt: skip
    plain = {f"c{i}": c for i, c in enumerate(existing.columns)}
    frame = pd.DataFrame({p: write.columns[c] for p, c in plain.items()})
    schema_of = existing.schema()
    uploaded = ibis.memtable(frame).cast({p: schema_of[c] for p, c in plain.items()})
    rows = uploaded.rename({c: p for p, c in plain.items()})  # new name: old name
    if keys:
        rows = rows.anti_join(existing, keys)
    new = int(rows.count().execute()) if keys else len(frame)
    if new:
        try:
            backend.insert(table, rows, database=schema or None)
        except Exception as exc:
            raise WarehouseError(f"writing to {table} failed: {str(exc).splitlines()[0]}") from exc
    return new


def _seen(backend: object, existing: ir.Table, table: str, schema: str, digest: str) -> bool:
    """Rows with this digest are in the table already (the same file or key sent again)."""
    fast = _ARROW_SEEN.get(getattr(backend, "name", ""))
    found = fast(backend, existing, table, schema, digest) if fast else None
    if found is None:
        found = existing.filter(existing[INGEST_COLUMN] == digest).count().execute()
    return bool(found)


# --- DuckDB: Arrow tables registered on the connection, statements compiled once -----------

_INCOMING = f"_tolok_incoming_{uuid.uuid4().hex[:12]}"
_PLAIN = ("string", "large_string", "int64", "double", "bool", "date32[day]", "timestamp[us]")


def _duckdb_insert(write: _Write) -> int | None:
    """The rows as an Arrow table of the table's own column types, inserted by one
    statement; None when a column is of another type than its values (the generic path
    has the database cast them, as before)."""
    import pyarrow as pa

    existing, schema, columns, types = write.existing, write.schema, write.columns, write.types

    target = existing.schema()
    if "." in schema:
        return None
    try:
        arrow = target.to_pyarrow()
    except Exception:
        return None
    for name, kind in zip(target.names, arrow.types, strict=True):
        if str(kind) not in _PLAIN or _kind(target[name]) != types.get(name, "string"):
            return None
    try:
        arrays = [pa.array(columns[c], type=t, from_pandas=True) for c, t in zip(
            target.names, arrow.types, strict=True)]  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None
    statement = _insert_statement(
        write.table, schema or None, tuple(target.items()), tuple(write.keys)
    )
    data = pa.Table.from_arrays(arrays, schema=arrow)
    row = _run_registered(write.backend, write.table, statement, data)
    return int(row[0]) if row else 0


def _duckdb_seen(
    backend: object, existing: ir.Table, table: str, schema: str, digest: str
) -> int | None:
    import pyarrow as pa

    if "." in schema:
        return None
    statement = _seen_statement(table, schema or None)
    row = _run_registered(backend, table, statement, pa.table({"digest": [digest]}))
    return int(row[0]) if row else 0


def _run_registered(
    backend: object, table: str, statement: str, data: object
) -> tuple[int, ...] | None:
    """A compiled statement over `data`, registered for it under a name of tolok's own."""
    con = backend.con  # type: ignore[attr-defined]
    try:
        con.register(_INCOMING, data)
        try:
            rows: list[tuple[int, ...]] = con.execute(statement).fetchall()
        finally:
            con.unregister(_INCOMING)
    except Exception as exc:
        raise WarehouseError(f"writing to {table} failed: {str(exc).splitlines()[0]}") from exc
    return rows[0] if rows else None


@functools.lru_cache(maxsize=256)
def _insert_statement(
    table: str, schema: str | None, columns: tuple[tuple[str, object], ...], keys: tuple[str, ...]
) -> str:
    """INSERT INTO the table the incoming rows whose key it does not hold, as Ibis compiles
    it (identifiers quoted by Ibis and sqlglot, never pasted into SQL text by tolok)."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    shape = ibis.schema(dict(columns))
    target = ibis.table(shape, name=table, database=schema)
    rows = ibis.table(shape, name=_INCOMING)
    if keys:
        rows = rows.anti_join(target, list(keys))
    select = sg.parse_one(str(ibis.to_sql(rows, dialect="duckdb")), read="duckdb")
    into = sge.table_(table, db=schema, quoted=True)
    names = [sge.to_identifier(c, quoted=True) for c in shape.names]
    return sge.insert(select, into, columns=names, dialect="duckdb").sql(dialect="duckdb")


@functools.lru_cache(maxsize=256)
def _seen_statement(table: str, schema: str | None) -> str:
    target = ibis.table({INGEST_COLUMN: "string"}, name=table, database=schema)
    probe = ibis.table({"digest": "string"}, name=_INCOMING)
    found = target.filter(target[INGEST_COLUMN].isin(probe["digest"])).count()
    return str(ibis.to_sql(found, dialect="duckdb"))


_ARROW_INSERTS = {"duckdb": _duckdb_insert}
_ARROW_SEEN = {"duckdb": _duckdb_seen}


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
