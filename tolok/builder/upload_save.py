"""Where an upload waits and where it goes: staged under the project's hidden working
folder (`.tolok/uploads/`, never the data folder) until the editor saves it, then written
into `data/` as a CSV the `file:` reader reads (UTF-8, commas, ISO dates) and the dataset
into the YAML by `tolok.spec.edit` — the whole project validated first; when it does not
validate, the data file is removed again, so nothing is half-written.

A warehouse table needs no copy: its columns are listed and proposed the same way, and the
dataset reads the table. Knows nothing of HTTP or people (the caller audits).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tolok.builder.upload import (
    ID_WORDS,
    Column,
    Kind,
    Upload,
    UploadError,
    looks_like_ids,
    read_upload,
    words,
)
from tolok.builder.upload_proposal import MeasurePlan, dataset_definition, free
from tolok.engine.rows import RowProblem
from tolok.spec import edit
from tolok.spec.edit import Change
from tolok.spec.problems import Text, say

if TYPE_CHECKING:
    from tolok.engine.warehouse import Warehouse

STAGE = Path(".tolok") / "uploads"
DATA = "data"
KEPT = 24 * 3600
"""An upload not saved within a day is removed."""
_ID = re.compile(r"^[0-9a-f]{32}$")
AGGS = ("sum", "count", "count_distinct", "avg", "min", "max", "median")
"""What the form offers a measure; the others (percentiles, conversions) are YAML's."""


@dataclass(frozen=True)
class DatasetChoice:
    """What the editor settled on: the dataset's name, its time column, dimensions and
    measures, and the columns whose detected type they corrected."""

    name: str
    time: str | None
    dimensions: list[str] = field(default_factory=list)
    measures: list[MeasurePlan] = field(default_factory=list)
    types: dict[str, Kind] = field(default_factory=dict)


class ChoiceError(ValueError):
    """A choice that names what the file does not have: `field` says which."""

    def __init__(self, said: Text, field: str) -> None:
        super().__init__(str(said))
        self.said, self.field = said, field


class BadRowsError(ValueError):
    """The file has bad rows for this choice: nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        count = len(problems)
        super().__init__(
            f"{count} bad row{'s' if count > 1 else ''} in the file; nothing was written"
        )
        self.problems = problems


# --- staging -------------------------------------------------------------------------------


def stage(root: Path, data: bytes, filename: str) -> str:
    """Keep an uploaded file until it is saved; its id. Uploads older than a day go."""
    clean(root)
    upload_id = secrets.token_hex(16)
    folder = root / STAGE / upload_id
    folder.mkdir(parents=True)
    (folder / "file").write_bytes(data)
    (folder / "meta.json").write_text(json.dumps({"filename": Path(filename).name}), "utf-8")
    return upload_id


def staged(root: Path, upload_id: str, zone: ZoneInfo, sheet: str | None = None) -> Upload:
    """A staged upload, read again; `UploadError` when there is none by that id."""
    folder = _folder(root, upload_id)
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        data = (folder / "file").read_bytes()
    except (OSError, ValueError):
        said = say("no such upload: it was saved, or is over a day old; upload the file again")
        raise UploadError(said) from None
    return read_upload(data, str(meta["filename"]), zone, sheet)


def discard(root: Path, upload_id: str) -> None:
    shutil.rmtree(_folder(root, upload_id), ignore_errors=True)


def clean(root: Path, kept: float = KEPT) -> None:
    """Remove uploads staged more than `kept` seconds ago."""
    folder = root / STAGE
    if not folder.is_dir():
        return
    now = time.time()
    for entry in folder.iterdir():
        try:
            old = now - entry.stat().st_mtime > kept
        except OSError:
            continue
        if old and _ID.match(entry.name):
            shutil.rmtree(entry, ignore_errors=True)


def _folder(root: Path, upload_id: str) -> Path:
    if not _ID.match(upload_id):
        raise UploadError(say("no such upload: it was saved, or is over a day old; upload "
                               "the file again"))  # fmt: skip
    return root / STAGE / upload_id


# --- checking a choice ---------------------------------------------------------------------


def check_choice(upload: Upload, choice: DatasetChoice, zone: ZoneInfo) -> None:
    """Refuse a choice naming a column the file lacks, a measure twice or an aggregation
    the form does not offer (`ChoiceError`), or one for which rows are bad (`BadRowsError`)."""
    names = {c.name for c in upload.columns}
    for where, column in _named(choice):
        if column not in names:
            raise ChoiceError(say("there is no column '{column}' in {file}", column=column,
                                  file=upload.label), where)  # fmt: skip
    seen: set[str] = set()
    for index, measure in enumerate(choice.measures):
        if measure.agg not in AGGS:
            said = say("'{agg}' is not one of {aggs}", agg=measure.agg, aggs=", ".join(AGGS))
            raise ChoiceError(said, f"measures.{index}.agg")
        if measure.agg != "count" and measure.column is None:
            said = say("choose the column the measure aggregates")
            raise ChoiceError(said, f"measures.{index}.column")
        if measure.name in seen:
            said = say("two measures are called '{name}'", name=measure.name)
            raise ChoiceError(said, f"measures.{index}.name")
        seen.add(measure.name)
    problems = upload.checked(choice.time, zone, choice.types)
    if problems:
        raise BadRowsError(problems)


def _named(choice: DatasetChoice) -> list[tuple[str, str]]:
    named = [("time", choice.time)] if choice.time else []
    named += [(f"dimensions.{i}", d) for i, d in enumerate(choice.dimensions)]
    named += [
        (f"measures.{i}.column", m.column)
        for i, m in enumerate(choice.measures)
        if m.column is not None
    ]
    named += [(f"types.{c}", c) for c in choice.types]
    return [(where, str(column)) for where, column in named]


def definition_of(upload: Upload, choice: DatasetChoice, source: str) -> dict[str, Any]:
    """The dataset's YAML definition; only corrected types are declared."""
    detected = {c.name: c.kind for c in upload.columns}
    declared = {c: k for c, k in choice.types.items() if detected.get(c) != k}
    return dataset_definition(source, choice.time, choice.dimensions, choice.measures, declared)


# --- saving --------------------------------------------------------------------------------


def data_file(root: Path, name: str) -> Path:
    """Where a new dataset's file goes: `data/<name>.csv`, or `<name>_2.csv`… when taken."""
    folder = root / DATA
    taken = {p.stem for p in folder.glob("*.csv")} if folder.is_dir() else set()
    return folder / f"{free(name, taken)}.csv"


def prepare_file(root: Path, upload: Upload, choice: DatasetChoice) -> tuple[Path, Change]:
    """The data file written into `data/` and the change that adds its dataset; the caller
    validates and writes the change, and removes the file if that fails."""
    target = data_file(root, choice.name)
    edit.atomic_write(target, upload.normalized())
    source = f"file:{edit.relative(target, root)}"
    return target, Change("datasets", choice.name, definition_of(upload, choice, source), new=True)


def save_upload(
    root: Path,
    upload: Upload,
    choice: DatasetChoice,
    zone: ZoneInfo,
    seen: dict[str, str] | None = None,
) -> edit.Written:
    """Check the choice, copy the file into `data/` and write the dataset (validated with
    the whole project); on any refusal the copied file is removed and nothing is written."""
    check_choice(upload, choice, zone)
    target, change = prepare_file(root, upload, choice)
    try:
        return edit.apply(root, [change], seen)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


# --- warehouse tables ----------------------------------------------------------------------

SAMPLE = 1000
_HIDDEN = ("_tolok", "__tolok", "ibis_")


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: list[tuple[str, str]]  # name, type as the warehouse says it


def warehouse_tables(warehouse: Warehouse) -> list[TableInfo]:
    """The tables (and views) of the warehouse's default schema, with their columns; tolok's
    own working tables left out."""
    backend: Any = warehouse.backend()
    found = []
    for name in table_names(backend):
        if name.startswith(_HIDDEN):
            continue
        schema = backend.table(name).schema()
        columns = [(c, str(t)) for c, t in schema.items() if not c.startswith("_tolok")]
        found.append(TableInfo(name, columns))
    return found


def table_names(backend: Any) -> list[str]:
    """The tables of the backend's default schema, sorted. Ibis 12 lists DuckDB's through a
    driver method DuckDB 2 no longer has: there, DuckDB's own catalog is asked (a fixed
    statement, nothing of the request in it)."""
    try:
        return sorted(backend.list_tables())
    except AttributeError:
        if getattr(backend, "name", "") != "duckdb":
            raise
    rows = backend.raw_sql(_DUCKDB_TABLES).fetchall()  # DuckDB's cursor is its connection
    return sorted(str(row[0]) for row in rows)


_DUCKDB_TABLES = (
    "select table_name from information_schema.tables where table_schema = current_schema()"
)


def table_upload(warehouse: Warehouse, name: str) -> Upload:
    """A warehouse table as an upload: its first rows (numbered from 1) and its columns'
    kinds from the table's types (distinct values counted in the rows read)."""
    backend: Any = warehouse.backend()
    if name not in table_names(backend):
        raise UploadError(say("there is no table '{table}' in the warehouse", table=name))
    table = backend.table(name)
    keep = [c for c in table.columns if not c.startswith("_tolok")]
    records = table.select(keep).limit(SAMPLE).to_pyarrow().to_pylist()
    rows = list(enumerate(records, start=1))
    columns = []
    for column, dtype in table.schema().items():
        if column not in keep:
            continue
        present = [r[column] for r in records if r[column] is not None]
        kind = _table_kind(column, dtype, present)
        distinct = len({str(v) for v in present})
        numeric = kind in (Kind.integer, Kind.decimal)
        columns.append(Column(column, kind, distinct, len(records) - len(present), numeric))
    return Upload(name, columns, rows)


def _table_kind(name: str, dtype: Any, values: list[object]) -> Kind:
    idish = bool(set(words(name)) & ID_WORDS)
    if dtype.is_timestamp():
        return Kind.datetime
    if dtype.is_date():
        return Kind.date
    if dtype.is_boolean():
        return Kind.boolean
    if dtype.is_integer():
        return Kind.id if idish else Kind.integer
    if dtype.is_numeric():
        return Kind.decimal
    texts = [str(v) for v in values]
    return Kind.id if idish or (texts and looks_like_ids(texts)) else Kind.text


def save_table(
    root: Path, upload: Upload, choice: DatasetChoice, seen: dict[str, str] | None = None
) -> edit.Written:
    """Write a dataset over the warehouse table `upload` was read from (no copy)."""
    change = table_change(upload, choice)
    return edit.apply(root, [change], seen)


def table_change(upload: Upload, choice: DatasetChoice) -> Change:
    names = {c.name for c in upload.columns}
    for where, column in _named(choice):
        if column not in names:
            raise ChoiceError(say("there is no column '{column}' in {file}", column=column,
                                  file=upload.label), where)  # fmt: skip
    return Change("datasets", choice.name, definition_of(upload, choice, upload.label), new=True)
