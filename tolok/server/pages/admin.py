"""Admin: users and their roles, API tokens, share links, the audit log, and what tolok
sends: open alerts, schedules with their runs, and the delivery log."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.auth.accounts import list_users
from tolok.server.web import Context
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
    prefix: str
    by: str
    expires: str
    revoked: bool


class AuditRow(BaseModel):
    when: str
    actor: str
    action: str
    subject: str


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
    does: str
    every: str
    next: str
    last: str
    status: str
    note: str | None


class RuleRow(BaseModel):
    name: str
    source: str  # yaml | app
    made_by: str | None
    when: str
    kpis: str
    notify: str


class AlertRow(BaseModel):
    rule: str
    kpi: str
    since: str
    told: bool


class Created(BaseModel):
    """A secret made just now, shown once."""

    what: str
    secret: str


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
                    prefix=s.prefix,
                    by=emails.get(s.created_by, "?"),
                    expires=fmt.moment(s.expires_at),
                    revoked=s.revoked_at is not None,
                )
                for s in shares
            ],
            audit=[
                AuditRow(when=fmt.moment(e.at), actor=e.actor, action=e.action, subject=e.subject)
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
    from tolok.notify.schedule import has_app_rules, history, schedules_of

    zone = ZoneInfo(ctx.project.timezone)

    def local(moment: dt.datetime | None) -> str:
        if moment is None:
            return ctx.fmt.moment(None)
        return ctx.fmt.moment(moment.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None))

    runs = history(engine, 500)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out = []
    for name, schedule in schedules_of(ctx.project, has_app_rules(engine)).items():
        last = next((r for r in runs if r.schedule == name), None)
        out.append(ScheduleRow(
            name=name, does=schedule.do.value, every=schedule.every.value,
            next=local(next_due(schedule, now, ctx.project.timezone)),
            last=local(last.due_at if last else None), status=last.status if last else "",
            note=(last.error or last.note) if last else None,
        ))  # fmt: skip
    return out


def _alerts(ctx: Context, engine: Engine) -> list[AlertRow]:
    from tolok.notify.alerts import open_alerts

    return [
        AlertRow(rule=a.rule, kpi=a.kpi, since=ctx.fmt.moment(a.opened_at),
                 told=a.told_at is not None)
        for a in open_alerts(engine)
    ]  # fmt: skip


def _rules(ctx: Context, engine: Engine) -> list[RuleRow]:
    from tolok.notify.alerts import every_rule

    everything = ctx._("every active KPI")
    return [
        RuleRow(name=r.name, source=r.source, made_by=r.made_by, when=r.rule.when.value,
                kpis=", ".join(r.rule.kpis) or (f"goal {r.rule.goal}" if r.rule.goal else "")
                or (f"tag {r.rule.tag}" if r.rule.tag else "")
                or (f"owner {r.rule.owner}" if r.rule.owner else everything),
                notify=", ".join(r.rule.notify))
        for r in every_rule(ctx.project, engine)
    ]  # fmt: skip
