"""Data entry, for editors: values of manual datasets (typed in, or a CSV uploaded) and
targets set by people, with the latest of each."""

from __future__ import annotations

import json

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.auth.roles import Action
from tolok.display import slice_text
from tolok.server.web import Context
from tolok.spec.calendar import Calendar
from tolok.spec.models import Project
from tolok.store.manual import manual_values
from tolok.store.schema import PersonTarget

RECENT = 12


class Entered(BaseModel):
    measure: str
    period: str
    slice: str
    value: str


class ManualDataset(BaseModel):
    name: str
    title: str  # the titles of the KPIs it feeds, else its name: what a manager knows it by
    measures: list[str]
    dimensions: list[str]
    recent: list[Entered]


class KpiChoice(BaseModel):
    name: str
    title: str
    grain: str


class TargetRow(BaseModel):
    kpi: str
    period: str
    slice: str
    value: str
    set_by: str
    when: str


class EntryPage(BaseModel):
    datasets: list[ManualDataset]
    kpis: list[KpiChoice]  # those whose targets the user may set
    targets: list[TargetRow]
    can_enter: bool
    notice: str | None


def data(ctx: Context, engine: Engine, notice: str | None) -> EntryPage:
    project = ctx.project
    calendar = Calendar.of(project)
    datasets = []
    fed = _kpis_fed(project, calendar)
    with Session(engine) as session:
        for name, dataset in project.datasets.items():
            if not dataset.is_manual:
                continue
            stored = sorted(manual_values(session, name), key=lambda v: v.period, reverse=True)
            recent = [
                Entered(
                    measure=v.measure,
                    period=calendar.label(v.period, v.grain),
                    slice=slice_text(v.slice),
                    value=ctx.fmt.value(v.value, "number"),
                )
                for v in stored[:RECENT]
            ]
            datasets.append(
                ManualDataset(
                    name=name,
                    title=", ".join(fed.get(name, [])) or name,
                    measures=list(dataset.measures),
                    dimensions=list(dataset.dimensions),
                    recent=recent,
                )
            )
        rows = session.scalars(select(PersonTarget).order_by(PersonTarget.set_at.desc()))
        targets = [_target_row(ctx, t) for t in list(rows)[:RECENT] if t.kpi in project.kpis]
    kpis = [
        KpiChoice(name=n, title=k.title or n, grain=k.grain.value)
        for n, k in project.kpis.items()
        if ctx.can(Action.set_targets, k.owner)
    ]
    return EntryPage(
        datasets=datasets,
        kpis=kpis,
        targets=targets,
        can_enter=ctx.can(Action.enter_values),
        notice=notice,
    )


def _kpis_fed(project: Project, calendar: Calendar) -> dict[str, list[str]]:
    """The titles of the KPIs each dataset feeds."""
    from tolok.compile.plan import plan_kpi

    out: dict[str, list[str]] = {}
    for name, kpi in project.kpis.items():
        plan = plan_kpi(project, name, kpi.grain, calendar)
        for dataset in sorted({n.measure.dataset for n in plan.needs}):
            out.setdefault(dataset, []).append(kpi.title or name)
    return out


def _target_row(ctx: Context, target: PersonTarget) -> TargetRow:
    kpi = ctx.project.kpis[target.kpi]
    where = json.loads(target.slice)
    return TargetRow(
        kpi=kpi.title or target.kpi,
        period=ctx.fmt.period(target.period, kpi.grain),
        slice=slice_text(where),
        value=ctx.fmt.value(target.value, kpi.unit),
        set_by=target.set_by,
        when=ctx.fmt.moment(target.set_at),
    )
