"""Why a KPI moved between a period and the one it is compared with (the period before or
the same period last year): the contribution of each value of a dimension, or of each input
of its formula, computed on the spot from the data. Shared by `tolok explain` and the KPI
page, down to the texts both show (`tell`, `tell_inputs`), so that the two never disagree.

The maths is `tolok.track.explain`; this module computes the values it needs through the
engine (one scratch KPI per part) and words the result.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from babel.numbers import format_currency, format_decimal, get_currency_symbol

from tolok.display import MISSING, format_minutes, format_value, within_range
from tolok.spec.calendar import Calendar
from tolok.spec.formula import Binary, Call, parse_formula
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Agg, Grain, Project, Settings, Unit
from tolok.track.explain import (
    Contribution,
    InputPart,
    InputsError,
    Key,
    effect,
    explain_inputs,
    explain_ratio,
    explain_sum,
    formula_inputs,
    formula_value,
    round_parts,
)
from tolok.track.pace import is_additive

Values = dict[Key, float | None]


class Compare(StrEnum):
    """What a period is explained against."""

    previous = "previous"
    last_year = "last_year"


class ExplainError(ValueError):
    """The KPI cannot be explained this way; the message says why and what works."""


@dataclass(frozen=True)
class Explanation:
    before: dt.date
    after: dt.date
    dimensions: tuple[str, ...]
    contributions: list[Contribution]
    ratio: bool  # contributions split into mix and rate
    value_before: float | None = None  # the KPI's own value
    value_after: float | None = None
    denominator: str | None = None  # a ratio's denominator as written: "sessions"


@dataclass(frozen=True)
class InputsExplanation:
    before: dt.date
    after: dt.date
    parts: list[InputPart]
    value_before: float | None
    value_after: float | None
    units: dict[str, Unit]  # each input's unit, to show its values


def compared(calendar: Calendar, after: dt.date, grain: Grain, compare: Compare) -> dt.date:
    """The start of the period `after` is explained against."""
    if compare is Compare.last_year:
        return calendar.year_ago(after, grain)
    return calendar.shift(after, grain, -1)


def last_closed(project: Settings, grain: Grain) -> dt.date:
    """The start of the last period that has ended today (tolok.clock's today)."""
    from tolok.clock import today

    calendar = Calendar.of(project)
    return calendar.shift(calendar.start_of(today(project), grain), grain, -1)


def last_judged(loaded: LoadedProject, name: str) -> dt.date | None:
    """The KPI's last judged period (closed, final, covered by the data), as the board and
    `tolok status` show it; None before the first refresh."""
    from tolok.answers.verdicts import kpi_states
    from tolok.clock import today

    state = kpi_states(loaded, today(_project(loaded))).get(name)
    return state.latest.period if state is not None and state.latest is not None else None


def explain(
    loaded: LoadedProject,
    name: str,
    after: dt.date,
    dimensions: tuple[str, ...],
    compare: Compare = Compare.previous,
    grain: Grain | None = None,
) -> Explanation:
    """Contributions of each value of `dimensions` to the change from the compared period
    to `after` (a period start at `grain`, by default the KPI's)."""
    project = _project(loaded)
    kpi = project.kpis[name]
    grain = grain or kpi.grain
    if not dimensions:
        raise ExplainError("name a dimension to explain by")
    before = compared(Calendar.of(project), after, grain, compare)
    parts = explained_parts(project, name, kpi)
    old, new = _period_values(loaded, parts, grain, dimensions, (before, after))
    if len(parts) == 1:
        return Explanation(
            before, after, dimensions, explain_sum(old["value"], new["value"]), False,
            _total(old["value"]), _total(new["value"]),
        )  # fmt: skip
    contributions = explain_ratio(
        (old["numerator"], new["numerator"]), (old["denominator"], new["denominator"])
    )
    return Explanation(
        before, after, dimensions, contributions, True,
        _quotient(old["numerator"], old["denominator"]),
        _quotient(new["numerator"], new["denominator"]),
        parts["denominator"],
    )  # fmt: skip


def _total(values: Values) -> float:
    return sum(v or 0.0 for v in values.values())


def _quotient(numerator: Values, denominator: Values) -> float | None:
    below = _total(denominator)
    return _total(numerator) / below if below else None


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


def explain_by_inputs(
    loaded: LoadedProject,
    name: str,
    after: dt.date,
    compare: Compare = Compare.previous,
    grain: Grain | None = None,
) -> InputsExplanation:
    """Each input's part of the KPI's change (see `tolok.track.explain.explain_inputs`):
    no dimension needed, so it works when the inputs share none."""
    project = _project(loaded)
    kpi = project.kpis[name]
    grain = grain or kpi.grain
    inputs = formula_inputs(kpi.formula)
    if len(inputs) < 2:
        raise ExplainError(f"'{name}' is one input ({kpi.formula}): explain it by a dimension")
    calendar = Calendar.of(project)
    before = compared(calendar, after, grain, compare)
    formulas = {text: text for text in inputs}
    periods = _period_values(loaded, formulas, grain, (), (before, after))
    old, new = ({k: v.get(()) for k, v in found.items()} for found in periods)
    for start, values in ((before, old), (after, new)):
        if formula_value(kpi.formula, values) is None:
            missing = [text for text, value in values.items() if value is None]
            why = f"{', '.join(missing)} has none" if missing else "it divides by 0"
            label = calendar.label(start, grain)
            raise ExplainError(f"'{name}' has no value in {label} ({why})")
    try:
        parts = explain_inputs(kpi.formula, old, new)
    except InputsError as exc:
        raise ExplainError(str(exc)) from None
    value_before, value_after = formula_value(kpi.formula, old), formula_value(kpi.formula, new)
    units = {text: _unit_of(project, text) for text in inputs}
    return InputsExplanation(before, after, parts, value_before, value_after, units)


def _unit_of(project: Project, text: str) -> Unit:
    """A KPI input's own unit; counts for counting measures; else a plain number."""
    if text in project.kpis:
        return project.kpis[text].unit
    dataset, _, measure = text.rpartition(".")
    for name, found in project.datasets.items():
        if measure in found.measures and dataset in ("", name):
            counting = found.measures[measure].agg in (Agg.count, Agg.count_distinct)
            return Unit.count if counting else Unit.number
    return Unit.number


def _project(loaded: LoadedProject) -> Project:
    assert loaded.project is not None
    return loaded.project


def _period_values(
    loaded: LoadedProject,
    formulas: dict[str, str],
    grain: Grain,
    by: tuple[str, ...],
    periods: tuple[dt.date, dt.date],
) -> tuple[dict[str, Values], dict[str, Values]]:
    """Each formula's values by slice in the two periods (their starts), through the
    engine: one scratch KPI per formula, in one request when the periods are neighbours."""
    from tolok.engine.compute import Request, compute
    from tolok.engine.warehouse import Warehouse

    project = _project(loaded)
    calendar = Calendar.of(project)
    scratch = {f"__explain_{i}": key for i, key in enumerate(formulas)}
    kpis = {**project.kpis}
    kpis.update({temp: KPI(formula=formulas[key], grain=grain) for temp, key in scratch.items()})
    probe = replace(loaded, project=project.model_copy(update={"kpis": kpis}))
    first, last = periods
    neighbours = calendar.shift(first, grain, 1) == last
    spans = [(first, last)] if neighbours else [(first, first), (last, last)]
    out: list[dict[str, Values]] = [{key: {} for key in formulas} for _ in periods]
    warehouse = Warehouse(probe)
    for start, end in spans:
        until = calendar.end_of(end, grain) - dt.timedelta(days=1)
        series = compute(probe, warehouse, Request(tuple(scratch), grain, by, start, until))
        for temp, key in scratch.items():
            for point in series[temp].points:
                if point.period in periods:
                    side = out[periods.index(point.period)]
                    side[key][tuple(value for _, value in point.slice)] = point.value
    return out[0], out[1]


# --- what both surfaces show -------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One row as shown: a slice or an input, its values, its rounded part."""

    label: str
    before: str
    after: str
    part: str
    effect: str | None  # "good", "bad" or None, by the KPI's direction
    mix: str | None = None
    rate: str | None = None


@dataclass(frozen=True)
class Told:
    lines: list[Line]
    before: str  # the KPI's own values
    after: str
    total: str  # its change: what the parts add up to, as shown
    effect: str | None
    sentence: str | None = None  # for a ratio: whether the mix or the rate drove it


@dataclass(frozen=True)
class Words:
    """How to write values: the language, the currency, the translation function."""

    lang: str
    currency: str
    translate: Callable[..., str]

    def value(self, value: float | None, unit: Unit) -> str:
        return format_value(value, unit, self.currency, self.lang)


def tell(found: Explanation, kpi: KPI, words: Words) -> Told:
    """The contributions as shown: rounded so that they add up to the change shown, and
    each row's mix and rate to its contribution."""
    items = found.contributions
    change = sum(c.total for c in items)
    shown, total, fixed = _rounded([c.total for c in items], change, kpi.unit, words)
    lines = []
    for item, part in zip(items, shown, strict=True):
        scaled = [item.mix * fixed.scale, item.rate * fixed.scale]
        mix_rate = round_parts(scaled, part, fixed.decimals)[0]
        lines.append(
            Line(
                ", ".join(MISSING if v is None else str(v) for v in item.slice),
                words.value(item.before, kpi.unit),
                words.value(item.after, kpi.unit),
                fixed.text(part),
                effect(part, kpi.direction),
                fixed.text(mix_rate[0]) if found.ratio else None,
                fixed.text(mix_rate[1]) if found.ratio else None,
            )
        )
    sentence = _sentence(found, kpi, words, fixed, change) if found.ratio else None
    return _told(lines, (found.value_before, found.value_after), total, kpi, words, fixed, sentence)


def tell_inputs(found: InputsExplanation, kpi: KPI, words: Words) -> Told:
    """Each input's part as shown, rounded so that the parts add up to the change shown."""
    change = sum(p.part for p in found.parts)
    shown, total, fixed = _rounded([p.part for p in found.parts], change, kpi.unit, words)
    lines = [
        Line(
            item.input,
            words.value(item.before, found.units[item.input]),
            words.value(item.after, found.units[item.input]),
            fixed.text(part),
            effect(part, kpi.direction),
        )
        for item, part in zip(found.parts, shown, strict=True)
    ]
    return _told(lines, (found.value_before, found.value_after), total, kpi, words, fixed)


def _told(
    lines: list[Line],
    values: tuple[float | None, float | None],
    total: float,
    kpi: KPI,
    words: Words,
    fixed: _Fixed,
    sentence: str | None = None,
) -> Told:
    """The lines with the KPI's values before and after and the total change as shown."""
    before, after = values
    return Told(
        lines,
        words.value(before, kpi.unit),
        words.value(after, kpi.unit),
        fixed.text(total),
        effect(total, kpi.direction),
        sentence,
    )


@dataclass(frozen=True)
class _Fixed:
    """Changes written with a fixed number of decimals (percentages in points), so that
    rounded parts visibly add up."""

    unit: Unit
    decimals: int
    scale: int  # 100 for points
    words: Words

    def text(self, value: float) -> str:
        sign, size = ("-" if value < 0 else "+"), abs(value)
        pattern = "#,##0" + ("." + "0" * self.decimals if self.decimals else "")
        lang = self.words.lang
        if not within_range(size):  # beyond what is written in full: 1.0E308, as elsewhere
            shown = Unit.number if self.unit is Unit.percent else self.unit
            text = format_value(size, shown, self.words.currency, lang)
            return sign + text + (" pp" if self.unit is Unit.percent else "")
        if self.unit is Unit.percent:
            return sign + format_decimal(size, format=pattern, locale=lang) + " pp"
        if self.unit is Unit.duration:
            return sign + format_minutes(size, lang)
        if self.unit is Unit.currency:
            symbol = get_currency_symbol(self.words.currency, lang)
            space = "\u00a0" if lang == "id" or symbol[-1:].isalpha() else ""
            return sign + format_currency(
                size, self.words.currency, format=f"¤{space}{pattern}", locale=lang,
                currency_digits=False,
            )  # fmt: skip
        return sign + format_decimal(size, format=pattern, locale=lang)


def _rounded(
    parts: Sequence[float], total: float, unit: Unit, words: Words
) -> tuple[list[float], float, _Fixed]:
    """Parts and total in the unit shown (points for percentages), rounded to add up: to
    the decimals of the largest, or in points as many more as a small total needs to show
    (+0.159 pp and -0.124 pp make +0.035 pp, not +0.0)."""
    scale = 100 if unit is Unit.percent else 1
    largest = max([abs(total), *(abs(p) for p in parts)]) * scale
    decimals = _decimals(unit, largest)
    if unit is Unit.percent and total:
        decimals = max(decimals, _decimals(unit, abs(total) * scale))
    fixed = _Fixed(unit, decimals, scale, words)
    shown, rounded = round_parts([p * scale for p in parts], total * scale, fixed.decimals)
    return shown, rounded, fixed


def _decimals(unit: Unit, largest: float) -> int:
    """The decimals of a change as large as `largest`, as `format_value` would write it."""
    if unit is Unit.percent:
        return 1 if largest == 0 or largest >= 0.1 else min(8, 1 - math.floor(math.log10(largest)))
    if unit is Unit.count:
        return 0
    if unit is Unit.duration:
        return 0 if largest >= 60 else 1
    if unit is Unit.currency:
        return 0 if largest >= 100 else 2
    return 0 if largest >= 1000 else 1 if largest >= 100 else 2


def _sentence(
    found: Explanation, kpi: KPI, words: Words, fixed: _Fixed, change: float
) -> str | None:
    """One plain sentence: whether the mix or the rate drove the ratio, and where."""
    items = found.contributions
    mix, rate = sum(c.mix for c in items), sum(c.rate for c in items)
    scaled = [mix * fixed.scale, rate * fixed.scale]
    (mix_shown, rate_shown), total = round_parts(scaled, change * fixed.scale, fixed.decimals)
    if mix_shown == 0 and rate_shown == 0:
        return None
    by_rate = abs(rate) >= abs(mix)
    driver = rate if by_rate else mix
    top = max(items, key=lambda c: (c.rate if by_rate else c.mix) * math.copysign(1, driver))
    values = {
        "total": fixed.text(total),
        "mix": fixed.text(mix_shown),
        "rate": fixed.text(rate_shown),
        "slice": ", ".join(MISSING if v is None else str(v) for v in top.slice),
        "denominator": found.denominator,
    }
    _ = words.translate
    if by_rate:
        values.update(before=words.value(top.before, kpi.unit),
                      after=words.value(top.after, kpi.unit))  # fmt: skip
        if (top.after or 0.0) >= (top.before or 0.0):
            return _("Mostly the rate: rate {rate}, mix {mix}, together {total}; "
                     "the rate of {slice} rose from {before} to {after}.", **values)  # fmt: skip
        return _("Mostly the rate: rate {rate}, mix {mix}, together {total}; "
                 "the rate of {slice} fell from {before} to {after}.", **values)  # fmt: skip
    values.update(before=words.value(top.share_before, Unit.percent),
                  after=words.value(top.share_after, Unit.percent))  # fmt: skip
    if (top.share_after or 0.0) >= (top.share_before or 0.0):
        return _("Mostly the mix: mix {mix}, rate {rate}, together {total}; "
                 "the share of {denominator} from {slice} rose from {before} to {after}.",
                 **values)  # fmt: skip
    return _("Mostly the mix: mix {mix}, rate {rate}, together {total}; "
             "the share of {denominator} from {slice} fell from {before} to {after}.",
             **values)  # fmt: skip
