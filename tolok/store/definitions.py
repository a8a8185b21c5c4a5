"""A KPI's normalised definition and its hashes; light to import (no SQLAlchemy).

The definition holds the KPI's own keys and everything its values depend on: the measures
and datasets it reads, the KPIs it builds on, the calendar settings. `digest` of all of it
tells any edit; `digest(compute_part(...))` tells an edit that changes values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tolok.spec.formula import FormulaError, Name, parse_formula, walk
from tolok.spec.models import Project
from tolok.spec.refs import KpiRef, MeasureRef, Scope

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
    "target_split",
    "actions",
    "tags",
    "status",
    "breakdowns",
}


def definition(project: Project, name: str) -> dict[str, Any]:
    """The KPI and all it depends on, as plain JSON-able data with sorted keys."""
    kpi = project.kpis[name].model_dump(mode="json", by_alias=True, exclude={"changelog", "lint"})
    if kpi.get("target_split") == "days":
        del kpi["target_split"]  # the default: leave the hashes of earlier stores alone
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


def definition_hash(project: Project, name: str) -> str:
    return _hashes(project, name)[0]


def compute_hash(project: Project, name: str) -> str:
    """The hash of what changes a KPI's values: a new title leaves it alone."""
    return _hashes(project, name)[1]


_HASHED: dict[int, tuple[Project, dict[str, tuple[str, str]]]] = {}
"""Per project (as loaded: a project never changes), its KPIs' two hashes; a process that
lives on (`tolok serve`) refreshes the same project again and again."""


def _hashes(project: Project, name: str) -> tuple[str, str]:
    held = _HASHED.get(id(project))
    if held is None or held[0] is not project:
        while len(_HASHED) >= 8:
            del _HASHED[next(iter(_HASHED))]
        held = _HASHED[id(project)] = (project, {})
    if name not in held[1]:
        data = definition(project, name)
        held[1][name] = (digest(data), digest(compute_part(data)))
    return held[1][name]


def digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_part(data: dict[str, Any]) -> dict[str, Any]:
    kpi = {k: v for k, v in data["kpi"].items() if k not in _PRESENTATION}
    return {**data, "kpi": kpi}
