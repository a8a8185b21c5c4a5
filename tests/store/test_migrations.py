"""Alembic migrations: an empty database to head, and a store written by an earlier
revision upgraded without losing what it holds."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select

from tolok.store.database import HEAD, _config, connect, current, head, open_store, upgrade
from tolok.store.schema import Base, Refresh, Result, SpecVersion


def test_head_constant_is_alembics_head() -> None:
    assert head() == HEAD


def test_upgrade_head_on_an_empty_database_matches_the_models(store_url: str) -> None:
    engine = connect(store_url)
    assert current(engine) is None
    upgrade(engine)
    assert current(engine) == HEAD
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_each_revision_upgrades_a_store_written_by_the_one_before(store_url: str) -> None:
    """Walk the revisions from the first; after each step, what was written survives."""
    engine = connect(store_url)
    revisions = [r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()]
    revisions.reverse()
    upgrade(engine, revisions[0])
    stamp = dt.datetime(2026, 11, 1, 12, 0)
    with engine.begin() as connection:
        version = connection.execute(
            insert(SpecVersion).returning(SpecVersion.id),
            {
                "kpi": "revenue",
                "number": 1,
                "hash": "a" * 64,
                "compute_hash": "b" * 64,
                "definition": "{}",
                "diff": "",
                "reason": "first",
                "created_at": stamp,
            },
        ).scalar_one()
        run = connection.execute(
            insert(Refresh).returning(Refresh.id),
            {"started_at": stamp, "status": "done", "finished_at": stamp, "reason": None},
        ).scalar_one()
        connection.execute(
            insert(Result),
            {
                "kpi": "revenue",
                "grain": "month",
                "breakdown": "",
                "period": dt.date(2026, 10, 1),
                "slice": "[]",
                "value": 42.5,
                "version_id": version,
                "refresh_id": run,
                "computed_at": stamp,
            },
        )
    for revision in revisions[1:]:
        upgrade(engine, revision)
    open_store(store_url)  # at head: opens without complaint
    with engine.connect() as connection:
        values = connection.execute(select(Result.kpi, Result.period, Result.value)).all()
    assert values == [("revenue", dt.date(2026, 10, 1), 42.5)]
