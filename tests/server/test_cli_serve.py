"""`tolok serve` as a new user runs it, and `tolok user …` from the terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.server.conftest import PROJECT, Served
from tolok.cli import app
from tolok.store.database import open_store
from tolok.store.people import User

runner = CliRunner()


def project(folder: Path) -> Path:
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "orders.csv").write_text("ordered_at,region,amount\n2026-01-05,Bali,100\n",
                                       encoding="utf-8")  # fmt: skip
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_user_commands(tmp_path: Path) -> None:
    root = str(project(tmp_path))
    added = runner.invoke(app, ["user", "add", "Dewi@Toko.id", "--role", "editor",
                                "--team", "sales", "-p", root])  # fmt: skip
    assert added.exit_code == 0, added.output
    password = re.search(r"password: (\S+)", added.output)
    assert password is not None
    assert len(password.group(1)) >= 16
    listed = runner.invoke(app, ["user", "list", "-p", root]).output
    assert "dewi@toko.id\tdewi\teditor\tactive\tsales" in listed
    again = runner.invoke(app, ["user", "add", "dewi@toko.id", "-p", root])
    assert again.exit_code == 1
    assert "already has an account" in again.output
    bad_role = runner.invoke(app, ["user", "add", "x@toko.id", "--role", "boss", "-p", root])
    assert bad_role.exit_code == 1
    assert "unknown role 'boss'" in bad_role.output
    assert runner.invoke(app, ["user", "disable", "dewi@toko.id", "-p", root]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["user", "list", "-p", root]).output
    reset = runner.invoke(app, ["user", "reset-password", "dewi@toko.id", "-p", root])
    assert "new password for dewi@toko.id" in reset.output
    audit = runner.invoke(app, ["audit", "user:", "-p", root]).output
    assert "user.add" in audit
    assert "user.disable" in audit
    siti = runner.invoke(app, ["user", "add", "siti@toko.id", "--locale", "id", "-p", root])
    assert siti.exit_code == 0, siti.output
    engine = open_store(f"sqlite:///{Path(root) / 'tolok.db'}")
    with Session(engine) as session:
        locale = session.scalars(select(User.locale).where(User.email == "siti@toko.id")).one()
    assert locale == "id"  # the language of her alerts and digests
    wrong = runner.invoke(app, ["user", "add", "x@toko.id", "--locale", "fr", "-p", root])
    assert wrong.exit_code == 2


def test_serve_creates_the_first_admin_and_logs_json(tmp_path: Path) -> None:
    root = project(tmp_path)
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tolok", "serve", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
        assert httpx.get(f"{base}/api/v1/kpis").status_code == 401
        with httpx.Client(base_url=base) as browser:
            browser.get("/signin")
            token = browser.cookies.get("tolok_presession")
            assert server.stdout is not None
            printed = ""
            while "password:" not in printed:
                printed += server.stdout.readline()
            password = printed.split("password:")[1].split()[0]
            signed = browser.post(
                "/signin", data={"email": "admin@localhost", "password": password, "csrf": token}
            )
            assert signed.status_code in (200, 303)
            assert browser.get("/api/v1/me").json()["role"] == "admin"
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=20)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "tolok.access"]
    assert any(e["path"] == "/api/v1/me" and e["status"] == 200 for e in access)
    assert all({"method", "path", "status", "ms", "client", "time"} <= set(e) for e in access)


def test_a_password_reset_revokes_tokens_and_ends_sessions(served: Served) -> None:
    browser = served.browser("editor@example.com")
    program = served.token("editor@example.com", ["read"])
    other = served.token("viewer@example.com", ["read"])
    assert program.get("/api/v1/me").status_code == 200  # checked now, and kept a minute
    root = str(served.root)
    reset = runner.invoke(app, ["user", "reset-password", "editor@example.com", "-p", root])
    assert reset.exit_code == 0, reset.output
    # two sessions: the browser, and the one `served.token` signed in to make the token
    assert "revoked 1 API token and ended 2 signed-in sessions" in reset.output
    assert program.get("/api/v1/me").status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200  # another user's token still works
    new = re.search(r"new password for editor@example.com: (\S+)", reset.output)
    assert new is not None
    assert served.browser("editor@example.com", new.group(1)).get("/api/v1/me").status_code == 200
    again = runner.invoke(app, ["user", "reset-password", "editor@example.com", "-p", root])
    assert "revoked 0 API tokens and ended 1 signed-in session" in again.output
    audit = served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    resets = [e for e in audit if e["action"] == "user.reset_password"]
    assert {e["actor"] for e in resets} == {"tolok cli"}
    afters = sorted((e["after"] for e in resets), key=lambda a: -a["sessions_ended"])
    assert afters == [{"tokens_revoked": [1], "sessions_ended": 2},
                      {"tokens_revoked": [], "sessions_ended": 1}]  # fmt: skip


def test_disabling_a_user_stops_their_token_and_session_at_once(served: Served) -> None:
    browser = served.browser("editor@example.com")
    program = served.token("editor@example.com", ["read"])
    assert program.get("/api/v1/me").status_code == 200
    root = str(served.root)
    disabled = runner.invoke(app, ["user", "disable", "editor@example.com", "-p", root])
    assert disabled.exit_code == 0, disabled.output
    assert program.get("/api/v1/me").status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    audit = served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    entry = next(e for e in audit if e["action"] == "user.disable")
    assert entry["after"]["disabled"] is True
    assert entry["after"]["sessions_ended"] == 2
    assert runner.invoke(app, ["user", "enable", "editor@example.com", "-p", root]).exit_code == 0
    assert program.get("/api/v1/me").status_code == 200  # enabling gives the token back
