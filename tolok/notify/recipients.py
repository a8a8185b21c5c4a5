"""Who a rule or schedule reaches: channel names, `owner` and plain addresses turned into
recipients, each with the language they read (their own setting, else the channel's, else
the project's)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.notify.messages import Recipient, Way
from tolok.spec.check_sharing import OWNER
from tolok.spec.models import Project, Status
from tolok.spec.sharing import Channel, Selection, WebhookFormat, is_email
from tolok.store.people import TeamMember, User


def recipients(
    names: Iterable[str], project: Project, engine: Engine, owner: str | None = None
) -> list[Recipient]:
    """The recipients `names` stand for, each once (`owner`: the owner given, when it is an
    e-mail address). A webhook's secret is read from its environment variable now."""
    people = _people(engine)
    out: dict[tuple[Way, str], Recipient] = {}
    for name in names:
        for found in _expand(name, project, engine, people, owner):
            out.setdefault((found.way, found.address), found)
    return list(out.values())


def _expand(
    name: str,
    project: Project,
    engine: Engine,
    people: dict[str, tuple[str | None, str, bool]],
    owner: str | None,
) -> list[Recipient]:
    default = project.locale.value
    if name == OWNER:
        if owner is None or not is_email(owner):
            return []
        return _person(owner.lower(), OWNER, people, default)
    if is_email(name):
        return _person(name.lower(), name.lower(), people, default)
    channel = project.channels.get(name)
    if channel is None:
        return []
    fallback = channel.locale.value if channel.locale else default
    if channel.webhook is not None:
        return [_webhook(name, channel, fallback)]
    if channel.team is not None:
        members = _team(engine, channel.team)
        return [r for email in members for r in _person(email, name, people, fallback)]
    return [r for email in channel.email for r in _person(email, name, people, fallback)]


def _person(
    email: str, channel: str, people: dict[str, tuple[str | None, str, bool]], fallback: str
) -> list[Recipient]:
    locale, person, disabled = people.get(email, (None, "", False))
    if disabled:
        return []  # a disabled account hears nothing
    return [Recipient(channel, Way.email, email, locale or fallback, name=person or None)]


def _webhook(name: str, channel: Channel, locale: str) -> Recipient:
    assert channel.webhook is not None
    way = Way.signed if channel.format is WebhookFormat.signed else Way.slack
    secret = os.environ.get(channel.secret_env) if channel.secret_env else None
    return Recipient(name, way, channel.webhook, locale, secret=secret)


def _people(engine: Engine) -> dict[str, tuple[str | None, str, bool]]:
    with Session(engine) as session:
        rows = session.execute(select(User.email, User.locale, User.name, User.disabled))
        return {email: (locale, name, bool(disabled)) for email, locale, name, disabled in rows}


def _team(engine: Engine, team: str) -> list[str]:
    query = (
        select(User.email)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team == team, User.disabled.is_(False))
        .order_by(User.email)
    )
    with Session(engine) as session:
        return list(session.scalars(query))


def selected(project: Project, selection: Selection) -> list[str]:
    """The active KPIs a selection names, in the project's order."""
    goals: set[str] | None = None
    if selection.goal is not None:
        goals = {selection.goal}
        grew = True
        while grew:  # the goal and every goal under it
            more = {n for n, g in project.goals.items() if g.parent in goals} - goals
            goals |= more
            grew = bool(more)
    out = []
    for name, kpi in project.kpis.items():
        if kpi.status is not Status.active:
            continue
        if selection.kpis and name not in selection.kpis:
            continue
        if goals is not None and kpi.goal not in goals:
            continue
        if selection.tag is not None and selection.tag not in kpi.tags:
            continue
        if selection.owner is not None and (kpi.owner or "").lower() != selection.owner:
            continue
        out.append(name)
    return out
