"""A DuckDB warehouse file has one program at a time: another that opens it meets DuckDB's
lock. `tolok serve` keeps the file open while rows come in and lets go of it after
`server_idle()` seconds without ingestion; a `tolok refresh` (or any other command) that
meets the lock waits for it up to `lock_wait()` seconds, then says who holds the file and what
to do, instead of DuckDB's bare "Could not set lock".
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tolok.engine.errors import WarehouseError
from tolok.spec.problems import Location

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend

T = TypeVar("T")


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def server_idle() -> float:
    """A server closes its DuckDB warehouse file after this many seconds without
    ingestion (`TOLOK_WAREHOUSE_IDLE`, 5 by default)."""
    return _seconds("TOLOK_WAREHOUSE_IDLE", 5.0)


def lock_wait() -> float:
    """A command waits this long for a DuckDB warehouse file another program holds
    (`TOLOK_WAREHOUSE_WAIT`, 15 by default)."""
    return _seconds("TOLOK_WAREHOUSE_WAIT", 15.0)


_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseBusyError(WarehouseError):
    """The warehouse file is held by another program (`pid`, when DuckDB names it)."""

    def __init__(self, message: str, where: Location | None, hint: str, pid: int | None):
        super().__init__(message, where, hint)
        self.pid = pid


def connect_duckdb(path: str, wait: float | None = None, where: Location | None = None
                   ) -> BaseBackend:  # fmt: skip
    """A connection to a DuckDB file, waiting up to `wait` seconds while
    another program holds it (None: `lock_wait()`)."""
    import ibis

    backend: BaseBackend = _waiting(lambda: ibis.duckdb.connect(path), path, wait, where)
    return backend


def open_duckdb(path: str, wait: float | None = None, where: Location | None = None
                ) -> duckdb.DuckDBPyConnection:  # fmt: skip
    """The DuckDB driver's own connection to a file, as `connect_duckdb` opens it (same
    path, same wait, time zone UTC), without Ibis: for a look that needs one query. Ibis
    takes it over later if there is more to do (`ibis.duckdb.from_connection`)."""
    import duckdb

    target = path if path.startswith(":memory:") else str(Path(path).absolute())
    connection = _waiting(lambda: duckdb.connect(target), path, wait, where)
    connection.execute("SET TimeZone = 'UTC'")  # as Ibis sets it
    return connection


def _waiting(
    open_file: Callable[[], T], path: str, wait: float | None, where: Location | None
) -> T:
    wait = lock_wait() if wait is None else wait
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return open_file()
        except Exception as exc:
            if "Could not set lock" not in str(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise _busy(path, str(exc), wait, where) from exc
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)


def _busy(path: str, message: str, wait: float, where: Location | None) -> WarehouseBusyError:
    found = _HELD.search(message)
    pid = int(found["pid"]) if found else None
    holder = "another program"
    if found:
        holder = f"another program (PID {pid}: {_command_of(pid) or found['program']})"
    waited = f" (waited {wait:g} s)" if wait else ""
    return WarehouseBusyError(
        f"the warehouse file {path} is in use by {holder}{waited}",
        where,
        "DuckDB lets one program at a time open its file. A `tolok serve` lets go of it "
        "a few seconds after the last rows came in (TOLOK_WAREHOUSE_IDLE, 5 by default): "
        "run this again then, or stop the program that holds it. While rows keep coming, "
        "the server refreshes by itself after each batch; TOLOK_WAREHOUSE_WAIT=<seconds> "
        "waits longer.",
        pid,
    )


def _command_of(pid: int | None) -> str | None:
    """The command line of a process (Linux), to tell a `tolok serve` from anything else."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    text = " ".join(words)
    return text if len(text) <= 200 else text[:199] + "…"
