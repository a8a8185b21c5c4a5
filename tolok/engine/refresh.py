"""A full refresh: every active KPI at its own grain, and by its declared breakdowns.

KPIs of one grain (and one breakdown) form one batch, so each dataset is read once per batch
however many KPIs use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tolok.engine.compute import KpiSeries, Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Status


@dataclass(frozen=True)
class Refreshed:
    totals: dict[str, KpiSeries]  # KPI -> its series, in the project's order
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries]  # (KPI, dimensions) -> series


Progress = Callable[[str, int, int], None]
"""Told what is being read, how many batches are done and how many there are."""


def refresh(
    loaded: LoadedProject,
    warehouse: Warehouse,
    progress: Progress | None = None,
) -> Refreshed:
    """Compute every active KPI, in total and by each breakdown it declares."""
    project = loaded.project
    assert project is not None
    batches: dict[tuple[Grain, tuple[str, ...]], list[str]] = {}
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        batches.setdefault((kpi.grain, ()), []).append(name)
        for dimensions in kpi.breakdowns:
            batches.setdefault((kpi.grain, tuple(dimensions)), []).append(name)
    totals: dict[str, KpiSeries] = {}
    breakdowns: dict[tuple[str, tuple[str, ...]], KpiSeries] = {}
    for done, ((grain, by), names) in enumerate(batches.items()):
        label = grain.value + (f" by {' x '.join(by)}" if by else "")

        def step(dataset: str, label: str = label, done: int = done) -> None:
            if progress is not None:
                progress(f"{label}: reading {dataset}", done, len(batches))

        result = compute(loaded, warehouse, Request(tuple(names), grain, by), step)
        for name, series in result.items():
            if by:
                breakdowns[(name, by)] = series
            else:
                totals[name] = series
    if progress is not None:
        progress("done", len(batches), len(batches))
    ordered = {name: totals[name] for name in project.kpis if name in totals}
    return Refreshed(ordered, breakdowns)
