"""Who uses a tolok server: accounts, teams, API tokens, share links, sign-in sessions, and
the comments people leave on KPIs. Secrets are never kept: only their SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tolok.store.schema import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # viewer, editor, admin
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_set_at: Mapped[dt.datetime] = mapped_column(DateTime)
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)  # None: the project's


class TeamMember(Base):
    """A user in a team; a KPI whose owner is the team can be edited by its members."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str] = mapped_column(String(200), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20))  # shown in lists: tlk_ab12…
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(1000))  # space separated: read write ingest:D
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ShareLink(Base):
    """A read-only link to one KPI, one goal or the whole board: a page of its own (`/s/…`),
    or, with `embed` set, a view made for another site's `<iframe>` (`/e/…`)."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # kpi, goal, board
    target: Mapped[str] = mapped_column(String(200))  # the KPI or goal; "" for the board
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    embed: Mapped[str | None] = mapped_column(String(10), nullable=True)
    """How an embed shows what it names: `card` or `chart` (a KPI), `board`; None for a
    share link's page. A link answers at one address only: a page's at /s/, an embed's at /e/."""


class WebSession(Base):
    """A signed-in browser: the cookie holds the secret, the store its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(200), index=True)
    period: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class IdempotencyKey(Base):
    """An `Idempotency-Key` a user sent with rows, the request it stood for (the dataset
    and the SHA-256 of the body) and the answer it got: a repeat gets that answer again, the
    same key with other rows a refusal. Swept after a day (`tolok.server.idempotency`)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    dataset: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)  # the JSON body of the first answer
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class SigninAttempt(Base):
    """A sign-in attempt counted against its limit (`auth.ratelimit.StoreLimiter`), kept for
    the limit's window: what every server process on one store counts together."""

    __tablename__ = "signin_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), index=True)  # account:… or address:…
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
