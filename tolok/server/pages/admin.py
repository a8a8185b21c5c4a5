"""Admin: users and their roles, API tokens, share links, the audit log, and what tolok
sends: open alerts, schedules with their runs, and the delivery log."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.auth.accounts import list_users
from tolok.server.web import Context
from tolok.spec.sharing import Alert
from tolok.store.people import ApiToken, ShareLink, User
from tolok.store.schema import AuditEntry

AUDIT = 100  # latest entries shown
DELIVERIES = 100


class UserRow(BaseModel):
    email: str
    name: str
    role: str
    disabled: bool
    created: str


class TokenRow(BaseModel):
    id: int
    owner: str
    name: str
    prefix: str
    scopes: str
    last_used: str
    revoked: bool


class ShareRow(BaseModel):
    id: int
    kind: str
    target: str
    what: str  # `kind` and `target` in words: "KPI Revenue"
    embed: str | None  # card, chart, board: an embed (None: a page)
    shown_as: str  # how it shows, in words: "share page", "embedded chart"
    prefix: str
    by: str
    expires: str
    revoked: bool


class AuditRow(BaseModel):
    when: str
    actor: str
    action: str
    said: str  # `action` in words: "created a share link"
    subject: str
    subject_text: str  # `subject` in words: "share link 3"


class DeliveryRow(BaseModel):
    when: str
    kind: str
    channel: str
    address: str
    subject: str
    status: str
    attempts: int
    error: str | None


class ScheduleRow(BaseModel):
    name: str
    name_text: str  # the schedule tolok adds by itself, in words
    does: str
    does_text: str  # `does` in words
    every: str
    every_text: str  # `every` in words
    next: str
    last: str
    status: str
    note: str | None


class RuleRow(BaseModel):
    name: str
    source: str  # yaml | app
    made_by: str | None
    when: str
    when_text: str  # `when` in words
    kpis: str
    kpis_text: str  # `kpis` in words, by their titles
    notify: str


class AlertRow(BaseModel):
    rule: str
    kpi: str
    kpi_title: str
    since: str
    told: bool


class Created(BaseModel):
    """A secret made just now, shown once."""

    what: str
    secret: str
    snippet: str | None = None  # an embed's <iframe>, to paste into a page


class AdminPage(BaseModel):
    users: list[UserRow]
    tokens: list[TokenRow]
    shares: list[ShareRow]
    audit: list[AuditRow]
    deliveries: list[DeliveryRow]
    schedules: list[ScheduleRow]
    alerts: list[AlertRow]
    rules: list[RuleRow]
    kpis: list[tuple[str, str]]
    goals: list[tuple[str, str]]
    created: Created | None


def data(ctx: Context, engine: Engine, created: Created | None) -> AdminPage:
    fmt = ctx.fmt
    with Session(engine) as session:
        users = list_users(session)
        emails = {u.id: u.email for u in users}
        tokens = session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
        shares = session.scalars(select(ShareLink).order_by(ShareLink.id.desc()))
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT))
        return AdminPage(
            users=[_user(ctx, u) for u in users],
            tokens=[
                TokenRow(
                    id=t.id,
                    owner=emails.get(t.user_id, "?"),
                    name=t.name,
                    prefix=t.prefix,
                    scopes=t.scopes,
                    last_used=fmt.moment(t.last_used_at),
                    revoked=t.revoked_at is not None,
                )
                for t in tokens
            ],
            shares=[
                ShareRow(
                    id=s.id,
                    kind=s.kind,
                    target=s.target,
                    what=_shared(ctx, s.kind, s.target),
                    embed=s.embed,
                    shown_as=_shown_as(ctx, s.embed),
                    prefix=s.prefix,
                    by=emails.get(s.created_by, "?"),
                    expires=fmt.moment(s.expires_at),
                    revoked=s.revoked_at is not None,
                )
                for s in shares
            ],
            audit=[
                AuditRow(
                    when=fmt.moment(e.at),
                    actor=e.actor,
                    action=e.action,
                    said=audit_words(ctx._).get(e.action, e.action),
                    subject=e.subject,
                    subject_text=_subject(ctx, e.subject),
                )
                for e in entries
            ],
            deliveries=_deliveries(ctx, engine),
            schedules=_schedules(ctx, engine),
            alerts=_alerts(ctx, engine),
            rules=_rules(ctx, engine),
            kpis=[(n, k.title or n) for n, k in ctx.project.kpis.items()],
            goals=[(n, g.title) for n, g in ctx.project.goals.items()],
            created=created,
        )


def _user(ctx: Context, user: User) -> UserRow:
    return UserRow(
        email=user.email,
        name=user.name,
        role=user.role,
        disabled=user.disabled,
        created=ctx.fmt.day(user.created_at.date()),
    )


def _deliveries(ctx: Context, engine: Engine) -> list[DeliveryRow]:
    from tolok.notify.channels import delivery_log

    return [
        DeliveryRow(when=ctx.fmt.moment(d.created_at), kind=d.kind, channel=d.channel,
                    address=d.address, subject=d.subject, status=d.status,
                    attempts=d.attempts, error=d.error)
        for d in delivery_log(engine, DELIVERIES)
    ]  # fmt: skip


def _schedules(ctx: Context, engine: Engine) -> list[ScheduleRow]:
    """Each schedule with its next time and its newest run (times in the project's zone)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from tolok.notify.clock import next_due
    from tolok.notify.schedule import (
        IMPLICIT_ALERTS,
        has_app_rules,
        history,
        note_text,
        schedules_of,
    )

    zone = ZoneInfo(ctx.project.timezone)

    def local(moment: dt.datetime | None) -> str:
        if moment is None:
            return ctx.fmt.moment(None)
        return ctx.fmt.moment(moment.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None))

    runs = history(engine, 500)
    _ = ctx._
    jobs = {"refresh": _("refresh the data"), "alerts": _("check the alerts"),
            "digest": _("send a digest"), "report": _("send a report")}  # fmt: skip
    names = {IMPLICIT_ALERTS: _("alert checks")}  # the schedule tolok adds by itself
    every = {"hour": _("every hour"), "day": _("every day"), "week": _("every week"),
             "month": _("every month")}  # fmt: skip
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out = []
    for name, schedule in schedules_of(ctx.project, has_app_rules(engine)).items():
        last = next((r for r in runs if r.schedule == name), None)
        out.append(ScheduleRow(
            name=name, name_text=names.get(name, name),
            does=schedule.do.value, does_text=jobs[schedule.do.value],
            every=schedule.every.value, every_text=every[schedule.every.value],
            next=local(next_due(schedule, now, ctx.project.timezone)),
            last=local(last.due_at if last else None), status=last.status if last else "",
            note=note_text(last.error or last.note, ctx.lang) if last else None,
        ))  # fmt: skip
    return out


def _alerts(ctx: Context, engine: Engine) -> list[AlertRow]:
    from tolok.notify.alerts import open_alerts

    return [
        AlertRow(rule=a.rule, kpi=a.kpi, kpi_title=_kpi_title(ctx, a.kpi),
                 since=ctx.fmt.moment(a.opened_at),
                 told=a.told_at is not None)
        for a in open_alerts(engine)
    ]  # fmt: skip


def _rules(ctx: Context, engine: Engine) -> list[RuleRow]:
    from tolok.notify.alerts import every_rule

    _ = ctx._
    goals = ctx.project.goals
    everything = _("every active KPI")
    when = {"status": _("the status changes"), "threshold": _("the value crosses a line"),
            "change": _("the value moves sharply"), "anomaly": _("the value is unusual"),
            "target_reached": _("the target is reached"),
            "stale": _("no new data comes")}  # fmt: skip

    def kpis(rule: Alert) -> str:
        if rule.kpis:
            return ", ".join(_kpi_title(ctx, n) for n in rule.kpis)
        if rule.goal:
            goal = goals[rule.goal].title if rule.goal in goals else rule.goal
            return _("KPIs of the goal {goal}", goal=goal)
        if rule.tag:
            return _("KPIs tagged {tag}", tag=rule.tag)
        if rule.owner:
            return _("KPIs owned by {owner}", owner=rule.owner)
        return everything

    return [
        RuleRow(name=r.name, source=r.source, made_by=r.made_by, when=r.rule.when.value,
                when_text=when.get(r.rule.when.value, r.rule.when.value),
                kpis=", ".join(r.rule.kpis) or (f"goal {r.rule.goal}" if r.rule.goal else "")
                or (f"tag {r.rule.tag}" if r.rule.tag else "")
                or (f"owner {r.rule.owner}" if r.rule.owner else everything),
                kpis_text=kpis(r.rule),
                notify=", ".join(r.rule.notify))
        for r in every_rule(ctx.project, engine)
    ]  # fmt: skip


def _kpi_title(ctx: Context, name: str) -> str:
    kpi = ctx.project.kpis.get(name)
    return (kpi.title or name) if kpi else name


def _shown_as(ctx: Context, embed: str | None) -> str:
    """How a share link shows what it names: its own page, or an embed of one view."""
    _ = ctx._
    words = {"card": _("embedded card"), "chart": _("embedded chart"),
             "board": _("embedded board")}  # fmt: skip
    return words.get(embed or "", _("share page"))


def _shared(ctx: Context, kind: str, target: str) -> str:
    """What a share link shows, in words: the board, or a KPI or goal by its title."""
    _ = ctx._
    if kind == "kpi":
        return _("KPI {title}", title=_kpi_title(ctx, target))
    if kind == "goal":
        goal = ctx.project.goals.get(target)
        return _("Goal {title}", title=goal.title if goal else target)
    return _("the board")


def _subject(ctx: Context, subject: str) -> str:
    """An audit entry's subject (`share:3`, `user:a@b.c`, `team:sales`) in words."""
    kind, _sep, which = subject.partition(":")
    if not which:  # a definition's: `kpis revenue`, `alerts big-spend` (see api_definitions)
        kind, _sep, which = subject.partition(" ")
    words = {"share": ctx._("share link {which}", which=which),
             "token": ctx._("API token {which}", which=which),
             "team": ctx._("team {which}", which=which), "user": which,
             "kpis": ctx._("KPI {which}", which=which),
             "datasets": ctx._("dataset {which}", which=which),
             "goals": ctx._("goal {which}", which=which),
             "alerts": ctx._("alert rule {which}", which=which),
             "schedules": ctx._("schedule {which}", which=which)}  # fmt: skip
    return words.get(kind, subject) if which else subject


def audit_words(_: Callable[..., str]) -> dict[str, str]:
    """What an audit entry's action did, in words a manager reads."""
    return {
        "user.add": _("added a user"), "user.disable": _("disabled a user"),
        "user.enable": _("enabled a user"), "user.role": _("changed a user's role"),
        "user.reset_password": _("reset a password"), "team.join": _("added a team member"),
        "token.create": _("created an API token"), "token.revoke": _("revoked an API token"),
        "share.create": _("created a share link"), "share.revoke": _("revoked a share link"),
        "comment.add": _("added a comment"), "annotation.add": _("recorded a change"),
        "target.set": _("set a target"), "manual_value.enter": _("entered a value"),
        "manual_value.edit": _("corrected a value"),
        "definition.created": _("created a definition"),
        "definition.changed": _("changed a definition"),
        "definition.retired": _("retired a definition"),
        "definition.deleted": _("deleted a definition"),
        "signin.sso": _("signed in through single sign-on"),
        "team.leave": _("removed a team member"),
    }  # fmt: skip
