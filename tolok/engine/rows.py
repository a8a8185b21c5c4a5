"""Rows of an incoming file, read one by one with their line numbers and checked against a
dataset's columns and types — so that a bad row can be named before anything is written."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

Raw = dict[str, object]
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"column '{self.column}': " if self.column else ""
        return f"line {self.line}: {where}{self.reason}"


def read_rows(path: Path) -> Iterator[tuple[int, Raw]]:
    """(line number, row) pairs: CSV/TSV and JSON-lines lines, Parquet rows counted from 2
    (after a notional header), Excel rows as the sheet numbers them (header on row 1)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        yield from _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson", ".json"):
        yield from _json_rows(path)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from enumerate(pq.read_table(path).to_pylist(), start=2)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _excel_rows(path)
    else:
        raise ValueError(f"cannot read {path.name}: use CSV, Parquet, .xlsx or JSON lines")


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, Raw]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            extra = row.pop(None, None)
            if extra:
                row["__extra__"] = extra
            yield reader.line_num, dict(row)


def _json_rows(path: Path) -> Iterator[tuple[int, Raw]]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line, {"__error__": f"not JSON: {exc.msg}"}
                continue
            yield line, record if isinstance(record, dict) else {"__error__": "not an object"}


def _excel_rows(path: Path) -> Iterator[tuple[int, Raw]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(h) if h is not None else "" for h in next(rows, ())]
    for line, values in enumerate(rows, start=2):
        if all(v is None for v in values):
            continue
        yield line, dict(zip(header, values, strict=False))


def parse_value(value: object, kind: str, zone: ZoneInfo) -> object:
    """A value as `kind` (string, integer, number, boolean, date, timestamp); None if empty.

    Timestamps with an offset are turned into the dataset's wall-clock time (`zone`), so that
    they mean what naive timestamps of the same table mean. Raises ValueError with a reason.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "string":
        return str(value)
    if kind == "integer":
        number = value if isinstance(value, int) else float(str(value).strip())
        if isinstance(number, float) and not number.is_integer():
            raise ValueError(f"'{value}' is not a whole number")
        return int(number)
    if kind == "number":
        return float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"'{value}' is not true or false")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value).strip()[:10])
    if kind == "timestamp":
        moment = value if isinstance(value, dt.datetime) else _timestamp(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone).replace(tzinfo=None)
        return moment
    raise ValueError(f"unknown type {kind}")


def _timestamp(text: str) -> dt.datetime:
    cleaned = text.strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time (write 2026-03-15T08:30:00)") from None
