"""What columns a dataset has, known before any warehouse is touched.

Declared `columns:` win; otherwise the header (and a sample of values) of the first file
a `file:` source matches is read, for CSV and JSON lines. Other sources leave the column
set unknown and names in formulas are checked later, against the warehouse.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from tolok.spec.folders import match_files
from tolok.spec.functions import Type
from tolok.spec.models import ColumnType, Dataset

SAMPLE_ROWS = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_BOOLEAN = {"true", "false"}
DECLARED = {
    ColumnType.string: Type.text,
    ColumnType.integer: Type.number,
    ColumnType.number: Type.number,
    ColumnType.boolean: Type.boolean,
    ColumnType.date: Type.time,
    ColumnType.timestamp: Type.time,
}


@dataclass(frozen=True)
class ColumnSet:
    """Column names and their types; `complete` when no other column can exist."""

    types: dict[str, Type]
    complete: bool
    origin: str  # "declared", a file name, or "unknown"


def matching_files(root: Path, pattern: str, data_dirs: Iterable[str] = ()) -> list[Path]:
    """Files a `file:` source names, a glob relative to the project folder; only those in
    the project folder or in `data_dirs` (see `folders`)."""
    return match_files(root, pattern, data_dirs).files


def dataset_columns(root: Path, dataset: Dataset, data_dirs: Iterable[str] = ()) -> ColumnSet:
    declared = {name: DECLARED[kind] for name, kind in dataset.columns.items()}
    pattern = dataset.file_pattern
    files = matching_files(root, pattern, data_dirs) if pattern else []
    sniffed = _sniff(files[0]) if files else None
    if sniffed is None:
        return ColumnSet(declared, False, "declared" if declared else "unknown")
    return ColumnSet({**sniffed, **declared}, True, files[0].name)


def _sniff(file: Path) -> dict[str, Type] | None:
    suffix = file.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            return _sniff_csv(file, "\t" if suffix == ".tsv" else ",")
        if suffix in (".jsonl", ".ndjson"):
            return _sniff_jsonl(file)
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError):
        return None
    return None


def _sniff_csv(file: Path, delimiter: str) -> dict[str, Type] | None:
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            return None
        samples: list[list[str]] = [[] for _ in header]
        for row in islice(reader, SAMPLE_ROWS):
            for index, value in enumerate(row[: len(header)]):
                if value.strip():
                    samples[index].append(value.strip())
    return {name: guess(values) for name, values in zip(header, samples, strict=True)}


def _sniff_jsonl(file: Path) -> dict[str, Type] | None:
    columns: dict[str, list[str]] = {}
    with file.open(encoding="utf-8") as handle:
        for line in islice(handle, SAMPLE_ROWS):
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict):
                return None
            for key, value in record.items():
                bucket = columns.setdefault(key, [])
                if value is not None:
                    bucket.append(json.dumps(value) if not isinstance(value, str) else value)
    return {name: guess(values) for name, values in columns.items()} or None


def guess(values: list[str]) -> Type:
    """The type every sampled value fits: condition, number, date/time, else text."""
    if not values:
        return Type.any
    if all(v.lower() in _BOOLEAN for v in values):
        return Type.boolean
    if all(_is_number(v) for v in values):
        return Type.number
    if all(_DATE.match(v) for v in values):
        return Type.time
    return Type.text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.lower() not in ("nan", "inf", "-inf", "infinity")
