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
they are one to the database. At most `MOST` values are kept in all; sets that do not fit
(once those unused lately gave way) are counted by the warehouse instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from tolok.compile.frames import plain_key, plain_period, slice_key
from tolok.compile.measures import PERIOD

VALUE = "__value"
"""The column of a distinct-values query that holds the measure's values."""
MOST = 1_000_000
"""Values kept in all, across measures: about 100 bytes each in Python's sets (a hundred
megabytes). Sets that do not fit are not kept: the warehouse counts those."""

Cell = tuple[dt.date, tuple[object, ...]]
"""A period and a slice's dimension values, as `slice_values` gives them back."""
Mark = tuple[int, int]
"""What tells a file changed: its size and time of change (nanoseconds)."""


@dataclass
class Held:
    """A measure's distinct values per period and slice from `since` on, as of `files`,
    of the Arrow type `kind` (values of new files of another type are not added)."""

    since: dt.date
    files: dict[Path, Mark]
    values: dict[Cell, set[object]]
    kind: pa.DataType
    used: int = 0

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.values.values())


@dataclass
class DistinctValues:
    """The distinct values a long-lived process keeps, by query signature and measure."""

    most: int = MOST
    _held: dict[Hashable, Held] = field(default_factory=dict)
    inexact: set[Hashable] = field(default_factory=set)
    """Keys whose values turned out to be of a type not kept (numbers with a fraction):
    counted by the warehouse from then on."""
    unkept: dict[Hashable, dt.date] = field(default_factory=dict)
    """Keys whose values did not fit, with the period they were read from: counted by the
    warehouse until a refresh starts at another period."""
    refreshes: int = 0
    """Refreshes so far (see `begin`): sets not used in the last two give way first."""

    def begin(self) -> None:
        """A refresh starts."""
        self.refreshes += 1

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
        return held

    def keep(self, key: Hashable, held: Held) -> bool:
        """Keep `held` for `key` in place of what was kept, if it fits once sets not used
        in the last two refreshes gave way; else keep nothing for `key`."""
        self._held.pop(key, None)
        size, room = held.size, self.most - sum(h.size for h in self._held.values())
        for stale in sorted(self._held, key=lambda k: self._held[k].used):
            if room >= size or self._held[stale].used >= self.refreshes - 1:
                break
            room += self._held.pop(stale).size
        if size > room:
            return False
        held.used = self.refreshes
        self._held[key] = held
        return True

    def room(self, key: Hashable) -> int:
        """Values `key` could keep: what sets of other keys used in the last two
        refreshes leave (see `keep`)."""
        recent = (h for k, h in self._held.items() if k != key and h.used >= self.refreshes - 1)
        return self.most - sum(h.size for h in recent)

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


def exact(kind: pa.DataType) -> bool:
    """Whether values of this Arrow type are kept: those whose equality in Python is the
    database's (texts, whole numbers, booleans, dates, times; not numbers with a
    fraction: NaN, -0.0)."""
    return plain_key(kind) or plain_period(kind)


def cells_of(table: pa.Table, by: tuple[str, ...]) -> dict[Cell, set[object]]:
    """A distinct-values result (period, breakdown columns, `VALUE`) as sets per cell."""
    groups = table.group_by([PERIOD, *by], use_threads=False).aggregate([(VALUE, "list")])
    lists = groups.column(f"{VALUE}_list").to_pylist()
    return {cell: set(values) for cell, values in zip(_cells(groups, by), lists, strict=True)}


def counts_of(table: pa.Table, by: tuple[str, ...]) -> dict[Cell, int]:
    """The number of values per cell of a distinct-values result, without keeping them."""
    groups = table.group_by([PERIOD, *by], use_threads=False).aggregate([(VALUE, "count")])
    counts = groups.column(f"{VALUE}_count").to_pylist()
    return dict(zip(_cells(groups, by), counts, strict=True))


def _cells(groups: pa.Table, by: tuple[str, ...]) -> list[Cell]:
    """Each row's period and slice, keyed as the measure frame's slices read back: a
    date breakdown value as the midnight Ibis makes of it, `7` and `7.0` as one."""
    columns = []
    for name in by:
        column = groups.column(name)
        if pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("us"))
        columns.append(column.to_pylist())
    keys = zip(*columns, strict=True) if by else [()] * groups.num_rows
    periods = groups.column(PERIOD).to_pylist()
    return [
        (period.date() if isinstance(period, dt.datetime) else period, cell_key(key))
        for period, key in zip(periods, keys, strict=True)
    ]


def cell_key(values: Iterable[object]) -> tuple[object, ...]:
    """Dimension values as a slice key gives them back: `7` and `7.0` are one cell."""
    return tuple(json.loads(slice_key(list(values))))
