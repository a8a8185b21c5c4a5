"""Why a KPI moved: how much each value of a dimension contributed to its change between
two periods. The contributions always add up to the change of the total.

- A KPI that adds up (a sum, a count, sums and differences of them): a slice's contribution
  is its own change.
- A ratio of such KPIs (conversion = orders / sessions): a slice's part of the ratio is its
  numerator over the total denominator (the parts add up to the ratio). The change of its
  part splits into a rate effect — its own rate moved, valued at its average share of the
  denominator — and a mix effect, the rest: its share of the denominator moved. Over all
  slices, mix + rate is exactly the change of the ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Key = tuple[object, ...]


@dataclass(frozen=True)
class Contribution:
    slice: Key
    before: float | None  # the slice's value (its rate, for a ratio) in the earlier period
    after: float | None
    mix: float  # for a ratio: the effect of the slice's share moving; 0 for a sum
    rate: float  # for a ratio: the effect of the slice's rate moving; its change for a sum

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
        rate = 0.0
        if r0 is not None and r1 is not None:
            w0 = (d0.get(key) or 0.0) / total0
            w1 = (d1.get(key) or 0.0) / total1
            rate = (r1 - r0) * (w0 + w1) / 2
        out.append(Contribution(key, r0, r1, (part1 - part0) - rate, rate))
    return sorted(out, key=lambda c: abs(c.total), reverse=True)


def _rate(numerator: float | None, denominator: float | None) -> float | None:
    if not denominator:
        return None
    return (numerator or 0.0) / denominator
