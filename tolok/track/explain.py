"""Why a KPI moved: how much each value of a dimension, or each input of its formula,
contributed to its change between two periods. The contributions always add up to the
change of the total, and so do their rounded texts.

- A KPI that adds up (a sum, a count, sums and differences of them): a slice's contribution
  is its own change.
- A ratio of such KPIs (conversion = orders / sessions): a slice's part of the ratio is its
  numerator over the total denominator (the parts add up to the ratio). The change of its
  part splits into a rate effect — its own rate moved, valued at its average share of the
  denominator — and a mix effect, the rest: its share of the denominator moved. Over all
  slices, mix + rate is exactly the change of the ratio.
- A formula of inputs (revenue = visitors * conversion * order_value): each input's part of
  the change, exactly additive, with no dimension needed (`explain_inputs`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tolok.spec.formula import Binary, Call, Node, Number, Unary, parse_formula
from tolok.spec.models import Direction

Key = tuple[object, ...]
Values = Mapping[str, float | None]


@dataclass(frozen=True)
class Contribution:
    slice: Key
    before: float | None  # the slice's value (its rate, for a ratio) in the earlier period
    after: float | None
    mix: float  # for a ratio: the effect of the slice's share moving; 0 for a sum
    rate: float  # for a ratio: the effect of the slice's rate moving; its change for a sum
    share_before: float | None = None  # for a ratio: its share of the denominator
    share_after: float | None = None

    @property
    def total(self) -> float:
        return self.mix + self.rate


def explain_sum(
    before: Mapping[Key, float | None], after: Mapping[Key, float | None]
) -> list[Contribution]:
    """Contributions of slices to the change of a sum, largest first."""
    out = []
    for key in before.keys() | after.keys():
        old, new = before.get(key) or 0.0, after.get(key) or 0.0
        out.append(Contribution(key, before.get(key), after.get(key), 0.0, new - old))
    return sorted(out, key=lambda c: abs(c.total), reverse=True)


def explain_ratio(
    numerator: tuple[Mapping[Key, float | None], Mapping[Key, float | None]],
    denominator: tuple[Mapping[Key, float | None], Mapping[Key, float | None]],
) -> list[Contribution]:
    """Mix and rate contributions of slices to the change of sum(numerator) / sum(denom)."""
    (n0, n1), (d0, d1) = numerator, denominator
    total0 = sum(v or 0.0 for v in d0.values())
    total1 = sum(v or 0.0 for v in d1.values())
    out = []
    for key in n0.keys() | n1.keys() | d0.keys() | d1.keys():
        # The slice's part of the ratio in each period: its numerator over the total
        # denominator. These parts add up to the ratio exactly.
        part0 = (n0.get(key) or 0.0) / total0 if total0 else 0.0
        part1 = (n1.get(key) or 0.0) / total1 if total1 else 0.0
        r0 = _rate(n0.get(key), d0.get(key))
        r1 = _rate(n1.get(key), d1.get(key))
        w0 = (d0.get(key) or 0.0) / total0 if total0 else None
        w1 = (d1.get(key) or 0.0) / total1 if total1 else None
        rate = 0.0
        if r0 is not None and r1 is not None and w0 is not None and w1 is not None:
            rate = (r1 - r0) * (w0 + w1) / 2
        out.append(Contribution(key, r0, r1, (part1 - part0) - rate, rate, w0, w1))
    return sorted(out, key=lambda c: abs(c.total), reverse=True)


def _rate(numerator: float | None, denominator: float | None) -> float | None:
    if not denominator:
        return None
    return (numerator or 0.0) / denominator


# --- rounding that adds up ---------------------------------------------------------------


def round_parts(parts: Sequence[float], total: float, decimals: int) -> tuple[list[float], float]:
    """The parts and their total rounded to `decimals`, the parts adding up exactly to the
    rounded total: largest-remainder rounding (Hamilton's method). Each part goes down to
    its floor, then the units still missing go to the parts that lost the most.

    >>> round_parts([0.35, 0.35, 0.3], 1.0, 1)
    ([0.4, 0.3, 0.3], 1.0)
    """
    scale = 10**decimals
    units = math.floor(total * scale + 0.5)
    # Clear float noise first: 0.35 * 10 is 3.4999999999999996.
    scaled = [round(p * scale, 6) for p in parts]
    floors = [math.floor(s) for s in scaled]
    if not parts:
        return [], units / scale
    each, rest = divmod(units - sum(floors), len(parts))
    order = sorted(range(len(parts)), key=lambda i: floors[i] - scaled[i])  # stable on ties
    extra = [each] * len(parts)
    for i in order[:rest]:
        extra[i] += 1
    return [(f + e) / scale for f, e in zip(floors, extra, strict=True)], units / scale


def effect(change: float, direction: Direction) -> str | None:
    """Whether a change of that sign is "good" or "bad" by the way the KPI should go; None
    when it is zero or the KPI aims at a band (either way can be good)."""
    if change == 0 or direction is Direction.band:
        return None
    return "good" if (change > 0) == (direction is Direction.up) else "bad"


# --- by the inputs of a formula ----------------------------------------------------------


@dataclass(frozen=True)
class InputPart:
    input: str  # as written in the formula: "sessions", "orders.revenue", "growth(x)"
    before: float | None
    after: float | None
    part: float  # the share of the KPI's change this input caused


class InputsError(ValueError):
    """The formula cannot be split by its inputs for these values; the message says why."""


def formula_inputs(formula: str) -> list[str]:
    """The inputs of a formula as written, in order, once each: the measures, KPIs and
    function calls (other than `ratio`) its arithmetic combines.

    >>> formula_inputs("100 * (promoters - detractors) / responses")
    ['promoters', 'detractors', 'responses']
    """
    found: list[str] = []
    _collect(parse_formula(formula), formula, found)
    return found


def _collect(node: Node, text: str, found: list[str]) -> None:
    children = _children(node)
    if children is None:
        leaf = text[node.span.start : node.span.end]
        if leaf not in found:
            found.append(leaf)
        return
    for child in children:
        _collect(child, text, found)


def _children(node: Node) -> tuple[Node, ...] | None:
    """The operands of arithmetic; () for a number; None for an input."""
    if isinstance(node, Number):
        return ()
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary) and node.op in ("-", "+"):
        return (node.operand,)
    if isinstance(node, Call) and node.func == "ratio" and len(node.args) == 2:
        return node.args
    return None


def explain_inputs(formula: str, before: Values, after: Values) -> list[InputPart]:
    """Each input's part of the change of the formula from `before` to `after` (values of
    the inputs, keyed as `formula_inputs` names them), largest first. The parts add up
    exactly to the change.

    Sums and differences pass each term's own change on. A product or quotient is first
    flattened into factors (a * b / c: a, b, c^-1) and split by the logarithmic mean
    Divisia index (LMDI-I): factor i gets L(y1, y0) * ln(x1_i / x0_i) * ±1, where
    L(y1, y0) = (y1 - y0) / ln(y1 / y0). It was chosen over Shapley values because it is
    exact, symmetric and independent of the order factors are written in, and it treats a
    factor's change by its relative size (a visitor count doubling and a conversion rate
    halving are equal and opposite) at the cost of one logarithm per factor.
    Logarithms need each factor to keep its sign and never be 0; when one does not, the
    product falls back to Shapley values over the factors that moved (the average of each
    one's marginal effect over every order of the others), which are exact too.
    A term or factor that is itself a formula passes its part on to its own inputs in
    proportion to their parts of its own change (none when it did not change).
    """
    tree = parse_formula(formula)
    total = _value(tree, formula, after), _value(tree, formula, before)
    if total[0] is None or total[1] is None:
        raise InputsError(f"{formula} has no value in one of the two periods")
    parts = _split(tree, formula, before, after)
    out = [InputPart(name, before.get(name), after.get(name), parts.get(name, 0.0))
           for name in formula_inputs(formula)]  # fmt: skip
    return sorted(out, key=lambda p: abs(p.part), reverse=True)


def formula_value(formula: str, values: Values) -> float | None:
    """The formula's value from its inputs' values (as `formula_inputs` names them)."""
    return _value(parse_formula(formula), formula, values)


def _value(node: Node, text: str, values: Values) -> float | None:
    """The formula's value from its inputs' values, as the engine computes it (a division
    by zero or a missing input gives no value)."""
    children = _children(node)
    if children is None:
        return values.get(text[node.span.start : node.span.end])
    if isinstance(node, Number):
        return float(node.value)
    found = [_value(child, text, values) for child in children]
    if any(v is None for v in found):
        return None
    numbers = [v for v in found if v is not None]
    if isinstance(node, Unary):
        return -numbers[0] if node.op == "-" else numbers[0]
    op = node.op if isinstance(node, Binary) else "/"
    left, right = numbers
    if op == "/":
        return left / right if right != 0 else None
    return left * right if op == "*" else left + right if op == "+" else left - right


def _split(node: Node, text: str, before: Values, after: Values) -> dict[str, float]:
    """Input -> part of this node's change; the parts add up to the change."""
    children = _children(node)
    if children is None:
        name = text[node.span.start : node.span.end]
        return {name: (after.get(name) or 0.0) - (before.get(name) or 0.0)}
    if not children:
        return {}
    terms = _terms(node, 1)
    if len(terms) > 1 or isinstance(node, Unary):
        shares = [(child, sign * _change(child, text, before, after)) for child, sign in terms]
    else:
        factors = _factors(node, 1)
        values = [
            (_known(child, text, before), _known(child, text, after), power)
            for child, power in factors
        ]
        shares = list(zip((child for child, _ in factors), split_product(values), strict=True))
    out: dict[str, float] = {}
    for child, share in shares:
        change = _change(child, text, before, after)
        if change == 0 or share == 0:
            continue
        for name, part in _split(child, text, before, after).items():
            out[name] = out.get(name, 0.0) + part * share / change
    return out


def _terms(node: Node, sign: int) -> list[tuple[Node, int]]:
    if isinstance(node, Binary) and node.op in ("+", "-"):
        right = sign if node.op == "+" else -sign
        return _terms(node.left, sign) + _terms(node.right, right)
    if isinstance(node, Unary) and node.op in ("-", "+"):
        return _terms(node.operand, -sign if node.op == "-" else sign)
    return [(node, sign)]


def _factors(node: Node, power: int) -> list[tuple[Node, int]]:
    if isinstance(node, Binary) and node.op in ("*", "/"):
        right = power if node.op == "*" else -power
        return _factors(node.left, power) + _factors(node.right, right)
    if isinstance(node, Call) and node.func == "ratio" and len(node.args) == 2:
        return _factors(node.args[0], power) + _factors(node.args[1], -power)
    return [(node, power)]


def _known(node: Node, text: str, values: Values) -> float:
    found = _value(node, text, values)
    if found is None:
        raise InputsError(f"{text[node.span.start : node.span.end]} has no value")
    return found


def _change(node: Node, text: str, before: Values, after: Values) -> float:
    return _known(node, text, after) - _known(node, text, before)


def split_product(factors: Sequence[tuple[float, float, int]]) -> list[float]:
    """Each factor's part of the change of prod(x ** power) from the `before` values to the
    `after` ones, given as (before, after, power ±1); the parts add up to the change.
    LMDI when every factor keeps its sign and is never 0, else Shapley values (see
    `explain_inputs`).

    >>> [round(p, 6) for p in split_product([(2.0, 4.0, 1), (5.0, 5.0, 1)])]
    [10.0, 0.0]
    """
    if all(x0 * x1 > 0 for x0, x1, _ in factors):
        return _lmdi(factors)
    return _shapley(factors)


def _lmdi(factors: Sequence[tuple[float, float, int]]) -> list[float]:
    logs = [power * math.log(x1 / x0) for x0, x1, power in factors]
    y0 = math.prod(x0**power for x0, _, power in factors)
    y1 = math.prod(x1**power for _, x1, power in factors)
    growth = sum(logs)  # ln(y1 / y0), so that the parts add up to y1 - y0
    weight = (y1 - y0) / growth if growth != 0 else y0
    return [weight * log for log in logs]


def _shapley(factors: Sequence[tuple[float, float, int]]) -> list[float]:
    moving = [i for i, (x0, x1, _) in enumerate(factors) if x0 != x1]
    fixed = math.prod(x0**power for x0, x1, power in factors if x0 == x1)
    n = len(moving)

    def value(changed: frozenset[int]) -> float:
        picked = (factors[i][1 if i in changed else 0] ** factors[i][2] for i in moving)
        return fixed * math.prod(picked)

    parts = [0.0] * len(factors)
    for i in moving:
        others = [j for j in moving if j != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for group in itertools.combinations(others, size):
                changed = frozenset(group)
                parts[i] += weight * (value(changed | {i}) - value(changed))
    return parts
