"""The parts of a KPI's page that explain it: why it moved, its definition in plain words,
its lint findings, its versions and the impact of the changes people annotated."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tolok.display import MISSING, slice_text
from tolok.server.web import Context
from tolok.spec.calendar import Calendar
from tolok.spec.joins import reachable
from tolok.spec.models import Project, Unit

if TYPE_CHECKING:
    from tolok.answers.outlook import Outlook
    from tolok.answers.verdicts import KpiState


class Contribution(BaseModel):
    """A value of a dimension (or an input of the formula) and its part in the change."""

    slice: str
    before: str
    after: str
    total: float
    total_text: str  # rounded so that the rows add up to the total shown
    mix_text: str | None
    rate_text: str | None
    effect: str | None = None  # "good" or "bad" by the KPI's direction
    effect_text: str | None = None  # the same in words, not in colour alone


class Explanation(BaseModel):
    before: str
    after: str
    compare: str  # "previous" or "last_year"
    value_before: str  # the KPI's own values
    value_after: str
    by: str | None  # None when no dimension can tell it
    ratio: bool
    rows: list[Contribution]
    total_text: str
    total_effect: str | None = None
    sentence: str | None = None  # for a ratio: whether the mix or the rate drove it
    by_note: str | None = None  # why no dimension tells it
    inputs: list[Contribution] = []  # each input of the formula's part, when it has several
    inputs_total_text: str | None = None


class Input(BaseModel):
    name: str
    dataset: str
    text: str  # "sum of amount where status == 'paid'"


class Definition(BaseModel):
    formula: str
    inputs: list[Input]
    description: str | None
    unit: str
    direction: str
    grain: str
    owner: str | None
    goal: str | None
    goal_title: str | None
    actions: list[str]
    target: str | None  # the YAML's target, as written
    thresholds: str


class FindingOut(BaseModel):
    code: str
    name: str
    level: str
    message: str
    fix: str
    line: int


class Version(BaseModel):
    number: int
    when: str
    reason: str | None
    diff: list[str]


def dimensions(project: Project, name: str) -> list[str]:
    """The dimensions every dataset the KPI reads has: what it can be broken down by."""
    from tolok.compile.plan import plan_kpi

    kpi = project.kpis[name]
    plan = plan_kpi(project, name, kpi.grain, Calendar.of(project))
    shared: set[str] | None = None
    for dataset in plan.datasets:
        own = set(reachable(project, dataset))
        shared = own if shared is None else shared & own
    return sorted(shared or ())


if TYPE_CHECKING:
    from tolok.answers.explanation import Compare, Told, Words
    from tolok.server.board import BoardCache
    from tolok.spec.models import Grain
    from tolok.track.impact import Impact


def explanation(
    ctx: Context,
    name: str,
    by: str | None,
    latest: dt.date | None,
    grain: str | None = None,
    compare: str | None = None,
    end: str | None = None,
    board: BoardCache | None = None,
) -> tuple[Explanation | None, str | None]:
    """Why the KPI moved into the period the page shows (the one holding `end`, else the
    board's latest; never one still open), against the page's comparison (the period
    before or a year before): by `by` (else its first breakdown, else its first dimension)
    and by the inputs of its formula; or a note saying why it cannot be told.

    It asks the warehouse (a connection, a view over the files, a query: 15-80 ms); with
    the `board`, what it found is kept as the board's values are, until the store changes
    (a refresh) or the day does. What failed is not kept: the next request asks again."""
    from tolok.answers.explanation import Compare
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError
    from tolok.spec.models import Grain

    kpi = ctx.project.kpis[name]
    asked = Grain(grain) if grain else kpi.grain
    period = _explained_period(ctx, kpi.grain, asked, latest, end)
    if period is None:
        return None, ctx._("No closed period yet.")
    versus = Compare(compare) if compare in ("previous", "last_year") else Compare.previous
    choices = dimensions(ctx.project, name)
    dimension = by or (kpi.breakdowns[0][0] if kpi.breakdowns else None)
    dimension = dimension or (choices[0] if choices else None)

    def build() -> tuple[Explanation | None, str | None]:
        found = _by_dimension(ctx, name, period, asked, versus, dimension)
        return _with_inputs(ctx, name, period, asked, versus, found)

    try:
        if board is None or (dimension is not None and dimension not in choices):
            return build()  # a dimension the KPI has not: said once, not kept
        from tolok.server.pages.board import today_of

        what = f"why:{ctx.fmt.lang}:{name}:{asked.value}:{period}:{versus.value}:{dimension}"
        kept: tuple[Explanation | None, str | None] = board.get(
            what, ctx.loaded, today_of(ctx.project), build
        )
        return kept
    except (WarehouseError, CompileError) as exc:
        return None, str(getattr(exc, "message", exc))


def _explained_period(
    ctx: Context, own: Grain, grain: Grain, latest: dt.date | None, end: str | None
) -> dt.date | None:
    from tolok.answers.explanation import last_closed
    from tolok.spec.calendar import PeriodError

    calendar = Calendar.of(ctx.project)
    closed = last_closed(ctx.project, grain)
    last_day = None
    if end:
        try:
            asked, start = calendar.parse(end)
            last_day = calendar.end_of(start, asked) - dt.timedelta(days=1)
        except PeriodError:
            last_day = None
    if last_day is None and latest is not None:
        last_day = calendar.end_of(latest, own) - dt.timedelta(days=1)
    if last_day is None:
        return None
    return min(calendar.start_of(last_day, grain), closed)


def _words(ctx: Context) -> Words:
    from tolok.answers.explanation import Words

    return Words(ctx.fmt.lang, ctx.fmt.currency, ctx._)


def _by_dimension(
    ctx: Context, name: str, period: dt.date, grain: Grain, versus: Compare, by: str | None
) -> Explanation:
    """The table by a dimension's values; without one, an empty table and a note."""
    from tolok.answers.explanation import ExplainError, compared, explain, tell

    kpi = ctx.project.kpis[name]
    note = ctx._("The KPI's data has no dimension to break it down by.")
    if by is not None:
        try:
            found = explain(ctx.loaded, name, period, (by,), versus, grain)
        except ExplainError:
            note = ctx._("Only sums, counts and ratios of them split by the values of a dimension.")
        else:
            told = tell(found, kpi, _words(ctx))
            return _explained(ctx, versus, grain, found.before, period, told, by, found.ratio,
                              [c.total for c in found.contributions])  # fmt: skip
    before = compared(Calendar.of(ctx.project), period, grain, versus)
    empty = _explained(ctx, versus, grain, before, period, None, None, False, [])
    return empty.model_copy(update={"by_note": note})


def _explained(
    ctx: Context,
    versus: Compare,
    grain: Grain,
    before: dt.date,
    after: dt.date,
    told: Told | None,
    by: str | None,
    ratio: bool,
    totals: list[float],
) -> Explanation:
    return Explanation(
        before=ctx.fmt.period(before, grain),
        after=ctx.fmt.period(after, grain),
        compare=versus.value,
        value_before=told.before if told else MISSING,
        value_after=told.after if told else MISSING,
        by=by,
        ratio=ratio,
        rows=_rows(ctx, told, totals),
        total_text=told.total if told else MISSING,
        total_effect=told.effect if told else None,
        sentence=told.sentence if told else None,
    )


def _rows(ctx: Context, told: Told | None, totals: list[float]) -> list[Contribution]:
    """The lines as the page shows them; `totals` are their parts before rounding."""
    cue = {"good": ctx._("helped"), "bad": ctx._("hurt")}
    lines = told.lines if told else []
    return [
        Contribution(
            slice=line.label,
            before=line.before,
            after=line.after,
            total=total,
            total_text=line.part,
            mix_text=line.mix,
            rate_text=line.rate,
            effect=line.effect,
            effect_text=cue.get(line.effect or ""),
        )
        for line, total in zip(lines, totals, strict=True)
    ]


def _with_inputs(
    ctx: Context, name: str, period: dt.date, grain: Grain, versus: Compare, found: Explanation
) -> tuple[Explanation | None, str | None]:
    """The explanation with each input's part added, when the formula has several."""
    from tolok.answers.explanation import ExplainError, explain_by_inputs, tell_inputs
    from tolok.track.explain import formula_inputs

    kpi = ctx.project.kpis[name]
    if len(formula_inputs(kpi.formula)) < 2:
        return (found, None) if found.by else (None, found.by_note)
    try:
        inputs = explain_by_inputs(ctx.loaded, name, period, versus, grain)
    except ExplainError:
        if found.by:
            return found, None
        return None, ctx._("The KPI has no value in one of the two periods.")
    told = tell_inputs(inputs, kpi, _words(ctx))
    return found.model_copy(
        update={
            "value_before": told.before,
            "value_after": told.after,
            "inputs": _rows(ctx, told, [p.part for p in inputs.parts]),
            "inputs_total_text": told.total,
            "total_effect": told.effect,
        }
    ), None


def definition(ctx: Context, name: str) -> Definition:
    from tolok.compile.plan import plan_kpi

    project = ctx.project
    kpi = project.kpis[name]
    plan = plan_kpi(project, name, kpi.grain, Calendar.of(project))
    inputs = []
    for ref in sorted({n.measure for n in plan.needs}, key=str):
        measure = project.datasets[ref.dataset].measures[ref.measure]
        inputs.append(
            Input(name=ref.measure, dataset=ref.dataset, text=_measure_words(ctx, measure))
        )
    goal = project.goals.get(kpi.goal or "")
    target = "; ".join(target_words(ctx, form, kpi.unit) for form in kpi.target or []) or None
    limits = kpi.thresholds
    return Definition(
        formula=kpi.formula,
        inputs=inputs,
        description=kpi.description,
        unit=kpi.unit.value,
        direction=kpi.direction.value,
        grain=kpi.grain.value,
        owner=kpi.owner,
        goal=kpi.goal,
        goal_title=goal.title if goal else None,
        actions=list(kpi.actions),
        target=target,
        thresholds=ctx._(
            "at risk below {at_risk} of target, off track below {off_track}",
            at_risk=ctx.fmt.share(limits.at_risk),
            off_track=ctx.fmt.share(limits.off_track),
        ),
    )


def target_words(ctx: Context, form: object, unit: Unit) -> str:
    """One target form in plain words: "IDR 4,000,000 from 2025-11", "+20% on last year"."""
    from tolok.spec.models import ConstantTarget, GrowthTarget, RampTarget, TargetPoint

    _, fmt = ctx._, ctx.fmt
    where = getattr(form, "slice", None)
    text = str(form)
    if isinstance(form, ConstantTarget):
        text = fmt.value(form.value, unit)
        if form.from_:
            text += " " + _("from {period}", period=form.from_)
        if form.until:
            text += " " + _("until {period}", period=form.until)
    elif isinstance(form, TargetPoint):
        text = _("{value} in {period}", value=fmt.value(form.value, unit), period=form.period)
    elif isinstance(form, GrowthTarget):
        base = (
            _("the same period a year before")
            if form.vs.value == "last_year"
            else _("the period before")
        )
        text = _("{growth} on {base}", growth=fmt.change(form.growth), base=base)
    elif isinstance(form, RampTarget):
        text = _("rising to {value} by {period}", value=fmt.value(form.ramp.to, unit),
                 period=form.ramp.by)  # fmt: skip
    if where:
        text += " (" + slice_text(dict(where)) + ")"
    return text


def _measure_words(ctx: Context, measure: object) -> str:
    _ = ctx._
    agg = str(getattr(getattr(measure, "agg", None), "value", getattr(measure, "agg", "")))
    expr = getattr(measure, "expr", None)
    where = getattr(measure, "where", None)
    words = {
        "sum": _("sum of {x}"),
        "count": _("number of rows"),
        "count_distinct": _("number of distinct {x}"),
        "avg": _("average of {x}"),
        "min": _("smallest {x}"),
        "max": _("largest {x}"),
        "median": _("median of {x}"),
        "percentile": _("percentile of {x}"),
        "sum_boolean": _("rows where {x}"),
    }
    text = words.get(agg, agg + " {x}").format(x=expr or _("the value"))
    if agg == "":
        text = _("a converted share") if not expr else str(expr)
    if where:
        text += " " + _("where {condition}", condition=where)
    return text


def findings(ctx: Context, name: str, state: KpiState, ahead: Outlook | None) -> list[FindingOut]:
    """The lint findings on this KPI, with the history the store holds."""
    from tolok.lint.finding import Facts, KpiFacts
    from tolok.lint.run import lint

    values = tuple(
        p.value
        for p in state.points
        if p.value is not None and state.latest and p.period <= state.latest.period
    )
    target = ahead.target if ahead else None
    facts = Facts(kpis={name: KpiFacts(values, target, state.standing.value)})
    found = [f for f in lint(ctx.loaded, facts) if f.subject == f"kpi:{name}"]
    return [
        FindingOut(
            code=f.rule.code,
            name=f.rule.name,
            level=f.level.value,
            message=_about_this_kpi(ctx, name, f.message(ctx.lang)),
            fix=f.fix(ctx.lang),
            line=f.where.line,
        )
        for f in found
    ]


def _about_this_kpi(ctx: Context, name: str, message: str) -> str:
    """A finding's "KPI conversion_rate does not…" as "This KPI does not…" on the KPI's own
    page: the name is for whoever edits the YAML, the page already says which KPI."""
    named = re.compile(rf"\bKPI {re.escape(name)}(?![\w-])")
    start = named.match(message)
    if start:
        message = ctx._("This KPI") + message[start.end() :]
    return named.sub(ctx._("this KPI"), message)


def versions(ctx: Context, engine: Engine, name: str) -> list[Version]:
    from tolok.store.versions import history

    with Session(engine) as session:
        found = history(session, name)
        return [
            Version(
                number=v.number,
                when=ctx.fmt.moment(v.created_at),
                reason=v.reason,
                diff=v.diff.splitlines()[2:] if v.number > 1 and v.diff else [],
            )
            for v in reversed(found)
        ]


def impact_words(
    ctx: Context,
    name: str,
    closed: list[tuple[dt.date, float | None]],
    day: dt.date,
    board: BoardCache | None = None,
) -> str | None:
    """What a change on `day` likely did to the KPI, in plain words; None when too early.
    With the `board` whose states `closed` was read from, the estimate is kept as they are."""
    from tolok.clock import today
    from tolok.track.impact import impact

    kpi = ctx.project.kpis[name]

    def estimate() -> Impact | None:
        return impact(closed, day, kpi.grain, Calendar.of(ctx.project))

    found = (
        estimate()
        if board is None
        else board.get(f"impact:{name}:{day}", ctx.loaded, today(ctx.project), estimate)
    )
    if found is None:
        return None
    _ = ctx._

    def show(value: float | None) -> str:
        if kpi.unit is Unit.percent:
            return ctx.fmt.points(value)
        return ctx.fmt.value(value, kpi.unit)

    low, high = show(abs(found.low)), show(abs(found.high))
    if found.low > 0:
        words = _("likely raised it by {low} to {high}", low=low.lstrip("+"), high=high.lstrip("+"))
    elif found.high < 0:
        words = _(
            "likely lowered it by {low} to {high}", low=high.lstrip("+"), high=low.lstrip("+")
        )
    else:
        words = _(
            "no clear effect: between {low} and {high}", low=show(found.low), high=show(found.high)
        )
    return words + " " + _("({level}% interval, {n} periods)", level=found.level, n=found.periods)
