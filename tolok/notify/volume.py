"""The sample behind a change: how many sessions, orders or tickets a period had, so that a
rate moving 30% on ten visits pages nobody. Counted by the engine on demand, only for the
changes large enough to alert on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from tolok.engine.series import Request
from tolok.engine.warehouse import Warehouse
from tolok.notify.conditions import VolumeOf
from tolok.spec.calendar import Calendar
from tolok.spec.formula import Binary, Call, FormulaError, parse_formula
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI

log = logging.getLogger("tolok.notify")
COUNTER = "tolok_volume"


def denominator(formula: str) -> str | None:
    """What a ratio divides by: `b` of `a / b` or of `ratio(a, b)`, as written."""
    try:
        tree = parse_formula(formula)
    except FormulaError:
        return None
    node = None
    if isinstance(tree, Binary) and tree.op == "/":
        node = tree.right
    elif isinstance(tree, Call) and tree.func == "ratio" and len(tree.args) == 2:
        node = tree.args[1]
    if node is None:
        return None
    return formula[node.span.start : node.span.end]


def volume_counter(
    loaded: LoadedProject, open_warehouse: Callable[[LoadedProject], Warehouse]
) -> VolumeOf:
    """A counter of `volume` (a measure, a KPI or any formula; by default the KPI's
    denominator, else the KPI itself) for one period at the KPI's grain."""
    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    seen: dict[tuple[str, str, dt.date], float | None] = {}

    def count(kpi_name: str, volume: str, period: dt.date) -> float | None:
        kpi = project.kpis[kpi_name]
        formula = volume or denominator(kpi.formula) or kpi_name
        key = (kpi_name, formula, period)
        if key not in seen:
            seen[key] = _compute(loaded, open_warehouse, kpi, formula, period, calendar)
        return seen[key]

    return count


def _compute(
    loaded: LoadedProject,
    open_warehouse: Callable[[LoadedProject], Warehouse],
    kpi: KPI,
    formula: str,
    period: dt.date,
    calendar: Calendar,
) -> float | None:
    from tolok.engine.compute import compute

    project = loaded.project
    assert project is not None
    counter = KPI(formula=formula, grain=kpi.grain)
    widened = project.model_copy(update={"kpis": {**project.kpis, COUNTER: counter}})
    adhoc = dataclasses.replace(loaded, project=widened)
    last = calendar.end_of(period, kpi.grain) - dt.timedelta(days=1)
    warehouse = open_warehouse(adhoc)
    try:
        series = compute(adhoc, warehouse, Request((COUNTER,), kpi.grain, (), period, last))
    except Exception:
        log.warning("could not count the volume %r for %s", formula, period, exc_info=True)
        return None
    finally:
        warehouse.close()
    found = [p.value for p in series[COUNTER].points if p.period == period]
    return found[0] if found else None
