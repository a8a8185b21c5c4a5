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
from tolok.spec.problems import Text, say


@dataclass(frozen=True)
class FormulaIssue:
    code: str
    said: Text
    span: Span
    hinted: Text | None = None

    @property
    def message(self) -> str:
        """In English (the compile layer's errors, logs); `said` in any language."""
        return str(self.said)

    @property
    def hint(self) -> str | None:
        return None if self.hinted is None else str(self.hinted)


A_TYPE = {
    Type.number: say("a number"),
    Type.text: say("a text"),
    Type.boolean: say("a condition"),
    Type.time: say("a date/time"),
    Type.any: say("a value"),
}
"""A type in words, with its article: "a number", "a date/time"."""


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
            hint: Text | None
            if expected is Type.boolean:
                message = say(
                    "a `where` condition must be true or false, but this is {got}", got=A_TYPE[got]
                )
                hint = say("compare it, e.g. amount > 0 or status == 'paid'")
            else:
                what = (
                    say("measure expression") if self.context is Context.row else say("KPI formula")
                )
                message = say(
                    "a {what} must compute {expected}, but this is {got}",
                    what=what,
                    expected=A_TYPE[expected],
                    got=A_TYPE[got],
                )
                hint = (
                    say("filter rows in a measure's `where`, then use the measure here")
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
                sides = ((say("the left side"), node.left), (say("the right side"), node.right))
                for side, child in sides:
                    self._expect(
                        child,
                        Type.number,
                        say("'{op}' needs numbers; {side}", op=node.op, side=side),
                    )
                return Type.number
            case Logical():
                for child in node.operands:
                    self._expect(
                        child, Type.boolean, say("'{op}' joins conditions; this side", op=node.op)
                    )
                return Type.boolean
            case Compare():
                return self._compare(node)
            case Items():
                self._issue("TLK012", say("a list can only follow `in`"), node.span)
                return Type.any
            case Call():
                return self._call(node)
        raise AssertionError(f"unhandled node {node!r}")

    def _unary(self, node: Unary) -> Type:
        if node.op == "not":
            self._expect(node.operand, Type.boolean, say("'not' needs a condition; this"))
            return Type.boolean
        self._expect(node.operand, Type.number, say("'{op}' needs a number; this", op=node.op))
        return Type.number

    def _compare(self, node: Compare) -> Type:
        if self.context is Context.kpi:
            self._issue(
                "TLK012",
                say("a KPI formula computes numbers; comparisons belong in a measure's `where`"),
                node.span,
            )
        left = self.type_of(node.left)
        targets = node.right.items if isinstance(node.right, Items) else (node.right,)
        for item in targets:
            right = self.type_of(item)
            if not _comparable(left, right, node.op, (node.left, item)):
                self._issue(
                    "TLK012",
                    say(
                        "cannot compare {left} with {right} using '{op}'",
                        left=A_TYPE[left],
                        right=A_TYPE[right],
                        op=node.op,
                    ),
                    node.span,
                    say("compare numbers with numbers, text with 'quoted text', dates with dates"),
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
                (
                    say(
                        "{function}() takes {arity} argument, got {count}",
                        function=node.func,
                        arity=signature.arity(),
                        count=count,
                    )
                    if signature.arity_text() == "1"
                    else say(
                        "{function}() takes {arity} arguments, got {count}",
                        function=node.func,
                        arity=signature.arity(),
                        count=count,
                    )
                ),
                node.span,
                say("write it as {usage}", usage=signature.usage),
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
        label = say("argument {n} of {function}()", n=index + 1, function=signature.name)
        if kind is Arg.count:
            if not (isinstance(arg, Number) and isinstance(arg.value, int) and arg.value >= 1):
                self._issue(
                    "TLK012",
                    say("{label} must be a whole number of periods, 1 or more", label=label),
                    _span(arg),
                    say("write it as {usage}", usage=signature.usage),
                )
            return Type.number
        if kind in (Arg.agg, Arg.grain):
            allowed = ROLLING_AGGS if kind is Arg.agg else TO_DATE_GRAINS
            if not (isinstance(arg, String) and arg.value in allowed):
                choices = ", ".join(f"'{a}'" for a in allowed)
                self._issue(
                    "TLK012",
                    say("{label} must be one of {choices}", label=label, choices=choices),
                    _span(arg),
                )
            return Type.text
        wanted = {Arg.number: Type.number, Arg.time: Type.time, Arg.text: Type.text}.get(kind)
        if wanted is None:
            return self.type_of(arg)
        self._expect(
            arg, wanted, say("{label} must be {wanted}; this", label=label, wanted=A_TYPE[wanted])
        )
        return wanted

    def _case(self, node: Call) -> Type:
        pairs = len(node.args) // 2
        result: Type = Type.any
        for i in range(pairs):
            self._expect(node.args[2 * i], Type.boolean, say("condition {n} of case()", n=i + 1))
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
                say(
                    "case() values must all be of one type: {first} and {other}",
                    first=A_TYPE[so_far],
                    other=A_TYPE[value],
                ),
                _span(node),
            )
        return so_far

    def _unknown_function(self, node: Call, table: dict[str, Signature]) -> None:
        other = FUNCTIONS[Context.row if self.context is Context.kpi else Context.kpi]
        close = difflib.get_close_matches(node.func, list(table), n=1)
        if node.func in other:
            hint = (
                say("{function}() can only be used in a measure's expr/where", function=node.func)
                if self.context is Context.kpi
                else say("{function}() can only be used in a KPI formula", function=node.func)
            )
        elif close:
            hint = say("did you mean {usage}?", usage=table[close[0]].usage)
        else:
            hint = say("available: {names}", names=", ".join(sorted(table)))
        self._issue(
            "TLK011", say("unknown function '{name}'", name=node.func), node.func_span, hint
        )

    def _expect(self, node: Node, wanted: Type, what: Text) -> None:
        got = self.type_of(node)
        if not _fits(got, wanted):
            self._issue(
                "TLK012",
                say(
                    "{what} is {got}, not {wanted}",
                    what=what,
                    got=A_TYPE[got],
                    wanted=A_TYPE[wanted],
                ),
                _span(node),
            )

    def _issue(self, code: str, message: Text, span: Span, hint: Text | None = None) -> None:
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
