"""Checking alert rules: open an alert when a rule's condition starts to hold for a KPI,
resolve it when it stops, and tell people once each time (held through quiet hours).

An open alert is one row with `open_key` set, unique in the store: two checks at once (the
server's and a cron job's) cannot both open it, and a rule keeps quiet until it resolves.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.notify.alert_text import alert_message
from tolok.notify.conditions import Facts, Seen, VolumeOf, look
from tolok.notify.recipients import recipients, selected
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project
from tolok.spec.sharing import Alert, QuietHours
from tolok.store.sharing import AlertEvent, AlertRule

if TYPE_CHECKING:
    from tolok.notify.channels import Sender

log = logging.getLogger("tolok.notify")
SEP = "\x1f"


@dataclass
class AlertRun:
    """What one check did, for the log and the command line."""

    opened: list[tuple[str, str]] = field(default_factory=list)  # (rule, KPI)
    resolved: list[tuple[str, str]] = field(default_factory=list)
    held: int = 0  # messages kept for the end of quiet hours
    sent: int = 0
    failed: int = 0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def rules_of(project: Project, engine: Engine) -> dict[str, Alert]:
    """The rules in tolok.yaml and those made in the app (a YAML rule wins a name clash)."""
    found = dict(project.alerts)
    with Session(engine) as session:
        for row in session.scalars(select(AlertRule).order_by(AlertRule.id)):
            if row.name in found:
                continue
            try:
                found[row.name] = Alert.model_validate(json.loads(row.definition))
            except (ValidationError, ValueError):
                log.warning("alert rule %s in the store no longer validates: skipped", row.name)
    return found


def check_alerts(
    loaded: LoadedProject,
    engine: Engine,
    sender: Sender,
    now: dt.datetime | None = None,
    volume: VolumeOf | None = None,
) -> AlertRun:
    """Look at every rule and KPI now (UTC, naive), open and resolve alerts, send what is due."""
    from tolok.views import kpi_states

    project = loaded.project
    assert project is not None
    now = now or utc_now()
    local = now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(project.timezone))
    rules = rules_of(project, engine)
    run = AlertRun()
    if rules:
        states = kpi_states(loaded, local.date())
        facts = _facts(loaded, engine, local.date(), volume)
        for rule_name, rule in rules.items():
            for kpi_name in selected(project, rule):
                state = states.get(kpi_name)
                if state is None:
                    continue
                seen = look(rule, kpi_name, project.kpis[kpi_name], state, facts)
                _record(engine, rule_name, kpi_name, seen, now, run)
    _forget_removed(engine, set(rules), now)
    _tell(loaded, engine, sender, rules, now, local, run)
    return run


def _facts(loaded: LoadedProject, engine: Engine, today: dt.date, volume: VolumeOf | None) -> Facts:
    from tolok.notify.freshness import kpi_datasets, newest_days

    project = loaded.project
    assert project is not None
    calendar = Calendar.of(project)
    return Facts(
        calendar,
        today,
        newest_days(engine, project, calendar),
        kpi_datasets(project, calendar),
        volume or (lambda kpi, name, period: None),
    )


def _record(
    engine: Engine, rule: str, kpi: str, seen: Seen, now: dt.datetime, run: AlertRun
) -> None:
    key = f"{rule}{SEP}{kpi}"
    with Session(engine) as session:
        current = session.scalars(select(AlertEvent).where(AlertEvent.open_key == key)).first()
        if seen.holds and current is None:
            session.add(AlertEvent(
                rule=rule, kpi=kpi, open_key=key, period=seen.period,
                detail=json.dumps(seen.detail, default=str), opened_at=now,
            ))  # fmt: skip
            try:
                session.commit()
            except IntegrityError:
                return  # another check opened it a moment ago
            run.opened.append((rule, kpi))
        elif not seen.holds and current is not None:
            current.open_key = None
            current.resolved_at = now
            current.resolved_detail = json.dumps(seen.detail, default=str)
            session.commit()
            run.resolved.append((rule, kpi))


def _forget_removed(engine: Engine, rules: set[str], now: dt.datetime) -> None:
    """Alerts of a rule that no longer exists close without a message."""
    with Session(engine) as session:
        stale = session.scalars(select(AlertEvent).where(AlertEvent.open_key.is_not(None)))
        for alert in stale:
            if alert.rule not in rules:
                alert.open_key, alert.resolved_at, alert.resolve_told_at = None, now, now
        session.commit()


def _tell(
    loaded: LoadedProject,
    engine: Engine,
    sender: Sender,
    rules: dict[str, Alert],
    now: dt.datetime,
    local: dt.datetime,
    run: AlertRun,
) -> None:
    """Send every message due: new alerts, and resolutions of alerts that were told."""
    project = loaded.project
    assert project is not None
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
            outcome = _send(project, engine, sender, alert, rule, resolved)
            run.sent += outcome.count("sent")
            run.failed += outcome.count("failed")
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


def open_alerts(engine: Engine) -> list[AlertEvent]:
    with Session(engine) as session:
        query = select(AlertEvent).where(AlertEvent.open_key.is_not(None))
        return list(session.scalars(query.order_by(AlertEvent.opened_at)))


def rules_made_by(engine: Engine, user_id: int) -> list[tuple[str, Alert]]:
    """The rules a person made in the app (their subscriptions), oldest first."""
    out = []
    with Session(engine) as session:
        query = select(AlertRule).where(AlertRule.created_by == user_id).order_by(AlertRule.id)
        for row in session.scalars(query):
            try:
                out.append((row.name, Alert.model_validate(json.loads(row.definition))))
            except (ValidationError, ValueError):
                continue
    return out


def remove_rule(engine: Engine, name: str, user_id: int | None = None) -> bool:
    """Remove a rule made in the app (only `user_id`'s when given); its open alerts close
    without a message at the next check."""
    from sqlalchemy import delete

    condition = [AlertRule.name == name]
    if user_id is not None:
        condition.append(AlertRule.created_by == user_id)
    with Session(engine) as session, session.begin():
        done = session.execute(delete(AlertRule).where(*condition))
    return bool(getattr(done, "rowcount", 0))


@dataclass(frozen=True)
class RuleListing:
    name: str
    rule: Alert
    source: str  # yaml | app
    made_by: str | None  # the e-mail of who made an app rule


def every_rule(project: Project, engine: Engine) -> list[RuleListing]:
    """The rules of tolok.yaml, then those made in the app with who made them."""
    from tolok.store.people import User

    out = [RuleListing(n, r, "yaml", None) for n, r in project.alerts.items()]
    with Session(engine) as session:
        query = (
            select(AlertRule, User.email)
            .join(User, User.id == AlertRule.created_by, isouter=True)
            .order_by(AlertRule.id)
        )
        for row, email in session.execute(query):
            if row.name in project.alerts:
                continue
            try:
                rule = Alert.model_validate(json.loads(row.definition))
            except (ValidationError, ValueError):
                continue
            out.append(RuleListing(row.name, rule, "app", email))
    return out
