"""Telling people of alerts: each new alert once, and its resolution once it was told; held
through quiet hours; a message that failed to go out (a mail server down) is tried again at
later checks, ten minutes apart, for a day, then given up with a warning (the delivery log
keeps why). A message the other side refused for good (no such mailbox) is not retried."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.notify.alert_text import alert_message
from tolok.notify.recipients import recipients
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project
from tolok.spec.sharing import Alert, QuietHours
from tolok.store.sharing import AlertEvent

if TYPE_CHECKING:
    from tolok.notify.channels import Sender

log = logging.getLogger("tolok.notify")
GIVE_UP = dt.timedelta(days=1)
"""How long a message that fails is tried again."""
RETRY_EVERY = dt.timedelta(minutes=10)
"""How long a message that failed waits before the next try (checks may come every few
seconds on a busy server)."""


@dataclass
class AlertRun:
    """What one check did, for the log and the command line."""

    opened: list[tuple[str, str]] = field(default_factory=list)  # (rule, KPI)
    resolved: list[tuple[str, str]] = field(default_factory=list)
    held: int = 0  # messages kept for the end of quiet hours
    sent: int = 0
    failed: int = 0


def tell(
    loaded: LoadedProject,
    engine: Engine,
    sender: Sender,
    rules: dict[str, Alert],
    now: dt.datetime,
    run: AlertRun,
) -> None:
    """Send every message due: new alerts, and resolutions of alerts that were told."""
    project = loaded.project
    assert project is not None
    local = now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(project.timezone))
    with Session(engine) as session:
        untold = session.scalars(
            select(AlertEvent).where(AlertEvent.told_at.is_(None), AlertEvent.resolved_at.is_(None))
        ).all()
        unresolved = session.scalars(
            select(AlertEvent).where(
                AlertEvent.told_at.is_not(None),
                AlertEvent.resolved_at.is_not(None),
                AlertEvent.resolve_told_at.is_(None),
            )
        ).all()
        for alert, resolved in [*((a, False) for a in untold), *((a, True) for a in unresolved)]:
            rule = rules.get(alert.rule)
            if rule is None or alert.kpi not in project.kpis:
                continue
            if resolved and not rule.resolve:
                alert.resolve_told_at = now
                continue
            if quiet(rule.quiet_hours or project.quiet_hours, local):
                run.held += 1
                continue
            if alert.tried_at is not None and now - alert.tried_at < RETRY_EVERY:
                continue  # it failed a moment ago: not at every check of a busy server
            alert.tried_at = now
            outcome = _send(project, engine, sender, alert, rule, resolved)
            run.sent += outcome.count("sent")
            run.failed += outcome.count("failed")
            since = alert.resolved_at if resolved else alert.opened_at
            pending = "failed" in outcome or "in flight" in outcome
            if pending and since is not None and now - since < GIVE_UP:
                continue  # tried again later; what went out (or is going) is not resent
            if pending:
                log.warning("alert %s on %s: giving up on a message after a day", alert.rule,
                            alert.kpi)  # fmt: skip
            alert.tried_at = None  # told (or given up): the next message starts afresh
            if resolved:
                alert.resolve_told_at = now
            else:
                alert.told_at = now
        session.commit()


def _send(
    project: Project,
    engine: Engine,
    sender: Sender,
    alert: AlertEvent,
    rule: Alert,
    resolved: bool,
) -> list[str]:
    owner = project.kpis[alert.kpi].owner
    detail: dict[str, Any] = json.loads(alert.detail)
    if resolved and alert.resolved_detail:
        detail = {**detail, **json.loads(alert.resolved_detail)}
    period = alert.period
    outcomes = []
    made: dict[str, Any] = {}
    for recipient in recipients(rule.notify, project, engine, owner):
        if recipient.locale not in made:
            made[recipient.locale] = alert_message(
                project, alert.rule, rule, alert.kpi, period, detail, recipient.locale, resolved
            )
        key = f"alert:{alert.id}:{'resolved' if resolved else 'opened'}"
        outcomes.append(sender.send(key, recipient, made[recipient.locale]))
    return outcomes


def quiet(hours: QuietHours | None, local: dt.datetime) -> bool:
    """Whether `local` (the project's time) falls in quiet hours; they may span midnight."""
    if hours is None:
        return False
    start, end = _minutes(hours.from_), _minutes(hours.to)
    now = local.hour * 60 + local.minute
    if start <= end:
        return start <= now < end
    return now >= start or now < end


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
