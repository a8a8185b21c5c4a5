"""Stored values as plain data, light to import: what both store readers return."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredPoint:
    """One stored value: what it is, and under which definition version it was computed."""

    period: dt.date
    slice: tuple[object, ...]
    value: float | None
    version: int
    computed_at: dt.datetime


def first_reported(points: Iterable[StoredPoint]) -> list[StoredPoint]:
    """For each period and slice, the value of the earliest definition version."""
    first: dict[tuple[dt.date, tuple[object, ...]], StoredPoint] = {}
    for point in points:
        key = (point.period, point.slice)
        if key not in first or point.version < first[key].version:
            first[key] = point
    return sorted(first.values(), key=lambda p: (p.period, json.dumps(p.slice, default=str)))
