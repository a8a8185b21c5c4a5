"""`tolok demo` (what `make demo` runs) as a new user runs it: a sample shop refreshed and
its board served, with the URL and the demo sign-in printed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.test_cli_serve import free_port


def test_the_demo_serves_a_refreshed_board_with_a_demo_account(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "tolok", "demo", "--port", str(port),
               "--folder", str(tmp_path / "shop")]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Sign in as"):
                break
        text = "".join(lines)
        url = re.search(r"The board: (http://\S+)", text)
        sign = re.search(r"Sign in as (\S+) with the password (\S+)", text)
        assert url is not None, text
        assert sign is not None, text
        assert url.group(1) == f"http://127.0.0.1:{port}/board"
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
        for _ in range(100):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        client.get("/signin")
        form = {"email": sign.group(1), "password": sign.group(2), "next": "/board",
                "csrf": client.cookies.get("tolok_presession")}  # fmt: skip
        answer = client.post("/signin", data=form)
        assert answer.status_code == 200
        board = client.get("/board.json").json()
        cards = [c for g in board["groups"] for c in g["cards"]]
        assert len(cards) >= 6
        assert all(c["value"] is not None for c in cards)  # refreshed before serving
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
