"""Measure results kept between refreshes: read by range, replaced from a period on, and
forgotten for datasets whose data changed — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tolok.store.aggregates import (
    AggregateRows,
    drop_aggregates,
    held_aggregates,
    save_aggregates,
)
from tolok.store.database import connect, upgrade
from tolok.store.results import start_refresh

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def test_kept_rows_are_read_replaced_and_dropped(store_url: str) -> None:
    engine = connect(store_url)
    upgrade(engine)
    first, second = start_refresh(engine, None), start_refresh(engine, None)
    rows = [
        (JAN, "[]", {"m__revenue": 10.5, "m__buyers": 2.0}),
        (FEB, "[]", {"m__revenue": None, "m__buyers": 0.0}),
    ]
    with Session(engine) as session, session.begin():
        save_aggregates(
            session,
            first,
            [
                AggregateRows("a" * 64, "orders", None, rows),
                AggregateRows("b" * 64, "visits", None, rows),
            ],
        )
    with Session(engine) as session, session.begin():
        assert held_aggregates(session, "a" * 64, JAN, MAR) == rows
        assert held_aggregates(session, "a" * 64, FEB, FEB) == []  # held, none in range
        assert held_aggregates(session, "c" * 64, JAN, MAR) is None  # never kept
        later = [(FEB, "[]", {"m__revenue": 3.0, "m__buyers": 1.0})]
        save_aggregates(session, second, [AggregateRows("a" * 64, "orders", FEB, later)])
    with Session(engine) as session, session.begin():
        assert held_aggregates(session, "a" * 64, JAN, MAR) == [rows[0], *later]
        drop_aggregates(session, {"orders", "visits"}, keep={"a" * 64})
    with Session(engine) as session, session.begin():
        assert held_aggregates(session, "a" * 64, JAN, MAR) == [rows[0], *later]
        assert held_aggregates(session, "b" * 64, JAN, MAR) is None
        drop_aggregates(session, None, keep=set())
    with Session(engine) as session:
        assert held_aggregates(session, "a" * 64, JAN, MAR) is None
