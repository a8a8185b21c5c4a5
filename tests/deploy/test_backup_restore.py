"""deploy/: the entry point a container or a systemd unit runs, and a backup restored into an
empty PostgreSQL database serving the same board (issue 26, item 3).

Run as a person runs them: `tolok` commands and the shell scripts as processes, the server
through `deploy/entrypoint.sh`, the board read over HTTP and held against the shop's orders
worked out by hand."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.serving import free_port
from tests.shop import month_start, monthly, orders, project_yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TOLOK = Path(sys.executable).with_name("tolok")
SERVER = "postgresql://postgres@127.0.0.1:5432"


def _psql(database: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "--no-psqlrc", "-tA", "-d", f"{SERVER}/{database}", "-c", sql],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new PostgreSQL databases, the store in use and an empty one to restore into."""
    for tool in ("psql", "pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            unavailable("postgres", f"{tool} is not installed")
    names = [f"tolok_deploy_{uuid.uuid4().hex[:8]}_{part}" for part in ("live", "restored")]
    try:
        for name in names:
            _psql("postgres", f'CREATE DATABASE "{name}"')
    except (subprocess.CalledProcessError, OSError) as exc:
        unavailable("postgres", exc)
    yield names[0], names[1]
    for name in names:
        _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tolok(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(TOLOK), *args], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def shop_project(root: Path, store: str, today: dt.date) -> list[object]:
    rows = orders(today)
    text = project_yaml(today).replace("store: sqlite:///tolok.db", f"store: {store}")
    (root / "tolok.yaml").write_text(text, encoding="utf-8")
    lines = ["ordered_at,region,amount"]
    lines += [f"{o.day.isoformat()},{o.region},{o.amount}" for o in rows]
    (root / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(rows)


class Entrypoint:
    """deploy/entrypoint.sh as a process, as the image and the systemd unit run it."""

    def __init__(self, project: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "TOLOK_PROJECT": str(project),
            "TOLOK_HOST": "127.0.0.1",
            "TOLOK_PORT": str(self.port),
            "TOLOK_BIN": str(TOLOK),
        }
        self.process = subprocess.Popen(
            ["sh", str(DEPLOY / "entrypoint.sh")], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait(self) -> None:
        for _ in range(300):
            if self.process.poll() is not None:
                assert self.process.stdout is not None
                raise AssertionError(f"the entry point stopped: {self.process.stdout.read()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the server did not answer /healthz")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return out


@contextmanager
def signed_in(base: str, email: str, password: str) -> Iterator[httpx.Client]:
    """A browser signed in with a password the store holds (restored, for the second)."""
    with httpx.Client(base_url=base, timeout=30) as browser:
        browser.get("/signin")
        token = browser.cookies.get("tolok_presession")
        data = {"email": email, "password": password, "csrf": token}
        answer = browser.post("/signin", data=data)
        assert answer.status_code in (200, 303), answer.text
        yield browser


def cards(browser: httpx.Client) -> dict[str, dict[str, object]]:
    board = browser.get("/board.json")
    assert board.status_code == 200, board.text
    return {c["name"]: c for g in board.json()["groups"] for c in g["cards"]}


def test_a_backup_restored_into_an_empty_database_serves_the_same_board(
    tmp_path: Path, databases: tuple[str, str]
) -> None:
    live, restored = databases
    today = dt.date.today()
    project = tmp_path / "project"
    project.mkdir()
    rows = shop_project(project, f"{SERVER}/{live}", today)
    # The team's server as the README sets it up: the store migrated, a refresh, an admin.
    tolok("db", "upgrade", str(project))
    tolok("refresh", str(project))
    added = tolok("user", "add", "admin@toko.id", "--role", "admin", "-p", str(project))
    found = re.search(r"password: (\S+)", added)
    assert found is not None
    password = found.group(1)
    server = Entrypoint(project)
    try:
        server.wait()
        with signed_in(server.base, "admin@toko.id", password) as browser:
            before = cards(browser)
    finally:
        server.stop()

    backups = tmp_path / "backups"
    done = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh"), f"{SERVER}/{live}", str(project), str(backups)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    dump, archive = done.stdout.split()
    assert Path(dump).stat().st_size > 0
    # The disaster: the live database and the project folder are gone.
    _psql("postgres", f'DROP DATABASE "{live}" WITH (FORCE)')
    shutil.rmtree(project)

    again = tmp_path / "again"
    done = subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), dump, archive, f"{SERVER}/{restored}", str(again)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TOLOK_BIN": str(TOLOK)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"change store: in {again}/tolok.yaml" in done.stdout
    yaml = (again / "tolok.yaml").read_text(encoding="utf-8")
    (again / "tolok.yaml").write_text(yaml.replace(f"/{live}", f"/{restored}"), encoding="utf-8")

    server = Entrypoint(again)  # migrates (nothing to do) and serves the restored store
    try:
        server.wait()
        with signed_in(server.base, "admin@toko.id", password) as browser:
            after = cards(browser)
    finally:
        out = server.stop()
    assert "password:" not in out  # the restored accounts: no new first admin was made
    last = month_start(today, 1)
    revenue, count = monthly(rows, last)  # type: ignore[arg-type]
    assert after["revenue"]["value"] == revenue
    assert after["revenue"]["period_start"] == last.isoformat()
    assert after["orders"]["value"] == count
    assert {n: (c["value"], c["status"]) for n, c in after.items()} == {
        n: (c["value"], c["status"]) for n, c in before.items()
    }


def test_restore_refuses_a_database_that_is_not_empty(
    tmp_path: Path, databases: tuple[str, str]
) -> None:
    live, _ = databases
    _psql(live, "CREATE TABLE kept (id int)")
    (tmp_path / "store.dump").write_bytes(b"")
    (tmp_path / "project.tar.gz").write_bytes(b"")
    done = subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), str(tmp_path / "store.dump"),
         str(tmp_path / "project.tar.gz"), f"{SERVER}/{live}", str(tmp_path / "new")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "already holds 1 tables: restore into an empty database" in done.stderr
    assert _psql(live, "select count(*) from kept") == "0"  # left as it was


def test_the_entry_point_says_what_is_missing_and_stops_on_a_bad_project(tmp_path: Path) -> None:
    env = {**os.environ, "TOLOK_PROJECT": str(tmp_path), "TOLOK_BIN": str(TOLOK)}
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh")], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    assert f"no tolok.yaml in {tmp_path}" in done.stderr
    (tmp_path / "tolok.yaml").write_text("name: Toko\nkpis:\n  revenue: {formula: nope +}\n")
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh")], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode != 0
    assert "tolok.yaml:3" in done.stdout + done.stderr  # the problem's file and line
