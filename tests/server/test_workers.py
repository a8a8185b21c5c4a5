"""`tolok serve --workers 2` on a PostgreSQL store (issue 26, item 2): what one process
knows must hold whichever process answers. Each request goes on a connection of its own, so
the kernel hands it to either worker.

One server for the module: two processes, a store database of their own, an SMTP server."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.conftest import unavailable
from tests.notify.conftest import SmtpServer, _start
from tests.serving import free_port
from tests.shop import PASSWORD, PEOPLE, month_start, orders, project_yaml

SERVER = "postgresql://postgres@127.0.0.1:5432"
TODAY = dt.datetime.now(dt.UTC).date()
EVENTS = """\
  events:
    source: events
    time: happened_at
    key: [event_id]
    dimensions: [kind]
    columns: {event_id: string, happened_at: timestamp, kind: string, amount: number}
    measures:
      event_amount: {agg: sum, expr: amount}
"""


@dataclass
class Workers:
    base: str
    root: Path
    store: str
    smtp: SmtpServer
    process: subprocess.Popen[str]

    @contextmanager
    def signed_in(self, email: str) -> Iterator[httpx.Client]:
        """A browser signed in (cookie and CSRF token), on a connection of its own per
        request: `Connection: close` makes each request land on either worker."""
        headers = {"Connection": "close"}
        with httpx.Client(base_url=self.base, timeout=30, headers=headers) as client:
            client.get("/signin")
            token = client.cookies.get("tolok_presession")
            data = {"email": email, "password": PASSWORD, "csrf": token}
            answer = client.post("/signin", data=data)
            assert answer.status_code in (200, 303), answer.text
            page = client.get("/board")
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            client.headers["x-csrf-token"] = csrf
            yield client


def _psql(database: str, sql: str) -> None:
    subprocess.run(["psql", "--no-psqlrc", "-tA", "-d", f"{SERVER}/{database}", "-c", sql],
                   capture_output=True, text=True, timeout=60, check=True)  # fmt: skip


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    from tolok.auth import accounts
    from tolok.store.database import open_store, store_url
    from tolok.store.sharing import ScheduleRun

    name = f"tolok_workers_{uuid.uuid4().hex[:8]}"
    try:
        _psql("postgres", f'CREATE DATABASE "{name}"')
    except (subprocess.CalledProcessError, OSError) as exc:
        unavailable("postgres", exc)
    smtp = SmtpServer("127.0.0.1", free_port())
    controller = _start(smtp)
    root = tmp_path_factory.mktemp("workers")
    store = f"{SERVER}/{name}"
    # A digest due a minute ago, whose occurrence of the day before was seen: the first
    # look of either worker finds it due, and only one may run it.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    due = now - dt.timedelta(minutes=1)
    text = f"email: {{host: 127.0.0.1, port: {smtp.port}, security: none, sender: kpi@toko.id}}\n"
    text += (
        project_yaml(TODAY)
        .replace("store: sqlite:///tolok.db", f"store: {store}")
        .replace("datasets:\n", "datasets:\n" + EVENTS, 1)
    )
    text += f"""alerts:
  big-spend: {{when: threshold, kpis: [ad_spend], above: 100, notify: [owner]}}
schedules:
  morning: {{do: digest, every: day, at: "{due:%H:%M}", to: [boss@example.com]}}
"""
    (root / "tolok.yaml").write_text(text, encoding="utf-8")
    lines = ["ordered_at,region,amount"]
    lines += [f"{o.day.isoformat()},{o.region},{o.amount}" for o in orders(TODAY)]
    (root / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tolok = Path(sys.executable).with_name("tolok")
    for command in (["db", "upgrade"], ["refresh"]):
        done = subprocess.run([str(tolok), *command, str(root)], capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    engine = open_store(store_url(store, root))
    with Session(engine) as session, session.begin():
        for email, role in PEOPLE:
            accounts.add_user(session, email, email.split("@")[0].title(), role, "test", PASSWORD)
        session.add(ScheduleRun(
            schedule="morning", due_at=due - dt.timedelta(days=1), status="seen", owner="test",
            lease_until=now, attempts=1, started_at=now, finished_at=now,
        ))  # fmt: skip
    engine.dispose()
    port = free_port()
    # Streams learn of changes from PostgreSQL's announcements only: the look for a lost one
    # comes after a minute, later than any test here waits.
    env = {**os.environ, "TOLOK_PORT": str(port), "TOLOK_SCHEDULE_EVERY": "0.5",
           "TOLOK_EVENTS_POLL": "60"}  # fmt: skip
    process = subprocess.Popen(
        [str(tolok), "serve", "--workers", "2", str(root)], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError(process.communicate()[0])
    yield Workers(base, root, store, smtp, process)
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    controller.stop()
    _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def test_two_workers_serve_one_port(workers: Workers) -> None:
    # uvicorn's supervisor, and under it its two workers (besides multiprocessing's tracker)
    kids = _children(workers.process.pid)
    serving = [k for k in kids if "resource_tracker" not in Path(f"/proc/{k}/cmdline").read_text()]
    assert len(serving) >= 2, kids


def test_a_session_holds_on_every_worker(workers: Workers) -> None:
    with workers.signed_in("viewer@example.com") as browser:
        for _ in range(20):  # twenty connections: both workers answer some
            assert browser.get("/api/v1/me").json()["email"] == "viewer@example.com"
        browser.post("/signout")
        assert browser.get("/api/v1/me").status_code == 401  # ended for every worker


def test_the_sign_in_limit_counts_attempts_on_every_worker(workers: Workers) -> None:
    codes = []
    for _ in range(11):  # ten wrong passwords, then the right one, each on a new connection
        with httpx.Client(base_url=workers.base, timeout=30) as client:
            client.get("/signin")
            token = client.cookies.get("tolok_presession")
            password = "wrong" if len(codes) < 10 else PASSWORD
            answer = client.post("/signin", data={"email": "admin@example.com",
                                                  "password": password, "csrf": token})  # fmt: skip
            codes.append(answer.status_code)
    # Split between two processes counting on their own, neither would have seen ten.
    assert codes == [401] * 10 + [429]


def test_an_idempotency_key_is_one_write_on_every_worker(workers: Workers) -> None:
    rows = [{"event_id": f"e{n}", "happened_at": f"{TODAY:%Y-%m-%d} 09:00", "kind": "a",
             "amount": 5} for n in range(3)]  # fmt: skip
    with workers.signed_in("editor@example.com") as browser:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = browser.post("/api/v1/datasets/events/rows", json=rows, headers=key)
        assert first.status_code == 200, first.text
        replays = [browser.post("/api/v1/datasets/events/rows", json=rows, headers=key)
                   for _ in range(4)]  # fmt: skip
    assert [r.status_code for r in replays] == [200] * 4
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    assert all(r.json() == first.json() for r in replays)


def test_a_change_reaches_the_event_streams_of_every_worker(workers: Workers) -> None:
    period = f"{month_start(TODAY, 2):%Y-%m}"
    with (
        workers.signed_in("viewer@example.com") as reader,
        workers.signed_in("editor@example.com") as editor,
    ):
        streams = []
        for _ in range(4):  # four streams: on one worker or the other
            stream = reader.stream("GET", "/events", timeout=30)
            streams.append((stream, stream.__enter__()))
        try:
            value = [{"measure": "spend", "period": period, "value": 7}]
            sent = editor.post("/api/v1/datasets/ad_spend/values", json=value)
            assert sent.status_code in (200, 201), sent.text
            for _, answer in streams:
                deadline = time.monotonic() + 25
                for line in answer.iter_lines():
                    if line == "event: refresh" or time.monotonic() > deadline:
                        break
                assert line == "event: refresh"
        finally:
            for stream, _ in streams:
                stream.__exit__(None, None, None)


def test_a_refresh_by_another_program_reaches_the_streams(workers: Workers) -> None:
    """`tolok refresh` from cron is no worker: the store itself announces what it wrote."""
    tolok = Path(sys.executable).with_name("tolok")
    with (
        workers.signed_in("viewer@example.com") as reader,
        reader.stream("GET", "/events", timeout=30) as answer,
    ):
        lines = answer.iter_lines()
        assert next(lines).startswith("retry:")
        done = subprocess.run([str(tolok), "refresh", "--full", "--no-alerts",
                               str(workers.root)], capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        deadline = time.monotonic() + 20
        for line in lines:
            if line == "event: refresh" or time.monotonic() > deadline:
                break
        assert line == "event: refresh"


def test_a_due_digest_runs_once_and_an_alert_reaches_its_person_once(workers: Workers) -> None:
    period = f"{month_start(TODAY, 1):%Y-%m}"
    with workers.signed_in("editor@example.com") as editor:
        for value in (500, 600):  # two changes, likely on both workers: two refreshes
            typed = [{"measure": "spend", "period": period, "value": value}]
            sent = editor.post("/api/v1/datasets/ad_spend/values", json=typed)
            assert sent.status_code in (200, 201), sent.text
    deadline = time.monotonic() + 60
    smtp = workers.smtp

    def sent_to(person: str, words: str) -> int:
        return sum(str(m["To"]) == person and words in str(m["Subject"]) for m in smtp.messages)

    while time.monotonic() < deadline:
        if sent_to("marketing@example.com", "Ad spend") and sent_to("boss@example.com", "digest"):
            break
        time.sleep(0.5)
    time.sleep(5)  # both workers have looked again at schedules and alerts meanwhile
    assert sent_to("boss@example.com", "digest") == 1
    assert sent_to("marketing@example.com", "Ad spend") == 1
