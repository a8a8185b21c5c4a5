"""JSON Schema of the YAML files, so that editors can complete and check them.

Point an editor at it, e.g. for VS Code's YAML extension:
`# yaml-language-server: $schema=tolok-schema.json` at the top of tolok.yaml.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from tolok.spec.models import KPI, Goal, Project

_PARTS: dict[str, tuple[Any, str]] = {
    "project": (Project, "tolok.yaml: project settings, datasets, goals and KPIs"),
    "kpis": (dict[str, KPI], "kpis/*.yaml: KPI name → definition"),
    "goals": (dict[str, Goal], "goals/*.yaml: goal name → definition"),
}


def project_schema(part: str = "project") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of tolok YAML file."""
    kind, title = _PARTS[part]
    schema = TypeAdapter(kind).json_schema(by_alias=True, mode="validation")
    return {**schema, "$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
