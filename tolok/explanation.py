"""Why a KPI moved between a period and the one before: the contribution of each value of a
dimension, computed on the spot from the data. Shared by `tolok explain` and the KPI page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from tolok.spec.calendar import Calendar
from tolok.spec.formula import Binary, Call, parse_formula
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Project
from tolok.track.explain import Contribution, Key, explain_ratio, explain_sum
from tolok.track.pace import is_additive

Values = dict[Key, float | None]


class ExplainError(ValueError):
    """The KPI cannot be explained this way; the message says why and what works."""


@dataclass(frozen=True)
class Explanation:
    before: dt.date
    after: dt.date
    dimensions: tuple[str, ...]
    contributions: list[Contribution]
    ratio: bool  # contributions split into mix and rate


def explain(
    loaded: LoadedProject, name: str, after: dt.date, dimensions: tuple[str, ...]
) -> Explanation:
    """Contributions to the change from the period before `after` to `after` (a period
    start at the KPI's grain)."""
    project = loaded.project
    assert project is not None
    kpi = project.kpis[name]
    if not dimensions:
        raise ExplainError("name a dimension to explain by")
    before = Calendar.of(project).shift(after, kpi.grain, -1)
    parts = explained_parts(project, name, kpi)
    series = {
        part: _values(loaded, project, part, formula, kpi, dimensions, before, after)
        for part, formula in parts.items()
    }
    if len(parts) == 1:
        contributions = explain_sum(series["value"][0], series["value"][1])
    else:
        contributions = explain_ratio(series["numerator"], series["denominator"])
    return Explanation(before, after, dimensions, contributions, len(parts) > 1)


def explained_parts(project: Project, name: str, kpi: KPI) -> dict[str, str]:
    """The formulas to compute: the KPI itself if it adds up, else its two sides."""
    if is_additive(project, name):
        return {"value": kpi.formula}
    tree = parse_formula(kpi.formula)
    sides = None
    if isinstance(tree, Binary) and tree.op == "/":
        sides = (tree.left, tree.right)
    elif isinstance(tree, Call) and tree.func == "ratio" and len(tree.args) == 2:
        sides = (tree.args[0], tree.args[1])
    if sides is not None:
        text = kpi.formula
        numerator = text[sides[0].span.start : sides[0].span.end]
        denominator = text[sides[1].span.start : sides[1].span.end]
        probe = project.model_copy(
            update={"kpis": {"n": KPI(formula=numerator), "d": KPI(formula=denominator)}}
        )
        if is_additive(probe, "n") and is_additive(probe, "d"):
            return {"numerator": numerator, "denominator": denominator}
    raise ExplainError(
        "explain works for KPIs that add up (sums, counts) and ratios of them; "
        f"'{name}' is {kpi.formula}"
    )


def _values(
    loaded: LoadedProject,
    project: Project,
    part: str,
    formula: str,
    kpi: KPI,
    by: tuple[str, ...],
    before: dt.date,
    after: dt.date,
) -> tuple[Values, Values]:
    from tolok.engine.compute import Request, compute
    from tolok.engine.warehouse import Warehouse

    temporary = f"__explain_{part}"
    kpis = {**project.kpis, temporary: KPI(formula=formula, grain=kpi.grain)}
    probe = replace(loaded, project=project.model_copy(update={"kpis": kpis}))
    end = Calendar.of(project).end_of(after, kpi.grain) - dt.timedelta(days=1)
    request = Request((temporary,), kpi.grain, by, start=before, end=end)
    series = compute(probe, Warehouse(probe), request)[temporary]
    out: tuple[Values, Values] = ({}, {})
    for point in series.points:
        key = tuple(value for _, value in point.slice)
        out[0 if point.period == before else 1][key] = point.value
    return out
