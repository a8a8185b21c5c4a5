"""Measure `expr` and `where` (parsed by the spec) as Ibis expressions over a table's rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import IbisTypeError

from tolok.compile.errors import CompileError
from tolok.spec.formula import (
    Binary,
    Boolean,
    Call,
    Compare,
    Items,
    Logical,
    Name,
    Node,
    Null,
    Number,
    String,
    Unary,
)


@dataclass(frozen=True)
class RowScope:
    """The table a row formula reads, and how time columns read as wall-clock time."""

    table: ir.Table
    local: Callable[[ir.Value], ir.Value]  # converts a time column to the project's zone

    def column(self, name: Name) -> ir.Value:
        """A column, or a lookup's column joined in as `customers.segment`."""
        full = name.name if name.qualifier is None else f"{name.qualifier}.{name.name}"
        if full not in self.table.columns:
            raise CompileError(f"column '{full}' is not in the data", name)
        return self.table[full]


def compile_row(node: Node, scope: RowScope) -> ir.Value:
    """A row formula as an Ibis value expression. Division by zero gives null."""
    match node:
        case Number(value=value):
            return ibis.literal(value)
        case String(value=value):
            return ibis.literal(value)
        case Boolean(value=value):
            return ibis.literal(value)
        case Null():
            return ibis.null()
        case Name():
            return scope.column(node)
        case Unary(op=op, operand=operand):
            inner = compile_row(operand, scope)
            return ~_boolean(inner) if op == "not" else (-_numeric(inner) if op == "-" else inner)
        case Binary(op=op, left=left, right=right):
            return _arithmetic(op, _numeric(compile_row(left, scope)), compile_row(right, scope))
        case Logical(op=op, operands=operands):
            values = [_boolean(compile_row(o, scope)) for o in operands]
            out = values[0]
            for value in values[1:]:
                out = (out & value) if op == "and" else (out | value)
            return out
        case Compare():
            return _compare(node, scope)
        case Call():
            return _call(node, scope)
        case Items():
            raise CompileError("a list can only follow `in`", node)
    raise CompileError(f"cannot compile {type(node).__name__}", node)


def _arithmetic(op: str, left: ir.NumericValue, right: ir.Value) -> ir.Value:
    right_number = _numeric(right)
    if op == "+":
        return left + right_number
    if op == "-":
        return left - right_number
    if op == "*":
        return left * right_number
    # In floating point on every backend: Spark divides by a literal such as 1.5 in
    # decimals cut to six places (75.533333 minutes, not 75.5333…).
    return left.cast("float64") / right_number.cast("float64").nullif(0)


def _compare(node: Compare, scope: RowScope) -> ir.Value:
    left = compile_row(node.left, scope)
    if isinstance(node.right, Items):
        values = [_as_flag(_literal(item), left) for item in node.right.items]
        return left.isin(values) if node.op == "in" else left.notin(values)
    right = compile_row(node.right, scope)
    if isinstance(node.right, String):
        right = ibis.literal(_as_flag(node.right.value, left))
    elif isinstance(node.left, String):
        left = ibis.literal(_as_flag(node.left.value, right))
    # Dates compare with ISO text as wall-clock times in the project's zone.
    if isinstance(node.right, String) and isinstance(left, ir.TimestampValue | ir.DateValue):
        left, right = scope.local(left), _as_time(node.right.value, scope.local(left))
    elif isinstance(node.left, String) and isinstance(right, ir.TimestampValue | ir.DateValue):
        right, left = scope.local(right), _as_time(node.left.value, scope.local(right))
    operators: dict[str, Callable[[Any, Any], ir.Value]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    try:
        return operators[node.op](left, right)
    except IbisTypeError:
        raise CompileError(
            f"cannot compare {left.type()} with {right.type()} using {node.op}", node
        ) from None


FLAGS = {"yes": True, "y": True, "true": True, "t": True, "no": False, "n": False, "false": False,
         "f": False}  # fmt: skip
"""Text a true/false column is often compared with: warehouses read a column of Yes and No
as true and false (DuckDB's CSV reader does), while the data and its readers say Yes."""


def _as_flag(value: Any, other: ir.Value) -> Any:
    """`Churn == 'Yes'` where Churn was read as true/false: the text as that flag."""
    if isinstance(other, ir.BooleanValue) and isinstance(value, str):
        return FLAGS.get(value.strip().lower(), value)
    return value


def _as_time(text: str, like: ir.Value) -> ir.Value:
    if isinstance(like, ir.DateValue):
        return ibis.literal(text).cast("date")
    return ibis.literal(text).cast("timestamp")


def _literal(node: Node) -> Any:
    if isinstance(node, Number | String | Boolean):
        return node.value
    raise CompileError("the list after `in` holds literal values only", node)


def _seconds(value: ir.Value) -> ir.NumericValue:
    if isinstance(value, ir.DateValue):
        value = value.cast("timestamp")
    if not isinstance(value, ir.TimestampValue):
        raise CompileError("expected a date or time column")
    return value.epoch_seconds()


_UNITS = {"minutes_between": 60.0, "hours_between": 3600.0, "days_between": 86400.0}


def _call(node: Call, scope: RowScope) -> ir.Value:
    args = [compile_row(a, scope) for a in node.args] if node.func != "case" else []
    match node.func:
        case "abs":
            return _numeric(args[0]).abs()
        case "coalesce":
            return ibis.coalesce(*args)
        case "is_null":
            return args[0].isnull()
        case "lower":
            return _text(args[0]).lower()
        case "upper":
            return _text(args[0]).upper()
        case "case":
            return _case(node, scope)
        case name if name in _UNITS:
            seconds = (_seconds(args[1]) - _seconds(args[0])).cast("float64")
            return seconds / _UNITS[name]  # a double divided: see `_arithmetic`
    raise CompileError(f"unknown function '{node.func}'", node)


def _case(node: Call, scope: RowScope) -> ir.Value:
    pairs = [
        (_boolean(compile_row(node.args[i], scope)), compile_row(node.args[i + 1], scope))
        for i in range(0, len(node.args) - 1, 2)
    ]
    otherwise = compile_row(node.args[-1], scope) if len(node.args) % 2 else None
    return ibis.cases(*pairs, else_=otherwise)


def _numeric(value: ir.Value) -> ir.NumericValue:
    if isinstance(value, ir.BooleanValue):
        return value.cast("int64")
    if not isinstance(value, ir.NumericValue):
        raise CompileError(f"expected a number, found {value.type()}")
    return value


def _boolean(value: ir.Value) -> ir.BooleanValue:
    return as_condition(value)


def as_condition(value: ir.Value) -> ir.BooleanValue:
    """A condition; whole numbers count as one too (MySQL stores booleans as TINYINT)."""
    if isinstance(value, ir.IntegerValue):
        return value != 0
    if not isinstance(value, ir.BooleanValue):
        raise CompileError(f"expected a condition, found {value.type()}")
    return value


def _text(value: ir.Value) -> ir.StringValue:
    if not isinstance(value, ir.StringValue):
        raise CompileError(f"expected text, found {value.type()}")
    return value
