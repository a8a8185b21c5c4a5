"""What a KPI needs before it can be computed: which measures, over which windows, and how
many periods of history before the first period asked for.

`rolling(x, n)` and `to_date(x)` compute `x` as if each period were the whole window (the
last n periods, or the span from the start of the year): a ratio stays a ratio of sums and a
distinct count counts each customer once per window. `rolling(x, n, 'avg'|'min'|'max')`
instead takes the average, smallest or largest of x's n per-period values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tolok.compile.errors import CompileError
from tolok.spec.calendar import Calendar
from tolok.spec.formula import Call, Name, Node, Number, String, children, parse_formula
from tolok.spec.models import Grain, Project
from tolok.spec.refs import KpiRef, MeasureRef, Scope
from tolok.spec.typecheck import FormulaIssue


@dataclass(frozen=True)
class Window:
    """A measure computed over several periods at once, ending with each period."""

    trailing: int = 0  # the last n periods, or
    within: Grain | None = None  # from the start of the enclosing period (to_date)

    def start(self, calendar: Calendar, period_start: dt.date, grain: Grain) -> dt.date:
        """The first day the window covers for the period starting on `period_start`."""
        if self.within is not None:
            return calendar.start_of(period_start, self.within)
        return calendar.shift(period_start, grain, -(self.trailing - 1))


@dataclass(frozen=True)
class Need:
    measure: MeasureRef
    window: Window | None = None


@dataclass
class KpiPlan:
    kpi: str
    needs: set[Need] = field(default_factory=set)
    lookback: int = 0  # periods of history needed before the first period shown

    @property
    def datasets(self) -> set[str]:
        return {need.measure.dataset for need in self.needs}


def to_date_grain(node: Call, grain: Grain) -> Grain:
    """The enclosing period of `to_date(x[, grain])`: the year unless said otherwise."""
    if len(node.args) > 1 and isinstance(node.args[1], String):
        return Grain(node.args[1].value)
    return Grain.fiscal_year if grain.value.startswith("fiscal") else Grain.year


def plan_kpi(project: Project, name: str, grain: Grain, calendar: Calendar) -> KpiPlan:
    """The measures and history the KPI `name` needs at `grain`."""
    plan = KpiPlan(name)
    scope = Scope.of(project)
    plan.lookback = _walk(kpi_tree(project, name), scope, project, grain, calendar, None, plan, ())
    return plan


def kpi_tree(project: Project, name: str) -> Node:
    return parse_formula(project.kpis[name].formula)


def resolve(scope: Scope, node: Name) -> MeasureRef | KpiRef:
    found = scope.resolve(node)
    if isinstance(found, FormulaIssue):
        raise CompileError(found.message, node)
    return found


def _walk(
    node: Node,
    scope: Scope,
    project: Project,
    grain: Grain,
    calendar: Calendar,
    window: Window | None,
    plan: KpiPlan,
    path: tuple[str, ...],
) -> int:
    """Adds the needs below `node` to `plan`; returns the history it needs, in periods."""
    if isinstance(node, Name):
        ref = resolve(scope, node)
        if isinstance(ref, MeasureRef):
            plan.needs.add(Need(ref, window))
            return 0
        if ref.name in path:
            raise CompileError(f"KPIs refer to each other in a cycle: {' → '.join(path)}", node)
        inner = kpi_tree(project, ref.name)
        return _walk(inner, scope, project, grain, calendar, window, plan, (*path, ref.name))
    if not isinstance(node, Call):
        return max(
            (_walk(c, scope, project, grain, calendar, window, plan, path) for c in children(node)),
            default=0,
        )
    own, inner_window = _call_history(node, grain, calendar, window)
    below = _walk(node.args[0], scope, project, grain, calendar, inner_window, plan, path)
    others = [
        _walk(arg, scope, project, grain, calendar, window, plan, path)
        for arg in node.args[1:]
        if node.func not in ("growth", "previous", "rolling", "to_date")
    ]
    return max([own + below, *others])


def _call_history(
    node: Call, grain: Grain, calendar: Calendar, window: Window | None
) -> tuple[int, Window | None]:
    count = _count_arg(node)
    if node.func in ("growth", "previous"):
        return count, window
    if node.func == "last_year":
        return calendar.periods_per_year(grain) + 1, window
    if node.func == "rolling":
        third = node.args[2] if len(node.args) > 2 else None
        if isinstance(third, String) and third.value != "sum":
            return count - 1, window
        _no_nesting(node, window)
        return count - 1, Window(trailing=count)
    if node.func == "to_date":
        _no_nesting(node, window)
        within = to_date_grain(node, grain)
        return calendar.periods_per_year(grain), Window(within=within)
    return 0, window


def _count_arg(node: Call) -> int:
    if len(node.args) > 1 and isinstance(node.args[1], Number):
        return int(node.args[1].value)
    return 1


def _no_nesting(node: Call, window: Window | None) -> None:
    if window is not None:
        raise CompileError(
            f"{node.func}() inside rolling() or to_date(): windows cannot be nested", node
        )
