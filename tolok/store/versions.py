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
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.spec.formula import FormulaError, Name, parse_formula, walk
from tolok.spec.models import Project
from tolok.spec.refs import KpiRef, MeasureRef, Scope
from tolok.store.schema import SpecVersion

_PRESENTATION = {
    "title",
    "description",
    "unit",
    "direction",
    "tolerance",
    "level",
    "function",
    "indicator",
    "owner",
    "goal",
    "weight",
    "target",
    "thresholds",
    "actions",
    "tags",
    "status",
    "breakdowns",
}


@dataclass(frozen=True)
class Recorded:
    version: SpecVersion
    restated: bool  # values computed under an earlier version are no longer current


def definition(project: Project, name: str) -> dict[str, Any]:
    """The KPI and all it depends on, as plain JSON-able data with sorted keys."""
    kpi = project.kpis[name].model_dump(mode="json", by_alias=True, exclude={"changelog"})
    uses: dict[str, dict[str, Any]] = {"measures": {}, "datasets": {}, "kpis": {}}
    _collect(project, Scope.of(project), name, uses, set())
    settings = {
        key: getattr(project, key).value
        if hasattr(getattr(project, key), "value")
        else getattr(project, key)
        for key in ("timezone", "week_start", "fiscal_year_start", "fiscal_year_label")
    }
    return {"kpi": kpi, "uses": uses, "settings": settings}


def _collect(
    project: Project, scope: Scope, name: str, uses: dict[str, dict[str, Any]], seen: set[str]
) -> None:
    if name in seen:
        return
    seen.add(name)
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return
    for node in walk(tree):
        if not isinstance(node, Name):
            continue
        found = scope.resolve(node)
        if isinstance(found, MeasureRef):
            dataset = project.datasets[found.dataset]
            measure = dataset.measures[found.measure]
            uses["measures"][str(found)] = measure.model_dump(mode="json", by_alias=True)
            uses["datasets"][found.dataset] = dataset.model_dump(
                mode="json", include={"source", "time", "timezone", "columns"}
            )
            if measure.to is not None and measure.to in project.datasets:
                uses["datasets"][measure.to] = project.datasets[measure.to].model_dump(
                    mode="json", include={"source", "time", "timezone", "columns"}
                )
        elif isinstance(found, KpiRef) and found.name != name:
            uses["kpis"][found.name] = project.kpis[found.name].formula
            _collect(project, scope, found.name, uses, seen)


def _hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compute_part(data: dict[str, Any]) -> dict[str, Any]:
    kpi = {k: v for k, v in data["kpi"].items() if k not in _PRESENTATION}
    return {**data, "kpi": kpi}


def _pretty(data: dict[str, Any]) -> list[str]:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).splitlines()


def record_versions(
    session: Session, project: Project, names: list[str], reason: str | None
) -> dict[str, Recorded]:
    """A new version for every KPI whose definition changed since the last one recorded."""
    out: dict[str, Recorded] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for name in names:
        data = definition(project, name)
        full, compute = _hash(data), _hash(_compute_part(data))
        latest = latest_version(session, name)
        if latest is not None and latest.hash == full:
            out[name] = Recorded(latest, False)
            continue
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


def latest_version(session: Session, kpi: str) -> SpecVersion | None:
    statement = (
        select(SpecVersion).where(SpecVersion.kpi == kpi).order_by(SpecVersion.number.desc())
    )
    return session.scalars(statement.limit(1)).first()


def history(session: Session, kpi: str) -> list[SpecVersion]:
    statement = select(SpecVersion).where(SpecVersion.kpi == kpi).order_by(SpecVersion.number)
    return list(session.scalars(statement))
