"""Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256), through
Authlib's client (on `requests`, as Authlib's httpx client wants httpx2) and its ID token
claims; the provider's documents are read with httpx, as tolok's webhooks are.

What it knows: the provider's discovery document and keys (fetched, kept an hour, fetched
again when a token names a key not seen yet), the sign-ins started and not yet finished (each
in the cookie of the browser that started it, signed with a key drawn from the client secret,
so that any worker process may finish it; ten minutes; finished once: a state seen is refused
by this process, and its code by the provider in any other), the ID token's checks (signature
against the provider's keys, issuer, audience, expiry, nonce), and how its claims become a
tolok account (e-mail domain, role, teams), audited.

What it does not know: HTTP routes, cookies and pages (`tolok.server.routes_sso`). Whatever it
refuses it says as a `say()` text, worded by the page in the reader's language.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
    OAuth2Session,
)
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.roles import Role
from tolok.spec.models import Sso
from tolok.spec.problems import Text, say
from tolok.store.people import TeamMember, User

DISCOVERY_SECONDS = 3600.0  # the discovery document and keys are fetched again after this
DOWN_SECONDS = 20.0  # a provider found down is not asked again for this long
PENDING_SECONDS = 600.0  # a sign-in started must be finished within this
MOST_SEEN = 100_000  # finished sign-ins' states remembered at most (the oldest go first)
LEEWAY = 60  # seconds of clock difference allowed between the provider and this server
TIMEOUT = 5.0  # seconds to wait for the provider
RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2}


class SsoError(Exception):
    """A sign-in refused or impossible; `text` says why and what to do. `down`: the provider
    did not answer (the page then offers the local sign-in)."""

    def __init__(self, text: Text, status: int = 401, down: bool = False) -> None:
        super().__init__(str(text))
        self.text = text
        self.status = status
        self.down = down


@dataclass(frozen=True)
class Provider:
    """What the discovery document says that tolok uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Pending:
    """A sign-in sent to the provider, waiting for its answer (in the browser's cookie)."""

    state: str
    nonce: str
    verifier: str  # PKCE's code verifier; the provider saw only its S256 digest
    next: str
    redirect_uri: str
    at: float = field(default_factory=time.time)

    def sealed(self, key: bytes) -> str:
        """This sign-in as a cookie's value: its JSON, and an HMAC of it under `key`."""
        body = base64.urlsafe_b64encode(json.dumps(
            [self.state, self.nonce, self.verifier, self.next, self.redirect_uri, self.at]
        ).encode()).decode().rstrip("=")  # fmt: skip
        return f"{body}.{_mac(key, body)}"

    @staticmethod
    def opened(value: str, key: bytes) -> Pending | None:
        """The sign-in a cookie holds, None when it was not sealed with `key`."""
        body, _, mac = value.partition(".")
        if not body or not hmac.compare_digest(mac.encode(), _mac(key, body).encode()):
            return None
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return Pending(*fields)


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, as tolok's account will be."""

    email: str
    name: str
    role: Role
    teams: frozenset[str] | None  # None: no teams claim set, teams are not managed by SSO


class SingleSignOn:
    """The server's side of the sign-ins with one or more providers (one per issuer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._providers: dict[str, tuple[float, Provider]] = {}
        self._keys: dict[str, KeySet] = {}
        self._down: dict[str, float] = {}
        self._seen: dict[str, float] = {}  # states finished here, and when

    def provider(self, issuer: str) -> Provider:
        """The provider's discovery document, from this process' copy when fresh."""
        now = time.monotonic()
        with self._lock:
            known = self._providers.get(issuer)
            if known is not None and now - known[0] < DISCOVERY_SECONDS:
                return known[1]
            if now - self._down.get(issuer, -DOWN_SECONDS) < DOWN_SECONDS:
                raise _down(issuer)
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._fetch(issuer, url)
        if document.get("issuer") != issuer:
            raise SsoError(
                say("the provider at {url} calls itself '{found}', not '{issuer}': "
                    "correct `sso.issuer`", url=url, found=document.get("issuer"),
                    issuer=issuer), 502)  # fmt: skip
        try:
            provider = Provider(
                issuer, document["authorization_endpoint"], document["token_endpoint"],
                document["jwks_uri"], document.get("userinfo_endpoint"),
                document.get("end_session_endpoint"),
                tuple(document.get("id_token_signing_alg_values_supported") or ["RS256"]),
            )  # fmt: skip
        except KeyError as missing:
            raise SsoError(
                say("the provider's discovery document has no '{key}'", key=missing.args[0]), 502
            ) from None
        with self._lock:
            self._providers[issuer] = (now, provider)
            self._keys.pop(issuer, None)
        return provider

    def known(self, issuer: str) -> Provider | None:
        """The provider as last fetched, without asking it (None: never fetched)."""
        with self._lock:
            known = self._providers.get(issuer)
        return known[1] if known else None

    def _fetch(self, issuer: str, url: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError):
            with self._lock:
                self._down[issuer] = time.monotonic()
            raise _down(issuer) from None
        if not isinstance(document, dict):
            raise _down(issuer)
        with self._lock:
            self._down.pop(issuer, None)
        return document

    def keys(self, provider: Provider, again: bool = False) -> KeySet:
        with self._lock:
            known = self._keys.get(provider.issuer)
        if known is not None and not again:
            return known
        keys = KeySet.import_key_set(self._fetch(provider.issuer, provider.jwks_uri))  # type: ignore[arg-type]
        with self._lock:
            self._keys[provider.issuer] = keys
        return keys

    def begin(self, sso: Sso, secret: str, redirect_uri: str, then: str) -> tuple[str, str]:
        """Where to send the browser, and the sealed sign-in it keeps (a cookie) meanwhile."""
        provider = self.provider(sso.issuer)
        state, nonce, verifier = (secrets.token_urlsafe(n) for n in (24, 24, 48))
        pending = Pending(state, nonce, verifier, then, redirect_uri)
        with _client(sso, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                provider.authorization_endpoint, state=pending.state, nonce=pending.nonce,
                code_verifier=pending.verifier,
            )  # fmt: skip
        return str(url), pending.sealed(_key(sso, secret))

    def take(self, sso: Sso, secret: str, state: str, sealed: str) -> Pending:
        """The sign-in this answer finishes: the browser's own, once only, in time."""
        pending = Pending.opened(sealed, _key(sso, secret)) if sealed else None
        if pending is None or not hmac.compare_digest(pending.state.encode(), state.encode()):
            raise SsoError(say("this sign-in was started in another browser: sign in again"), 400)
        now = time.time()
        with self._lock:
            for old in [s for s, at in self._seen.items() if now - at > PENDING_SECONDS]:
                del self._seen[old]
            if state in self._seen or now - pending.at > PENDING_SECONDS:
                raise SsoError(say("this sign-in was already used or has expired: sign in again"),
                               400)  # fmt: skip
            while len(self._seen) >= MOST_SEEN:  # bounded; the provider still refuses its code
                del self._seen[next(iter(self._seen))]
            self._seen[state] = now
        return pending

    def finish(
        self, sso: Sso, pending: Pending, code: str, secret: str, issuer: str | None = None
    ) -> dict[str, Any]:
        """The code exchanged for tokens; the ID token's claims once every check passed.
        `issuer`: the `iss` of the provider's answer, when it sends one (RFC 9207)."""
        provider = self.provider(sso.issuer)
        if issuer is not None and issuer != provider.issuer:
            raise SsoError(say("the answer comes from '{found}', not from '{issuer}'",
                               found=issuer, issuer=provider.issuer), 400)  # fmt: skip
        with _client(sso, pending.redirect_uri, secret) as client:
            try:
                token = client.fetch_token(
                    provider.token_endpoint, grant_type="authorization_code", code=code,
                    code_verifier=pending.verifier, timeout=TIMEOUT,
                )  # fmt: skip
            except requests.RequestException:
                raise _down(sso.issuer) from None
            except AuthlibBaseError as error:  # a code used twice, among others
                raise SsoError(
                    say("the provider refused the sign-in: {error}", error=_said(error))
                ) from None
        claims = self._check(sso, provider, token, pending.nonce)
        if provider.userinfo_endpoint and _wanting(sso, claims):
            claims = {**self._userinfo(provider, token, claims), **claims}
        return claims

    def _check(
        self, sso: Sso, provider: Provider, token: Mapping[str, Any], nonce: str
    ) -> dict[str, Any]:
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise SsoError(say("the provider sent no ID token: is 'openid' among the scopes?"), 502)
        registry = JWSRegistry(algorithms=list(provider.algorithms), strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(raw, self.keys(provider), registry=registry)
            except InvalidKeyIdError:  # the provider turned its keys over
                decoded = jwt.decode(raw, self.keys(provider, again=True), registry=registry)
        except JoseError:
            raise SsoError(
                say("the ID token's signature does not match the provider's keys: it was "
                    "altered on its way, or is not from this provider")) from None  # fmt: skip
        options: dict[str, Any] = {"iss": {"essential": True, "value": provider.issuer},
                                   "aud": {"essential": True, "value": sso.client_id}}  # fmt: skip
        params = {"nonce": nonce, "client_id": sso.client_id}
        if "access_token" in token:
            params["access_token"] = token["access_token"]
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(leeway=LEEWAY)
        except ExpiredTokenError:
            raise SsoError(say("the ID token has expired: sign in again (if this keeps "
                               "happening, check this server's clock)")) from None  # fmt: skip
        except ClaimError as error:
            raise _refused_claim(error.claim, dict(claims), sso) from None
        except JoseError as error:
            raise SsoError(say("the ID token is not valid: {error}", error=_said(error))) from None
        return dict(claims)

    def _userinfo(
        self, provider: Provider, token: Mapping[str, Any], claims: dict[str, Any]
    ) -> dict[str, Any]:
        """The claims the ID token left out, from the userinfo endpoint (same subject)."""
        try:
            bearer = {"authorization": f"Bearer {token.get('access_token')}"}
            answer = httpx.get(str(provider.userinfo_endpoint), timeout=TIMEOUT, headers=bearer)
            answer.raise_for_status()
            info = answer.json()
        except (httpx.HTTPError, ValueError):
            return {}
        if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
            return {}
        return info


def _key(sso: Sso, secret: str) -> bytes:
    """The key that seals sign-ins in cookies: every worker has the client secret."""
    return hashlib.sha256(f"tolok sso\0{sso.issuer}\0{sso.client_id}\0{secret}".encode()).digest()


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _client(sso: Sso, redirect_uri: str, secret: str | None = None) -> OAuth2Session:
    """Authlib's OAuth 2 client (on `requests`): PKCE S256, the client secret sent as HTTP
    basic authentication to the token endpoint."""
    return OAuth2Session(
        client_id=sso.client_id, client_secret=secret, scope=" ".join(sso.scopes),
        redirect_uri=redirect_uri, code_challenge_method="S256",
    )  # fmt: skip


def _down(issuer: str) -> SsoError:
    return SsoError(
        say("the sign-in provider {issuer} does not answer: try again later, or sign in with "
            "a local account", issuer=issuer), 503, down=True)  # fmt: skip


def _said(error: Exception) -> str:
    words = getattr(error, "description", None) or getattr(error, "error", None) or error
    return str(words)[:200]


def _refused_claim(claim: str, claims: dict[str, Any], sso: Sso) -> SsoError:
    if claim in ("aud", "azp"):
        return SsoError(
            say("the ID token was issued to another application ({audience}), not to "
                "'{client_id}': check `sso.client_id`", audience=claims.get("aud"),
                client_id=sso.client_id))  # fmt: skip
    if claim == "iss":
        return SsoError(say("the ID token comes from '{found}', not from '{issuer}'",
                            found=claims.get("iss"), issuer=sso.issuer))  # fmt: skip
    if claim == "nonce":
        return SsoError(say("the ID token does not answer this sign-in (its nonce differs): "
                            "sign in again"))  # fmt: skip
    return SsoError(say("the ID token's claim '{claim}' is not valid: sign in again", claim=claim))


def _wanting(sso: Sso, claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks a claim tolok reads (some providers keep them for userinfo)."""
    wanted = ["email", sso.roles_claim, sso.teams_claim]
    return any(name is not None and _claim(claims, name) is None for name in wanted)


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name; a dotted name reaches into objects (`realm_access.roles`)."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _listed(claims: Mapping[str, Any], name: str) -> list[str]:
    value = _claim(claims, name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def identity_of(sso: Sso, claims: Mapping[str, Any]) -> Identity:
    """Who signed in, as tolok's account: refused outside the allowed domains, and without a
    role when no mapped role names one and `default_role` is null. Several mapped roles: the
    highest applies."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise SsoError(say("the provider did not say your e-mail address: add the 'email' scope "
                           "to `sso.scopes`"), 403)  # fmt: skip
    if claims.get("email_verified") is False:
        raise SsoError(say("the provider has not verified {email}", email=email), 403)
    domain = email.rsplit("@", 1)[1]
    if sso.allowed_domains and domain not in sso.allowed_domains:
        raise SsoError(say("{email} may not sign in here: only addresses of {domains}",
                           email=email, domains=", ".join(sso.allowed_domains)), 403)  # fmt: skip
    names = _listed(claims, sso.roles_claim) if sso.roles_claim else []
    mapped = [Role(sso.role_map[n].value) for n in names if n in sso.role_map]
    if mapped:
        role = max(mapped, key=RANK.__getitem__)
    elif sso.default_role is not None:
        role = Role(sso.default_role.value)
    else:
        raise SsoError(say("none of your roles at the provider gives access to tolok: ask an "
                           "admin to add you to one of {roles}",
                           roles=", ".join(sso.role_map) or "-"), 403)  # fmt: skip
    teams = frozenset(_listed(claims, sso.teams_claim)) if sso.teams_claim else None
    name = str(claims.get("name") or email.split("@")[0])[:200]
    return Identity(email, name, role, teams)


def sign_in(session: Session, identity: Identity, issuer: str) -> User:
    """The account of `identity`: made at the first sign-in (its password random and never
    shown), its role and teams brought to what the provider says at every later one."""
    actor = f"sso:{issuer}"
    user = accounts.find_user(session, identity.email)
    if user is None:
        user, _ = accounts.add_user(session, identity.email, identity.name, identity.role, actor)
    elif user.disabled:  # audited by the caller: this transaction is rolled back
        raise SsoError(say("your tolok account is disabled: ask an admin"), 403)
    elif user.role != identity.role.value:
        accounts.set_role(session, user.email, identity.role, actor)
    if identity.teams is not None:
        _match_teams(session, user, identity.teams, actor)
    accounts.audit(session, user.email, "signin.sso", f"user:{user.email}", None,
                   {"issuer": issuer, "role": user.role,
                    "teams": sorted(accounts.teams_of(session, user))})  # fmt: skip
    return user


def _match_teams(session: Session, user: User, teams: frozenset[str], actor: str) -> None:
    """The provider's teams are the truth for an SSO user: joined, and left when no longer said."""
    for team in sorted(teams - accounts.teams_of(session, user)):
        accounts.join_team(session, user.email, team, actor)
    held = session.scalars(select(TeamMember.team).where(TeamMember.user_id == user.id))
    for team in sorted(set(held) - teams):
        session.execute(
            delete(TeamMember).where(TeamMember.user_id == user.id, TeamMember.team == team)
        )
        accounts.audit(session, actor, "team.leave", f"team:{team}", {"member": user.email})


def may_use_password(sso: Sso | None, email: str) -> bool:
    """Whether this account may sign in with a password: always without SSO or with local
    passwords on; else only the break-glass accounts (for when the provider is down)."""
    if sso is None or sso.local_passwords:
        return True
    return email.strip().lower() in sso.break_glass


def provider_name(sso: Sso) -> str:
    """The provider as the sign-in button names it: `sso.name`, else its host."""
    if sso.name:
        return sso.name
    return httpx.URL(sso.issuer).host or sso.issuer
