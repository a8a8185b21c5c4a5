"""The sign-in limits (issue 20, item 8): only failures use up an address's budget, and the
address is the peer's unless a proxy named in $TOLOK_TRUSTED_PROXIES says otherwise.

The forwarded headers are handled by uvicorn, so those tests run `tolok serve` itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD, Served
from tests.server.test_cli_serve import free_port, project
from tests.store.conftest import store_url  # noqa: F401  (SQLite and PostgreSQL stores)
from tolok.auth.ratelimit import Limiter
from tolok.cli.terminal.serve import TRUSTED_PROXIES


def sign_in(client: TestClient, email: str, password: str) -> int:
    client.cookies.clear()
    client.get("/signin")
    token = client.cookies.get("tolok_presession")
    answer = client.post("/signin", data={"email": email, "password": password, "csrf": token},
                         follow_redirects=False)  # fmt: skip
    return answer.status_code


def test_sixty_good_sign_ins_from_one_address_all_succeed(served: Served) -> None:
    client = TestClient(served.client.app)  # every request from the address "testclient"
    codes = [sign_in(client, "viewer@example.com", PASSWORD) for _ in range(60)]
    assert codes == [303] * 60


def test_failures_from_one_address_are_still_locked_out(served: Served) -> None:
    client = TestClient(served.client.app)
    # five wrong passwords for each of ten accounts: under the limit per account (10), at the
    # limit per address (50)
    for n in range(50):
        assert sign_in(client, f"guess{n // 5}@example.com", "wrong") == 401, n
    assert sign_in(client, "viewer@example.com", PASSWORD) == 429  # the address waits
    one = TestClient(served.client.app, client=("10.0.0.9", 50000))
    for _ in range(10):
        assert sign_in(one, "editor@example.com", "wrong") == 401
    assert sign_in(one, "editor@example.com", PASSWORD) == 429  # and the account waits


def test_successes_give_back_their_attempt_but_count_while_in_flight() -> None:
    limiter = Limiter(2, 60, clock=lambda: 0.0)
    assert limiter.attempt("a") == 0.0
    assert limiter.attempt("a") == 0.0
    assert limiter.attempt("a") == 60.0  # two in flight: a third guess waits
    limiter.refund("a")  # one of them was a good password
    assert limiter.attempt("a") == 0.0
    limiter.refund("a")
    limiter.refund("a")
    assert limiter._hits == {}  # nothing left to remember
    limiter.refund("b")  # a key never seen: nothing to give back
    assert limiter.blocked_for("b") == 0.0


def test_the_store_counts_one_budget_for_every_process_on_it(store_url: str) -> None:  # noqa: F811
    """Two servers on one store (two engines, as two processes have) share each key's window:
    guesses spread over them meet the limit, and only failures use it up."""
    import datetime as dt

    from tolok.auth.ratelimit import StoreLimiter
    from tolok.store.database import connect, open_store, upgrade

    upgrade(connect(store_url))
    at = [dt.datetime(2026, 12, 8, 9, 0)]
    first, second = open_store(store_url), open_store(store_url)
    try:
        one = StoreLimiter(first, 3, 60, clock=lambda: at[0])
        two = StoreLimiter(second, 3, 60, clock=lambda: at[0])
        assert one.attempt("account:a") == 0.0
        assert two.attempt("account:a") == 0.0
        assert one.attempt("account:a") == 0.0
        assert two.attempt("account:a") == 60.0  # three counted between them: a fourth waits
        assert one.blocked_for("account:a") == 60.0
        assert two.attempt("account:b") == 0.0  # another key has its own budget
        two.refund("account:a")  # the third was a good password
        assert one.attempt("account:a") == 0.0
        at[0] += dt.timedelta(seconds=45)
        assert two.attempt("account:a") == 15.0  # the oldest leaves the window in 15 s
        at[0] += dt.timedelta(seconds=16)
        assert two.attempt("account:a") == 0.0
        one.clear("account:a")
        assert one.blocked_for("account:a") == 0.0
        at[0] += dt.timedelta(minutes=5)
        one.attempt("account:c")  # an attempt sweeps what left every window
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from tolok.store.people import SigninAttempt

        with Session(first) as session:
            assert session.scalar(select(func.count()).select_from(SigninAttempt)) == 1
    finally:
        first.dispose()
        second.dispose()


@contextmanager
def serving(root: Path, trusted: str | None) -> Iterator[tuple[str, list[str]]]:
    """`tolok serve` on a free port of 127.0.0.1; yields its address and, once it stopped,
    its log lines."""
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port), "FORWARDED_ALLOW_IPS": "*"}
    env.pop(TRUSTED_PROXIES, None)
    if trusted is not None:
        env[TRUSTED_PROXIES] = trusted
    server = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=env)  # fmt: skip
    lines: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base, lines
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=30)
        lines += errors.splitlines()


def guess_from(base: str, count: int) -> list[int]:
    """`count` wrong passwords, each for another account, each saying it comes from another
    address in `X-Forwarded-For`."""
    codes = []
    with httpx.Client(base_url=base) as client:
        client.get("/signin")
        for n in range(count):
            token = client.cookies.get("tolok_presession")
            answer = client.post("/signin",
                                 data={"email": f"nobody{n}@example.com", "password": "wrong",
                                       "csrf": token},
                                 headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})  # fmt: skip
            codes.append(answer.status_code)
    return codes


def clients(lines: list[str]) -> set[str]:
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    return {e["client"] for e in logged if e.get("path") == "/signin" and e.get("method") == "POST"}


def test_an_untrusted_peer_cannot_name_another_address(tmp_path: Path) -> None:
    # uvicorn alone would trust 127.0.0.1, and here even everyone ($FORWARDED_ALLOW_IPS=*)
    with serving(project(tmp_path), None) as (base, lines):
        codes = guess_from(base, 51)
    assert codes == [401] * 50 + [429]  # fifty from one address, whatever they claimed
    assert clients(lines) == {"127.0.0.1"}


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    with serving(project(tmp_path), "127.0.0.1") as (base, lines):
        codes = guess_from(base, 55)
    assert codes == [401] * 55  # fifty-five addresses, one guess each
    assert clients(lines) == {f"203.0.113.{n + 1}" for n in range(55)}
