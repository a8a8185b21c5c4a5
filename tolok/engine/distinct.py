"""Distinct values kept between refreshes, so that a distinct count is brought up to date
from new files alone.

A distinct count cannot be added up across files: a customer in today's file may have
ordered on the 3rd as well. A process that lives on (`tolok serve`) keeps, per distinct
count measure and period from the one a refresh starts at, the values themselves, with the
files they were read from (path, size, time of change). The next refresh, when the only
change is new files, reads those files' values, adds them to the sets and counts; the
month's other files are not read again.

The sets serve only while every file they were read from is still there unchanged and
every file the periods read is one of those or a new one; anything else, and the periods
are read whole again (and their sets made anew). Values are kept for exact types only
(texts, whole numbers, booleans, dates, times): two values are one in Python exactly when
they are one to the database. At most `MOST` values are kept in all; beyond that, the
sets least recently used go.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from tolok.compile.frames import slice_key
from tolok.compile.measures import PERIOD

VALUE = "__value"
"""The column of a distinct-values query that holds the measure's values."""
MOST = 2_000_000
"""Values kept in all, across measures (tens of megabytes)."""

Cell = tuple[dt.date, tuple[object, ...]]
"""A period and a slice's dimension values, as `slice_values` gives them back."""
Mark = tuple[int, int]
"""What tells a file changed: its size and time of change (nanoseconds)."""


@dataclass
class Held:
    """A measure's distinct values per period and slice from `since` on, as of `files`."""

    since: dt.date
    files: dict[Path, Mark]
    values: dict[Cell, set[object]]

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.values.values())


@dataclass
class DistinctValues:
    """The distinct values a long-lived process keeps, by query signature and measure."""

    most: int = MOST
    _held: OrderedDict[Hashable, Held] = field(default_factory=OrderedDict)
    inexact: set[Hashable] = field(default_factory=set)
    """Keys whose values turned out to be of a type not kept (numbers with a fraction):
    counted by the warehouse from then on."""

    def current(
        self, key: Hashable, since: dt.date, read: Iterable[Path], added: Iterable[Path]
    ) -> Held | None:
        """The sets of `key` when they can be brought up to date by reading `added` alone:
        kept from `since` or earlier, every file they were read from unchanged, and every
        file the periods read (`read`) one of those or one of `added`."""
        held = self._held.get(key)
        if held is None or held.since > since:
            return None
        new = set(added)
        if new & held.files.keys() or not all(f in held.files for f in read if f not in new):
            return None
        for path, mark in held.files.items():
            if _mark(path) != mark:
                return None
        self._held.move_to_end(key)
        return held

    def keep(self, key: Hashable, held: Held) -> None:
        """Keep `held` for `key` (in place of what was kept), as long as it fits."""
        self._held.pop(key, None)
        size = held.size
        if size > self.most:
            return
        while self._held and sum(h.size for h in self._held.values()) + size > self.most:
            self._held.popitem(last=False)
        self._held[key] = held

    def forget(self, key: Hashable) -> None:
        self._held.pop(key, None)


def marks(files: Iterable[Path]) -> dict[Path, Mark]:
    return {path: _mark(path) for path in files}


def _mark(path: Path) -> Mark:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


KEPT_TYPES = (pa.types.is_integer, pa.types.is_string, pa.types.is_large_string)
"""Value types whose equality in Python is the database's."""


def exact(kind: pa.DataType) -> bool:
    """Whether values of this Arrow type are kept (see the module's notes)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        any(test(kind) for test in KEPT_TYPES)
        or pa.types.is_boolean(kind)
        or pa.types.is_date32(kind)
        or (pa.types.is_timestamp(kind) and kind.tz is None)
    )


def cells_of(table: pa.Table, by: tuple[str, ...]) -> dict[Cell, set[object]]:
    """A distinct-values result (period, breakdown columns, `VALUE`) as sets per cell."""
    groups = table.group_by([PERIOD, *by], use_threads=False).aggregate([(VALUE, "list")])
    periods = groups.column(PERIOD).to_pylist()
    keys = zip(*(groups.column(name).to_pylist() for name in by), strict=True) if by else None
    lists = groups.column(f"{VALUE}_list").to_pylist()
    out: dict[Cell, set[object]] = {}
    for period, key, values in zip(
        periods, keys if keys is not None else [()] * len(periods), lists, strict=True
    ):
        day = period.date() if isinstance(period, dt.datetime) else period
        out[(day, cell_key(key))] = set(values)
    return out


def cell_key(values: Iterable[object]) -> tuple[object, ...]:
    """Dimension values as a slice key gives them back: `7` and `7.0` are one cell."""
    return tuple(json.loads(slice_key(list(values))))
