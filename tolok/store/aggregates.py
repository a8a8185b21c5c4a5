"""Measure aggregates kept between refreshes: per period and slice, the result of one
measure query (one dataset's measures at one grain and breakdown), under a signature of
everything that shapes it.

What the store holds for a signature is the query's result over every period, as of the
data the dataset's watermark describes: a refresh writes the signatures it computed whole,
replaces from the first touched period those it continued, and drops the other signatures
of a dataset with new data, all in the transaction that moves the watermark.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from tolok.store.schema import MeasureAggregate

Values = dict[str, float | None]  # result column -> value


@dataclass(frozen=True)
class AggregateRows:
    """A measure query's rows to keep: from `since` on (None: every period)."""

    signature: str
    dataset: str
    since: dt.date | None
    rows: list[tuple[dt.date, str, Values]]  # period, slice key (JSON list), values


def held_aggregates(
    session: Session | Connection, signature: str, start: dt.date, end: dt.date
) -> list[tuple[dt.date, str, Values]] | None:
    """The kept rows of periods from `start` up to `end` (exclusive), or None when the store
    holds nothing under the signature."""
    table = MeasureAggregate.__table__.c  # plain columns: read many times a refresh
    statement = (
        select(table.period, table.slice, table.measures)
        .where(table.signature == signature, table.period >= start, table.period < end)
        .order_by(table.period, table.slice)
    )
    found = session.execute(statement).all() if start < end else ()
    rows = [(period, key, json.loads(values)) for period, key, values in found]
    if (
        not rows
        and session.scalar(select(table.id).where(table.signature == signature).limit(1)) is None
    ):
        return None
    return rows


def save_aggregates(session: Session, refresh_id: int, items: Iterable[AggregateRows]) -> None:
    """Replace each signature's rows from its `since` on (all of them for None)."""
    connection = session.connection()
    replaced: dict[dt.date | None, list[str]] = {}
    rows = []
    for item in items:
        replaced.setdefault(item.since, []).append(item.signature)
        rows += [
            {
                "signature": item.signature,
                "dataset": item.dataset,
                "period": period,
                "slice": key,
                "measures": json.dumps(values, sort_keys=True),
                "refresh_id": refresh_id,
            }
            for period, key, values in item.rows
        ]
    for since, signatures in replaced.items():
        statement = delete(MeasureAggregate).where(MeasureAggregate.signature.in_(signatures))
        if since is not None:
            statement = statement.where(MeasureAggregate.period >= since)
        connection.execute(statement)
    if rows:
        connection.execute(insert(MeasureAggregate), rows)


def drop_aggregates(session: Session, datasets: set[str] | None, keep: set[str]) -> None:
    """Forget the signatures of these datasets (None: of every dataset) not in `keep`: their
    data changed and this refresh did not bring them up to date."""
    statement = delete(MeasureAggregate).where(MeasureAggregate.signature.not_in(keep))
    if datasets is not None:
        statement = statement.where(MeasureAggregate.dataset.in_(datasets))
    session.execute(statement)
