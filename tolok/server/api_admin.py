"""The API's account and admin routes: who am I, API tokens, the audit log, users and share
links (see `api` for what every route shares)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.roles import Action, ScopeError, parse_scopes
from tolok.server import models as m
from tolok.server.embeds import address, create_link, iframe
from tolok.server.errors import ApiError
from tolok.server.pages.embed import VIEWS
from tolok.server.security import Principal, need, signed_in, state_of
from tolok.store.people import ApiToken, ShareLink, User

if TYPE_CHECKING:
    pass

from tolok.server.api import ERRORS, Limit, Offset, _audit_out, _kpi, _project, cached, page, utc

router = APIRouter(prefix="/api/v1", responses=ERRORS)


# --- me, tokens ----------------------------------------------------------------------------


@router.get("/me", response_model=m.Me, tags=["account"])
def me(principal: Annotated[Principal, Depends(signed_in)]) -> dict[str, Any]:
    """Who this request is: e-mail, role, the token's scopes, teams."""
    return {"email": principal.email, "role": principal.role.value,
            "scopes": list(principal.scopes) if principal.scopes is not None else None,
            "teams": sorted(principal.teams), "csrf": principal.csrf}  # fmt: skip


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "scopes": token.scopes.split(), "created_at": utc(token.created_at),
            "last_used_at": utc(token.last_used_at),
            "revoked_at": utc(token.revoked_at)}  # fmt: skip


@router.get("/tokens", response_model=m.Page[m.TokenOut], tags=["account"])
def list_tokens(
    request: Request, principal: Annotated[Principal, Depends(need(Action.own_tokens))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Your API tokens (never the secrets)."""
    with Session(state_of(request).engine) as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        items = [_token_out(t) for t in accounts.tokens_of(session, user)]
    return cached(request, page(request, items, limit, offset))


@router.post("/tokens", response_model=m.TokenCreated, status_code=201, tags=["account"])
def create_token(
    request: Request, body: m.TokenIn,
    principal: Annotated[Principal, Depends(need(Action.own_tokens))],
) -> dict[str, Any]:  # fmt: skip
    """A token for programs, with scopes no wider than your role: shown once."""
    if principal.scopes is not None:
        raise ApiError(403, "tokens are created by a signed-in user, not by another token")
    project = _project(request)
    try:
        scopes = parse_scopes(" ".join(body.scopes), principal.role, list(project.datasets))
    except ScopeError as exc:
        raise ApiError(400, str(exc), "scopes") from None
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        token, secret = accounts.create_token(session, user, body.name, scopes)
        return {**_token_out(token), "token": secret}


@router.delete("/tokens/{token_id}", status_code=204, tags=["account"])
def revoke_token(
    request: Request, token_id: int,
    principal: Annotated[Principal, Depends(need(Action.own_tokens))],
) -> Response:  # fmt: skip
    """Revoke one of your tokens (an admin may revoke anyone's)."""
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        try:
            accounts.revoke_token(session, token_id, user, principal.can(Action.manage_users))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "token_id") from None
    return Response(status_code=204)


# --- audit ---------------------------------------------------------------------------------


@router.get("/audit", response_model=m.Page[m.AuditOut], tags=["admin"])
def audit(
    request: Request, _: Annotated[Principal, Depends(need(Action.read_audit))],
    subject: Annotated[str, Query(max_length=1000)] = "", limit: Limit = 100,
    offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every change: who, what, when, before and after (admins)."""
    from tolok.store.manual import audit_trail

    with Session(state_of(request).engine) as session:
        items = [_audit_out(e) for e in audit_trail(session, subject)]
    return cached(request, page(request, items, limit, offset))


# --- users and share links -----------------------------------------------------------------


def _user_out(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "role": user.role,
            "disabled": user.disabled, "created_at": utc(user.created_at)}  # fmt: skip


@router.get("/users", response_model=m.Page[m.UserOut], tags=["admin"])
def list_users(
    request: Request, _: Annotated[Principal, Depends(need(Action.manage_users))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every account (admins)."""
    with Session(state_of(request).engine) as session:
        items = [_user_out(u) for u in accounts.list_users(session)]
    return cached(request, page(request, items, limit, offset))


@router.post("/users", response_model=m.UserCreated, status_code=201, tags=["admin"])
def add_user(
    request: Request, body: m.UserIn,
    principal: Annotated[Principal, Depends(need(Action.manage_users))],
) -> dict[str, Any]:  # fmt: skip
    """A new account; its password is in the answer, once (admins)."""
    with Session(state_of(request).engine) as session, session.begin():
        try:
            user, secret = accounts.add_user(session, body.email, body.name, body.role,
                                             principal.email)  # fmt: skip
        except accounts.AccountError as exc:
            raise ApiError(409 if "already" in str(exc) else 400, str(exc), "email") from None
        return {**_user_out(user), "password": secret}


@router.post("/users/{email}/disable", response_model=m.UserOut, tags=["admin"])
def disable_user(
    request: Request, email: str,
    principal: Annotated[Principal, Depends(need(Action.manage_users))],
) -> dict[str, Any]:  # fmt: skip
    """Disable an account: its sessions end and its tokens stop working (admins)."""
    with Session(state_of(request).engine) as session, session.begin():
        try:
            return _user_out(accounts.set_disabled(session, email, True, principal.email))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "email") from None


def _share_out(link: ShareLink) -> dict[str, Any]:
    return {"id": link.id, "kind": link.kind, "target": link.target, "prefix": link.prefix,
            "created_at": utc(link.created_at), "expires_at": utc(link.expires_at),
            "revoked_at": utc(link.revoked_at), "embed": link.embed}  # fmt: skip


@router.get("/shares", response_model=m.Page[m.ShareOut], tags=["sharing"])
def list_shares(
    request: Request, principal: Annotated[Principal, Depends(need(Action.share))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Your share links (all of them for admins)."""
    with Session(state_of(request).engine) as session:
        statement = select(ShareLink).order_by(ShareLink.id)
        if not principal.can(Action.manage_users):
            statement = statement.where(ShareLink.created_by == principal.user_id)
        items = [_share_out(s) for s in session.scalars(statement)]
    return cached(request, page(request, items, limit, offset))


@router.post("/shares", response_model=m.ShareCreated, status_code=201, tags=["sharing"])
def create_share(
    request: Request, body: m.ShareIn,
    principal: Annotated[Principal, Depends(need(Action.share))],
) -> dict[str, Any]:  # fmt: skip
    """A read-only link to one KPI, one goal or the whole board; shown once. With `embed`,
    a view of it for another site's `<iframe>` (a KPI's card or chart, or the board): the
    answer also gives the `<iframe>` to paste, and the sites that may frame it."""
    project = _project(request)
    if body.kind == "kpi":
        _kpi(project, body.target)
    if body.kind == "goal" and body.target not in project.goals:
        raise ApiError(404, f"no goal named '{body.target}'", "target")
    if body.embed is not None and VIEWS[body.embed] != body.kind:
        raise ApiError(400, "embed a KPI's card or chart (kind kpi), or the board (kind "
                       "board)", "embed")  # fmt: skip
    expires = body.expires_at
    if expires is not None and expires.tzinfo is not None:
        expires = expires.astimezone(dt.UTC).replace(tzinfo=None)
    if expires is not None and expires <= accounts.now():
        raise ApiError(400, "expires_at is in the past", "expires_at")
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        link, secret = create_link(session, user, body.kind, body.target, body.embed, expires)
        url = address(request, link, secret)
        if link.embed is None:
            return {**_share_out(link), "url": url}
        kpi = project.kpis.get(link.target)
        title = (kpi.title if kpi else None) or link.target or project.name
        return {**_share_out(link), "url": url, "iframe": iframe(url, title, link.embed),
                "origins": list(project.embed.origins)}  # fmt: skip


@router.delete("/shares/{share_id}", status_code=204, tags=["sharing"])
def revoke_share(
    request: Request, share_id: int, principal: Annotated[Principal, Depends(need(Action.share))]
) -> Response:
    """Revoke a share link: it stops working at once."""
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, principal.user_id)
        assert user is not None
        try:
            accounts.revoke_share(session, share_id, user, principal.can(Action.manage_users))
        except accounts.AccountError as exc:
            raise ApiError(404, str(exc), "share_id") from None
    return Response(status_code=204)
