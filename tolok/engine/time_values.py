"""Why a dataset's time column cannot be read as time: which dataset, which file, which line.

The compile layer knows only that a column holds text or numbers; this module adds the
dataset, its table or file, and — for files tolok reads — the first line whose value is not
a date, found by reading the files again (on this error's path only, and not without end).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from tolok.engine.rows import parse_value, read_rows
from tolok.spec.formula import quote_name
from tolok.spec.models import Dataset

SCAN_LIMIT = 1_000_000
"""Rows read, at most, looking for the value that is not a date."""


def time_type_message(
    name: str, dataset: Dataset, holds: str, files: list[Path], root: Path
) -> str:
    """A sentence naming the dataset, where its rows come from (files relative to `root`),
    the first value that is not a date when one is found, and what to do."""
    assert dataset.time is not None
    hint = (
        f"declare `columns: {{{quote_name(dataset.time)}: timestamp}}` if its values are "
        "dates, or fix the values that are not"
    )
    start = f"dataset '{name}': its time column '{dataset.time}' holds {holds}"
    found = first_non_date(files, dataset.time) if files else None
    if found is not None:
        path, line, value = found
        return (
            f"{start}, not dates or timestamps: {_short(path, root)} line {line} has "
            f"{value!r}; {hint}"
        )
    where = f"the table {dataset.table}" if dataset.table else "the query"
    if files:
        where = ", ".join(_short(f, root) for f in files[:3]) + (" …" if len(files) > 3 else "")
    return f"{start} in {where}, not dates or timestamps; {hint}"


def first_non_date(files: list[Path], column: str) -> tuple[Path, int, object] | None:
    """The first (file, line, value) of `column` that is not a date or timestamp."""
    read = 0
    for path in files:
        try:
            for line, raw in read_rows(path):
                read += 1
                if read > SCAN_LIMIT:
                    return None
                value = raw.get(column)
                try:
                    parse_value(value, "timestamp", ZoneInfo("UTC"))
                except (ValueError, TypeError, OverflowError):
                    return path, line, value
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return None


def _short(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
