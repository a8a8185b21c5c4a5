"""Admin: users and their roles, API tokens, share links and the audit log."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.auth.accounts import list_users
from tolok.server.web import Context
from tolok.store.people import ApiToken, ShareLink, User
from tolok.store.schema import AuditEntry

AUDIT = 100  # latest entries shown


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


class Created(BaseModel):
    """A secret made just now, shown once."""

    what: str
    secret: str


class AdminPage(BaseModel):
    users: list[UserRow]
    tokens: list[TokenRow]
    shares: list[ShareRow]
    audit: list[AuditRow]
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
