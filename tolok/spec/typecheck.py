"""Checking a parsed formula: names, function arity and the types flowing through it.

The checker collects every issue of a formula instead of stopping at the first, and
carries on with type `any` past an unknown name so one typo does not hide another.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

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
    Span,
    String,
    Unary,
)
from tolok.spec.functions import (
    FUNCTIONS,
    ROLLING_AGGS,
    TO_DATE_GRAINS,
    Arg,
    Context,
    Signature,
    Type,
)


@dataclass(frozen=True)
class FormulaIssue:
    code: str
    message: str
    span: Span
    hint: str | None = None


@dataclass(frozen=True)
class Lookup:
    """What a name means in the formula's context, or why it means nothing."""

    type: Type | None
    issue: FormulaIssue | None = None


NameResolver = Callable[[Name], Lookup]


@dataclass
class Checker:
    context: Context
    resolve: NameResolver
    issues: list[FormulaIssue] = field(default_factory=list)

    def check(self, node: Node, expected: Type) -> None:
        """Check a whole formula whose result must be of type `expected`."""
        got = self.type_of(node)
        if not _fits(got, expected):
            what = "measure expression" if self.context is Context.row else "KPI formula"
            hint: str | None
            if expected is Type.boolean:
                message = f"a `where` condition must be true or false, but this is a {got.value}"
                hint = "compare it, e.g. amount > 0 or status == 'paid'"
            else:
                message = f"a {what} must compute a {expected.value}, but this is a {got.value}"
                hint = (
                    "filter rows in a measure's `where`, then use the measure here"
                    if self.context is Context.kpi
                    else None
                )
            self._issue("TLK012", message, _span(node), hint)

    def type_of(self, node: Node) -> Type:
        match node:
            case Number():
                return Type.number
            case String():
                return Type.text
            case Boolean():
                return Type.boolean
            case Null():
                return Type.any
            case Name():
                found = self.resolve(node)
                if found.issue is not None:
                    self.issues.append(found.issue)
                return found.type or Type.any
            case Unary():
                return self._unary(node)
            case Binary():
                for side, child in (("left", node.left), ("right", node.right)):
                    self._expect(child, Type.number, f"'{node.op}' needs numbers; the {side} side")
                return Type.number
            case Logical():
                for child in node.operands:
                    self._expect(child, Type.boolean, f"'{node.op}' joins conditions; this side")
                return Type.boolean
            case Compare():
                return self._compare(node)
            case Items():
                self._issue("TLK012", "a list can only follow `in`", node.span)
                return Type.any
            case Call():
                return self._call(node)
        raise AssertionError(f"unhandled node {node!r}")

    def _unary(self, node: Unary) -> Type:
        if node.op == "not":
            self._expect(node.operand, Type.boolean, "'not' needs a condition; this")
            return Type.boolean
        self._expect(node.operand, Type.number, f"'{node.op}' needs a number; this")
        return Type.number

    def _compare(self, node: Compare) -> Type:
        if self.context is Context.kpi:
            self._issue(
                "TLK012",
                "a KPI formula computes numbers; comparisons belong in a measure's `where`",
                node.span,
            )
        left = self.type_of(node.left)
        targets = node.right.items if isinstance(node.right, Items) else (node.right,)
        for item in targets:
            right = self.type_of(item)
            if not _comparable(left, right, node.op, (node.left, item)):
                self._issue(
                    "TLK012",
                    f"cannot compare a {left.value} with a {right.value} using '{node.op}'",
                    node.span,
                    "compare numbers with numbers, text with 'quoted text', dates with dates",
                )
                break
        return Type.boolean

    def _call(self, node: Call) -> Type:
        table = FUNCTIONS[self.context]
        signature = table.get(node.func)
        if signature is None:
            self._unknown_function(node, table)
            for arg in node.args:
                self.type_of(arg)
            return Type.any
        count = len(node.args)
        too_many = not signature.variadic and count > len(signature.args)
        if count < signature.required or too_many:
            self._issue(
                "TLK013",
                f"{node.func}() takes {signature.arity_text()} argument"
                f"{'' if signature.arity_text() == '1' else 's'}, got {count}",
                node.span,
                f"write it as {signature.usage}",
            )
        if node.func == "case":
            return self._case(node)
        first: Type | None = None
        for index, arg in enumerate(node.args):
            kind = signature.args[min(index, len(signature.args) - 1)]
            got = self._argument(signature, kind, arg, index)
            if first is None and got is not Type.any:
                first = got
        return signature.returns or first or Type.any

    def _argument(self, signature: Signature, kind: Arg, arg: Node, index: int) -> Type:
        label = f"argument {index + 1} of {signature.name}()"
        if kind is Arg.count:
            if not (isinstance(arg, Number) and isinstance(arg.value, int) and arg.value >= 1):
                self._issue(
                    "TLK012",
                    f"{label} must be a whole number of periods, 1 or more",
                    _span(arg),
                    f"write it as {signature.usage}",
                )
            return Type.number
        if kind in (Arg.agg, Arg.grain):
            allowed = ROLLING_AGGS if kind is Arg.agg else TO_DATE_GRAINS
            if not (isinstance(arg, String) and arg.value in allowed):
                choices = ", ".join(f"'{a}'" for a in allowed)
                self._issue("TLK012", f"{label} must be one of {choices}", _span(arg))
            return Type.text
        wanted = {Arg.number: Type.number, Arg.time: Type.time, Arg.text: Type.text}.get(kind)
        if wanted is None:
            return self.type_of(arg)
        self._expect(arg, wanted, f"{label} must be a {wanted.value}; this")
        return wanted

    def _case(self, node: Call) -> Type:
        pairs = len(node.args) // 2
        result: Type = Type.any
        for i in range(pairs):
            self._expect(node.args[2 * i], Type.boolean, f"condition {i + 1} of case()")
            value = self.type_of(node.args[2 * i + 1])
            result = self._merge_case(result, value, node.args[2 * i + 1])
        if len(node.args) % 2:
            value = self.type_of(node.args[-1])
            result = self._merge_case(result, value, node.args[-1])
        return result

    def _merge_case(self, so_far: Type, value: Type, node: Node) -> Type:
        if so_far is Type.any:
            return value
        if value not in (Type.any, so_far):
            self._issue(
                "TLK012",
                f"case() values must all be of one type: a {so_far.value} and a {value.value}",
                _span(node),
            )
        return so_far

    def _unknown_function(self, node: Call, table: dict[str, Signature]) -> None:
        other = FUNCTIONS[Context.row if self.context is Context.kpi else Context.kpi]
        close = difflib.get_close_matches(node.func, list(table), n=1)
        if node.func in other:
            where = "a measure's expr/where" if self.context is Context.kpi else "a KPI formula"
            hint = f"{node.func}() can only be used in {where}"
        elif close:
            hint = f"did you mean {table[close[0]].usage}?"
        else:
            hint = "available: " + ", ".join(sorted(table))
        self._issue("TLK011", f"unknown function '{node.func}'", node.func_span, hint)

    def _expect(self, node: Node, wanted: Type, what: str) -> None:
        got = self.type_of(node)
        if not _fits(got, wanted):
            self._issue("TLK012", f"{what} is a {got.value}, not a {wanted.value}", _span(node))

    def _issue(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.issues.append(FormulaIssue(code, message, span, hint))


def _fits(got: Type, wanted: Type) -> bool:
    return got is Type.any or wanted is Type.any or got is wanted


def _comparable(left: Type, right: Type, op: str, nodes: tuple[Node, Node]) -> bool:
    if Type.any in (left, right) or left is right:
        return op in ("==", "!=", "in", "not in") or left is not Type.boolean
    # Dates and times compare with ISO text literals: ordered_at >= '2025-01-01'.
    literal = any(isinstance(n, String) for n in nodes)
    return {left, right} == {Type.time, Type.text} and literal


def _span(node: Node) -> Span:
    return node.span
