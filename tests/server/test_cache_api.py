"""What the server keeps between requests: the board (KPI cards, goals) until the store or
the project changes, checked tokens until anything audited is written, and one warehouse
connection for ingestion."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.server.conftest import Served
from tolok.auth import accounts
from tolok.store.people import ApiToken

ROWS = [{"event_id": "e1", "happened_at": "2026-01-05 10:00", "kind": "a", "amount": 7}]


def _cards(client: TestClient) -> dict[str, dict[str, object]]:
    answer = client.get("/api/v1/kpis")
    assert answer.status_code == 200, answer.text
    return {c["name"]: c for c in answer.json()["items"]}


def _refresh(served: Served) -> None:
    refresher = served.client.app.state.tolok.refresher
    refresher.soon()
    refresher.wait()


def test_the_board_is_built_once_until_a_refresh_changes_the_store(served: Served) -> None:
    client = served.token("admin@example.com", ["read", "ingest:events"])
    board = served.client.app.state.tolok.board
    first = client.get("/api/v1/kpis")
    builds = board.builds
    again = client.get("/api/v1/kpis", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/api/v1/goals").status_code == 200
    _cards(client)
    assert board.builds == builds + 1  # the goal tree; the cards came from the cache
    assert client.post("/api/v1/datasets/events/rows", json=ROWS).json()["accepted"] == 1
    _refresh(served)
    cards = _cards(client)
    assert cards["event_amount"]["value"] == 7.0  # January, refreshed
    assert cards["revenue"]["value"] == 200.0  # February
    changed = client.get("/api/v1/kpis", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200  # another answer, another tag


def test_a_target_set_by_a_person_shows_on_the_next_request(served: Served) -> None:
    editor = served.browser("editor@example.com")
    program = served.token("admin@example.com", ["ingest:events"])
    assert program.post("/api/v1/datasets/events/rows", json=ROWS).status_code == 200
    _refresh(served)
    assert _cards(editor)["revenue"]["target"] == 300.0
    made = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": 400})
    assert made.status_code == 200, made.text
    assert _cards(editor)["revenue"]["target"] == 400.0  # February, the last closed month


def test_a_change_to_the_yaml_shows_on_the_next_request(served: Served) -> None:
    client = served.token("viewer@example.com", ["read"])
    assert _cards(client)["revenue"]["title"] == "Revenue"
    path = served.root / "tolok.yaml"
    path.write_text(path.read_text().replace("title: Revenue", "title: Omzet"), "utf-8")
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))
    assert _cards(client)["revenue"]["title"] == "Omzet"
    goals = client.get("/api/v1/goals").json()
    assert goals[0]["kpis"] == ["revenue"]


def test_a_yaml_that_does_not_read_keeps_the_last_good_version_until_fixed(
    served: Served,
) -> None:
    client = served.token("viewer@example.com", ["read"])
    path = served.root / "tolok.yaml"
    good = path.read_text()

    def write(text: str, seconds: int) -> None:
        path.write_text(text, "utf-8")
        later = path.stat().st_mtime + seconds
        os.utime(path, (later, later))

    write("name: [unclosed\n", 5)  # not even YAML
    assert _cards(client)["revenue"]["title"] == "Revenue"
    assert _cards(client)["revenue"]["title"] == "Revenue"
    write(good.replace("title: Revenue", "title: Omzet"), 10)
    assert _cards(client)["revenue"]["title"] == "Omzet"


def test_a_revoked_token_or_disabled_user_is_refused_at_once(served: Served) -> None:
    browser = served.browser("editor@example.com")
    made = browser.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}).json()
    program = TestClient(served.client.app, headers={"Authorization": f"Bearer {made['token']}"})
    assert program.get("/api/v1/kpis").status_code == 200
    assert program.get("/api/v1/kpis").status_code == 200  # checked a moment ago: kept
    assert browser.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    assert program.get("/api/v1/kpis").status_code == 401
    other = served.token("viewer@example.com", ["read"])
    assert other.get("/api/v1/me").status_code == 200
    admin = served.browser("admin@example.com")
    assert admin.post("/api/v1/users/viewer@example.com/disable").status_code == 200
    assert other.get("/api/v1/me").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = served.client.app.state.tolok.engine
    with Session(engine) as session, session.begin():
        user = accounts.find_user(session, "editor@example.com")
        assert user is not None
        token, secret = accounts.create_token(session, user, "t", ["read"])
        token_id = token.id

    def used_at(at: dt.datetime) -> dt.datetime | None:
        monkeypatch.setattr(accounts, "now", lambda: at)
        with Session(engine) as session, session.begin():
            assert accounts.verify_token(session, secret) is not None
        with Session(engine) as session:
            return session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))

    start = dt.datetime(2026, 3, 1, 9, 0, 0)
    assert used_at(start) == start
    assert used_at(start + dt.timedelta(seconds=59)) == start
    assert used_at(start + dt.timedelta(seconds=61)) == start + dt.timedelta(seconds=61)


def test_ingestion_keeps_one_warehouse_connection(served: Served) -> None:
    program = served.token("admin@example.com", ["ingest:events"])
    state = served.client.app.state.tolok
    assert program.post("/api/v1/datasets/events/rows", json=ROWS).status_code == 200
    kept = state._warehouse
    assert kept is not None
    bad = [{**ROWS[0], "event_id": "e2", "amount": "lots"}]
    assert program.post("/api/v1/datasets/events/rows", json=bad).status_code == 422
    assert state._warehouse is kept  # bad rows are no reason to reconnect
    more = [{**ROWS[0], "event_id": "e2"}]
    assert program.post("/api/v1/datasets/events/rows", json=more).json()["accepted"] == 1
    assert state._warehouse is kept
