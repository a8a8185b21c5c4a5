"""The API of alerts and sending: alert rules made in the app (the YAML language, as JSON),
the alerts open now, the schedules with their next and last runs, and the delivery log.

An editor's rule may notify the project's channels, `owner`, and the editor's own address;
only an admin may send to other addresses."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.auth.roles import Action, Role
from tolok.server.api import ERRORS, Limit, Offset, _loaded, cached, page, utc
from tolok.server.errors import ApiError
from tolok.server.security import Principal, need, state_of
from tolok.spec.sharing import Alert, is_email
from tolok.store.sharing import AlertRule

router = APIRouter(prefix="/api/v1", responses=ERRORS)
MOST_RULES = 100  # per person (admins: no limit)
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")


class RuleIn(BaseModel):
    name: str = Field(max_length=100, examples=["conversion-slips"],
                      json_schema_extra={"pattern": NAME.pattern})  # fmt: skip
    rule: dict[str, Any] = Field(
        description="A rule as in tolok.yaml's `alerts:`, naming this project's KPIs.",
        examples=[{"when": "status", "notify": ["owner"]}],
    )


@router.get("/alert-rules", tags=["alerts"])
def list_rules(
    request: Request, principal: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """The alert rules: those in tolok.yaml (`source: yaml`) and those made in the app (an
    admin sees everyone's; others their own)."""
    project = _loaded(request).project
    assert project is not None
    items: list[dict[str, Any]] = [
        {"name": n, "source": "yaml", "rule": r.model_dump(mode="json", by_alias=True,
                                                           exclude_defaults=True)}
        for n, r in project.alerts.items()
    ]  # fmt: skip
    mine = select(AlertRule).order_by(AlertRule.id)
    if principal.role is not Role.admin:  # others' subscriptions name them: admins only
        mine = mine.where(AlertRule.created_by == principal.user_id)
    with Session(state_of(request).engine) as session:
        for row in session.scalars(mine):
            items.append({"name": row.name, "source": "app", "rule": json.loads(row.definition),
                          "created_at": utc(row.created_at)})  # fmt: skip
    return cached(request, page(request, items, limit, offset))


@router.post("/alert-rules", status_code=201, tags=["alerts"])
def add_rule(
    request: Request, body: RuleIn,
    principal: Annotated[Principal, Depends(need(Action.alert_rules))],
) -> dict[str, Any]:  # fmt: skip
    """Make an alert rule: `{"name": …, "rule": {"when": "status", "kpis": [...], …}}`."""
    return make_rule(request, principal, body.name, body.rule)


def make_rule(
    request: Request, principal: Principal, name: str, given: dict[str, Any]
) -> dict[str, Any]:
    """Validate and keep a rule made in the app (the API and the KPI page's form)."""
    project = _loaded(request).project
    assert project is not None
    body = RuleIn(name=name, rule=given)
    if not NAME.match(body.name):
        raise ApiError(422, "a rule's name uses letters, digits, '-' and '_'", "name")
    if body.name in project.alerts:
        raise ApiError(409, f"tolok.yaml already has an alert rule '{body.name}'", "name")
    try:
        rule = Alert.model_validate(body.rule)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("rule", *first["loc"]))
        raise ApiError(422, str(first["msg"]).removeprefix("Value error, "), where) from None
    _check_names(project, rule, principal)
    definition = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    definition["when"] = rule.when.value
    definition["notify"] = rule.notify
    if Alert.model_validate(definition) != rule:  # what is kept must read back the same
        raise ApiError(422, "this rule cannot be kept as written; write it as in tolok.yaml")
    with Session(state_of(request).engine) as session:
        made = select(func.count()).where(AlertRule.created_by == principal.user_id)
        if (session.scalar(made) or 0) >= MOST_RULES and principal.role is not Role.admin:
            raise ApiError(403, f"you have {MOST_RULES} alert rules: remove one first")
        row = AlertRule(name=body.name, definition=json.dumps(definition),
                        created_by=principal.user_id, created_at=_now())  # fmt: skip
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            raise ApiError(409, f"an alert rule '{body.name}' exists already", "name") from None
    return {"name": body.name, "source": "app", "rule": definition}


@router.delete("/alert-rules/{name}", status_code=204, tags=["alerts"])
def remove_rule(
    request: Request, name: str,
    principal: Annotated[Principal, Depends(need(Action.alert_rules))],
) -> Response:  # fmt: skip
    """Remove a rule made in the app (its maker or an admin); its open alerts close."""
    with Session(state_of(request).engine) as session:
        row = session.scalars(select(AlertRule).where(AlertRule.name == name)).first()
        if row is None:
            raise ApiError(404, f"no alert rule '{name}' made in the app", "name")
        if principal.role is not Role.admin and row.created_by != principal.user_id:
            raise ApiError(403, "only its maker or an admin may remove a rule")
        session.execute(delete(AlertRule).where(AlertRule.id == row.id))
        session.commit()
    return Response(status_code=204)


def _check_names(project: Any, rule: Alert, principal: Principal) -> None:
    for i, name in enumerate(rule.notify):
        if principal.role is Role.viewer and name.lower() != principal.email:
            raise ApiError(403, "a viewer's rule may notify only themselves", f"rule.notify.{i}")
        if name == "owner" or name in project.channels:
            continue
        if not is_email(name):
            raise ApiError(422, f"unknown channel '{name}'", f"rule.notify.{i}")
        if principal.role is not Role.admin and name.lower() != principal.email:
            raise ApiError(403, "an editor's rule may notify channels, owner or themselves",
                           f"rule.notify.{i}")  # fmt: skip
    for i, kpi in enumerate(rule.kpis):
        if kpi not in project.kpis:
            raise ApiError(422, f"unknown KPI '{kpi}'", f"rule.kpis.{i}")
    if rule.goal is not None and rule.goal not in project.goals:
        raise ApiError(422, f"unknown goal '{rule.goal}'", "rule.goal")
    if rule.volume is not None:
        measures = {m for d in project.datasets.values() for m in d.measures}
        qualified = {f"{d}.{m}" for d, ds in project.datasets.items() for m in ds.measures}
        if rule.volume not in measures | qualified | project.kpis.keys():
            raise ApiError(422, f"unknown measure or KPI '{rule.volume}'", "rule.volume")
    tags = {t for k in project.kpis.values() for t in k.tags}
    if rule.tag is not None and rule.tag not in tags:
        raise ApiError(422, f"no KPI has the tag '{rule.tag}'", "rule.tag")


@router.get("/alerts", tags=["alerts"])
def list_alerts(
    request: Request, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """The alerts open now, oldest first."""
    from tolok.notify.alerts import open_alerts

    items = [{"rule": a.rule, "kpi": a.kpi, "period": a.period.isoformat() if a.period else None,
              "opened_at": utc(a.opened_at), "told": a.told_at is not None,
              "detail": json.loads(a.detail)}
             for a in open_alerts(state_of(request).engine)]  # fmt: skip
    return cached(request, page(request, items, limit, offset))


@router.get("/deliveries", tags=["admin"])
def deliveries(
    request: Request, _: Annotated[Principal, Depends(need(Action.read_audit))],
    status: Annotated[str | None, Query(pattern="^(sending|sent|failed|refused)$")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:  # fmt: skip
    """The delivery log, newest first (admins): every message, sent or failed, and why."""
    from tolok.notify.channels import delivery_log

    rows = delivery_log(state_of(request).engine, limit + 1, offset, status)
    items = [{"id": r.id, "kind": r.kind, "channel": r.channel, "address": r.address,
              "subject": r.subject, "status": r.status, "attempts": r.attempts,
              "error": r.error, "created_at": utc(r.created_at), "sent_at": utc(r.sent_at)}
             for r in rows[:limit]]  # fmt: skip
    return {"items": items, "limit": limit, "offset": offset, "more": len(rows) > limit}


@router.get("/schedules", tags=["admin"])
def schedules(
    request: Request, _: Annotated[Principal, Depends(need(Action.read_audit))]
) -> dict[str, Any]:
    """Each schedule: what it does, when it runs next, and its last runs (admins)."""
    from tolok.notify.clock import next_due
    from tolok.notify.schedule import has_app_rules, history, note_text, schedules_of

    project = _loaded(request).project
    assert project is not None
    runs = history(state_of(request).engine, 200)
    now = _now()
    items = []
    engine = state_of(request).engine
    for name, schedule in schedules_of(project, has_app_rules(engine)).items():
        last = [r for r in runs if r.schedule == name][:5]
        items.append({"name": name, "do": schedule.do.value, "every": schedule.every.value,
                      "next_at": utc(next_due(schedule, now, project.timezone)),
                      "runs": [{"due_at": utc(r.due_at), "status": r.status,
                                "note": note_text(r.note), "error": note_text(r.error),
                                "finished_at": utc(r.finished_at)}
                               for r in last]})  # fmt: skip
    return {"items": items}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
