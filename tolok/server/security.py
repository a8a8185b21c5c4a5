"""Who is asking: a signed-in browser (session cookie), a program (API token), or nobody.
Every API route declares what it needs with `need(Action)`, and every page's route checks
the same with `permitted` (or `web.reader`): a token's scopes limit its pages as much as its
API. Share links have their own routes and never reach either.

Browsers' unsafe requests (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in
the `X-CSRF-Token` header or a `csrf` form field; tokens in an `Authorization` header are
not sent by browsers on their own, so they need none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from tolok.auth.accounts import LAST_USED_EVERY, resolve_session, teams_of, verify_token
from tolok.auth.keys import digest, same
from tolok.auth.roles import Action, Role, can, scope_allows
from tolok.server.board import store_stamp
from tolok.server.errors import ApiError
from tolok.server.state import State

COOKIE = "tolok_session"
SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    role: Role
    scopes: tuple[str, ...] | None  # None for a browser session: the role decides alone
    csrf: str | None = None
    teams: frozenset[str] = frozenset()

    def can(self, action: Action, dataset: str | None = None) -> bool:
        return can(self.role, action) and self.scoped(action, dataset)

    def scoped(self, action: Action, dataset: str | None = None) -> bool:
        """Whether the token's scopes allow `action` (a browser has none: always); the role
        is not asked."""
        return self.scopes is None or scope_allows(list(self.scopes), action, dataset)

    def can_edit_kpi(self, action: Action, owner: str | None) -> bool:
        """An editor may; so may a viewer in the team that owns the KPI (scopes permitting)."""
        if self.can(action):
            return True
        if owner is None or owner not in self.teams:
            return False
        return self.scoped(action)


def state_of(request: Request) -> State:
    state: State = request.app.state.tolok
    return state


def identify(request: Request) -> Principal | None:
    """The principal of a request, None when anonymous; a bad token is an error, not
    anonymity, so a program learns its token stopped working."""
    state = state_of(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "use `Authorization: Bearer <token>`", "authorization",
                           {"WWW-Authenticate": "Bearer"})  # fmt: skip
        principal = _bearer(state, secret.strip(), request.state)
        if principal is None:
            raise ApiError(401, "this token is unknown, revoked, or its user disabled",
                           "authorization", {"WWW-Authenticate": "Bearer"})  # fmt: skip
        return principal
    cookie = request.cookies.get(COOKIE)
    if cookie:
        with Session(state.engine) as session:
            found = resolve_session(session, cookie)
            if found is not None:
                user, web = found
                return Principal(user.id, user.email, Role(user.role), None, web.csrf,
                                 frozenset(teams_of(session, user)))  # fmt: skip
    return None


@dataclass(frozen=True)
class _Verified:
    stamp: tuple[object, ...]
    principal: Principal
    at: float  # monotonic time of the check against the store


def _bearer(state: State, secret: str, scratch: Any) -> Principal | None:
    """The token's principal: checked against the store at most once a minute (which also
    writes its `last_used_at`), and again as soon as anything audited is written — revoking
    a token, disabling a user, changing a role or a team all are. The store's stamp is left
    on `scratch` (the request's state) for the route, which need not read it again."""
    key = digest(secret)
    stamp = store_stamp(state.engine)  # read before the check: a later change is a miss
    scratch.store_stamp = stamp
    known = state.principals.get(key)
    checked = time.monotonic()
    every = LAST_USED_EVERY.total_seconds()
    if known is not None and known.stamp == stamp and checked - known.at < every:
        principal: Principal = known.principal
        return principal
    with Session(state.engine) as session, session.begin():
        bearer = verify_token(session, secret)
        if bearer is None:
            state.principals.pop(key, None)
            return None
        user = bearer.user
        principal = Principal(user.id, user.email, Role(user.role), tuple(bearer.scopes),
                              teams=frozenset(teams_of(session, user)))  # fmt: skip
    state.principals[key] = _Verified(stamp, principal, checked)
    return principal


async def _csrf_of(request: Request) -> str | None:
    sent = request.headers.get("x-csrf-token")
    if sent:
        return sent
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        await request.body()  # kept by Starlette, so the route can still read it
        form = await request.form()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


async def signed_in(request: Request) -> Principal:
    """Any signed-in user or valid token; browsers' unsafe requests need their CSRF token."""
    principal = identify(request)
    if principal is None:
        raise ApiError(401, "sign in (/signin) or send an API token", None,
                       {"WWW-Authenticate": "Bearer"})  # fmt: skip
    if principal.csrf is not None and request.method not in SAFE:
        sent = await _csrf_of(request)
        if sent is None or not same(sent, principal.csrf):
            raise ApiError(403, "missing or wrong CSRF token (send the X-CSRF-Token header)")
    return principal


def refuse(action: Action) -> ApiError:
    return ApiError(403, f"your role or token does not allow {action.value}")


async def permitted(request: Request, action: Action, team: bool = False) -> Principal:
    """The principal, when its role and token scopes allow `action`: what `need` checks, for a
    page's route to call itself. With `team`, a viewer in the team that owns a KPI may act
    too: only the scopes are checked here, the role once the KPI is known
    (`Principal.can_edit_kpi`)."""
    principal = await signed_in(request)
    if not (principal.scoped(action) if team else principal.can(action)):
        raise refuse(action)
    return principal


def need(action: Action) -> Callable[..., object]:
    """A dependency: the principal, when its role (and token scopes) allow `action`."""

    async def check(request: Request) -> Principal:
        # called, not a dependency: one level less for FastAPI to solve on every request
        return await permitted(request, action)

    return check
