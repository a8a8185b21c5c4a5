"""The "alert me" form of a KPI's page: a person subscribes to a KPI's alerts (a rule made in
the app that notifies only them, in their language) and unsubscribes. And the pages of
tolok.yaml's alert rules and schedules (`/definitions/alerts`, `/definitions/schedules`),
whose script writes them through the definitions API."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from tolok.auth.roles import Action
from tolok.server.errors import ApiError
from tolok.server.pages import rules as rules_page
from tolok.server.security import Principal, permitted, state_of
from tolok.server.web import context, reader, render

router = APIRouter(include_in_schema=False)  # page forms, not the API
CHOICES: dict[str, dict[str, Any]] = {
    "status": {"when": "status"},
    "off_track": {"when": "status", "statuses": ["off_track"]},
    "target_reached": {"when": "target_reached"},
    "change": {"when": "change", "change": 0.2, "direction": "any"},
    "anomaly": {"when": "anomaly"},
}
"""What the form offers, as rules."""


def subscription_name(kpi: str, choice: str, principal: Principal) -> str:
    """A name unique per person, KPI and choice, under 100 characters however long the KPI's
    name: a long one is cut and a digest of it added."""
    import hashlib

    person = re.sub(r"[^A-Za-z0-9]+", "-", principal.email.split("@")[0]).strip("-") or "me"
    short = kpi.replace("_", "-")
    if len(short) > 40:
        short = short[:30] + "-" + hashlib.sha256(kpi.encode()).hexdigest()[:8]
    return f"{short}-{choice.replace('_', '-')}-{person[:20]}-{principal.user_id}"


@router.post("/kpis/{name}/alerts")
async def subscribe(request: Request, name: str) -> Response:
    from tolok.server.api_alerts import make_rule

    principal = await permitted(request, Action.alert_rules)  # as `POST /api/v1/alert-rules`
    form = await request.form()
    choice = str(form.get("when", ""))
    ctx = context(request, principal)
    if name not in ctx.project.kpis:
        raise ApiError(404, f"no KPI named '{name}'", "name")
    if choice not in CHOICES:
        raise ApiError(400, ctx._("Pick when to be told."), "when")
    rule = {**CHOICES[choice], "kpis": [name], "notify": [principal.email]}
    rule_name = subscription_name(name, choice, principal)
    try:
        await run_in_threadpool(make_rule, request, principal, rule_name, rule)
    except ApiError as exc:
        if exc.status != 409:  # subscribed already: nothing to do
            raise
    return RedirectResponse(f"/kpis/{name}#alerts", 303)


@router.post("/kpis/{name}/alerts/{rule}/remove")
async def unsubscribe(request: Request, name: str, rule: str) -> Response:
    principal = await permitted(request, Action.alert_rules)  # as `DELETE /api/v1/alert-rules/…`

    def remove() -> bool:
        from tolok.notify.alerts import remove_rule

        return remove_rule(state_of(request).engine, rule, principal.user_id)

    if not await run_in_threadpool(remove):
        raise ApiError(404, f"you have no alert rule '{rule}'", "rule")
    return RedirectResponse(f"/kpis/{name}#alerts", 303)


@router.get("/definitions/alerts")
@router.get("/definitions/alerts.json")
def alert_definitions(request: Request) -> Response:
    """tolok.yaml's alert rules as forms: editors change them, others read them."""
    ctx = reader(request)
    return render(ctx, "rules.html", rules_page.data(ctx, "alerts"))


@router.get("/definitions/schedules")
@router.get("/definitions/schedules.json")
def schedule_definitions(request: Request) -> Response:
    """tolok.yaml's schedules as forms: editors change them, others read them."""
    ctx = reader(request)
    return render(ctx, "rules.html", rules_page.data(ctx, "schedules"))
