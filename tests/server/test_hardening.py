"""What a security review found, held by tests: body limits, dates at the calendar's ends,
odd values, the access log, share links of a disabled user, the sign-in limiter."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.server.conftest import Served
from tolok.auth import accounts
from tolok.auth.ratelimit import Limiter


def test_a_large_body_is_refused_before_it_is_read(served: Served) -> None:
    anonymous = TestClient(served.client.app)
    big = b"[" + b"1," * 600_000 + b"1]"  # over 1 MB
    answer = anonymous.post("/api/v1/annotations", content=big,
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("params", [{"to": "9999-12-31"}, {"from": "0001-01"},
                                    {"from": "1800-01", "to": "2026-01"}])  # fmt: skip
def test_dates_at_the_ends_of_the_calendar_are_a_400(
    served: Served, params: dict[str, str]
) -> None:
    client = served.token("viewer@example.com", ["read"])
    answer = client.get("/api/v1/kpis/revenue/series", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] in ("from", "to")


def test_odd_values_in_rows_are_row_problems_not_500s(served: Served) -> None:
    program = served.token("editor@example.com", ["ingest:events"])
    base = {"event_id": "x", "happened_at": "2026-01-02 10:00", "kind": "a", "amount": 1}
    cases = [
        ({**base, "happened_at": "9999-12-31 23:59"}, "happened_at"),
        ({**base, "amount": "nan"}, "amount"),
        ({**base, "amount": 10**400}, "amount"),
        ({**base, "kind": {"a": 1}}, "kind"),
    ]
    for row, column in cases:
        answer = program.post("/api/v1/datasets/events/rows", json=[base | {"event_id": "ok"}, row])
        assert answer.status_code == 422, (row, answer.text)
        [problem] = answer.json()["error"]["problems"]
        assert problem["row"] == 2
        assert problem["reason"].startswith(f"column '{column}'")
    deep = "[" * 100_000 + "]" * 100_000
    nested = program.post("/api/v1/datasets/events/rows", content=deep,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert nested.status_code == 400
    cards = program.get("/api/v1/kpis")
    assert cards.status_code == 403  # an ingest token reads nothing; and nothing was written


def test_a_form_body_to_ingestion_is_a_clear_4xx(served: Served) -> None:
    browser = served.browser("editor@example.com")
    csrf = browser.headers.pop("X-CSRF-Token")
    answer = browser.post("/api/v1/datasets/events/rows", data={"csrf": csrf, "rows": "x"})
    assert answer.status_code == 415


def test_share_link_secrets_stay_out_of_the_access_log(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    editor = served.browser("editor@example.com")
    url = editor.post("/api/v1/shares", json={"kind": "board"}).json()["url"]
    secret = url.rsplit("/s/", 1)[1]
    with caplog.at_level(logging.INFO, logger="tolok.access"):
        assert TestClient(served.client.app).get(f"/s/{secret}").status_code == 200
    paths = [getattr(r, "path", "") for r in caplog.records if r.name == "tolok.access"]
    assert "/s/{secret}" in paths
    assert secret not in json.dumps([r.__dict__ for r in caplog.records], default=str)


def test_a_disabled_users_share_links_stop_working(served: Served) -> None:
    editor = served.browser("editor@example.com")
    url = editor.post("/api/v1/shares", json={"kind": "board"}).json()["url"]
    path = "/s/" + url.rsplit("/s/", 1)[1]
    anonymous = TestClient(served.client.app)
    assert anonymous.get(path).status_code == 200
    with Session(served.client.app.state.tolok.engine) as session, session.begin():
        accounts.set_disabled(session, "editor@example.com", True, "test")
    assert anonymous.get(path).status_code == 404


def test_idempotency_keys_belong_to_their_sender(served: Served) -> None:
    rows = [{"event_id": "k1", "happened_at": "2026-03-01 10:00", "kind": "a", "amount": 1}]
    one = served.token("editor@example.com", ["ingest:events"])
    other = served.token("admin@example.com", ["ingest:events"])
    headers = {"Idempotency-Key": "1"}
    assert one.post("/api/v1/datasets/events/rows", json=rows,
                    headers=headers).json()["accepted"] == 1  # fmt: skip
    second = [dict(rows[0], event_id="k2")]
    assert other.post("/api/v1/datasets/events/rows", json=second,
                      headers=headers).json()["accepted"] == 1  # fmt: skip


def test_the_limiter_counts_attempts_first_and_forgets_quiet_keys() -> None:
    now = [0.0]
    limiter = Limiter(3, 60, clock=lambda: now[0])
    assert [limiter.attempt("a") for _ in range(4)] == [0.0, 0.0, 0.0, 60.0]
    for n in range(100):  # blocked look-ups of new keys store nothing
        assert limiter.blocked_for(f"new{n}") == 0.0
    assert len(limiter._hits) == 1
    now[0] = 61.0
    assert limiter.blocked_for("a") == 0.0
    assert limiter._hits == {}


def test_the_first_admin_comes_when_no_enabled_admin_exists(served: Served) -> None:
    engine = served.client.app.state.tolok.engine
    with Session(engine) as session, session.begin():
        assert accounts.first_admin(session) is None  # admin@example.com is an admin
        accounts.set_disabled(session, "admin@example.com", True, "test")
        email, password = accounts.first_admin(session) or ("", "")
        assert email == "admin@localhost"
        assert accounts.authenticate(session, email, password) is not None
        accounts.set_role(session, email, "viewer", "test")  # demoted: made admin again
        _, again = accounts.first_admin(session) or ("", "")
        user = accounts.authenticate(session, email, again)
        assert user is not None
        assert user.role == "admin"


def test_signing_in_sweeps_expired_sessions(served: Served) -> None:
    import datetime as dt

    from sqlalchemy import func, select

    from tolok.store.people import WebSession

    engine = served.client.app.state.tolok.engine
    with Session(engine) as session, session.begin():
        user = accounts.find_user(session, "viewer@example.com")
        assert user is not None
        accounts.start_session(session, user)
        old = session.scalars(select(WebSession)).first()
        assert old is not None
        old.expires_at = accounts.now() - dt.timedelta(minutes=1)
    served.browser("viewer@example.com")
    with Session(engine) as session:
        expired = select(func.count()).select_from(WebSession)
        assert session.scalar(expired.where(WebSession.expires_at <= accounts.now())) == 0
