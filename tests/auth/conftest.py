"""A real OpenID provider for the single sign-on tests: panva/oidc-provider (OpenID
certified), started on a loopback port by `tests/fixtures/oidc/provider.js`, one process per
test module. Without Node.js or its packages the tests are skipped, saying why; in CI
(CI=true) they fail instead, as CI installs both (`make test`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.serving import free_port

FOLDER = Path(__file__).parents[1] / "fixtures" / "oidc"
CLIENT_ID = "tolok"
CLIENT_SECRET = "a-client-secret-for-tests"
REDIRECT_URI = "http://testserver/signin/sso/callback"  # tolok served by the test client
ACCOUNTS = {
    "dewi": {"email": "dewi@tokomaju.id", "name": "Dewi Lestari", "roles": ["kpi-editors"],
             "groups": ["sales", "marketing"]},
    "budi": {"email": "budi@tokomaju.id", "name": "Budi", "roles": ["staff"], "groups": []},
    "eve": {"email": "eve@elsewhere.example", "name": "Eve", "roles": ["kpi-editors"],
            "groups": ["sales"]},
}  # fmt: skip


@dataclass
class OpenIdProvider:
    issuer: str
    http: httpx.Client

    def mode(self, mode: str) -> None:
        """How the token endpoint's ID tokens leave the provider (see provider.js)."""
        self.http.get(f"{self.issuer}/__test/mode", params={"set": mode}).raise_for_status()

    def account(self, account: str, claims: Mapping[str, object]) -> None:
        answer = self.http.get(f"{self.issuer}/__test/account",
                               params={"id": account, "claims": json.dumps(claims)})  # fmt: skip
        answer.raise_for_status()

    def sign_in(self, authorize: str, account: str) -> str:
        """The browser's way through the provider, signing in `account`: the address the
        provider sends it back to (tolok's callback, with the code and state)."""
        browser = httpx.Client(timeout=10)
        where = authorize
        for _ in range(10):
            if not where.startswith(self.issuer):
                return where
            if "/interaction/" in where:
                where += "?account=" + quote(account)
            answer = browser.get(where, follow_redirects=False)
            assert answer.status_code in (302, 303), (answer.status_code, answer.text)
            where = str(answer.url.join(answer.headers["location"]))
        raise AssertionError("the provider did not send the browser back")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (the OpenID provider of these tests runs on it)"
    if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
        return f"oidc-provider is not installed: run `npm ci` in {FOLDER}"
    return None


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    port = free_port()
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": ["http://testserver/signin"]}]  # fmt: skip
    env = {**os.environ, "OIDC_CLIENTS": json.dumps(clients), "OIDC_ACCOUNTS": json.dumps(ACCOUNTS)}
    said = tmp_path_factory.mktemp("oidc") / "provider.log"
    with said.open("w") as log:
        process = subprocess.Popen(["node", "provider.js", str(port)], cwd=FOLDER, env=env,
                                   stdout=subprocess.PIPE, stderr=log, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening" not in line:
            process.kill()
            raise AssertionError(f"the OpenID provider did not start: {said.read_text()}")
        with httpx.Client(timeout=10) as http:
            yield OpenIdProvider(f"http://127.0.0.1:{port}", http)
    finally:
        process.terminate()
        process.wait(timeout=10)
