"""`tolok init`: a complete project from a template — settings, goals, KPIs from the catalog,
two years of generated data, and targets a little better than the recent past."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tolok import clock
from tolok.catalog.add import CatalogError, plan
from tolok.catalog.generate import Days, write_parquet
from tolok.catalog.projects import TEMPLATES, ProjectTemplate
from tolok.catalog.templates import catalog
from tolok.spec.loader import load_project
from tolok.spec.models import Direction, Project, Unit

SEED = 20260401


@dataclass(frozen=True)
class Created:
    folder: Path
    rows: dict[str, int]  # file → rows
    change_day: dt.date
    change: str
    change_kpis: list[str]


def create(folder: Path, template: str, lang: str, today: dt.date | None = None) -> Created:
    """Write a whole project into `folder` (new or empty). Raises CatalogError."""
    if template not in TEMPLATES:
        raise CatalogError(f"no template {template!r}: use one of {', '.join(TEMPLATES)}")
    if lang not in ("en", "id"):
        raise CatalogError(f"language {lang!r}: use en or id")
    if folder.exists() and any(folder.iterdir()):
        raise CatalogError(f"{folder} is not empty: pick a new folder")
    spec = TEMPLATES[template]
    rng = np.random.default_rng(SEED)
    today = today or clock.today()
    days = Days.ending(today - dt.timedelta(days=1), rng)
    money = 15_000.0 if lang == "id" else 1.0
    data = spec.generate(days, rng, money)
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        f"data/{name}.parquet": write_parquet(folder / "data" / f"{name}.parquet", columns)
        for name, columns in data.items()
    }
    settings: dict[str, Any] = {
        "name": spec.title(lang),
        "locale": lang,
        "currency": "IDR" if lang == "id" else "USD",
        "timezone": "Asia/Jakarta" if lang == "id" else "UTC",
        "week_start": "monday",
        "warehouse": "duckdb:///warehouse.duckdb",
        "store": "sqlite:///tolok.db",
    }
    datasets: dict[str, dict[str, Any]] = {
        name: {"source": f"file:data/{spec.files[name]}.parquet", **yaml_of, "measures": {}}
        for name, yaml_of in spec.datasets.items()
    }
    kpis = _kpis(spec, settings, datasets, lang)
    goals = {
        name: {
            "title": goal.title(lang),
            "level": goal.level,
            "owner": goal.owner,
            **({"parent": goal.parent} if goal.parent else {}),
        }
        for name, goal in spec.goals.items()
    }
    _write(folder / "tolok.yaml", {**settings, "datasets": datasets}, _HEADER[lang])
    _write(folder / "goals" / "goals.yaml", goals, None)
    _write(folder / "kpis" / "kpis.yaml", kpis, None)
    _set_targets(folder, kpis, days, lang)
    (folder / ".gitignore").write_text("tolok.db\nwarehouse.duckdb\n", encoding="utf-8")
    return Created(folder, rows, days.change, spec.change(lang), spec.change_kpis)


_HEADER = {
    "en": "tolok project: datasets read from data/, goals in goals/, KPIs in kpis/.\n"
    "Try: tolok refresh, tolok status, tolok lint, tolok catalog",
    "id": "Proyek tolok: dataset dibaca dari data/, sasaran di goals/, KPI di kpis/.\n"
    "Coba: tolok refresh, tolok status, tolok lint, tolok catalog",
}


def _kpis(
    spec: ProjectTemplate,
    settings: dict[str, Any],
    datasets: dict[str, dict[str, Any]],
    lang: str,
) -> dict[str, dict[str, Any]]:
    """Each chosen catalog KPI planned into the project, sharing measures where they agree."""
    kpis: dict[str, dict[str, Any]] = {}
    for choice in spec.kpis:
        # The KPIs so far, by formula alone: enough for `plan` to know the names taken.
        taken = {k: {"formula": v["formula"]} for k, v in kpis.items()}
        project = Project.model_validate({**settings, "datasets": datasets, "kpis": taken})
        result = plan(
            choice.template,
            catalog()[choice.template],
            project,
            choice.datasets,
            choice.columns,
            owner=choice.owner,
        )
        for dataset, measures in result.new_measures.items():
            datasets[dataset]["measures"].update(measures)
        kpi = dict(result.kpi)
        kpi["goal"] = choice.goal
        kpi["actions"] = [choice.action(lang)]
        kpis[result.kpi_name] = kpi
    return kpis


def _set_targets(folder: Path, kpis: dict[str, dict[str, Any]], days: Days, lang: str) -> None:
    """Targets from the data: the median of the last six closed periods, 3% better, from the
    start of the current year."""
    from tolok.engine.compute import compute
    from tolok.engine.series import Request
    from tolok.engine.warehouse import Warehouse

    loaded = load_project(folder)
    if not loaded.ok or loaded.project is None:
        problems = "; ".join(p.headline(folder) for p in loaded.problems.errors)
        raise CatalogError(f"the generated project does not validate: {problems}")
    project = loaded.project
    warehouse = Warehouse(loaded)
    start = dt.date(days.last.year, 1, 1)
    for name, kpi in project.kpis.items():
        series = compute(loaded, warehouse, Request((name,), kpi.grain, ()))[name]
        closed = [p.value for p in series.points[:-1] if p.value is not None]
        recent = closed[-6:]
        if not recent:
            continue
        middle = statistics.median(recent)
        better = 1.03 if kpi.direction is Direction.up else 0.97
        value = _round(middle * better)
        if kpi.unit is Unit.count:
            value = round(value)
        kpis[name]["target"] = {"value": value, "from": start.isoformat()[:7]}
    _write(folder / "kpis" / "kpis.yaml", kpis, None)
    del lang


def _round(value: float) -> float | int:
    """Three significant digits, as a person would write a target."""
    if value == 0:
        return 0
    digits = 3 - math.floor(math.log10(abs(value))) - 1
    rounded = round(value, digits)
    return int(rounded) if digits <= 0 else rounded


def _write(path: Path, data: dict[str, Any], header: str | None) -> None:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    tree = _tree(data)
    if header:
        tree.yaml_set_start_comment(header)
    out = StringIO()
    yaml.dump(tree, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")


def _tree(value: Any, depth: int = 0) -> Any:
    """Block style for sections and definitions; flow style for short lists and measures."""
    if isinstance(value, dict):
        node = CommentedMap((k, _tree(v, depth + 1)) for k, v in value.items())
        if depth >= 4 or (depth == 3 and all(not isinstance(v, dict) for v in value.values())):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_tree(v, depth + 1) for v in value)
        if all(isinstance(v, str) and len(v) < 30 for v in value):
            seq.fa.set_flow_style()
        return seq
    return value
