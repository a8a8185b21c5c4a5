"""`tolok serve`: the FastAPI app. Public: `/signin`, `/healthz`, `/readyz`, share links
(`/s/…`) and embeds (`/e/…`); everything else, the API's description (`/openapi.json`,
`/docs`) included, needs a signed-in user or an API token."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.orm import Session

from tolok import __version__
from tolok.auth import accounts
from tolok.auth.keys import same
from tolok.server import (
    api,
    api_admin,
    api_alerts,
    api_builder,
    api_data,
    api_definitions,
    api_uploads,
    assets,
    embeds,
    errors,
    metrics,
    routes,
    routes_admin,
    routes_alerts,
    routes_datasets,
    routes_definitions,
    routes_entry,
    routes_new_kpi,
    routes_sso,
)
from tolok.server import models as m
from tolok.server.errors import ApiError
from tolok.server.harden import Harden, docs_policy, route_methods
from tolok.server.security import COOKIE, identify, state_of
from tolok.server.state import Refresher, State
from tolok.store.database import shared_store, store_url

PUBLIC = {
    "/signin",
    "/signin/sso",
    "/signin/sso/callback",
    "/healthz",
    "/readyz",
    "/s/{secret}",
    "/s/{secret}.json",
    "/s/{secret}/series",
    "/e/{secret}",
    "/e/{secret}.json",
    "/static/{name}",
}
"""The routes anyone may call (the static files hold no data: a shared page needs its style
sheet before anyone signs in); a test holds every other route to a sign-in."""

PRE_SESSION = "tolok_presession"
HOME = "/board"  # where sign-in leads when it was not asked for a page
log = logging.getLogger("tolok.server")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["static_url"] = assets.url  # the sign-in page's style sheet, fingerprinted
WORDS = {
    "en": {"title": "Sign in", "email": "E-mail", "password": "Password", "submit": "Sign in",
           "wrong": "Wrong e-mail or password.",
           "wait": "Too many attempts: try again in {minutes} minutes."},
    "id": {"title": "Masuk", "email": "E-mail", "password": "Kata sandi", "submit": "Masuk",
           "wrong": "E-mail atau kata sandi salah.",
           "wait": "Terlalu banyak percobaan: coba lagi dalam {minutes} menit."},
}  # fmt: skip


def create_app(
    root: Path, secure_cookies: bool = False, refresh_delay: float = 2.0, schedules: bool = True
) -> FastAPI:
    """The server for the project at `root` (its store is upgraded when it is SQLite); with
    `schedules` (unless TOLOK_SCHEDULES=off) it runs the project's schedules too."""
    from tolok.spec.loader import load_project

    loaded = load_project(root)
    if loaded.project is None or not loaded.ok:
        raise ValueError("the project does not validate: run `tolok validate`")
    engine = shared_store(store_url(loaded.project.store, loaded.root))
    state = State(loaded.root, engine, secure_cookies)
    state.refresher = Refresher(state, refresh_delay)
    if schedules and os.environ.get("TOLOK_SCHEDULES", "on") != "off":
        from tolok.server.ticker import Ticker

        state.ticker = Ticker(state)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from tolok.server.changes import Changes

        state.changes = Changes(engine, routes.stamp_of)
        state.changes.start()
        threading.Thread(target=state.open_warehouse, name="tolok-warehouse", daemon=True).start()
        threading.Thread(target=_warm, args=(state,), name="tolok-warm", daemon=True).start()
        if state.ticker is not None:
            state.ticker.start()
        yield
        if state.ticker is not None:
            state.ticker.stop()
        state.changes.stop()
        state.close()  # the warehouse connection ingestion kept open

    app = FastAPI(
        title=f"tolok: {loaded.project.name}",
        version=__version__,
        description="KPIs as code: values, targets, status, forecasts, annotations.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.tolok = state
    errors.install(app)
    _pages(app)
    # /kpis/new before /kpis/{name}: the builder's page and API first.
    routers = [routes_new_kpi.router, api_builder.router, api_uploads.router,
               routes_datasets.router,
               api.router, api_data.router, api_admin.router, api_alerts.router, routes.router,
               routes_entry.router, routes_admin.router, routes_alerts.router,
               metrics.router, embeds.router, api_definitions.router,
               routes_definitions.router, routes_sso.router]  # fmt: skip
    for router in routers:
        app.include_router(router)
    _routes(app)
    app.state.methods = route_methods([*app.router.routes, *(r for x in routers for r in x.routes)])

    app.add_middleware(Harden)
    return app


def _warm(state: State) -> None:
    """Build the board's states and forecasts before the first visitor asks (a forecast per
    KPI, and the forecasting library's import, cost seconds on a cold start)."""
    from tolok.server.pages.board import outlooks

    try:
        outlooks(state.project(), state.board)
        import plotly.graph_objects  # type: ignore[import-untyped]  # noqa: F401
    except Exception:
        log.warning("warming the board failed; the first page builds it", exc_info=True)


def _pages(app: FastAPI) -> None:
    from tolok.server.web import SignInNeededError, error_page, is_page, sign_in_redirect

    @app.exception_handler(SignInNeededError)
    async def _sign_in(_: Request, exc: SignInNeededError) -> Response:
        return sign_in_redirect(exc)

    @app.exception_handler(ApiError)
    async def _refused(request: Request, exc: ApiError) -> Response:
        """A page's refusal as a page (for a browser), the API's as its JSON body."""
        if is_page(request):
            return error_page(request, exc.status, exc.message)
        content = errors.body(exc.status, exc.message, exc.field, **exc.extra)
        return JSONResponse(content, exc.status, headers=exc.headers)


def _routes(app: FastAPI) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        """The API's description, for signed-in users and tokens."""
        from tolok.server.security import signed_in

        await signed_in(request)
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        """The API's description as a page; signing in first."""
        from fastapi.openapi.docs import get_swagger_ui_html

        if identify(request) is None:
            return RedirectResponse("/signin?next=/docs", 303)
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)
        page.headers["content-security-policy"] = docs_policy(bytes(page.body))
        return page

    @app.get("/healthz", response_model=m.Health, tags=["health"])
    async def healthz() -> dict[str, Any]:  # async: no hop to a worker thread
        """The process answers."""
        return {"status": "ok", "checks": {}}

    unready: dict[int | str, dict[str, Any]] = {503: {"model": m.Health}}

    @app.get("/readyz", response_model=m.Health, tags=["health"], responses=unready)
    def readyz(request: Request) -> JSONResponse:
        """The store and the warehouse answer."""
        state = state_of(request)
        checks = {"store": "ok", "warehouse": "ok", "project": "ok"}
        try:
            with state.engine.connect() as connection:
                connection.execute(text("select 1"))
        except Exception as exc:
            log.warning("store unreachable: %s", str(exc).splitlines()[0][:500])
            checks["store"] = "unreachable"
        checks["warehouse"] = state.check_warehouse()  # "busy": a DuckDB file in other use
        ready = all(v in ("ok", "busy") for v in checks.values())
        return JSONResponse({"status": "ok" if ready else "not ready", "checks": checks},
                            200 if ready else 503)  # fmt: skip

    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    def signin_page(request: Request, next: str = HOME) -> Response:
        return _signin_form(request, next, "", None)

    @app.post("/signin", include_in_schema=False)
    def signin(
        request: Request,
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        csrf: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = HOME,
    ) -> Response:
        state = state_of(request)
        expected = request.cookies.get(PRE_SESSION, "")
        if not expected or not same(csrf, expected):
            raise ApiError(403, "the sign-in form expired: load /signin again")
        lang = _lang(request)
        refused = routes_sso.password_refused(request, email, lang)  # local passwords off
        if refused is not None:
            return _signin_form(request, next, email, refused, 403, local=True)
        # The peer, or the client a trusted proxy names (`tolok.cli.terminal.serve.proxy_options`).
        address = f"address:{request.client.host if request.client else 'unknown'}"
        account = f"account:{email.strip().lower()}"
        # Counted before the password is checked, so concurrent guesses meet the limit too;
        # a success gives its attempts back: only failures use up the budget.
        wait = max(state.per_account.attempt(account),
                   state.per_address.attempt(address))  # fmt: skip
        if wait > 0:
            message = WORDS[lang]["wait"].format(minutes=max(1, round(wait / 60)))
            return _signin_form(request, next, email, message, 429, local=True)
        with Session(state.engine) as session, session.begin():
            user = accounts.authenticate(session, email, password)
            if user is None:
                return _signin_form(request, next, email, WORDS[lang]["wrong"], 401, local=True)
            secret, _ = accounts.start_session(session, user)
        state.per_account.clear(account)
        state.per_address.refund(address)
        response = RedirectResponse(_safe_next(next), 303)
        response.set_cookie(COOKIE, secret, max_age=accounts.SESSION_DAYS * 86400,
                            httponly=True, samesite="lax",
                            secure=state.secure_cookies or request.url.scheme == "https",
                            path="/")  # fmt: skip
        response.delete_cookie(PRE_SESSION, path="/signin")
        return response

    @app.post("/signout", include_in_schema=False)
    async def signout(request: Request) -> Response:
        from tolok.server.security import signed_in

        await signed_in(request)  # a signed-in user with the CSRF token of the session
        secret = request.cookies.get(COOKIE, "")
        with Session(state_of(request).engine) as session, session.begin():
            accounts.end_session(session, secret)
        response = RedirectResponse(routes_sso.sign_out_target(request), 303)
        response.delete_cookie(COOKIE, path="/")
        response.delete_cookie(routes_sso.THROUGH, path="/")
        return response

    missing: dict[int | str, dict[str, Any]] = {
        404: {"model": m.ErrorBody},
        422: {"model": m.ErrorBody},
    }

    @app.get("/s/{secret}.json", tags=["sharing"], responses=missing)
    def shared_json(request: Request, secret: str) -> Response:
        """What a share link names: one KPI (and its series), one goal, or the board."""
        link, loaded = _share(request, secret)
        board = state_of(request).board
        if link.kind == "kpi":
            card = api._cards(loaded, board).get(link.target)
            if card is None:
                raise ApiError(404, "this link's KPI is no longer on the board")
            return api.cached(request, {"kind": "kpi", "kpi": card})
        goals = api.goals_data(loaded, board)
        if link.kind == "goal":
            found = _find_goal(goals, link.target)
            if found is None:
                raise ApiError(404, "this link's goal is no longer in the project")
            cards = api._cards(loaded, board)
            names = _goal_kpis(found)
            return api.cached(
                request,
                {"kind": "goal", "goal": found, "kpis": [cards[n] for n in names if n in cards]},
            )
        kpis = list(api._cards(loaded, board).values())
        return api.cached(request, {"kind": "board", "kpis": kpis, "goals": goals})

    @app.get("/s/{secret}", name="shared", include_in_schema=False)
    def shared_page(request: Request, secret: str) -> Response:
        """What a share link names, as a page anyone with the link may read."""
        from tolok.server.pages import shared
        from tolok.server.web import context, render

        link, _ = _share(request, secret)
        ctx = context(request, None)
        state = state_of(request)
        page = shared.data(ctx, state.engine, state.board, link.kind, link.target)
        if page is None:
            raise ApiError(404, "what this link named is no longer in the project")
        response = render(ctx, "shared.html", page)
        response.headers["link"] = f'<{request.url.path}.json>; rel="alternate"'
        response.headers["referrer-policy"] = "no-referrer"  # the secret stays in this page
        return response

    @app.get("/s/{secret}/series", tags=["sharing"],
             responses={**missing, 400: {"model": m.ErrorBody}})  # fmt: skip
    def shared_series(
        request: Request, secret: str, start: str | None = None, end: str | None = None
    ) -> Response:
        """The series of a shared KPI at its grain (only for a link to one KPI)."""
        from tolok.answers.views import SeriesQuery

        link, loaded = _share(request, secret)
        if link.kind != "kpi":
            raise ApiError(404, "only a link to one KPI has a series")
        query = SeriesQuery(link.target, start=start, end=end)
        return api.cached(request, api.series_data(loaded, query))


def _share(request: Request, secret: str) -> tuple[Any, Any]:
    return embeds.share_of(request, secret, embedded=False)


def _find_goal(goals: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for goal in goals:
        if goal["name"] == name:
            return goal
        found = _find_goal(goal["children"], name)
        if found is not None:
            return found
    return None


def _goal_kpis(goal: dict[str, Any]) -> list[str]:
    names = list(goal["kpis"])
    for child in goal["children"]:
        names += _goal_kpis(child)
    return names


def _lang(request: Request) -> str:
    from tolok.server.web import lang_of

    return lang_of(request, state_of(request).project())


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect to another."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return HOME
    return target


def _signin_form(
    request: Request, next: str, email: str, error: str | None, status: int = 200,
    local: bool = False,
) -> Response:  # fmt: skip
    """The sign-in page; with single sign-on its button, and the password form unless local
    passwords are off (`local`: shown anyway, the break-glass way in)."""
    if identify(request) is not None and error is None and request.method == "GET":
        return RedirectResponse(_safe_next(next), 303)
    lang = _lang(request)
    token = secrets.token_urlsafe(24)
    loaded = state_of(request).project()
    response = TEMPLATES.TemplateResponse(
        request,
        "signin.html",
        {"csrf": token, "next": _safe_next(next), "email": email, "error": error,
         "words": WORDS[lang], "lang": lang,
         "project": loaded.project.name if loaded.project else "tolok",
         "sso": routes_sso.choice(request, lang, local, _safe_next(next))},
        status_code=status,
    )  # fmt: skip
    secure = state_of(request).secure_cookies or request.url.scheme == "https"
    response.set_cookie(PRE_SESSION, token, max_age=3600, httponly=True, samesite="strict",
                        secure=secure, path="/signin")  # fmt: skip
    from tolok.i18n import LANG_COOKIE, LANGS

    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


__all__ = ["PUBLIC", "create_app"]
