"""KPI formulas evaluated over measure frames (periods by slices).

Arithmetic is element-wise; a division by zero is empty (null), never an error. Time
functions move along the period spine: `previous(x, n)` is x n periods before, `growth(x, n)`
is the change against it as a share of its size, `last_year(x)` is x in the same period a
year before (52 weeks for weeks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tolok.compile.errors import CompileError
from tolok.compile.frames import MeasureFrames
from tolok.compile.plan import Need, Window, kpi_tree, resolve, to_date_grain
from tolok.spec.formula import Binary, Call, Name, Node, Number, String, Unary
from tolok.spec.refs import MeasureRef, Scope

Value = pd.DataFrame | float


@dataclass
class Evaluator:
    frames: MeasureFrames
    scope: Scope
    _kpis: dict[tuple[str, Window | None], pd.DataFrame] = field(default_factory=dict)

    def kpi(self, name: str, window: Window | None = None) -> pd.DataFrame:
        """The KPI's values on the frames' spine (memoised: KPIs built on KPIs reuse them)."""
        key = (name, window)
        if key not in self._kpis:
            tree = kpi_tree(self.frames.project, name)
            self._kpis[key] = self._frame(self.node(tree, window))
        return self._kpis[key]

    def node(self, node: Node, window: Window | None) -> Value:
        match node:
            case Number(value=value):
                return float(value)
            case Name():
                ref = resolve(self.scope, node)
                if isinstance(ref, MeasureRef):
                    return self.frames.series(Need(ref, window))
                return self.kpi(ref.name, window)
            case Unary(op=op, operand=operand):
                inner = self.node(operand, window)
                return -inner if op == "-" else inner
            case Binary(op=op, left=left, right=right):
                return _arithmetic(op, self.node(left, window), self.node(right, window))
            case Call():
                return self._call(node, window)
        raise CompileError(f"{type(node).__name__} cannot be computed in a KPI formula", node)

    def _call(self, node: Call, window: Window | None) -> Value:
        func, args = node.func, node.args
        if func in ("growth", "previous"):
            periods = _integer(args[1]) if len(args) > 1 else 1
            current = self._frame(self.node(args[0], window))
            before = current.shift(periods)
            if func == "previous":
                return before
            return (current - before) / before.abs().replace(0, np.nan)
        if func == "last_year":
            current = self._frame(self.node(args[0], window))
            return self._year_ago(current)
        if func == "rolling":
            return self._rolling(node, window)
        if func == "to_date":
            within = to_date_grain(node, self.frames.grain)
            return self.node(args[0], Window(within=within))
        values = [self.node(arg, window) for arg in args]
        if func == "ratio":
            return _arithmetic("/", values[0], values[1])
        if func == "abs":
            first = values[0]
            return first.abs() if isinstance(first, pd.DataFrame) else abs(first)
        if func in ("min", "max", "coalesce"):
            return self._combine(func, values)
        raise CompileError(f"unknown function '{func}'", node)

    def _rolling(self, node: Call, window: Window | None) -> Value:
        periods = _integer(node.args[1])
        third = node.args[2] if len(node.args) > 2 else None
        how = third.value if isinstance(third, String) else "sum"
        if how == "sum":
            return self.node(node.args[0], Window(trailing=periods))
        values = self._frame(self.node(node.args[0], window))
        rolled = values.rolling(periods, min_periods=periods)
        result: pd.DataFrame = rolled.mean() if how == "avg" else getattr(rolled, str(how))()
        return result

    def _year_ago(self, current: pd.DataFrame) -> pd.DataFrame:
        calendar, grain = self.frames.calendar, self.frames.grain
        earlier = [calendar.year_ago(p, grain) for p in current.index]
        moved = current.reindex(earlier)
        moved.index = current.index
        return moved

    def _combine(self, func: str, values: list[Value]) -> pd.DataFrame:
        frames = [self._frame(v) for v in values]
        stacked = np.stack([f.to_numpy(dtype="float64") for f in frames])
        pick: Callable[[np.ndarray], np.ndarray]
        if func == "coalesce":
            pick = _first_present
        else:
            pick = _nan_reduce(np.fmin if func == "min" else np.fmax)
        return pd.DataFrame(pick(stacked), index=frames[0].index, columns=frames[0].columns)

    def _frame(self, value: Value) -> pd.DataFrame:
        if isinstance(value, pd.DataFrame):
            return value
        return self.frames.constant(value)


def _arithmetic(op: str, left: Value, right: Value) -> Value:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if isinstance(right, pd.DataFrame):
        return left / right.replace(0, np.nan)
    return left / right if right != 0 else left * np.nan


def _integer(node: Node) -> int:
    if isinstance(node, Number):
        return int(node.value)
    raise CompileError("expected a whole number of periods", node)


def _first_present(stacked: np.ndarray) -> np.ndarray:
    out: np.ndarray = stacked[0].copy()
    for layer in stacked[1:]:
        out = np.where(np.isnan(out), layer, out)
    return out


def _nan_reduce(ufunc: Callable[..., np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def reduce(stacked: np.ndarray) -> np.ndarray:
        out: np.ndarray = stacked[0]
        for layer in stacked[1:]:
            out = ufunc(out, layer)  # fmin/fmax ignore a NaN when the other side has a value
        return out

    return reduce
