"""Single sign-on's routes: `/signin/sso` sends the browser to the project's OpenID provider
(`sso:` in tolok.yaml), `/signin/sso/callback` takes its answer back and starts a tolok
session. Both are public, as `/signin` is. What the sign-in page shows of SSO (`choice`),
whether a password may still be used, and where signing out leads are decided here too.

The flow itself (discovery, PKCE, state, nonce, the ID token's checks, accounts) is in
`tolok.auth.sso`; a refusal is shown on the sign-in page in the reader's language, never as
a 500, and a provider that does not answer leaves the local sign-in open.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.sso import SingleSignOn, SsoError, identity_of, provider_name, sign_in
from tolok.i18n import voice
from tolok.server.security import COOKIE, state_of
from tolok.spec.models import Sso
from tolok.spec.problems import say

router = APIRouter(include_in_schema=False)
BROWSER = "tolok_sso"  # the sealed sign-in the browser keeps while at the provider
THROUGH = "tolok_sso_session"  # the session began at the provider: signing out ends it there
_made = threading.Lock()


def sso_of(request: Request) -> Sso | None:
    loaded = state_of(request).project()
    return loaded.project.sso if loaded.project is not None else None


def signon(request: Request) -> SingleSignOn:
    """The server's sign-ins in progress and providers' documents (one per app)."""
    with _made:
        if not hasattr(request.app.state, "sso"):
            request.app.state.sso = SingleSignOn()
    found: SingleSignOn = request.app.state.sso
    return found


def _base(request: Request) -> str:
    """This server's address: the project's `url:` when set (behind a proxy), else as asked."""
    loaded = state_of(request).project()
    url = loaded.project.url if loaded.project is not None else None
    return (url or str(request.base_url)).rstrip("/")


def choice(request: Request, lang: str, local: bool, next: str) -> dict[str, Any] | None:
    """What the sign-in page shows of SSO: its button, and whether the password form shows
    (always with local passwords on; else only on the break-glass path, `?local=1`)."""
    sso = sso_of(request)
    if sso is None:
        return None
    words = voice(lang)
    local = local or request.query_params.get("local") == "1"
    return {
        "label": say("Sign in with {provider}", provider=provider_name(sso)).worded(words),
        "href": "/signin/sso?" + urlencode({"next": next}),
        "form": sso.local_passwords or local,
        "local_href": "/signin?" + urlencode({"local": "1", "next": next}),
        "local_label": say("Sign in with a local account (administrators)").worded(words),
        "or": say("or with a password").worded(words),
    }


def password_refused(request: Request, email: str, lang: str) -> str | None:
    """Why this account may not sign in with a password (local passwords off), else None."""
    from tolok.auth.sso import may_use_password

    sso = sso_of(request)
    if sso is None or may_use_password(sso, email):
        return None
    text = say("password sign-in is off here: sign in with {provider}", provider=provider_name(sso))
    return text.worded(voice(lang))


def sign_out_target(request: Request) -> str:
    """Where signing out leads: the provider's end of session when the session began there
    and the provider offers one (it comes back to /signin), else /signin."""
    sso = sso_of(request)
    if sso is None or request.cookies.get(THROUGH) != "1":
        return "/signin"
    provider = signon(request).known(sso.issuer)
    if provider is None or not provider.end_session_endpoint:
        return "/signin"
    back = _base(request) + "/signin"
    query = urlencode({"client_id": sso.client_id, "post_logout_redirect_uri": back})
    return f"{provider.end_session_endpoint}?{query}"


def _page(request: Request, next: str, error: SsoError) -> Response:
    from tolok.server.app import _lang, _signin_form

    message = error.text.worded(voice(_lang(request)))
    return _signin_form(request, next, "", message, error.status, local=error.down)


def _secret(sso: Sso) -> str:
    secret = os.environ.get(sso.client_secret_env, "")
    if not secret:
        raise SsoError(say("single sign-on is not set up on this server: the environment "
                           "variable {name} holds no client secret", name=sso.client_secret_env),
                       503, down=True)  # fmt: skip
    return secret


@router.get("/signin/sso")
def start(request: Request, next: str = "/board") -> Response:
    """To the provider's sign-in, PKCE and a single-use state and nonce on the way."""
    from tolok.server.app import _safe_next

    sso = sso_of(request)
    if sso is None:
        return RedirectResponse("/signin", 303)
    then = _safe_next(next) if len(next) <= 1000 else "/board"  # the cookie stays small
    try:
        back = _base(request) + "/signin/sso/callback"
        url, sealed = signon(request).begin(sso, _secret(sso), back, then)
    except SsoError as error:
        return _page(request, next, error)
    response = RedirectResponse(url, 303)
    response.set_cookie(BROWSER, sealed, max_age=600, httponly=True, samesite="lax",
                        secure=_secure(request), path="/signin/sso")  # fmt: skip
    return response


@router.get("/signin/sso/callback")
def callback(
    request: Request, state: str = "", code: str = "", error: str = "", iss: str | None = None
) -> Response:
    """The provider's answer: the code exchanged, the ID token checked, the account made or
    brought up to date, a tolok session started."""
    sso = sso_of(request)
    if sso is None:
        return RedirectResponse("/signin", 303)
    sign_ons = signon(request)
    next = "/board"
    claims: dict[str, Any] | None = None
    try:
        secret = _secret(sso)
        pending = sign_ons.take(sso, secret, state, request.cookies.get(BROWSER, ""))
        next = pending.next
        if error:
            raise SsoError(say("the provider did not sign you in ({error})", error=error[:100]))
        claims = sign_ons.finish(sso, pending, code, secret, iss)
        identity = identity_of(sso, claims)
        with Session(state_of(request).engine) as session, session.begin():
            user = sign_in(session, identity, sso.issuer)
            session_secret, _ = accounts.start_session(session, user)
    except SsoError as refused:
        _audit_refusal(request, sso, refused, claims)
        return _page(request, next, refused)
    response = RedirectResponse(next, 303)
    kept = accounts.SESSION_DAYS * 86400
    for name, value in ((COOKIE, session_secret), (THROUGH, "1")):
        response.set_cookie(name, value, max_age=kept, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")  # fmt: skip
    response.delete_cookie(BROWSER, path="/signin/sso")
    return response


def _audit_refusal(
    request: Request, sso: Sso, refused: SsoError, claims: dict[str, Any] | None
) -> None:
    """A refusal after the provider said who it was (domain, role, disabled) is audited."""
    email = str((claims or {}).get("email") or "")
    if not email or refused.status != 403:
        return
    with Session(state_of(request).engine) as session, session.begin():
        accounts.audit(session, email.lower(), "signin.sso.refused", f"user:{email.lower()}",
                       None, {"issuer": sso.issuer, "reason": str(refused.text)})  # fmt: skip


def _secure(request: Request) -> bool:
    return state_of(request).secure_cookies or request.url.scheme == "https"


__all__ = ["choice", "password_refused", "router", "sign_out_target"]
