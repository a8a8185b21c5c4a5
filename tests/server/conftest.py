"""A project served by a real app: a DuckDB warehouse table to ingest into, a CSV dataset,
a manual dataset, three accounts (viewer, editor, admin) and their browsers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.notify.conftest import smtp  # noqa: F401  (the SMTP server fixture, for sharing tests)
from tolok.auth import accounts
from tolok.server.app import create_app

PROJECT = """\
name: Served shop
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
      order_count: {agg: count}
  events:
    source: events
    time: happened_at
    key: [event_id]
    dimensions: [kind]
    columns: {event_id: string, happened_at: timestamp, kind: string, amount: number}
    measures:
      event_amount: {agg: sum, expr: amount}
  ad_spend:
    source: manual
    dimensions: [platform]
    measures:
      spend: {agg: sum}
goals:
  grow:
    title: Grow
    owner: owner@example.com
kpis:
  revenue:
    title: Revenue
    formula: revenue
    unit: currency
    goal: grow
    owner: sales-team
    target: {value: 300, from: 2026-01}
  event_amount:
    title: Event amount
    formula: event_amount
    unit: number
  spend:
    formula: spend
    unit: currency
"""

PASSWORD = "correct horse battery"


@dataclass
class Served:
    root: Path
    client: TestClient  # anonymous

    def browser(self, email: str, password: str = PASSWORD) -> TestClient:
        """A client signed in through the form, sending its CSRF token on writes."""
        client = TestClient(self.client.app)
        form = client.get("/signin")
        token = client.cookies.get("tolok_presession")
        answer = client.post(
            "/signin",
            data={"email": email, "password": password, "csrf": token, "next": "/api/v1/me"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, (form.status_code, answer.text)
        csrf = client.get("/api/v1/me").json()["csrf"]
        client.headers["X-CSRF-Token"] = csrf
        return client

    def token(self, email: str, scopes: list[str]) -> TestClient:
        browser = self.browser(email)
        made = browser.post("/api/v1/tokens", json={"name": "test", "scopes": scopes})
        assert made.status_code == 201, made.text
        client = TestClient(self.client.app)
        client.headers["Authorization"] = f"Bearer {made.json()['token']}"
        return client


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    # The clock of the data: orders of January and February 2026, February the last
    # closed month (on a later day, the data would have stopped long ago).
    monkeypatch.setenv("TOLOK_TODAY", "2026-03-01")
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(
        "ordered_at,region,amount\n2026-01-05,Bali,100\n2026-01-20,Jawa,150\n2026-02-03,Bali,200\n",
        encoding="utf-8",
    )
    app = create_app(tmp_path, refresh_delay=0.05)
    engine = app.state.tolok.engine
    with Session(engine) as session, session.begin():
        for email, role in [
            ("viewer@example.com", "viewer"),
            ("editor@example.com", "editor"),
            ("admin@example.com", "admin"),
            ("member@example.com", "viewer"),
        ]:
            accounts.add_user(session, email, "", role, "test", PASSWORD)
        accounts.join_team(session, "member@example.com", "sales-team", "test")
    with TestClient(app) as client:
        yield Served(tmp_path, client)
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


@dataclass
class Shop:
    """The shop of `tests/shop.py`, served; `rows` are its orders, `today` its day."""

    root: Path
    client: TestClient
    rows: list[Any]
    today: Any

    def browser(self, email: str) -> TestClient:
        client = TestClient(self.client.app)
        client.get("/signin")
        token = client.cookies.get("tolok_presession")
        answer = client.post(
            "/signin",
            data={"email": email, "password": PASSWORD, "csrf": token, "next": "/board"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        client.headers["X-CSRF-Token"] = client.get("/api/v1/me").json()["csrf"]
        return client


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    import datetime as dt

    from tests import shop as made

    today = dt.datetime.now(dt.UTC).date()
    rows = made.build(tmp_path, today)
    app = create_app(tmp_path, refresh_delay=0.05)
    with TestClient(app) as client:
        yield Shop(tmp_path, client, rows, today)
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()
