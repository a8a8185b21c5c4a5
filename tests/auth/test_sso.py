"""Single sign-on against a real OpenID provider (see conftest): the whole authorization code
flow with PKCE, driven as a browser would, against tolok's app; the provider's ID tokens
made wrong on purpose (another audience, expired, altered), a replayed answer, a user
outside the allowed domains, a provider that does not answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.auth.conftest import CLIENT_SECRET, OpenIdProvider
from tests.serving import free_port
from tolok.auth import accounts
from tolok.server.app import create_app
from tolok.spec.loader import load_project
from tolok.store.schema import AuditEntry

PROJECT = """\
name: Toko Maju
locale: {locale}
store: sqlite:///tolok.db
warehouse: duckdb:///warehouse.duckdb
datasets:
  ad_spend:
    source: manual
    measures:
      spend: {{agg: sum}}
kpis:
  spend: {{formula: spend, unit: currency}}
sso:
  issuer: {issuer}
  client_id: {client_id}
  name: Toko Maju ID
  scopes: [openid, email, profile, roles, groups]
  roles_claim: roles
  role_map: {{kpi-editors: editor, kpi-admins: admin}}
  teams_claim: groups
  allowed_domains: [tokomaju.id]
  local_passwords: {local_passwords}
"""
PASSWORD = "correct horse battery"

App = Callable[..., TestClient]


@pytest.fixture
def tolok(
    tmp_path: Path, provider: OpenIdProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    """tolok over a project whose `sso:` names the provider (or, with `issuer`, another)."""
    monkeypatch.setenv("TOLOK_SSO_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TOLOK_SCHEDULES", "off")
    provider.mode("normal")
    made: list[TestClient] = []

    def make(issuer: str = provider.issuer, local_passwords: bool = True,
             client_id: str = "tolok", locale: str = "en") -> TestClient:  # fmt: skip
        (tmp_path / "tolok.yaml").write_text(
            PROJECT.format(issuer=issuer, client_id=client_id, locale=locale,
                           local_passwords=str(local_passwords).lower()),
            encoding="utf-8",
        )  # fmt: skip
        app = create_app(tmp_path)
        with Session(app.state.tolok.engine) as session, session.begin():
            accounts.add_user(session, "admin@localhost", "Admin", "admin", "test", PASSWORD)
            accounts.add_user(session, "editor@tokomaju.id", "", "editor", "test", PASSWORD)
        client = TestClient(app).__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


def _callback(client: TestClient, provider: OpenIdProvider, account: str) -> str:
    """Through /signin/sso and the provider, signing in `account`: tolok's callback address."""
    start = client.get("/signin/sso", params={"next": "/kpis/spend"}, follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    asked = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(provider.issuer + "/auth?")
    assert asked["code_challenge_method"] == ["S256"]
    assert len(asked["code_challenge"][0]) == 43
    assert asked["nonce"][0]
    assert asked["state"][0]
    assert "code_verifier" not in asked
    back = provider.sign_in(authorize, account)
    assert back.startswith("http://testserver/signin/sso/callback?"), back
    return back.removeprefix("http://testserver")


def _signed_in(client: TestClient, provider: OpenIdProvider, account: str) -> dict[str, object]:
    answer = client.get(_callback(client, provider, account), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/kpis/spend"
    me: dict[str, object] = client.get("/api/v1/me").json()
    return me


def _refusal(answer: object) -> str:
    text = getattr(answer, "text", "")
    found = re.search(r'<p class="notice error" role="alert">(.*?)</p>', text, re.S)
    assert found is not None, text
    return found.group(1).replace("&#39;", "'").replace("&amp;", "&")


def _audit(client: TestClient, action: str) -> list[AuditEntry]:
    with Session(client.app.state.tolok.engine) as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_first_sign_in_makes_the_account_with_its_mapped_role_and_teams(
    tolok: App, provider: OpenIdProvider
) -> None:
    client = tolok()
    page = client.get("/signin")
    assert "Sign in with Toko Maju ID" in page.text
    assert 'name="password"' in page.text
    me = _signed_in(client, provider, "dewi")
    assert me["email"] == "dewi@tokomaju.id"
    assert me["role"] == "editor"  # kpi-editors → editor
    assert me["teams"] == ["marketing", "sales"]
    assert client.get("/kpis/spend").status_code == 200
    (signed,) = _audit(client, "signin.sso")
    assert signed.actor == "dewi@tokomaju.id"
    assert '"role": "editor"' in str(signed.after)
    (added,) = [e for e in _audit(client, "user.add") if e.subject == "user:dewi@tokomaju.id"]
    assert added.actor == f"sso:{provider.issuer}"


def test_a_later_sign_in_brings_role_and_teams_to_what_the_provider_says(
    tolok: App, provider: OpenIdProvider
) -> None:
    client = tolok()
    assert _signed_in(client, provider, "dewi")["role"] == "editor"
    moved = {"email": "dewi@tokomaju.id", "name": "Dewi Lestari",
             "roles": ["kpi-editors", "kpi-admins"], "groups": ["ops"]}  # fmt: skip
    provider.account("dewi", moved)
    try:
        again = TestClient(client.app)
        me = _signed_in(again, provider, "dewi")
    finally:
        provider.account("dewi", {**moved, "roles": ["kpi-editors"],
                                  "groups": ["sales", "marketing"]})  # fmt: skip
    assert me["role"] == "admin"  # the highest mapped role
    assert me["teams"] == ["ops"]  # joined ops, left sales and marketing
    assert len(_audit(client, "user.role")) == 1
    assert {e.subject for e in _audit(client, "team.leave")} == {"team:sales", "team:marketing"}


def test_an_unmapped_role_signs_in_as_a_viewer(tolok: App, provider: OpenIdProvider) -> None:
    client = tolok()
    me = _signed_in(client, provider, "budi")
    assert (me["role"], me["teams"]) == ("viewer", [])


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("audience", "the ID token was issued to another application (someone-else), "
                     "not to 'tolok': check `sso.client_id`"),
        ("expired", "the ID token has expired: sign in again (if this keeps happening, "
                    "check this server's clock)"),
        ("tampered", "the ID token's signature does not match the provider's keys: it was "
                     "altered on its way, or is not from this provider"),
    ],
)  # fmt: skip
def test_a_wrong_id_token_is_refused(
    tolok: App, provider: OpenIdProvider, mode: str, said: str
) -> None:
    client = tolok()
    back = _callback(client, provider, "dewi")
    provider.mode(mode)
    try:
        answer = client.get(back, follow_redirects=False)
    finally:
        provider.mode("normal")
    assert answer.status_code == 401
    assert _refusal(answer) == said.replace("`sso.client_id`", "`sso.client_id`")
    assert "tolok_session" not in client.cookies
    assert client.get("/api/v1/me").status_code == 401
    with Session(client.app.state.tolok.engine) as session:  # type: ignore[attr-defined]
        assert accounts.find_user(session, "dewi@tokomaju.id") is None


def _replay(app: object, back: str, sealed: str) -> object:
    """The provider's answer sent again, with the cookie it came with, by another client."""
    replayer = TestClient(app)  # type: ignore[arg-type]
    replayer.cookies.set("tolok_sso", sealed, domain="testserver.local", path="/signin/sso")
    answer = replayer.get(back, follow_redirects=False)
    assert replayer.get("/api/v1/me").status_code == 401
    return answer


def test_a_replayed_answer_is_refused(tolok: App, provider: OpenIdProvider) -> None:
    client = tolok()
    back = _callback(client, provider, "dewi")
    sealed = client.cookies.get("tolok_sso")
    assert sealed
    assert client.get(back, follow_redirects=False).status_code == 303
    replayed = _replay(client.app, back, sealed)
    assert getattr(replayed, "status_code", None) == 400
    assert _refusal(replayed) == "this sign-in was already used or has expired: sign in again"


def test_a_replay_to_another_worker_is_refused_by_the_provider(
    tolok: App, provider: OpenIdProvider, tmp_path: Path
) -> None:
    """Another process of the same server (no memory of the state) finishes the sign-in
    from the browser's sealed cookie, and the provider refuses a code used before."""
    client = tolok()
    back = _callback(client, provider, "dewi")
    sealed = client.cookies.get("tolok_sso")
    assert sealed
    assert client.get(back, follow_redirects=False).status_code == 303
    with TestClient(create_app(tmp_path)) as worker:
        replayed = _replay(worker.app, back, sealed)
    assert getattr(replayed, "status_code", None) == 401
    assert _refusal(replayed).startswith("the provider refused the sign-in: ")


def test_a_sign_in_finishes_on_another_worker(
    tolok: App, provider: OpenIdProvider, tmp_path: Path
) -> None:
    client = tolok()
    back = _callback(client, provider, "dewi")
    with TestClient(create_app(tmp_path)) as worker:
        worker.cookies.set("tolok_sso", str(client.cookies.get("tolok_sso")),
                           domain="testserver.local", path="/signin/sso")  # fmt: skip
        assert worker.get(back, follow_redirects=False).status_code == 303
        assert worker.get("/api/v1/me").json()["email"] == "dewi@tokomaju.id"


def test_an_answer_in_another_browser_is_refused(tolok: App, provider: OpenIdProvider) -> None:
    client = tolok()
    back = _callback(client, provider, "dewi")
    other = TestClient(client.app).get(back, follow_redirects=False)
    assert other.status_code == 400
    assert _refusal(other) == "this sign-in was started in another browser: sign in again"


def test_a_user_outside_the_allowed_domains_is_refused(
    tolok: App, provider: OpenIdProvider
) -> None:
    client = tolok()
    answer = client.get(_callback(client, provider, "eve"), follow_redirects=False)
    assert answer.status_code == 403
    assert _refusal(answer) == (
        "eve@elsewhere.example may not sign in here: only addresses of tokomaju.id"
    )
    with Session(client.app.state.tolok.engine) as session:  # type: ignore[attr-defined]
        assert accounts.find_user(session, "eve@elsewhere.example") is None
    (refused,) = _audit(client, "signin.sso.refused")
    assert refused.actor == "eve@elsewhere.example"


def _password(client: TestClient, email: str, **params: str) -> object:
    client.get("/signin", params=params)
    csrf = client.cookies.get("tolok_presession")
    return client.post("/signin", data={"email": email, "password": PASSWORD, "csrf": csrf,
                                        "next": "/board"}, follow_redirects=False)  # fmt: skip


def test_local_passwords_off_leaves_only_the_break_glass_account(
    tolok: App, provider: OpenIdProvider
) -> None:
    client = tolok(local_passwords=False)
    page = client.get("/signin").text
    assert "Sign in with Toko Maju ID" in page
    assert 'name="password"' not in page
    assert 'href="/signin?local=1&amp;next=%2Fboard"' in page
    assert 'name="password"' in client.get("/signin", params={"local": "1"}).text
    refused = _password(TestClient(client.app), "editor@tokomaju.id", local="1")
    assert getattr(refused, "status_code", None) == 403
    assert _refusal(refused) == "password sign-in is off here: sign in with Toko Maju ID"
    admin = TestClient(client.app)
    assert getattr(_password(admin, "admin@localhost", local="1"), "status_code", None) == 303
    assert admin.get("/api/v1/me").json()["role"] == "admin"
    assert _signed_in(TestClient(client.app), provider, "dewi")["role"] == "editor"


def test_a_provider_that_does_not_answer_says_so_and_the_local_admin_signs_in(
    tolok: App,
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    client = tolok(issuer=nobody, local_passwords=False)
    answer = client.get("/signin/sso", follow_redirects=False)
    assert answer.status_code == 503
    assert _refusal(answer) == (
        f"the sign-in provider {nobody} does not answer: try again later, or sign in with a "
        "local account"
    )
    assert 'name="password"' in answer.text  # the break-glass way in, offered at once
    admin = TestClient(client.app)
    assert getattr(_password(admin, "admin@localhost", local="1"), "status_code", None) == 303
    assert admin.get("/api/v1/me").json()["email"] == "admin@localhost"


def test_indonesian_sign_in_page_and_refusal(tolok: App, provider: OpenIdProvider) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    client = tolok(issuer=nobody, locale="id")
    assert "Masuk dengan Toko Maju ID" in client.get("/signin").text
    answer = client.get("/signin/sso", follow_redirects=False)
    assert _refusal(answer) == (
        f"penyedia masuk {nobody} tidak menjawab: coba lagi nanti, atau masuk dengan akun lokal"
    )


def test_signing_out_ends_the_session_and_leads_to_the_providers_end(
    tolok: App, provider: OpenIdProvider
) -> None:
    client = tolok()
    me = _signed_in(client, provider, "dewi")
    out = client.post("/signout", headers={"x-csrf-token": str(me["csrf"])},
                      follow_redirects=False)  # fmt: skip
    assert out.status_code == 303
    ending = urlsplit(out.headers["location"])
    assert f"{ending.scheme}://{ending.netloc}{ending.path}" == provider.issuer + "/session/end"
    assert parse_qs(ending.query) == {
        "client_id": ["tolok"], "post_logout_redirect_uri": ["http://testserver/signin"]
    }  # fmt: skip
    assert client.get("/api/v1/me").status_code == 401
    assert provider.http.get(out.headers["location"]).status_code == 200  # the provider's page


def _problems(root: Path, sso: str, locale: str = "en") -> list[str]:
    (root / "tolok.yaml").write_text(f"name: X\nlocale: {locale}\nsso:\n{sso}", encoding="utf-8")
    from tolok.i18n import voice

    loaded = load_project(root)
    words = voice(locale)
    return [f"{p.where.line}:{p.where.col} {p.message_in(words)}" for p in loaded.problems.errors]


def test_mistakes_in_the_sso_settings_are_located(tmp_path: Path) -> None:
    sso = """\
  issuer: login.tokomaju.id
  client_id: tolok
  client_secret_env: the secret
  allowed_domains: [tokomaju.id, "@Partner.co.id", "not a domain"]
  scopes: [email, profile]
  default_role: owner
"""
    assert _problems(tmp_path, sso) == [
        "4:11 'login.tokomaju.id' is not a web address; write it as https://host/path",
        "6:22 'the secret' is not an environment variable name such as OPS_SECRET",
        "7:52 'not a domain' is not an e-mail domain such as tokomaju.id",
        "8:11 the scopes of OpenID Connect sign-in must include 'openid'",
        "9:17 'owner' is not a valid default_role",
    ]


def test_the_sso_settings_mistakes_read_in_indonesian(tmp_path: Path) -> None:
    sso = """\
  issuer: https://login.tokomaju.id
  client_id: tolok
  allowed_domains: [tokomaju]
  scopes: [profile]
"""
    assert _problems(tmp_path, sso, "id") == [
        "6:21 'tokomaju' bukan domain e-mail seperti tokomaju.id",
        "7:11 cakupan untuk masuk dengan OpenID Connect harus memuat 'openid'",
    ]


def test_the_readmes_sso_example_validates(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Single sign-on (OpenID Connect)") :]
    example = re.search(r"```yaml\nsso:\n(.*?)```", section, re.S)
    assert example is not None
    assert _problems(tmp_path, example.group(1)) == []
    loaded = load_project(tmp_path)
    assert loaded.project is not None
    sso = loaded.project.sso
    assert sso is not None
    assert (sso.local_passwords, sso.break_glass) == (False, ["admin@localhost"])
