"""Rows of an incoming file, read one by one with their line numbers and checked against a
dataset's columns and types — so that a bad row can be named before anything is written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

Raw = dict[str, object]
Columns = dict[str, list[object]]
"""Values by column name, one per row."""
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters other than tab, newline and carriage return: what openpyxl's
ILLEGAL_CHARACTERS_RE refuses, so what no spreadsheet export of the rows could hold (a NUL
byte also ends a string in C code between here and some warehouses)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    reason: str
    same_key: str | None = None
    """A key this row shares with others (`same_as`, their lines) that differ from it."""
    same_as: tuple[int, ...] = ()

    def described(self, word: str = "line", header: int = 0) -> str:
        """The reason, naming the rows it conflicts with as the caller numbers rows (`word`
        "row" and `header` 1 for a CSV body's data rows)."""
        if self.same_key is None:
            return self.reason
        numbers = [str(n - header) for n in self.same_as]
        rows = f"{word}{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"
        return f"same key ({self.same_key}) as {rows}, {self.reason}"

    def __str__(self) -> str:
        where = f"column '{self.column}': " if self.column else ""
        return f"line {self.line}: {where}{self.described()}"


def read_rows(path: Path) -> Iterator[tuple[int, Raw]]:
    """(line number, row) pairs: CSV/TSV and JSON-lines lines, Parquet rows counted from 2
    (after a notional header), Excel rows as the sheet numbers them (header on row 1)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from _csv_rows(handle, "\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as handle:
            yield from _json_rows(handle)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from enumerate(pq.read_table(path).to_pylist(), start=2)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _excel_rows(path)
    else:
        raise ValueError(f"cannot read {path.name}: use CSV, Parquet, .xlsx or JSON lines")


def read_body(data: bytes, kind: str) -> Iterator[tuple[int, Raw]]:
    """(line number, row) pairs of a request's body, as `read_rows` numbers a file's: `kind`
    is "csv" or "jsonl". Raises ValueError when the body is not UTF-8."""
    if kind == "csv":
        yield from _csv_rows(io.StringIO(data.decode("utf-8-sig"), newline=""), ",")
    else:
        yield from _json_rows(io.StringIO(data.decode("utf-8"), newline=None))


def _csv_rows(handle: TextIO, delimiter: str) -> Iterator[tuple[int, Raw]]:
    reader = csv.DictReader(handle, delimiter=delimiter)
    for row in reader:
        extra = row.pop(None, None)
        if extra:
            row["__extra__"] = extra
        yield reader.line_num, dict(row)


def _json_rows(handle: Iterable[str]) -> Iterator[tuple[int, Raw]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, {"__error__": f"not JSON: {exc.msg}"}
            continue
        except RecursionError:
            yield line, {"__error__": "nested too deeply"}
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
    if isinstance(value, dict | list):
        raise ValueError("is a list or an object, not a single value")
    if kind == "string":
        return _safe(str(value))
    if kind == "integer":
        number = value if isinstance(value, int) else float(str(value).strip())
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"'{value}' is not a finite number")
        if isinstance(number, float) and not number.is_integer():
            raise ValueError(f"'{value}' is not a whole number")
        return int(number)
    if kind == "number":
        try:
            number = (
                float(str(value).strip()) if not isinstance(value, int | float) else float(value)
            )
        except OverflowError:
            raise ValueError(f"'{value}' is too large a number") from None
        if not math.isfinite(number):
            raise ValueError(f"'{value}' is not a finite number")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"'{value}' is not true or false")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return _in_range(value.date())
        if isinstance(value, dt.date):
            return _in_range(value)
        return _in_range(dt.date.fromisoformat(str(value).strip()[:10]))
    if kind == "timestamp":
        moment = value if isinstance(value, dt.datetime) else _timestamp(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone).replace(tzinfo=None)
        _in_range(moment.date())
        return moment
    raise ValueError(f"unknown type {kind}")


def _safe(text: str) -> str:
    found = UNSAFE.search(text)
    if found is not None:
        code = f"U+{ord(found.group()):04X}"
        raise ValueError(
            f"holds the control character {code} at position {found.start() + 1}, which "
            "exports (Excel) cannot hold: remove it"
        )
    return text


FIRST_YEAR, LAST_YEAR = 1900, 2199
"""Dates outside these years are typing mistakes (9999-12-31 as "never"), and would stretch
every KPI's calendar to them."""


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"'{day.isoformat()}' is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return day


def _timestamp(text: str) -> dt.datetime:
    cleaned = text.strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time (write 2026-03-15T08:30:00)") from None


def check_rows(
    rows: list[tuple[int, Raw]],
    required: list[str],
    types: dict[str, str],
    closed: bool,
    zone: ZoneInfo,
) -> tuple[Columns, int, list[tuple[RowProblem, Raw]]]:
    """The good rows' values by column (in the order columns first appear), how many good
    rows there are, and each bad row's first problem — as `check_row` finds it one row at
    a time, but a column at a time for the rows that name the same columns in the same order.
    """
    shapes: dict[tuple[str, ...], list[int]] = {}
    for index, (_, raw) in enumerate(rows):
        shapes.setdefault(tuple(raw), []).append(index)
    problems: dict[int, RowProblem] = {}
    parsed: dict[tuple[str, ...], Columns] = {}
    for shape, members in shapes.items():
        if "__error__" in shape or "__extra__" in shape:
            for index in members:
                line, raw = rows[index]
                problem, _ = check_row(line, raw, types, set(required), closed, zone)
                if problem is not None:
                    problems[index] = problem
            continue
        found, parsed[shape] = _check_shape(rows, members, shape, types, required, closed, zone)
        problems.update(found)
    bad = [(problems[i], rows[i][1]) for i in sorted(problems)]
    if len(parsed) == 1 and not problems:
        [columns] = parsed.values()
        return columns, len(rows), bad
    return _merged(rows, shapes, parsed, problems), len(rows) - len(problems), bad


def _check_shape(
    rows: list[tuple[int, Raw]],
    members: list[int],
    shape: tuple[str, ...],
    types: dict[str, str],
    required: list[str],
    closed: bool,
    zone: ZoneInfo,
) -> tuple[dict[int, RowProblem], Columns]:
    """Rows with the same columns: each column parsed in one go; a row's problem is its first
    column (in its own order) that is bad, then its first empty required column."""
    found: dict[int, RowProblem] = {}
    columns: Columns = {}
    for column in shape:
        if UNSAFE.search(column):
            reason = f"the column name {column!r} holds a control character: rename it"
            for index in members:
                found.setdefault(index, RowProblem(rows[index][0], None, reason))
            continue
        if closed and column not in types:
            for index in members:
                found.setdefault(index, RowProblem(rows[index][0], column,
                                                   "no such column in the table"))  # fmt: skip
            continue
        values = [rows[index][1][column] for index in members]
        columns[column], reasons = parse_column(values, types.get(column, "string"), zone)
        for position, reason in reasons.items():
            index = members[position]
            found.setdefault(index, RowProblem(rows[index][0], column, reason))
    for column in required:
        values = columns.get(column, [None] * len(members))
        for index, value in zip(members, values, strict=True):
            if value is None and index not in found:
                found[index] = RowProblem(
                    rows[index][0], column, "is empty, and every row needs it"
                )
    return found, columns


def _merged(
    rows: list[tuple[int, Raw]],
    shapes: dict[tuple[str, ...], list[int]],
    parsed: dict[tuple[str, ...], Columns],
    problems: dict[int, RowProblem],
) -> Columns:
    """The good rows of several shapes, in their order, with None where a row has no value."""
    place: dict[int, tuple[tuple[str, ...], int]] = {}
    for shape, members in shapes.items():
        if shape in parsed:
            place.update({index: (shape, n) for n, index in enumerate(members)})
    good = [i for i in range(len(rows)) if i not in problems]
    order: dict[str, None] = {}
    for index in good:
        order.update(dict.fromkeys(place[index][0]))
    return {
        column: [
            parsed[shape][column][n] if column in parsed[shape] else None
            for shape, n in (place[index] for index in good)
        ]
        for column in order
    }


def check_row(
    line: int,
    raw: Raw,
    types: dict[str, str],
    required: set[str],
    closed: bool,
    zone: ZoneInfo,
) -> tuple[RowProblem | None, dict[str, object]]:
    """One row's first problem (a column of its own in its order, then an empty required
    one) and its values; `closed`: the table exists, so a column it lacks is a problem."""
    if "__error__" in raw:
        return RowProblem(line, None, str(raw["__error__"])), {}
    if "__extra__" in raw:
        return RowProblem(line, None, "more values than the header has columns"), {}
    parsed: dict[str, object] = {}
    for column, value in raw.items():
        if UNSAFE.search(column):
            reason = f"the column name {column!r} holds a control character: rename it"
            return RowProblem(line, None, reason), {}
        if closed and column not in types:
            return RowProblem(line, column, "no such column in the table"), {}
        try:
            parsed[column] = parse_value(value, types.get(column, "string"), zone)
        except (ValueError, TypeError, OverflowError) as exc:
            return RowProblem(line, column, str(exc)), {}
    for column in sorted(required):
        if parsed.get(column) is None:
            return RowProblem(line, column, "is empty, and every row needs it"), {}
    return None, parsed


class _UnusualError(Exception):
    """A column the one-pass readers leave to `parse_value`, value by value."""


_BLANK = (type(None),)


def parse_column(
    values: list[object], kind: str, zone: ZoneInfo
) -> tuple[list[object], dict[int, str]]:
    """A column's values as `kind`, each as `parse_value` gives it, and why each bad one is
    bad (by position in the column).

    The usual columns (strings from CSV, strings and numbers from JSON) are read in one pass
    with the same conversions `parse_value` makes; a column holding anything else, or any
    bad value, goes through `parse_value` value by value, so results and reasons are exactly
    those of one row at a time.
    """
    fast = _ONE_PASS.get(kind)
    if fast is not None:
        try:
            return fast(values, zone), {}
        except (ValueError, TypeError, OverflowError, _UnusualError):
            pass
    out: list[object] = []
    bad: dict[int, str] = {}
    for index, value in enumerate(values):
        try:
            out.append(parse_value(value, kind, zone))
        except (ValueError, TypeError, OverflowError) as exc:
            out.append(None)
            bad[index] = str(exc)
    return out, bad


def _kinds(values: list[object], *allowed: type) -> bool:
    return set(map(type, values)) <= {*allowed, *_BLANK}


def _strings(values: list[object], zone: ZoneInfo) -> list[object]:
    if not _kinds(values, str):
        raise _UnusualError
    if UNSAFE.search("".join(v for v in values if v is not None)):  # type: ignore[misc]
        raise _UnusualError
    return [v if v is not None and v.strip() else None for v in values]  # type: ignore[attr-defined]


def _integers(values: list[object], zone: ZoneInfo) -> list[object]:
    if _kinds(values, int):
        return list(values)
    if not _kinds(values, str):
        raise _UnusualError
    out: list[object] = []
    for value in values:
        text = value.strip() if value is not None else ""  # type: ignore[attr-defined]
        if not text:
            out.append(None)
            continue
        number = float(text)
        if not math.isfinite(number) or not number.is_integer():
            raise _UnusualError
        out.append(int(number))
    return out


def _numbers(values: list[object], zone: ZoneInfo) -> list[object]:
    if _kinds(values, float, int):
        floats = [None if v is None else float(v) for v in values]  # type: ignore[arg-type]
        if not all(n is None or math.isfinite(n) for n in floats):
            raise _UnusualError
        return list(floats)
    if not _kinds(values, str):
        raise _UnusualError
    texts = [v.strip() if v is not None else "" for v in values]  # type: ignore[attr-defined]
    numbers = [float(t) if t else None for t in texts]
    if not all(n is None or math.isfinite(n) for n in numbers):
        raise _UnusualError
    return list(numbers)


def _booleans(values: list[object], zone: ZoneInfo) -> list[object]:
    if _kinds(values, bool):
        return list(values)
    if not _kinds(values, str):
        raise _UnusualError
    out: list[object] = []
    for value in values:
        text = value.strip().lower() if value is not None else ""  # type: ignore[attr-defined]
        if not text:
            out.append(None)
        elif text in _TRUE:
            out.append(True)
        elif text in _FALSE:
            out.append(False)
        else:
            raise _UnusualError
    return out


def _dates(values: list[object], zone: ZoneInfo) -> list[object]:
    if not _kinds(values, str):
        raise _UnusualError
    texts = [v.strip() if v is not None else "" for v in values]  # type: ignore[attr-defined]
    days = [dt.date.fromisoformat(t[:10]) if t else None for t in texts]
    if not all(d is None or FIRST_YEAR <= d.year <= LAST_YEAR for d in days):
        raise _UnusualError
    return list(days)


def _timestamps(values: list[object], zone: ZoneInfo) -> list[object]:
    if not _kinds(values, str):
        raise _UnusualError
    out: list[object] = []
    parse = dt.datetime.fromisoformat
    for value in values:
        text = value.strip() if value is not None else ""  # type: ignore[attr-defined]
        if not text:
            out.append(None)
            continue
        moment = parse(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone).replace(tzinfo=None)
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise _UnusualError
        out.append(moment)
    return out


_ONE_PASS: dict[str, Callable[[list[object], ZoneInfo], list[object]]] = {
    "string": _strings,
    "integer": _integers,
    "number": _numbers,
    "boolean": _booleans,
    "date": _dates,
    "timestamp": _timestamps,
}
