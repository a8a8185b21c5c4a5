"""What the pages share: who is asking (a signed-in browser, or a token its scopes allow;
anonymous browsers are sent to the sign-in form), the language and formats of the answer,
and rendering one page's data as HTML (Jinja2, auto-escaped) or, at the same path with
`.json`, as JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import BaseModel

from tolok import __version__, jsontext
from tolok.auth.roles import Action
from tolok.i18n import LANG_COOKIE, LANGS, Formats, gettext
from tolok.server import assets
from tolok.server.chart_sketch import sketch
from tolok.server.errors import ApiError
from tolok.server.security import Principal, identify, refuse, state_of
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["version"] = __version__
TEMPLATES.env.globals["static_url"] = assets.url  # a file's address with its fingerprint


def code_spans(text: str) -> Markup:
    """`text` escaped, its `backticked` YAML words set as code rather than shown with the
    backticks a terminal needs: "add `grain:`" reads "add <code>grain:</code>"."""
    parts = str(escape(text)).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: plain text
        return Markup(escape(text))
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


TEMPLATES.env.filters["code_spans"] = code_spans
TEMPLATES.env.filters["sketch"] = sketch  # a chart's first picture, before Plotly draws it


class SignInNeededError(Exception):
    """An anonymous browser asked for a page: it is sent to the sign-in form."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


@dataclass(frozen=True)
class Context:
    """One request's page context: who, in which language, over which project."""

    request: Request
    principal: Principal | None  # None on a share link's page
    loaded: LoadedProject
    lang: str
    _: Callable[..., str]
    fmt: Formats

    @property
    def project(self) -> Any:
        assert self.loaded.project is not None
        return self.loaded.project

    def can(self, action: Action, owner: str | None = None) -> bool:
        if self.principal is None:
            return False
        if owner is not None:
            return self.principal.can_edit_kpi(action, owner)
        return self.principal.can(action)


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def lang_of(request: Request, loaded: LoadedProject) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return str(asked)
    return loaded.project.locale.value if loaded.project else "en"


def context(request: Request, principal: Principal | None) -> Context:
    loaded = state_of(request).project()
    assert loaded.project is not None
    lang = lang_of(request, loaded)
    fmt = Formats(lang, loaded.project.currency, Calendar.of(loaded.project))
    return Context(request, principal, loaded, lang, gettext(lang), fmt)


def reader(request: Request, action: Action = Action.read) -> Context:
    """The context of a page for a user or token allowed `action` (reading, unless said):
    its role and, for a token, its scopes decide, as on the API (403). Anonymous: to the
    sign-in form (a `.json` page answers 401 like the API)."""
    principal = identify(request)
    if principal is None:
        if wants_json(request) or request.method != "GET":
            raise ApiError(
                401, "sign in (/signin) or send an API token", None, {"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeededError(target)
    if not principal.can(action):
        raise refuse(action)
    return context(request, principal)


def sign_in_redirect(error: SignInNeededError) -> Response:
    from fastapi.responses import RedirectResponse

    return RedirectResponse("/signin?next=" + quote(error.path, safe="/"), 303)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def render(
    ctx: Context, template: str, page: BaseModel, status: int = 200, **extra: Any
) -> Response:
    """The page as JSON at `….json`, else as HTML, linking to its JSON."""
    request = ctx.request
    if wants_json(request):
        data = page.model_dump(mode="json")
        text = jsontext.dumps(data, ensure_ascii=False, default=_plain)
        return Response(text, status, media_type="application/json")
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "page": page,
            "ctx": ctx,
            "_": ctx._,
            "fmt": ctx.fmt,
            "lang": ctx.lang,
            "user": ctx.principal,
            "Action": Action,
            **extra,
        },
        status_code=status,
    )
    path = request.url.path
    response.headers["link"] = f'<{path}.json>; rel="alternate"; type="application/json"'
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, ctx.lang, max_age=365 * 86400, samesite="lax", path="/")
        if ctx.principal is not None:
            _remember_language(request, ctx.principal.user_id, ctx.lang)
    return response


def _remember_language(request: Request, user_id: int, lang: str) -> None:
    """The language a person picks on a page is the one their alerts and digests speak."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tolok.server.security import state_of
    from tolok.store.people import User

    with Session(state_of(request).engine) as session, session.begin():
        session.execute(update(User).where(User.id == user_id).values(locale=lang))


def is_page(request: Request) -> bool:
    """A browser asking for a page (or sending one's form), not a program asking for JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/s/", "/static/", "/events")) or path.endswith(".json"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str) -> Response:
    """A refusal or a failure as a page in the normal layout (navigation, the reader's
    language), leading back to where the person came from when that was a page here."""
    try:
        principal = identify(request)
    except ApiError:  # a bad token: the page is shown as to someone not signed in
        principal = None
    ctx = context(request, principal)
    _ = ctx._
    titles = {401: _("Sign in first"), 403: _("Not allowed"), 404: _("Not found")}
    came = request.headers.get("referer", "")
    host = f"{request.url.scheme}://{request.url.netloc}/"
    back_to = "/" + came[len(host) :] if came.startswith(host) and principal else "/board"
    response = TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "ctx": ctx,
            "_": _,
            "fmt": ctx.fmt,
            "lang": ctx.lang,
            "user": principal,
            "Action": Action,
            "status": status,
            "title": titles.get(status, _("Something is wrong")),
            "message": message,
            "back": _("Back") if back_to != "/board" else _("Back to the board"),
            "back_to": back_to,
        },
        status_code=status,
    )
    response.headers["cache-control"] = "no-store"
    return response


__all__ = ["Context", "SignInNeededError", "context", "reader", "render", "wants_json"]
