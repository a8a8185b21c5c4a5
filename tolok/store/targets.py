"""Targets people set (for one period, optionally one slice), kept with who and when.

They win over the YAML's targets for that period and slice; the YAML stays the default.
Every change is in the audit log with the value it replaced.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.joins import all_dimensions
from tolok.spec.models import Project
from tolok.store.manual import EntryError
from tolok.store.schema import AuditEntry, PersonTarget


def set_target(
    session: Session,
    project: Project,
    kpi: str,
    period: str,
    value: float,
    by: dict[str, str],
    actor: str,
) -> float | None:
    """Store a person's target; returns the one it replaced (None if new)."""
    if kpi not in project.kpis:
        raise EntryError(f"no KPI '{kpi}' (KPIs: {', '.join(project.kpis)})")
    dimensions = all_dimensions(project)
    unknown = [d for d in by if d not in dimensions]
    if unknown:
        raise EntryError(f"'{unknown[0]}' is not a dimension of any dataset")
    calendar = Calendar.of(project)
    grain = project.kpis[kpi].grain
    try:
        _, day = calendar.parse(period)
    except PeriodError as exc:
        raise EntryError(f"{exc}; write 2026-03, 2026-Q1, 2026-W09 or 2026-03-15") from None
    start = calendar.start_of(day, grain)
    key = json.dumps(by, ensure_ascii=False, sort_keys=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    existing = session.scalars(
        select(PersonTarget).where(
            PersonTarget.kpi == kpi, PersonTarget.period == start, PersonTarget.slice == key
        )
    ).first()
    before = existing.value if existing else None
    if existing is None:
        session.add(
            PersonTarget(kpi=kpi, period=start, slice=key, value=value, set_by=actor, set_at=now)
        )
    else:
        existing.value, existing.set_by, existing.set_at = value, actor, now
    where = ", ".join(f"{k}={v}" for k, v in by.items())
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="target.set",
            subject=f"{kpi} {calendar.label(start, grain)}" + (f" [{where}]" if where else ""),
            before=None if before is None else json.dumps({"value": before}),
            after=json.dumps({"value": value}),
        )
    )
    return before


def person_targets(session: Session, kpi: str) -> dict[tuple[dt.date, str], float]:
    """(period, slice JSON) -> value of the targets people set for a KPI."""
    rows = session.scalars(select(PersonTarget).where(PersonTarget.kpi == kpi))
    return {(r.period, r.slice): r.value for r in rows}
