"""A full refresh: every active KPI at its own grain, KPIs of one grain in one batch."""

from __future__ import annotations

from collections.abc import Callable

from tolok.engine.compute import KpiSeries, Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Status


def refresh(
    loaded: LoadedProject,
    warehouse: Warehouse,
    progress: Callable[[str], None] | None = None,
) -> dict[str, KpiSeries]:
    """Compute every active KPI; the measures of a dataset are read once per grain."""
    project = loaded.project
    assert project is not None
    by_grain: dict[Grain, list[str]] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is Status.active:
            by_grain.setdefault(kpi.grain, []).append(name)
    out: dict[str, KpiSeries] = {}
    for grain, names in by_grain.items():
        out.update(compute(loaded, warehouse, Request(tuple(names), grain), progress))
    return {name: out[name] for name in project.kpis if name in out}
