"""`tolok serve` as a process beside other commands: a value typed in with `tolok enter`
shows on the running server's board, and Ctrl-C stops the server at once even while a
board follows its stream of events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server.test_cli_serve import free_port, project

TODAY = "2026-03-15"  # the board judges February, the last closed month


@contextmanager
def served(root: Path) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    """`tolok serve` in its own process, and a client signed in as the admin it created."""
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port), "TOLOK_TODAY": TODAY,
           "TOLOK_WAREHOUSE_IDLE": "0.2", "TOLOK_SCHEDULES": "off"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "tolok", "serve", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        printed = ""
        while "password:" not in printed:
            line = server.stdout.readline()
            assert line, "tolok serve ended before printing the admin's password"
            printed += line
        password = printed.split("password:")[1].split()[0]
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as client:
            client.get("/signin")
            token = client.cookies.get("tolok_presession")
            form = {"email": "admin@localhost", "password": password, "csrf": token}
            assert client.post("/signin", data=form).status_code in (200, 303)
            yield server, client
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def _spend(client: httpx.Client) -> float | None:
    board = client.get("/board.json")
    assert board.status_code == 200, board.text
    cards = [c for g in board.json()["groups"] for c in g["cards"] if c["name"] == "spend"]
    assert len(cards) == 1
    value: float | None = cards[0]["value"]
    return value


def test_a_value_entered_in_the_terminal_shows_on_the_running_board(tmp_path: Path) -> None:
    root = project(tmp_path)
    with served(root) as (_, client):
        assert _spend(client) is None  # nothing computed yet
        entered = subprocess.run(
            [sys.executable, "-m", "tolok", "enter", "ad_spend", "spend", "2026-02", "1500",
             "--by", "platform=google", "-p", str(root)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "TOLOK_TODAY": TODAY, "TOLOK_USER": "budi@example.com"},
        )  # fmt: skip
        assert entered.returncode == 0, entered.stderr
        assert "1500" in entered.stdout
        assert _spend(client) == 1500  # no `tolok refresh` in between


def test_ctrl_c_stops_the_server_while_a_board_follows_its_events(tmp_path: Path) -> None:
    root = project(tmp_path)
    with served(root) as (server, client):
        opened = threading.Event()

        def follow() -> None:  # a board's open stream of events, as a browser keeps it
            try:
                with client.stream("GET", "/events", timeout=None) as events:
                    assert events.status_code == 200
                    for _ in events.iter_lines():
                        opened.set()
            except httpx.HTTPError:
                pass  # the server went away

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        assert opened.wait(10), "the stream of events did not open"
        asked = time.monotonic()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=15)
        took = time.monotonic() - asked
        assert took < 3, f"tolok serve took {took:.1f} s to stop"
        assert server.returncode in (0, 130, -signal.SIGINT)  # stopped as by Ctrl-C
        follower.join(timeout=5)
        assert not follower.is_alive()  # its stream ended
