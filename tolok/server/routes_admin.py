"""The admin page and its forms (users, roles, tokens, share links, audit log), and the share
form of the KPI and goal pages. A secret made here (a password, a link) is shown once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tolok.auth import accounts
from tolok.auth.roles import Action
from tolok.server.embeds import address, create_link, iframe
from tolok.server.errors import ApiError
from tolok.server.pages import admin as admin_page
from tolok.server.pages.embed import VIEWS
from tolok.server.security import refuse, signed_in, state_of
from tolok.server.web import Context, context, reader, render
from tolok.store.people import User

router = APIRouter(include_in_schema=False)


def _admin(ctx: Context) -> None:
    if not ctx.can(Action.manage_users):
        raise ApiError(403, ctx._("The admin page is for admins."))


@router.get("/admin")
@router.get("/admin.json")
def admin(request: Request) -> Response:
    """Users, tokens, share links and the audit log."""
    ctx = reader(request)
    _admin(ctx)
    return _page(ctx, None)


def _page(ctx: Context, created: admin_page.Created | None, problem: str | None = None) -> Response:
    page = admin_page.data(ctx, state_of(ctx.request).engine, created)
    return render(ctx, "admin.html", page, 400 if problem else 200, problem=problem)


async def _form(request: Request, action: Action) -> tuple[Context, FormData]:
    principal = await signed_in(request)
    ctx = context(request, principal)
    if not ctx.can(action):  # the role and, for a token, its scopes: as on the API
        if principal.scopes is not None:
            raise refuse(action)  # a program: the API's words
        raise ApiError(403, ctx._("Your role does not allow this."))
    return ctx, await request.form()


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    ctx, form = await _form(request, Action.manage_users)
    assert ctx.principal is not None
    with Session(state_of(request).engine) as session, session.begin():
        try:
            user, secret = accounts.add_user(
                session,
                _text(form, "email"),
                _text(form, "name"),
                _text(form, "role"),
                ctx.principal.email,
            )
        except accounts.AccountError as exc:
            return _page(ctx, None, str(exc))
        email = user.email
    what = ctx._("Password of {email} (shown once: pass it on safely)", email=email)
    return _page(ctx, admin_page.Created(what=what, secret=secret))


@router.post("/admin/users/change")
async def change_user(request: Request) -> Response:
    """A new role, or the account disabled or enabled again."""
    ctx, form = await _form(request, Action.manage_users)
    assert ctx.principal is not None
    email, change = _text(form, "email"), _text(form, "change")
    if email == ctx.principal.email and change in ("disable", "viewer", "editor"):
        return _page(ctx, None, ctx._("You cannot take away your own admin right."))
    with Session(state_of(request).engine) as session, session.begin():
        try:
            if change in ("disable", "enable"):
                accounts.set_disabled(session, email, change == "disable", ctx.principal.email)
            elif change in ("viewer", "editor", "admin"):
                accounts.set_role(session, email, change, ctx.principal.email)
            else:
                return _page(ctx, None, ctx._("Unknown change."))
        except accounts.AccountError as exc:
            return _page(ctx, None, str(exc))
    return RedirectResponse("/admin#users", 303)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int) -> Response:
    ctx, _ = await _form(request, Action.manage_users)
    return _revoke(ctx, accounts.revoke_token, token_id, True, "/admin#tokens")


@router.post("/admin/shares/{link_id}/revoke")
async def revoke_share(request: Request, link_id: int) -> Response:
    ctx, _ = await _form(request, Action.share)
    admin = ctx.can(Action.manage_users)
    return _revoke(ctx, accounts.revoke_share, link_id, admin, "/admin#shares" if admin else "/")


@router.post("/admin/alert-rules/{name}/remove")
async def remove_alert_rule(request: Request, name: str) -> Response:
    """An admin removes a rule someone made in the app (rules in tolok.yaml live in git)."""
    from tolok.notify.alerts import remove_rule

    ctx, _ = await _form(request, Action.manage_users)
    if not remove_rule(state_of(ctx.request).engine, name):
        return _page(ctx, None, ctx._("No alert rule of that name was made in the app."))
    return RedirectResponse("/admin#rules", 303)


def _revoke(
    ctx: Context, revoke: Callable[..., object], number: int, admin: bool, then: str
) -> Response:
    """A token or a link revoked by the signed-in user (theirs, or any for an admin)."""
    assert ctx.principal is not None
    with Session(state_of(ctx.request).engine) as session, session.begin():
        actor = session.get(User, ctx.principal.user_id)
        assert actor is not None
        try:
            revoke(session, number, actor, admin=admin)
        except accounts.AccountError as exc:
            return _page(ctx, None, str(exc))
    return RedirectResponse(then, 303)


@router.post("/shares/new")
async def share(request: Request) -> Response:
    """A read-only link to a KPI, a goal or the board, or an embed of a KPI's card or chart
    or of the board (`embed`); its address (and an embed's `<iframe>`) is shown once."""
    ctx, form = await _form(request, Action.share)
    assert ctx.principal is not None
    kind, target = _text(form, "kind"), _text(form, "target")
    days, embed = _text(form, "days"), _text(form, "embed") or None
    if kind not in ("kpi", "goal", "board"):
        raise ApiError(400, ctx._("Share a KPI, a goal or the board."), "kind")
    if embed is not None and VIEWS.get(embed) != kind:
        raise ApiError(400, ctx._("Embed a KPI's card or chart, or the board."), "embed")
    known = ctx.project.kpis if kind == "kpi" else ctx.project.goals if kind == "goal" else {}
    if kind != "board" and target not in known:
        raise ApiError(404, ctx._("There is nothing named '{name}' to share.", name=target))
    expires = None
    if days:
        if not days.isdigit() or not 1 <= int(days) <= 3650:
            raise ApiError(400, ctx._("Expire after 1 to 3650 days, or never."), "days")
        expires = accounts.now() + dt.timedelta(days=int(days))
    with Session(state_of(request).engine) as session, session.begin():
        user = session.get(User, ctx.principal.user_id)
        assert user is not None
        link, secret = create_link(session, user, kind, target, embed, expires)
        url = address(request, link, secret)
    if embed is not None:
        return _embedded(ctx, url, target, embed)
    if kind == "kpi" and _text(form, "back") == "kpi":  # back to the KPI's page, the link on it
        from tolok.server.routes import SHARED_COOKIE

        back = RedirectResponse(f"/kpis/{target}#shared", 303)
        back.set_cookie(SHARED_COOKIE, url, max_age=120, path=f"/kpis/{target}", httponly=True,
                        samesite="strict", secure=state_of(request).secure_cookies)  # fmt: skip
        return back
    what = ctx._("Share link (shown once: copy it now; anyone with it can read what it names)")
    if ctx.can(Action.manage_users):
        return _page(ctx, admin_page.Created(what=what, secret=url))
    return render(ctx, "created.html", admin_page.Created(what=what, secret=url))


def _embedded(ctx: Context, url: str, target: str, view: str) -> Response:
    """A new embed: its address and its `<iframe>`, shown once, and whether a site may
    frame it yet."""
    kpi = ctx.project.kpis.get(target)
    title = (kpi.title if kpi else None) or target or ctx.project.name
    what = ctx._("Embed (shown once: copy it now; anyone with it can read what it names)")
    if not ctx.project.embed.origins:
        what += " " + ctx._(
            "No site may show this in a frame yet: an admin lists the site's origin in "
            "tolok.yaml, under embed: origins."
        )
    created = admin_page.Created(what=what, secret=url, snippet=iframe(url, title, view))
    if ctx.can(Action.manage_users):
        return _page(ctx, created)
    return render(ctx, "created.html", created)
