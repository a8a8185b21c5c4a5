"""Accounts, API tokens, share links and sign-in sessions kept in the store. Every change
goes to the audit log: who, what, when, before and after (never a secret or its hash)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tolok.auth.keys import digest, new_secret, password
from tolok.auth.passwords import DECOY, hash_password, needs_rehash, verify_password
from tolok.auth.roles import Action, Role, can
from tolok.store.people import ApiToken, ShareLink, TeamMember, User, WebSession
from tolok.store.schema import AuditEntry

SESSION_DAYS = 14
LAST_USED_EVERY = dt.timedelta(minutes=1)
"""A token's `last_used_at` is written at most this often: not a store write per request."""


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def audit(session: Session, actor: str, action: str, subject: str, before: object = None,
          after: object = None) -> None:  # fmt: skip
    session.add(
        AuditEntry(
            at=now(),
            actor=actor,
            action=action,
            subject=subject,
            before=None if before is None else json.dumps(before, ensure_ascii=False),
            after=None if after is None else json.dumps(after, ensure_ascii=False),
        )
    )


def _public(user: User) -> dict[str, object]:
    return {"email": user.email, "name": user.name, "role": user.role, "disabled": user.disabled}


# --- users ---------------------------------------------------------------------------------


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def add_user(
    session: Session, email: str, name: str, role: Role | str, actor: str, secret: str | None = None
) -> tuple[User, str]:
    """A new account and its password (given, or generated to be shown once)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise AccountError(f"'{email}' is not an e-mail address")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"unknown role '{role}': use viewer, editor or admin") from None
    if find_user(session, email) is not None:
        raise AccountError(f"{email} already has an account")
    secret = secret or password()
    user = User(
        email=email,
        name=name.strip() or email.split("@")[0],
        role=role.value,
        password_hash=hash_password(secret),
        disabled=False,
        created_at=now(),
        password_set_at=now(),
    )
    session.add(user)
    session.flush()
    audit(session, actor, "user.add", f"user:{email}", None, _public(user))
    return user, secret


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def set_disabled(session: Session, email: str, disabled: bool, actor: str) -> User:
    """A disabled user's sessions end; their tokens are refused while the account is
    disabled (`verify_token`) and work again if it is enabled."""
    user = _existing(session, email)
    before = _public(user)
    user.disabled = disabled
    after: dict[str, object] = _public(user)
    if disabled:  # signed-in browsers and tokens stop working at once
        after["sessions_ended"] = _end_sessions(session, user)
    audit(session, actor, "user.disable" if disabled else "user.enable", f"user:{user.email}",
          before, after)  # fmt: skip
    return user


def set_role(session: Session, email: str, role: Role | str, actor: str) -> User:
    user = _existing(session, email)
    before = _public(user)
    user.role = Role(role).value
    audit(session, actor, "user.role", f"user:{user.email}", before, _public(user))
    return user


@dataclass(frozen=True)
class PasswordReset:
    secret: str  # the new password, to be shown once
    tokens_revoked: int
    sessions_ended: int


def reset_password(
    session: Session, email: str, actor: str, secret: str | None = None
) -> PasswordReset:
    """A new password; whoever held the old one may have made tokens or be signed in, so
    the user's API tokens are revoked and their sessions ended too."""
    user = _existing(session, email)
    secret = secret or password()
    user.password_hash = hash_password(secret)
    user.password_set_at = now()
    moment = now()
    tokens = list(session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))  # fmt: skip
    for token in tokens:
        token.revoked_at = moment
    ended = _end_sessions(session, user)
    audit(session, actor, "user.reset_password", f"user:{user.email}", None,
          {"tokens_revoked": [t.id for t in tokens], "sessions_ended": ended})  # fmt: skip
    return PasswordReset(secret, len(tokens), ended)


def _end_sessions(session: Session, user: User) -> int:
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]


def _existing(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise AccountError(f"no account for {email.strip().lower()}")
    return user


def authenticate(session: Session, email: str, secret: str) -> User | None:
    """The enabled account with this e-mail and password, else None (in the same time)."""
    user = find_user(session, email)
    if user is None:
        verify_password(DECOY, secret)
        return None
    if not verify_password(user.password_hash, secret) or user.disabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(secret)
    return user


FIRST_ADMIN = "admin@localhost"


def first_admin(session: Session) -> tuple[str, str] | None:
    """When no enabled admin exists (a new store, or only accounts added from the terminal
    as viewers or editors): `admin@localhost`, and the password to print once."""
    admins = select(func.count()).select_from(User).where(User.role == Role.admin.value)
    if session.scalar(admins.where(User.disabled.is_(False))):
        return None
    existing = find_user(session, FIRST_ADMIN)
    if existing is not None:
        set_role(session, FIRST_ADMIN, Role.admin, "tolok serve")
        set_disabled(session, FIRST_ADMIN, False, "tolok serve")
        return FIRST_ADMIN, reset_password(session, FIRST_ADMIN, "tolok serve").secret
    user, secret = add_user(session, FIRST_ADMIN, "Admin", Role.admin, "tolok serve")
    return user.email, secret


def teams_of(session: Session, user: User) -> set[str]:
    return set(session.scalars(select(TeamMember.team).where(TeamMember.user_id == user.id)))


def join_team(session: Session, email: str, team: str, actor: str) -> None:
    user = _existing(session, email)
    if team not in teams_of(session, user):
        session.add(TeamMember(team=team, user_id=user.id))
        audit(session, actor, "team.join", f"team:{team}", None, {"member": user.email})


# --- API tokens ----------------------------------------------------------------------------


def create_token(
    session: Session, user: User, name: str, scopes: list[str]
) -> tuple[ApiToken, str]:
    secret, prefix, hashed = new_secret("tlk")
    token = ApiToken(
        user_id=user.id, name=name, prefix=prefix, token_hash=hashed, scopes=" ".join(scopes),
        created_at=now(),
    )  # fmt: skip
    session.add(token)
    session.flush()
    audit(session, user.email, "token.create", f"token:{token.id}", None,
          {"name": name, "scopes": scopes, "prefix": prefix})  # fmt: skip
    return token, secret


@dataclass(frozen=True)
class Bearer:
    user: User
    scopes: list[str]
    token_id: int


def verify_token(session: Session, secret: str) -> Bearer | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or user.disabled:
        return None
    moment = now()
    if token.last_used_at is None or moment - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = moment
    return Bearer(user, token.scopes.split(), token.id)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def revoke_token(session: Session, token_id: int, actor: User, admin: bool) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not admin):
        raise AccountError(f"no token {token_id} of yours")
    if token.revoked_at is None:
        token.revoked_at = now()
        audit(session, actor.email, "token.revoke", f"token:{token.id}")
    return token


# --- share links ---------------------------------------------------------------------------


def create_share(
    session: Session, user: User, kind: str, target: str, expires_at: dt.datetime | None,
    embed: str | None = None,
) -> tuple[ShareLink, str]:  # fmt: skip
    """A share link to a KPI, a goal or the board; with `embed` (card, chart, board), an
    embed of it for another site's frame (see `tolok.server.embeds`)."""
    if kind not in ("kpi", "goal", "board"):
        raise AccountError(f"a share link is to a kpi, a goal or the board, not '{kind}'")
    secret, prefix, hashed = new_secret("shr")
    link = ShareLink(
        token_hash=hashed, prefix=prefix, kind=kind, target=target if kind != "board" else "",
        created_by=user.id, created_at=now(), expires_at=expires_at, embed=embed,
    )  # fmt: skip
    session.add(link)
    session.flush()
    audit(session, user.email, "share.create", f"share:{link.id}", None,
          {"kind": kind, "target": link.target, "embed": embed,
           "expires_at": expires_at.isoformat() if expires_at else None})  # fmt: skip
    return link, secret


def resolve_share(session: Session, secret: str) -> ShareLink | None:
    link = session.scalar(select(ShareLink).where(ShareLink.token_hash == digest(secret)))
    if link is None or link.revoked_at is not None:
        return None
    if link.expires_at is not None and link.expires_at <= now():
        return None
    creator = session.get(User, link.created_by)
    if creator is None or creator.disabled or not can(creator.role, Action.share):
        return None  # a link lives only as long as its creator may share
    return link


def revoke_share(session: Session, link_id: int, actor: User, admin: bool) -> ShareLink:
    link = session.get(ShareLink, link_id)
    if link is None or (link.created_by != actor.id and not admin):
        raise AccountError(f"no share link {link_id} of yours")
    if link.revoked_at is None:
        link.revoked_at = now()
        audit(session, actor.email, "share.revoke", f"share:{link.id}")
    return link


# --- sign-in sessions ----------------------------------------------------------------------


def start_session(session: Session, user: User) -> tuple[str, str]:
    """A new signed-in session: the cookie's secret and the CSRF token of its forms."""
    secret, _, hashed = new_secret("ses")
    csrf = new_secret("csrf")[0]
    session.execute(delete(WebSession).where(WebSession.expires_at <= now()))  # swept here
    session.add(
        WebSession(
            token_hash=hashed, user_id=user.id, csrf=csrf, created_at=now(),
            expires_at=now() + dt.timedelta(days=SESSION_DAYS),
        )
    )  # fmt: skip
    return secret, csrf


def resolve_session(session: Session, secret: str) -> tuple[User, WebSession] | None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == digest(secret)))
    if web is None or web.expires_at <= now():
        return None
    user = session.get(User, web.user_id)
    if user is None or user.disabled:
        return None
    return user, web


def end_session(session: Session, secret: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == digest(secret)))
    if web is not None:
        session.delete(web)
