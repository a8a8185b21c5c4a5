"""Definition versions: what each KPI meant when its values were computed.

A KPI's normalised definition holds its own keys and everything its values depend on: the
measures and datasets it reads, the KPIs it builds on, the calendar settings. Two hashes:
`hash` over all of it (any edit is a new version, listed by `tolok history`) and
`compute_hash` over what changes values (a new title is a version; a new formula is a
version that restates the values, keeping those first reported).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tolok.spec.models import Project
from tolok.store.definitions import compute_hash, definition, definition_hash
from tolok.store.schema import SpecVersion


@dataclass(frozen=True)
class Recorded:
    version: SpecVersion
    restated: bool  # values computed under an earlier version are no longer current


def _pretty(data: dict[str, Any]) -> list[str]:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).splitlines()


def record_versions(
    session: Session, project: Project, names: list[str], reason: str | None
) -> dict[str, Recorded]:
    """A new version for every KPI whose definition changed since the last one recorded."""
    out: dict[str, Recorded] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    newest = latest_versions(session, names)
    for name in names:
        full, compute = definition_hash(project, name), compute_hash(project, name)
        latest = newest.get(name)
        if latest is not None and latest.hash == full:
            out[name] = Recorded(latest, False)
            continue
        data = definition(project, name)
        before = _pretty(json.loads(latest.definition)) if latest else []
        diff = "\n".join(
            difflib.unified_diff(
                before,
                _pretty(data),
                f"v{latest.number}" if latest else "(none)",
                f"v{latest.number + 1}" if latest else "v1",
                lineterm="",
            )
        )
        version = SpecVersion(
            kpi=name,
            number=latest.number + 1 if latest else 1,
            hash=full,
            compute_hash=compute,
            definition=json.dumps(data, sort_keys=True, ensure_ascii=False),
            diff=diff,
            reason=reason or project.kpis[name].changelog,
            created_at=now,
        )
        session.add(version)
        session.flush()
        restated = latest is not None and latest.compute_hash != compute
        out[name] = Recorded(version, restated)
    return out


def recomputing(
    session: Session,
    project: Project,
    names: list[str],
    newest: dict[str, SpecVersion] | None = None,
) -> set[str]:
    """KPIs whose values must be computed whole: new ones, and those whose definition
    changed in a way that changes values since the last recorded version (`newest`: the
    latest versions, when already read)."""
    out = set()
    if newest is None:
        newest = latest_versions(session, names)
    for name in names:
        latest = newest.get(name)
        if latest is None or latest.compute_hash != compute_hash(project, name):
            out.add(name)
    return out


def latest_version(session: Session, kpi: str) -> SpecVersion | None:
    statement = (
        select(SpecVersion).where(SpecVersion.kpi == kpi).order_by(SpecVersion.number.desc())
    )
    return session.scalars(statement.limit(1)).first()


def latest_versions(session: Session, kpis: list[str]) -> dict[str, SpecVersion]:
    """The latest version of each of these KPIs that has one, in one query."""
    newest = (
        select(SpecVersion.kpi, func.max(SpecVersion.number).label("number"))
        .where(SpecVersion.kpi.in_(kpis))
        .group_by(SpecVersion.kpi)
        .subquery()
    )
    statement = select(SpecVersion).join(
        newest, (SpecVersion.kpi == newest.c.kpi) & (SpecVersion.number == newest.c.number)
    )
    return {version.kpi: version for version in session.scalars(statement)}


def history(session: Session, kpi: str) -> list[SpecVersion]:
    statement = select(SpecVersion).where(SpecVersion.kpi == kpi).order_by(SpecVersion.number)
    return list(session.scalars(statement))
