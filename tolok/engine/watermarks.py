"""Which days new data touched, per dataset, since the last refresh.

- Files: size, modification time and content digest per file (the digest only when size or
  time moved), and the first and last local day of each file's rows. A new or changed file
  touches from the earlier of its old and new first day; a removed file, or one that now
  ends earlier, recomputes the dataset's KPIs whole.
- Tables: the row count and the latest time. Rows added after the latest time touch from
  that day; any other change (fewer rows, rows added in the past) recomputes the dataset's
  KPIs whole. Whether anything changed is told first by one cheap query (`marks`: the row
  count and the earliest and latest time as stored, nothing converted row by row, on
  DuckDB without Ibis); only a table whose marks moved is read for its local days.
- Manual values: any change recomputes the KPIs that use them.
- Queries (`source: {sql: …}`): their rows may change anywhere at any time (a join, a
  window, an edited row upstream) and no count or latest day could place it, so every
  refresh recomputes their KPIs whole. Their first and last day are kept all the same.

The first day touched is all a refresh needs: it recomputes each affected KPI from the
period holding that day to the end, which also covers every later period that depends on
it (growth, rolling windows, year-to-date, last year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tolok.engine.warehouse import Warehouse, file_digest, local_day, read_files, typed
from tolok.spec.columns import matching_files
from tolok.spec.folders import remote
from tolok.spec.models import ColumnType, Dataset

State = dict[str, Any]


@dataclass(frozen=True)
class Touch:
    full: bool = False
    since: dt.date | None = None  # first local day touched; untouched when neither is set
    added: tuple[Path, ...] | None = None
    """Files that are new while every other file is as it was (none: nothing changed), so
    sums and counts can be brought up to date from them alone; None when another file
    changed, or the dataset is not files."""

    @property
    def untouched(self) -> bool:
        return not self.full and self.since is None


def observe(warehouse: Warehouse, name: str, previous: State | None) -> tuple[State, Touch]:
    """The dataset's state now, and what changed since `previous` (None: never refreshed)."""
    project = warehouse.loaded.project
    assert project is not None
    dataset = project.datasets[name]
    if dataset.is_manual:
        values = warehouse.manual_values(name)
        state: State = {
            "kind": "manual",
            "values": sorted(
                [v.measure, v.grain.value, v.period.isoformat(), json.dumps(v.slice), v.value]
                for v in values
            ),
        }
        changed = previous is None or previous != state
        return state, Touch(full=changed)
    if dataset.snapshot:
        # Dated by the refresh: today's value is new whatever the table holds.
        return {"kind": "snapshot"}, Touch(full=True)
    if dataset.file_pattern is not None and remote(dataset.file_pattern):
        # Files the cluster lists (`s3a://…`): told apart by their rows, as a table is.
        if dataset.time is None:
            return {"kind": "lookup"}, Touch(full=True)
        return _table(warehouse, name, dataset, previous)
    if dataset.file_pattern is not None:
        state, touch = _files(warehouse, name, dataset, previous)
        if dataset.time is None:  # a lookup's rows have no day: a change may touch any period
            return state, Touch(full=_contents(previous) != _contents(state))
        return state, touch
    if dataset.time is None:
        # A lookup table's state cannot be told from the last one without reading it
        # whole: what reads it is computed again each refresh.
        return {"kind": "lookup"}, Touch(full=True)
    if dataset.sql is not None:
        return _query(warehouse, name), Touch(full=True)
    return _table(warehouse, name, dataset, previous)


def _contents(state: State | None) -> dict[str, str] | None:
    """Each file's digest, by name: what a lookup's rows are."""
    if state is None or state.get("kind") != "files":
        return None
    return {key: found["sha256"] for key, found in state["files"].items()}


def _files(
    warehouse: Warehouse, name: str, dataset: Dataset, previous: State | None
) -> tuple[State, Touch]:
    assert dataset.file_pattern is not None
    root = warehouse.loaded.root
    basis = day_basis(warehouse, dataset)
    before: dict[str, Any] = (previous or {}).get("files", {})
    now: dict[str, Any] = {}
    touched: list[dt.date] = []
    shrunk = False
    added: list[Path] | None = []  # None once a file that was there changed
    assert warehouse.loaded.project is not None
    for path in matching_files(root, dataset.file_pattern, warehouse.loaded.project.data_dirs):
        key = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        stat = path.stat()
        old = before.get(key)
        if old and old["size"] == stat.st_size and old["mtime"] == stat.st_mtime_ns:
            now[key] = old
            continue
        digest = file_digest(path)
        if old and old["sha256"] == digest:
            now[key] = {**old, "mtime": stat.st_mtime_ns}
            continue
        if old is None and added is not None:
            added.append(path)
        else:
            added = None
        appended = _appended_days(warehouse, name, dataset, path, old) if old else None
        if old is not None and appended is not None:
            # Rows added at the end of a text file: they touch from their own first day.
            first_new, last_new = appended
            now[key] = {
                "size": stat.st_size,
                "mtime": stat.st_mtime_ns,
                "sha256": digest,
                "first": min(filter(None, (old["first"], first_new)), default=None),
                "last": max(filter(None, (old["last"], last_new)), default=None),
                "basis": basis,
            }
            touched += [dt.date.fromisoformat(first_new)] if first_new else []
            continue
        first, last = _days(warehouse, name, dataset, [path])
        now[key] = {
            "size": stat.st_size,
            "mtime": stat.st_mtime_ns,
            "sha256": digest,
            "first": first,
            "last": last,
            "basis": basis,
        }
        touched += [dt.date.fromisoformat(d) for d in (first, old and old["first"]) if d]
        if old and old.get("last") and (last or "") < old["last"]:
            shrunk = True  # the file ends earlier than it did
    state = {"kind": "files", "files": now}
    if previous is None or previous.get("kind") != "files" or shrunk or before.keys() - now:
        # A removed file, or one that ends earlier: periods may have to disappear.
        return state, Touch(full=True)
    new = tuple(added) if added is not None else None
    return state, Touch(since=min(touched) if touched else None, added=new)


def _table(
    warehouse: Warehouse, name: str, dataset: Dataset, previous: State | None
) -> tuple[State, Touch]:
    marks = warehouse.marks(name) if dataset.table is not None else None
    basis = day_basis(warehouse, dataset)
    if (
        marks is not None
        and previous is not None
        and previous.get("kind") == "table"
        and previous.get("marks") == marks
        and previous.get("basis") == basis
    ):
        return previous, Touch()  # as many rows, the same earliest and latest time
    table = warehouse.table(name)
    local = local_day(warehouse, name, table)
    found = table.aggregate(rows=table.count(), first=local.min(), last=local.max()).execute()
    rows, last = int(found["rows"][0]), _iso(found["last"][0])
    state = {"kind": "table", "rows": rows, "first": _iso(found["first"][0]), "last": last,
             "marks": marks, "basis": basis}  # fmt: skip
    if previous is None or previous.get("kind") != "table":
        return state, Touch(full=True)
    if (rows, last) == (previous["rows"], previous["last"]):
        return state, Touch()
    old_last = previous["last"]
    added = rows - int(previous["rows"])
    if old_last is None or added <= 0:
        return state, Touch(full=True)
    day = dt.date.fromisoformat(old_last)
    later = int(table.filter(local > day).count().execute())
    if later == added:
        return state, Touch(since=day)  # only appended after the old latest day
    return state, Touch(full=True)


def _query(warehouse: Warehouse, name: str) -> State:
    """A query's row count and first and last local day: not to place a change (every
    refresh reads it whole), but for the freshness and coverage of its KPIs."""
    table = warehouse.table(name)
    local = local_day(warehouse, name, table)
    found = table.aggregate(rows=table.count(), first=local.min(), last=local.max()).execute()
    first, last = _iso(found["first"][0]), _iso(found["last"][0])
    return {"kind": "query", "rows": int(found["rows"][0]), "first": first, "last": last}


def day_basis(warehouse: Warehouse, dataset: Dataset) -> str:
    """What a file's local days depend on besides its rows: the time column, its declared
    type and the time zones. Days seen on another basis (the project moved to another
    zone since) are not the days a query sees now."""
    project = warehouse.loaded.project
    assert project is not None
    declared = dataset.columns.get(dataset.time) if dataset.time else None
    parts = (dataset.time, declared.value if declared else None, dataset.timezone)
    return json.dumps([*parts, project.timezone])


def last_days(warehouse: Warehouse, name: str, state: State) -> dict[Path, dt.date]:
    """The last local day of each Parquet file of a dataset's files state, where known on
    today's basis (see `day_basis`).

    A query from a later day on need not open such a file. Parquet only: each file carries
    its own column types, so leaving some out cannot change the others' (CSV and JSON
    types are guessed from the files read together)."""
    project = warehouse.loaded.project
    assert project is not None
    root, basis = warehouse.loaded.root, day_basis(warehouse, project.datasets[name])
    out: dict[Path, dt.date] = {}
    for key, seen in state.get("files", {}).items():
        path = Path(key) if Path(key).is_absolute() else root / key
        if path.suffix.lower() == ".parquet" and seen.get("last") and seen.get("basis") == basis:
            out[path] = dt.date.fromisoformat(seen["last"])
    return out


_TEXT = {".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"}


def _appended_days(
    warehouse: Warehouse, name: str, dataset: Dataset, path: Path, old: dict[str, Any]
) -> tuple[str | None, str | None] | None:
    """The first and last day of rows appended to a text file, or None if the file changed
    in any other way (its old content is not an untouched prefix ending in a new line)."""
    size = int(old["size"])
    if path.suffix.lower() not in _TEXT or path.stat().st_size <= size or size == 0:
        return None
    with path.open("rb") as handle:
        prefix = handle.read(size)
        tail = handle.read()
    if not prefix.endswith(b"\n") or hashlib.sha256(prefix).hexdigest() != old["sha256"]:
        return None
    header = (
        prefix.split(b"\n", 1)[0] + b"\n"
        if path.suffix.lower() in {".csv", ".tsv", ".txt"}
        else b""
    )
    with tempfile.TemporaryDirectory(prefix="tolok-tail-") as folder:
        part = Path(folder) / f"tail{path.suffix.lower()}"
        part.write_bytes(header + tail)
        return _days(warehouse, name, dataset, [part])


def _days(
    warehouse: Warehouse, name: str, dataset: Dataset, files: list[Path]
) -> tuple[str | None, str | None]:
    if len(files) == 1 and (known := _parquet_days(warehouse, dataset, files[0])) is not None:
        return known
    # One view per dataset, made again each time: a kept connection does not collect them.
    view = f"__tolok_days_{name}"
    table = typed(warehouse.loaded, name, read_files(warehouse.files(), files, view))
    if dataset.time not in table.columns:
        return None, None
    local = local_day(warehouse, name, table)
    found = table.aggregate(first=local.min(), last=local.max()).execute()
    return _iso(found["first"][0]), _iso(found["last"][0])


def _parquet_days(
    warehouse: Warehouse, dataset: Dataset, path: Path
) -> tuple[str | None, str | None] | None:
    """The first and last day of a Parquet file from the minimum and maximum its footer
    keeps per row group, without reading rows — when the time column's day is the one the
    file holds: a date, or a timestamp without a zone that is in the project's zone. None
    when that cannot be told this way (the query over the rows answers then)."""
    project = warehouse.loaded.project
    assert project is not None
    time = dataset.time
    if time is None or path.suffix.lower() != ".parquet":
        return None
    if dataset.columns.get(time) not in _DAY_TYPES:
        return None
    if (dataset.timezone or project.timezone) != project.timezone:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException):
        return None
    arrow = meta.schema.to_arrow_schema()
    if arrow.get_field_index(time) < 0:
        return None
    kind = arrow.field(time).type
    if not (pa.types.is_date(kind) or (pa.types.is_timestamp(kind) and kind.tz is None)):
        return None
    paths = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if time not in paths:
        return None
    index = paths.index(time)
    lows, highs = [], []
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max:
            return None
        lows.append(stats.min)
        highs.append(stats.max)
    if not lows:
        return None
    return _iso(min(lows)), _iso(max(highs))


_DAY_TYPES = {None, ColumnType.date, ColumnType.timestamp}


def _iso(value: object) -> str | None:
    if value is None or value != value:  # None or NaT
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]
