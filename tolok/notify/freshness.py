"""How fresh each dataset is: the newest local day with rows, from what the last refresh
recorded (files: the last day of each file; tables: the latest time; manual values: the
end of the newest period entered). No warehouse query is needed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Project, Status
from tolok.store.schema import Watermark


def newest_days(engine: Engine, project: Project, calendar: Calendar) -> dict[str, dt.date]:
    with Session(engine) as session:
        rows = session.execute(select(Watermark.dataset, Watermark.state)).all()
    out = {}
    for dataset, state in rows:
        if dataset not in project.datasets:
            continue
        day = _newest(json.loads(state), calendar)
        if day is not None:
            out[dataset] = day
    return out


def _newest(state: dict[str, Any], calendar: Calendar) -> dt.date | None:
    kind = state.get("kind")
    if kind == "files":
        days = [f["last"] for f in state.get("files", {}).values() if f.get("last")]
        return dt.date.fromisoformat(max(days)[:10]) if days else None
    if kind in ("table", "query"):
        last = state.get("last")
        return dt.date.fromisoformat(str(last)[:10]) if last else None
    if kind == "manual":
        ends = [
            calendar.end_of(dt.date.fromisoformat(period), Grain(grain)) - dt.timedelta(days=1)
            for _, grain, period, *_ in state.get("values", [])
        ]
        return max(ends) if ends else None
    return None


def kpi_datasets(project: Project, calendar: Calendar) -> dict[str, set[str]]:
    """The datasets each active KPI reads (through other KPIs too)."""
    from tolok.compile.plan import plan_kpi

    out = {}
    for name, kpi in project.kpis.items():
        if kpi.status is Status.active:
            out[name] = plan_kpi(project, name, kpi.grain, calendar).datasets
    return out


def quiet_kpis(engine: Engine, project: Project, today: dt.date) -> dict[str, dt.date]:
    """The active KPIs whose data stopped: the newest day of their quietest dataset is more
    than one period of their grain ago (a month for a monthly KPI). KPI → that day."""
    from tolok.notify.conditions import grain_span

    calendar = Calendar.of(project)
    newest = newest_days(engine, project, calendar)
    out = {}
    for name, datasets in kpi_datasets(project, calendar).items():
        days = [newest[d] for d in datasets if d in newest]
        if days and today - min(days) > grain_span(calendar, today, project.kpis[name].grain):
            out[name] = min(days)
    return out
