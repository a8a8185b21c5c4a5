"""Reading an SQLite store with the standard library only.

`tolok show` answers from stored values in a fraction of a second; importing SQLAlchemy
alone would take a third of that budget. These are the same reads as `results.load`, as
fixed, parameterised statements over the schema of `schema.py` (the tests run both readers
on the same store and compare).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from tolok.store.points import StoredPoint, first_reported

_SERIES = """
SELECT t.period, t.slice, t.value, v.number, t.computed_at
FROM {table} AS t JOIN spec_versions AS v ON v.id = t.version_id
WHERE t.kpi = ? AND t.grain = ? AND t.breakdown = ?
ORDER BY t.period, t.slice
"""
_STATEMENTS = {
    "results": _SERIES.format(table="results"),
    "reported_results": _SERIES.format(table="reported_results"),
}


def sqlite_path(url: str, root: Path) -> Path | None:
    """The file of an SQLite store URL (relative ones live in the project folder)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            name = url[len(prefix) :]
            if not name or name == ":memory:":
                return None
            path = Path(name)
            return path if path.is_absolute() else root / path
    return None


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def stored_series(connection: sqlite3.Connection, kpi: str) -> list[tuple[str, tuple[str, ...]]]:
    rows = connection.execute(
        "SELECT DISTINCT grain, breakdown FROM results WHERE kpi = ?", (kpi,)
    ).fetchall()
    return [(grain, tuple(b.split(",")) if b else ()) for grain, b in rows]


def load(
    connection: sqlite3.Connection,
    kpi: str,
    grain: str,
    breakdown: tuple[str, ...],
    as_reported: bool = False,
) -> list[StoredPoint]:
    key = (kpi, grain, ",".join(breakdown))
    current = _points(connection, "results", key)
    if not as_reported:
        return current
    return first_reported([*_points(connection, "reported_results", key), *current])


def latest_hash(connection: sqlite3.Connection, kpi: str) -> str | None:
    row = connection.execute(
        "SELECT compute_hash FROM spec_versions WHERE kpi = ? ORDER BY number DESC LIMIT 1",
        (kpi,),
    ).fetchone()
    return str(row[0]) if row else None


def _points(
    connection: sqlite3.Connection, table: str, key: tuple[str, str, str]
) -> list[StoredPoint]:
    return [
        StoredPoint(
            dt.date.fromisoformat(period),
            tuple(json.loads(slice_)),
            value,
            number,
            dt.datetime.fromisoformat(computed_at),
        )
        for period, slice_, value, number, computed_at in connection.execute(
            _STATEMENTS[table], key
        )
    ]


def person_targets(connection: sqlite3.Connection, kpi: str) -> dict[tuple[dt.date, str], float]:
    """(period, slice JSON) -> value of the targets people set (none in an older store)."""
    try:
        rows = connection.execute(
            "SELECT period, slice, value FROM person_targets WHERE kpi = ?", (kpi,)
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    return {(dt.date.fromisoformat(period), key): value for period, key, value in rows}
