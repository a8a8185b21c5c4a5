"""Computed values in the store, and reading them back — current or as first reported.

A refresh writes all it computed in one transaction: a refresh killed at any moment leaves
the values of the last complete one. When a definition change restates a KPI, its values
from before are kept in `reported_results`, so a chart never silently rewrites the past.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, Select, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from tolok.store.points import StoredPoint, first_reported
from tolok.store.schema import Refresh, ReportedResult, Result, SpecVersion
from tolok.store.versions import Recorded


@dataclass(frozen=True)
class SeriesRows:
    """The values of one KPI at one grain and breakdown, ready to store."""

    kpi: str
    grain: str
    breakdown: tuple[str, ...]
    rows: list[tuple[dt.date, str, float | None]]  # period, slice key (JSON list), value
    since: dt.date | None = None  # replace only periods from this one on (None: all)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def start_refresh(engine: Engine, reason: str | None) -> int:
    with engine.begin() as connection:
        run = insert(Refresh).values(started_at=now(), status="running", reason=reason)
        refresh_id: int = connection.execute(run.returning(Refresh.id)).scalar_one()
        return refresh_id


def mark_failed(engine: Engine, refresh_id: int) -> None:
    """A refresh that stopped on an error (a killed one cannot say so: it stays running)."""
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Refresh)
                .where(Refresh.id == refresh_id)
                .values(status="failed", finished_at=now())
            )
    except Exception:  # the store itself may be what failed; the original error matters
        return


def save(
    session: Session,
    refresh_id: int,
    series: Iterable[SeriesRows],
    versions: dict[str, Recorded],
) -> int:
    """Replace the stored values of each series; archive restated ones. Returns rows written.

    A few statements for all the series (one delete per starting period, one insert), not
    two per series: what a refresh of one new day writes is small, the statements were not.
    """
    items = list(series)
    for item in items:
        if versions[item.kpi].restated:
            _archive(session, item, versions[item.kpi].version.id)
    connection = session.connection()
    replaced: dict[dt.date | None, list[tuple[str, str, str]]] = {}
    for item in items:
        replaced.setdefault(item.since, []).append((item.kpi, item.grain, ",".join(item.breakdown)))
    for since, keys in replaced.items():
        for first in range(0, len(keys), 500):
            statement = delete(Result).where(
                tuple_(Result.kpi, Result.grain, Result.breakdown).in_(keys[first : first + 500])
            )
            if since is not None:
                statement = statement.where(Result.period >= since)
            connection.execute(statement)
    stamp = now()
    rows = [
        {
            "kpi": item.kpi,
            "grain": item.grain,
            "breakdown": ",".join(item.breakdown),
            "period": period,
            "slice": key,
            "value": value,
            "version_id": versions[item.kpi].version.id,
            "refresh_id": refresh_id,
            "computed_at": stamp,
        }
        for item in items
        for period, key, value in item.rows
    ]
    if rows:
        connection.execute(insert(Result), rows)
    connection.execute(
        update(Refresh).where(Refresh.id == refresh_id).values(status="done", finished_at=now())
    )
    return len(rows)


def _archive(session: Session, item: SeriesRows, current_version: int) -> None:
    """Copy values computed under earlier versions into `reported_results`, once each."""
    breakdown = ",".join(item.breakdown)
    series = (
        (Result.kpi == item.kpi, Result.grain == item.grain, Result.breakdown == breakdown),
        (
            ReportedResult.kpi == item.kpi,
            ReportedResult.grain == item.grain,
            ReportedResult.breakdown == breakdown,
        ),
    )
    old = session.scalars(select(Result).where(*series[0], Result.version_id != current_version))
    kept = select(ReportedResult.period, ReportedResult.slice, ReportedResult.version_id)
    archived = {tuple(row) for row in session.execute(kept.where(*series[1]))}
    rows = [
        {
            "kpi": r.kpi,
            "grain": r.grain,
            "breakdown": r.breakdown,
            "period": r.period,
            "slice": r.slice,
            "value": r.value,
            "version_id": r.version_id,
            "computed_at": r.computed_at,
        }
        for r in old
        if (r.period, r.slice, r.version_id) not in archived
    ]
    if rows:
        session.execute(insert(ReportedResult), rows)


def load(
    engine: Engine, kpi: str, grain: str, breakdown: tuple[str, ...], as_reported: bool = False
) -> list[StoredPoint]:
    """Stored values of a series in period order; as reported: the first version's value."""
    with Session(engine) as session:
        current = _points(session, Result, kpi, grain, breakdown)
        if not as_reported:
            return current
        return first_reported([*_points(session, ReportedResult, kpi, grain, breakdown), *current])


def _points(
    session: Session,
    table: type[Result] | type[ReportedResult],
    kpi: str,
    grain: str,
    breakdown: tuple[str, ...],
) -> list[StoredPoint]:
    statement = _point_rows(table).where(
        table.kpi == kpi, table.grain == grain, table.breakdown == ",".join(breakdown)
    )
    ordered = statement.order_by(table.period, table.slice)
    return [_point(*row[2:]) for row in session.execute(ordered)]


def load_totals(engine: Engine, grains: dict[str, str]) -> dict[str, list[StoredPoint]]:
    """The current values of several KPIs' totals (KPI -> grain), in one query."""
    out: dict[str, list[StoredPoint]] = {kpi: [] for kpi in grains}
    statement = _point_rows(Result).where(Result.kpi.in_(grains), Result.breakdown == "")
    with Session(engine) as session:
        ordered = statement.order_by(Result.kpi, Result.grain, Result.period, Result.slice)
        for row in session.execute(ordered):
            if grains[row[0]] == row[1]:
                out[row[0]].append(_point(*row[2:]))
    return out


PointRows = Select[str, str, dt.date, str, float | None, int, dt.datetime]


def _point_rows(table: type[Result] | type[ReportedResult]) -> PointRows:
    return select(
        table.kpi,
        table.grain,
        table.period,
        table.slice,
        table.value,
        SpecVersion.number,
        table.computed_at,
    ).join(SpecVersion, SpecVersion.id == table.version_id)


def _point(
    period: dt.date, key: str, value: float | None, number: int, computed_at: dt.datetime
) -> StoredPoint:
    return StoredPoint(period, tuple(json.loads(key)), value, number, computed_at)


def stored_series(engine: Engine, kpi: str) -> list[tuple[str, tuple[str, ...]]]:
    """Which grains and breakdowns of a KPI the store holds."""
    with Session(engine) as session:
        rows = session.execute(
            select(Result.grain, Result.breakdown).where(Result.kpi == kpi).distinct()
        )
        return [(grain, tuple(b.split(",")) if b else ()) for grain, b in rows]
