"""The history of current-state datasets (`time: none`): each refresh keeps its measure
query's result under the day it ran, replacing one kept earlier that day."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from tolok.store.aggregates import Values
from tolok.store.schema import Snapshot


@dataclass(frozen=True)
class SnapshotRows:
    """One refresh's result for a signature: slice key (JSON list) and values, as of `day`."""

    signature: str
    dataset: str
    day: dt.date
    rows: list[tuple[str, Values]]


def held_snapshots(
    session: Session | Connection, signature: str
) -> list[tuple[dt.date, str, Values]]:
    """Every kept day of a signature, oldest first."""
    table = Snapshot.__table__.c
    statement = (
        select(table.day, table.slice, table.measures)
        .where(table.signature == signature)
        .order_by(table.day, table.slice)
    )
    return [(day, key, json.loads(values)) for day, key, values in session.execute(statement)]


def save_snapshots(session: Session, refresh_id: int, items: Iterable[SnapshotRows]) -> None:
    """Keep each result as its day's, in place of one kept earlier that day."""
    connection = session.connection()
    for item in items:
        connection.execute(
            delete(Snapshot).where(Snapshot.signature == item.signature, Snapshot.day == item.day)
        )
        rows = [
            {
                "signature": item.signature,
                "dataset": item.dataset,
                "day": item.day,
                "slice": key,
                "measures": json.dumps(values, sort_keys=True),
                "refresh_id": refresh_id,
            }
            for key, values in item.rows
        ]
        if rows:
            connection.execute(insert(Snapshot), rows)
