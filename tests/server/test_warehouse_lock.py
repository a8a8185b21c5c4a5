"""A DuckDB warehouse file shared by a running `tolok serve` and `tolok refresh`: the
server lets go of it when no rows come in, the command waits for it, and a collision that
lasts is an error that names the holder. Real processes, real HTTP, real file locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.server.test_cli_serve import free_port, project

ROWS = [{"event_id": "e1", "happened_at": "2026-01-07 10:00", "kind": "a", "amount": 5}]
HOLD = """
import sys, time, duckdb
for _ in range(200):
    try:
        connection = duckdb.connect(sys.argv[1])
        break
    except duckdb.IOException:
        time.sleep(0.1)
print("held", flush=True)
sys.stdin.read()
"""


@dataclass
class Server:
    process: subprocess.Popen[str]
    program: httpx.Client  # with an ingest token
    env: dict[str, str]

    def rows(self, rows: list[dict[str, object]]) -> httpx.Response:
        return self.program.post("/api/v1/datasets/events/rows", json=rows)


def _start(root: Path, env: dict[str, str]) -> Server:
    port = free_port()
    env = {**env, "TOLOK_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)  # fmt: skip
    assert process.stdout is not None
    printed = ""
    while "password:" not in printed:
        line = process.stdout.readline()
        assert line, f"tolok serve stopped: {printed}"
        printed += line
    password = printed.split("password:")[1].split()[0]
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    with httpx.Client(base_url=base) as browser:
        browser.get("/signin")
        csrf = browser.cookies.get("tolok_presession")
        browser.post("/signin", data={"email": "admin@localhost", "password": password,
                                      "csrf": csrf})  # fmt: skip
        me = browser.get("/api/v1/me").json()
        made = browser.post("/api/v1/tokens", headers={"X-CSRF-Token": me["csrf"]},
                            json={"name": "t", "scopes": ["ingest:events"]})  # fmt: skip
    program = httpx.Client(base_url=base, timeout=30,
                           headers={"Authorization": f"Bearer {made.json()['token']}"})  # fmt: skip
    return Server(process, program, env)


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server that lets go of the file after a second without rows (or `param` seconds)
    and waits a second for it when another program holds it."""
    root = project(tmp_path)
    idle = str(getattr(request, "param", 1))
    env = {**os.environ, "TOLOK_WAREHOUSE_IDLE": idle, "TOLOK_WAREHOUSE_WAIT": "1"}
    started = _start(root, env)
    yield started
    started.program.close()
    started.process.send_signal(signal.SIGINT)
    started.process.wait(timeout=30)


def refresh(root: Path, wait: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLOK_WAREHOUSE_WAIT": str(wait)}
    return subprocess.run([sys.executable, "-m", "tolok", "refresh", str(root)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip


def test_refresh_waits_for_a_server_to_let_go_of_the_warehouse(
    server: Server, tmp_path: Path
) -> None:
    assert server.rows(ROWS).json()["accepted"] == 1  # the server holds the file now
    done = refresh(tmp_path, wait=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert server.rows([dict(ROWS[0], event_id="e2")]).json()["accepted"] == 1  # reopened


@pytest.mark.parametrize("server", [10], indirect=True)  # a slow batch is no pause
def test_refresh_meeting_a_steady_stream_names_the_server(server: Server, tmp_path: Path) -> None:
    stop = threading.Event()

    def stream() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            assert server.rows([dict(ROWS[0], event_id=f"s{n}")]).status_code == 200
            time.sleep(0.1)

    feeder = threading.Thread(target=stream)
    feeder.start()
    try:
        time.sleep(0.5)
        refused = refresh(tmp_path, wait=0.5)
    finally:
        stop.set()
        feeder.join()
    assert refused.returncode == 1
    said = " ".join((refused.stdout + refused.stderr).split())
    assert f"is in use by another program (PID {server.process.pid}:" in said
    assert "tolok serve" in said
    assert "lets go of it a few seconds after the last rows came in" in said
    assert "Traceback" not in refused.stdout + refused.stderr


def test_ingestion_meeting_another_holder_is_a_409_to_retry(server: Server, tmp_path: Path) -> None:
    assert server.rows(ROWS).status_code == 200
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "warehouse.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"  # after the server let go
        refused = server.rows([dict(ROWS[0], event_id="e2")])
        assert refused.status_code == 409
        assert refused.headers["retry-after"] == "5"
        message = refused.json()["error"]["message"]
        assert "in use by another program" in message
        assert "nothing was written" in message
        assert str(holder.pid) not in message  # the server's processes are its own business
        assert str(tmp_path) not in message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    # Once the other program has let go, the retry the 409 asked for goes through. On a
    # busy machine the server may still see the file held for a moment: it says so again
    # with its Retry-After, which a client honours.
    for _ in range(3):
        retried = server.rows([dict(ROWS[0], event_id="e2")])
        if retried.status_code != 409:
            break
        time.sleep(int(retried.headers["retry-after"]))
    assert retried.status_code == 200, retried.text
    assert retried.json()["accepted"] == 1
