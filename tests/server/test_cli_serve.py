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
from typer.testing import CliRunner

from tests.server.conftest import PROJECT
from tolok.cli import app

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
