"""Checking alert rules: open an alert when a rule's condition starts to hold for a KPI,
resolve it when it stops, and tell people once each time (held through quiet hours).

An open alert is one row with `open_key` set, unique in the store: two checks at once (the
server's and a cron job's) cannot both open it, and a rule keeps quiet until it resolves.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok import clock
from tolok.notify.conditions import Facts, Seen, VolumeOf, look
from tolok.notify.recipients import selected
from tolok.notify.telling import AlertRun as AlertRun
from tolok.notify.telling import tell
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project
from tolok.spec.sharing import Alert, AlertWhen
from tolok.store.sharing import AlertEvent, AlertRule

if TYPE_CHECKING:
    from tolok.notify.channels import Sender

log = logging.getLogger("tolok.notify")
SEP = "\x1f"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def rules_of(project: Project, engine: Engine) -> dict[str, Alert]:
    """The rules in tolok.yaml and those made in the app (a YAML rule wins a name clash)."""
    found = dict(project.alerts)
    with Session(engine) as session:
        for row in session.scalars(select(AlertRule).order_by(AlertRule.id)):
            rule = parsed(row)
            if row.name not in found and rule is not None:
                found[row.name] = rule
    return found


def parsed(row: AlertRule) -> Alert | None:
    """A rule made in the app, read back; None (with a warning) when it no longer validates
    (a newer tolok may have changed the language)."""
    try:
        return Alert.model_validate(json.loads(row.definition))
    except (ValidationError, ValueError):
        log.warning("alert rule %s in the store no longer validates: skipped", row.name)
        return None


def check_alerts(
    loaded: LoadedProject,
    engine: Engine,
    sender: Sender,
    now: dt.datetime | None = None,
    volume: VolumeOf | None = None,
) -> AlertRun:
    """Look at every rule and KPI now (UTC, naive), open and resolve alerts, send what is due."""
    from tolok.answers.verdicts import kpi_states

    project = loaded.project
    assert project is not None
    given = now is not None
    now = now or utc_now()
    local = now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(project.timezone))
    today = local.date() if given else clock.today(project)  # a pinned clock (TOLOK_TODAY)
    rules = rules_of(project, engine)
    run = AlertRun()
    looked: set[tuple[str, str]] = set()
    if rules:
        states = kpi_states(loaded, today)
        facts = _facts(loaded, engine, today, volume)
        for rule_name, rule in rules.items():
            for kpi_name in selected(project, rule):
                state = states.get(kpi_name)
                if state is None:
                    continue
                looked.add((rule_name, kpi_name))
                seen = look(rule, kpi_name, project.kpis[kpi_name], state, facts)
                _record(engine, rule_name, rule, kpi_name, seen, now, run)
    _close_unwatched(engine, looked, now)
    tell(loaded, engine, sender, rules, now, run)
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
    engine: Engine, name: str, rule: Alert, kpi: str, seen: Seen, now: dt.datetime, run: AlertRun
) -> None:
    key = f"{name}{SEP}{kpi}"
    with Session(engine) as session:
        current = session.scalars(select(AlertEvent).where(AlertEvent.open_key == key)).first()
        if current is not None and seen.holds and _worsened(rule, current, seen):
            # At risk, then off track: the open alert gives way to a new one, told anew.
            current.open_key, current.resolved_at, current.resolve_told_at = None, now, now
            session.commit()
            current = None
        if seen.holds and current is None:
            session.add(AlertEvent(
                rule=name, kpi=kpi, open_key=key, period=seen.period,
                detail=json.dumps(seen.detail, default=str), opened_at=now,
            ))  # fmt: skip
            try:
                session.commit()
            except IntegrityError:
                return  # another check opened it a moment ago
            run.opened.append((name, kpi))
        elif not seen.holds and current is not None:
            current.open_key = None
            current.resolved_at = now
            current.resolved_detail = json.dumps(seen.detail, default=str)
            session.commit()
            run.resolved.append((name, kpi))


def _worsened(rule: Alert, current: AlertEvent, seen: Seen) -> bool:
    """A status rule whose KPI went from at risk to off track while its alert was open: worse,
    and told anew. Back to at risk is not news (the alert stays open, quietly), so a value
    hovering at a threshold sends one message, not one per check."""
    if rule.when is not AlertWhen.status:
        return False
    was = json.loads(current.detail).get("status")
    return bool(was == "at_risk" and seen.detail.get("status") == "off_track")


def _close_unwatched(engine: Engine, looked: set[tuple[str, str]], now: dt.datetime) -> None:
    """Alerts nobody watches any more close without a message: their rule was removed, or
    their KPI was removed, retired or left out of the rule's selection."""
    with Session(engine) as session:
        for alert in session.scalars(select(AlertEvent).where(AlertEvent.open_key.is_not(None))):
            if (alert.rule, alert.kpi) not in looked:
                alert.open_key, alert.resolved_at, alert.resolve_told_at = None, now, now
        session.commit()


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
            rule = parsed(row)
            if rule is not None:
                out.append((row.name, rule))
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
            rule = parsed(row)
            if row.name not in project.alerts and rule is not None:
                out.append(RuleListing(row.name, rule, "app", email))
    return out
