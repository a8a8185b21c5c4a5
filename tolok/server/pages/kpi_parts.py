"""The parts of a KPI's page that explain it: why it moved, its definition in plain words,
its lint findings, its versions and the impact of the changes people annotated."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tolok.display import MISSING
from tolok.server.web import Context
from tolok.spec.calendar import Calendar
from tolok.spec.models import Project, Unit

if TYPE_CHECKING:
    from tolok.outlook import Outlook
    from tolok.views import KpiState


class Contribution(BaseModel):
    slice: str
    before: str
    after: str
    total: float
    total_text: str
    mix_text: str | None
    rate_text: str | None


class Explanation(BaseModel):
    before: str
    after: str
    by: str
    ratio: bool
    rows: list[Contribution]
    total_text: str


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
        own = set(project.datasets[dataset].dimensions)
        shared = own if shared is None else shared & own
    return sorted(shared or ())


def explanation(
    ctx: Context, name: str, by: str | None, period: dt.date | None
) -> tuple[Explanation | None, str | None]:
    """Why the KPI moved into its last closed period, by `by` (else its first breakdown,
    else its first dimension); or a note saying why it cannot be told."""
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError
    from tolok.explanation import ExplainError, explain

    project = ctx.project
    kpi = project.kpis[name]
    _ = ctx._
    if period is None:
        return None, _("No closed period yet.")
    choices = dimensions(project, name)
    dimension = by or (kpi.breakdowns[0][0] if kpi.breakdowns else None)
    dimension = dimension or (choices[0] if choices else None)
    if dimension is None:
        return None, _("The KPI's data has no dimension to break it down by.")
    try:
        found = explain(ctx.loaded, name, period, (dimension,))
    except ExplainError:
        return None, _("Only KPIs that add up (sums, counts) and ratios of them can be explained.")
    except (WarehouseError, CompileError) as exc:
        return None, str(getattr(exc, "message", exc))
    unit = kpi.unit
    change = Unit.percent if unit is Unit.percent else unit

    def show(value: float | None) -> str:
        return ctx.fmt.value(value, unit)

    def moved(value: float) -> str:
        if unit is Unit.percent:
            return ctx.fmt.points(value)
        text = ctx.fmt.value(value, change)
        return text if value < 0 else "+" + text

    rows = [
        Contribution(
            slice=", ".join(MISSING if v is None else str(v) for v in c.slice),
            before=show(c.before),
            after=show(c.after),
            total=c.total,
            total_text=moved(c.total),
            mix_text=moved(c.mix) if found.ratio else None,
            rate_text=moved(c.rate) if found.ratio else None,
        )
        for c in found.contributions
    ]
    total = sum(c.total for c in found.contributions)
    return Explanation(
        before=ctx.fmt.period(found.before, kpi.grain),
        after=ctx.fmt.period(found.after, kpi.grain),
        by=dimension,
        ratio=found.ratio,
        rows=rows,
        total_text=moved(total),
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
        text += " (" + ", ".join(f"{k}={v}" for k, v in dict(where).items()) + ")"
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
            message=f.message(ctx.lang),
            fix=f.fix(ctx.lang),
            line=f.where.line,
        )
        for f in found
    ]


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
    ctx: Context, name: str, closed: list[tuple[dt.date, float | None]], day: dt.date
) -> str | None:
    """What a change on `day` likely did to the KPI, in plain words; None when too early."""
    from tolok.track.impact import impact

    kpi = ctx.project.kpis[name]
    found = impact(closed, day, kpi.grain, Calendar.of(ctx.project))
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
