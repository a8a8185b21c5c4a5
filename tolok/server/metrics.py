"""`GET /metrics`: the KPIs and tolok's own health in the OpenMetrics text format, for
Prometheus to scrape and Grafana to chart.

Per active KPI, labelled `kpi`, `goal`, `owner`, `function`, `level` (empty when the YAML
says none), the verdicts every surface shows (`tolok.answers.verdicts`, the same as `tolok
status`): the last closed period's value, target, attainment and status, and the period
under way's value so far, projected end and heading. A status is a number for thresholds
and alert rules (`tolok_kpi_status_code`: 2 on track, 1 at risk, 0 off track, -1 no
target, -2 no data) and a label for tables (`tolok_kpi_status{status="at_risk"} 1`).
Values are in the KPI's unit (money in the currency, a rate as a fraction: 0.035 is 3.5%).

Health: when the last refresh that did its work finished and how long it took, refreshes
and message deliveries that failed (counters over the store's history).

Who may read it: a signed-in user or a token with the `read` scope, as every page; or a
scraper whose address is in `TOLOK_METRICS_SCRAPERS` (addresses or networks, comma
separated: `10.0.0.5, 192.168.0.0/24`), as Prometheus is usually set up without a token.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response

from tolok.auth.roles import Action
from tolok.server.errors import ApiError
from tolok.server.security import identify, refuse, state_of
from tolok.spec.loaded import LoadedProject

router = APIRouter(include_in_schema=False)
CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
SCRAPERS = "TOLOK_METRICS_SCRAPERS"
CODES = {"on_track": 2, "at_risk": 1, "off_track": 0, "no_target": -1, "no_data": -2}


def scrapers(text: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of `TOLOK_METRICS_SCRAPERS`; a word that is no address is an error that
    names it, so a typo never opens the endpoint to more than meant, nor silently to none.

    >>> [str(n) for n in scrapers("10.0.0.5, 192.168.0.0/24")]
    ['10.0.0.5/32', '192.168.0.0/24']
    """
    out = []
    for word in (text or "").replace(",", " ").split():
        try:
            out.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            raise ValueError(
                f"{SCRAPERS}: '{word}' is not an address or a network (e.g. 10.0.0.5, "
                "192.168.0.0/24)"
            ) from None
    return out


def _allowed_scraper(request: Request) -> bool:
    peer = request.client.host if request.client else None
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in scrapers(os.environ.get(SCRAPERS)))


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The KPIs and tolok's health for Prometheus (OpenMetrics text)."""
    if not _allowed_scraper(request):
        principal = identify(request)
        if principal is None:
            raise ApiError(401, "send an API token with the read scope, or scrape from an "
                           f"address in {SCRAPERS}", None,
                           {"WWW-Authenticate": "Bearer"})  # fmt: skip
        if not principal.can(Action.read):
            raise refuse(Action.read)
    state = state_of(request)
    text = openmetrics(state.loaded, state.engine)
    return Response(text, media_type=CONTENT_TYPE)


def openmetrics(loaded: LoadedProject, engine: Any, today: dt.date | None = None) -> str:
    """The exposition: every family with its TYPE, HELP and UNIT lines, then `# EOF`."""
    from tolok import clock
    from tolok.answers.outlook import outlook
    from tolok.answers.verdicts import kpi_states

    project = loaded.project
    assert project is not None
    today = today or clock.today(project)
    families: dict[str, list[str]] = {name: [] for name, *_ in FAMILIES}
    for name, state in kpi_states(loaded, today).items():
        kpi = project.kpis[name]
        labels = {"kpi": name, "goal": kpi.goal, "owner": kpi.owner,
                  "function": kpi.function.value if kpi.function else None,
                  "level": kpi.level.value if kpi.level else None}  # fmt: skip
        latest, now = state.latest, outlook(loaded, name, state)
        status = state.standing.value
        _add(families, "tolok_kpi_value", labels, latest.value if latest else None)
        _add(families, "tolok_kpi_target", labels, state.target)
        _add(families, "tolok_kpi_attainment_ratio", labels, state.attainment)
        _add(families, "tolok_kpi_status_code", labels, CODES[status])
        _add(families, "tolok_kpi_status", {**labels, "status": status}, 1)
        if latest is not None:
            start = dt.datetime.combine(latest.period, dt.time(), dt.UTC).timestamp()
            _add(families, "tolok_kpi_period_start_timestamp_seconds", labels, start)
        if now is not None:
            heading = now.pace.heading.value if now.judged else "no_data"
            _add(families, "tolok_kpi_open_value", labels, now.value)
            _add(families, "tolok_kpi_open_projected", labels, now.pace.projected)
            _add(families, "tolok_kpi_open_elapsed_ratio", labels, now.pace.elapsed)
            _add(families, "tolok_kpi_heading_code", labels, CODES[heading])
            _add(families, "tolok_kpi_heading", {**labels, "heading": heading}, 1)
    for family, value in _health(engine):
        _add(families, family, {}, value)
    lines = []
    for name, kind, unit, words in FAMILIES:
        lines.append(f"# TYPE {name} {kind}")
        if unit:
            lines.append(f"# UNIT {name} {unit}")
        lines.append(f"# HELP {name} {words}")
        lines.extend(families[name])
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


FAMILIES = [
    ("tolok_kpi_value", "gauge", "", "The KPI's value in its last closed period."),
    ("tolok_kpi_target", "gauge", "", "The last closed period's target."),
    ("tolok_kpi_attainment_ratio", "gauge", "ratio", "Share of the target reached (1 = on it)."),
    ("tolok_kpi_status_code", "gauge", "",
     "Last closed period: 2 on track, 1 at risk, 0 off track, -1 no target, -2 no data."),
    ("tolok_kpi_status", "gauge", "", "Last closed period's status, as a label (value 1)."),
    ("tolok_kpi_period_start_timestamp_seconds", "gauge", "seconds",
     "Start of the last closed period (UTC midnight of its first day)."),
    ("tolok_kpi_open_value", "gauge", "", "The period under way: its value so far."),
    ("tolok_kpi_open_projected", "gauge", "", "The period under way: its end at this pace."),
    ("tolok_kpi_open_elapsed_ratio", "gauge", "ratio", "Share of the period under way gone."),
    ("tolok_kpi_heading_code", "gauge", "",
     "Where the period under way heads, coded as tolok_kpi_status_code."),
    ("tolok_kpi_heading", "gauge", "", "Where the period under way heads, as a label."),
    ("tolok_last_refresh_timestamp_seconds", "gauge", "seconds",
     "When the last refresh that did its work finished."),
    ("tolok_last_refresh_duration_seconds", "gauge", "seconds", "How long it took."),
    ("tolok_refreshes_failed", "counter", "", "Refreshes that failed, in the store's history."),
    ("tolok_deliveries_failed", "counter", "",
     "Messages (alerts, digests, reports) whose delivery failed for good or is retrying."),
]  # fmt: skip


def _health(engine: Any) -> Iterable[tuple[str, float]]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from tolok.store.schema import Refresh
    from tolok.store.sharing import Delivery

    with Session(engine) as session:
        last = session.execute(
            select(Refresh.started_at, Refresh.finished_at)
            .where(Refresh.status == "done")
            .order_by(Refresh.finished_at.desc())
            .limit(1)
        ).first()
        failed = session.scalar(select(func.count()).where(Refresh.status == "failed"))
        undelivered = session.scalar(select(func.count()).where(Delivery.status == "failed"))
    if last is not None and last.finished_at is not None:
        finished = last.finished_at.replace(tzinfo=dt.UTC)
        yield "tolok_last_refresh_timestamp_seconds", finished.timestamp()
        yield (
            "tolok_last_refresh_duration_seconds",
            (last.finished_at - last.started_at).total_seconds(),
        )
    yield "tolok_refreshes_failed_total", float(failed or 0)
    yield "tolok_deliveries_failed_total", float(undelivered or 0)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _add(
    families: dict[str, list[str]], name: str, labels: dict[str, str | None], value: float | None
) -> None:
    """One sample, its labels escaped as the format says; a value not known is left out (a
    missing sample, not a made-up 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return
    shown = ",".join(f'{k}="{_escaped(v or "")}"' for k, v in labels.items())
    families[name.removesuffix("_total")].append(
        f"{name}{{{shown}}} {_number(value)}" if shown else f"{name} {_number(value)}"
    )


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value)) + ".0"
