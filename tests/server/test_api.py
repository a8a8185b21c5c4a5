"""The API end to end on a real app, store and DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, Served
from tolok.auth import accounts


def test_sign_in_cookie_wrong_password_and_rate_limit(served: Served) -> None:
    client = TestClient(served.client.app)
    page = client.get("/signin")
    assert page.status_code == 200
    assert 'name="csrf"' in page.text
    token = client.cookies.get("tolok_presession")
    wrong = client.post("/signin", data={"email": "viewer@example.com", "password": "nope",
                                         "csrf": token})  # fmt: skip
    assert wrong.status_code == 401
    assert "Wrong e-mail or password" in wrong.text
    token = client.cookies.get("tolok_presession")  # each form carries a fresh token
    right = client.post("/signin", data={"email": "Viewer@Example.com", "password": PASSWORD,
                                         "csrf": token, "next": "https://evil.example/"},
                        follow_redirects=False)  # fmt: skip
    assert right.status_code == 303
    assert right.headers["location"] == "/board"  # never a redirect to another site
    cookie = right.headers["set-cookie"]
    assert "tolok_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["email"] == "viewer@example.com"
    # ten wrong passwords for one account, then even the right one waits
    other = TestClient(served.client.app)
    other.get("/signin")
    for _ in range(10):
        csrf = other.cookies.get("tolok_presession")
        failed = other.post("/signin", data={"email": "editor@example.com",
                                             "password": "x" * 12, "csrf": csrf})  # fmt: skip
        assert failed.status_code == 401
    csrf = other.cookies.get("tolok_presession")
    blocked = other.post("/signin", data={"email": "editor@example.com", "password": PASSWORD,
                                          "csrf": csrf})  # fmt: skip
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text


def test_sign_in_without_the_form_token_is_refused(served: Served) -> None:
    client = TestClient(served.client.app)
    answer = client.post("/signin", data={"email": "viewer@example.com", "password": PASSWORD,
                                          "csrf": "forged"})  # fmt: skip
    assert answer.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_sign_out_ends_the_session(served: Served) -> None:
    browser = served.browser("viewer@example.com")
    assert browser.post("/signout", follow_redirects=False).status_code == 303
    assert browser.get("/api/v1/me").status_code == 401


def test_tokens_are_shown_once_listed_without_secret_and_track_use(served: Served) -> None:
    browser = served.browser("editor@example.com")
    made = browser.post("/api/v1/tokens", json={"name": "etl", "scopes": ["ingest:events"]})
    secret = made.json()["token"]
    listed = browser.get("/api/v1/tokens").json()["items"]
    assert secret not in json.dumps(listed)
    assert listed[0]["prefix"] == secret[:10]
    assert listed[0]["last_used_at"] is None
    program = TestClient(served.client.app, headers={"Authorization": f"Bearer {secret}"})
    assert program.get("/api/v1/me").json()["scopes"] == ["ingest:events"]
    assert browser.get("/api/v1/tokens").json()["items"][0]["last_used_at"] is not None
    assert program.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}).status_code == 403


def test_kpis_series_goals_and_etags(served: Served) -> None:
    client = served.token("viewer@example.com", ["read"])
    series = client.get("/api/v1/kpis/revenue/series", params={"grain": "month"})
    assert series.status_code == 200, series.text
    values = {p["period"]: p["value"] for p in series.json()["points"]}
    assert values == {"2026-01": 250.0, "2026-02": 200.0}  # 100 + 150; 200
    by_region = client.get("/api/v1/kpis/revenue/series", params={"by": "region"}).json()
    assert {(p["period"], p["slice"]["region"], p["value"]) for p in by_region["points"]} == {
        ("2026-01", "Bali", 100.0), ("2026-01", "Jawa", 150.0), ("2026-02", "Bali", 200.0),
        ("2026-02", "Jawa", 0.0),
    }  # fmt: skip
    quarter = client.get("/api/v1/kpis/revenue/series", params={"grain": "quarter"}).json()
    assert quarter["points"][0]["value"] == 450.0
    assert quarter["points"][0]["target"] == pytest.approx(900.0)  # 3 months of 300
    again = client.get("/api/v1/kpis/revenue/series", params={"grain": "quarter"},
                       headers={"If-None-Match": series.headers["etag"]})  # fmt: skip
    assert again.status_code == 200  # another answer, another tag
    tag = client.get("/api/v1/kpis").headers["etag"]
    assert client.get("/api/v1/kpis", headers={"If-None-Match": tag}).status_code == 304
    kpi = client.get("/api/v1/kpis/revenue").json()
    assert kpi["formula"] == "revenue"
    assert kpi["owner"] == "sales-team"
    goals = client.get("/api/v1/goals").json()
    assert goals[0]["name"] == "grow"
    assert goals[0]["kpis"] == ["revenue"]


def test_bad_queries_are_4xx_with_the_field_to_fix(served: Served) -> None:
    client = served.token("viewer@example.com", ["read"])
    cases = [
        ({"from": "2026-13"}, 400, "from"),
        ({"from": "2026-03", "to": "2026-01"}, 400, "from"),
        ({"by": ["nope"]}, 400, None),
        ({"where": "region = 'Bali'"}, 400, "where"),
        ({"compare": "lastyear"}, 400, "compare"),
        ({"grain": "fortnight"}, 422, "grain"),
    ]
    for params, status, field in cases:
        answer = client.get("/api/v1/kpis/revenue/series", params=params)
        assert answer.status_code == status, (params, answer.text)
        error = answer.json()["error"]
        assert error["message"]
        if field:
            assert error["field"] == field, (params, error)
    missing = client.get("/api/v1/kpis/nope/series")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no KPI named 'nope'"


def test_pages_of_annotations(served: Served) -> None:
    editor = served.browser("editor@example.com")
    for day in range(1, 8):
        note = {"day": f"2026-02-0{day}", "text": f"change {day}", "kpis": ["revenue"]}
        assert editor.post("/api/v1/annotations", json=note).status_code == 201
    first = editor.get("/api/v1/annotations", params={"limit": 3}).json()
    assert first["total"] == 7
    assert [a["text"] for a in first["items"]] == ["change 1", "change 2", "change 3"]
    second = editor.get(first["next"]).json()
    assert [a["text"] for a in second["items"]] == ["change 4", "change 5", "change 6"]
    assert editor.get(second["next"]).json()["next"] is None


def test_manual_values_targets_comments_and_the_audit_log(served: Served) -> None:
    editor = served.browser("editor@example.com")
    entered = editor.post("/api/v1/datasets/ad_spend/values", json=[
        {"measure": "spend", "period": "2026-01", "value": 40, "by": {"platform": "Meta"}},
        {"measure": "spend", "period": "2026-01", "value": 60, "by": {"platform": "Google"}},
    ])  # fmt: skip
    assert entered.json() == {"entered": 2, "edited": 0}
    edited = editor.post(
        "/api/v1/datasets/ad_spend/values",
        json=[{"measure": "spend", "period": "2026-01", "value": 45, "by": {"platform": "Meta"}}],
    )
    assert edited.json() == {"entered": 0, "edited": 1}
    bad = editor.post(
        "/api/v1/datasets/ad_spend/values",
        json=[
            {"measure": "spend", "period": "2026-02", "value": 1},
            {"measure": "spend", "period": "someday", "value": 1},
        ],
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("value 2:")
    values = editor.get("/api/v1/datasets/ad_spend/values").json()["items"]
    assert sorted(v["value"] for v in values) == [45.0, 60.0]  # the bad batch wrote nothing
    spend = editor.get("/api/v1/kpis/spend/series").json()["points"]
    assert spend[0]["value"] == 105.0  # 45 + 60
    history = editor.get("/api/v1/datasets/ad_spend/values/history").json()["items"]
    assert [(h["action"], h["before"], h["after"]) for h in history][-1] == (
        "manual_value.edit",
        {"value": 40.0},
        {"value": 45.0},
    )
    target = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": 500})
    assert target.json()["before"] is None
    series = editor.get("/api/v1/kpis/revenue/series").json()["points"]
    assert [p["target"] for p in series] == [300.0, 500.0]  # the person's target wins
    comment = editor.post("/api/v1/kpis/revenue/comments",
                          json={"text": "February dipped", "period": "2026-02"})  # fmt: skip
    assert comment.json()["period"] == "2026-02-01"
    admin = served.browser("admin@example.com")
    log = admin.get("/api/v1/audit").json()["items"]
    actions = [e["action"] for e in log]
    for action in (
        "user.add",
        "manual_value.enter",
        "manual_value.edit",
        "target.set",
        "comment.add",
    ):
        assert action in actions, action  # fmt: skip
    assert all(e["actor"] for e in log)
    assert "password" not in json.dumps(log).lower().replace("reset_password", "")


def _events(root: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        return con.execute("select event_id, amount from events order by event_id").fetchall()


def test_ingest_json_ndjson_csv_all_or_nothing_and_idempotent(served: Served) -> None:
    program = served.token("editor@example.com", ["ingest:events", "read"])
    rows = [{"event_id": f"e{i}", "happened_at": f"2026-01-0{i} 10:00", "kind": "a",
             "amount": i} for i in range(1, 4)]  # fmt: skip
    first = program.post("/api/v1/datasets/events/rows", json=rows)
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 3
    assert first.json()["refresh"] == "scheduled"
    again = program.post("/api/v1/datasets/events/rows", json=rows)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 3)  # by the key
    ndjson = "\n".join(json.dumps({**r, "event_id": f"n{i}"}) for i, r in enumerate(rows))
    sent = program.post("/api/v1/datasets/events/rows", content=ndjson,
                        headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert sent.json()["accepted"] == 3
    csv_body = "event_id,happened_at,kind,amount\nc1,2026-02-01 09:00,b,10\nc2,oops,b,x\n"
    refused = program.post("/api/v1/datasets/events/rows", content=csv_body,
                           headers={"Content-Type": "text/csv"})  # fmt: skip
    assert refused.status_code == 422
    problems = refused.json()["error"]["problems"]
    assert {p["row"] for p in problems} == {2}  # the second data row
    assert "nothing was written" in refused.json()["error"]["message"]
    assert len(_events(served.root)) == 6  # c1 was not written either
    wrong_type = program.post("/api/v1/datasets/events/rows", content="x",
                              headers={"Content-Type": "text/plain"})  # fmt: skip
    assert wrong_type.status_code == 415
    served.client.app.state.tolok.refresher.wait()
    cards = {c["name"]: c for c in program.get("/api/v1/kpis").json()["items"]}
    assert cards["event_amount"]["value"] == 12.0  # January: (1 + 2 + 3) twice


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(served: Served) -> None:
    program = served.token("admin@example.com", ["ingest:events"])
    rows = [{"event_id": "k1", "happened_at": "2026-03-01 10:00", "kind": "a", "amount": 1}]
    headers = {"Idempotency-Key": "batch-42"}
    first = program.post("/api/v1/datasets/events/rows", json=rows, headers=headers)
    assert first.json()["accepted"] == 1
    assert "idempotent-replayed" not in first.headers
    retry = program.post("/api/v1/datasets/events/rows", json=rows, headers=headers)
    assert retry.status_code == 200
    assert retry.json() == first.json()  # the same counts: 1 accepted, not 1 duplicate
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(_events(served.root)) == 1
    other = [dict(rows[0], event_id="k2")]
    reused = program.post("/api/v1/datasets/events/rows", json=other, headers=headers)
    assert reused.status_code == 409
    error = reused.json()["error"]
    assert error["field"] == "Idempotency-Key"
    assert "with other rows: to send new rows, use a new key" in error["message"]
    assert len(_events(served.root)) == 1
    fresh = program.post("/api/v1/datasets/events/rows", json=other,
                         headers={"Idempotency-Key": "batch-43"})  # fmt: skip
    assert fresh.json()["accepted"] == 1


def test_a_refused_request_keeps_no_idempotency_key(served: Served) -> None:
    program = served.token("admin@example.com", ["ingest:events"])
    headers = {"Idempotency-Key": "fix-me"}
    bad = [{"event_id": "b1", "happened_at": "not a time", "kind": "a", "amount": 1}]
    assert program.post("/api/v1/datasets/events/rows", json=bad,
                        headers=headers).status_code == 422  # fmt: skip
    fixed = [dict(bad[0], happened_at="2026-03-01 10:00")]
    answer = program.post("/api/v1/datasets/events/rows", json=fixed, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1
    for key in ["", "x" * 256, "a\tb", "caf\u00e9".encode("latin-1")]:
        odd = program.post("/api/v1/datasets/events/rows", json=fixed,
                           headers={"Idempotency-Key": key})  # fmt: skip
        assert odd.status_code == 400, key
        assert odd.json()["error"]["field"] == "Idempotency-Key"


def test_idempotency_keys_are_swept_after_a_day(served: Served) -> None:
    from tolok.server import idempotency
    from tolok.store.people import IdempotencyKey

    program = served.token("admin@example.com", ["ingest:events"])
    rows = [{"event_id": "s1", "happened_at": "2026-03-01 10:00", "kind": "a", "amount": 1}]
    headers = {"Idempotency-Key": "old"}
    assert program.post("/api/v1/datasets/events/rows", json=rows,
                        headers=headers).json()["accepted"] == 1  # fmt: skip
    engine = served.client.app.state.tolok.engine
    with Session(engine) as session, session.begin():  # as if sent a day ago
        for record in session.scalars(select(IdempotencyKey)):
            record.created_at -= idempotency.KEPT
    later = program.post("/api/v1/datasets/events/rows", json=rows, headers=headers)
    assert later.status_code == 200
    assert "idempotent-replayed" not in later.headers
    assert later.json()["duplicates"] == 1  # the warehouse still knows the rows
    with Session(engine) as session:
        kept = list(session.scalars(select(IdempotencyKey)))
    assert [(r.key, r.created_at > accounts.now() - idempotency.KEPT) for r in kept] == [
        ("old", True)  # the old record swept, the new answer kept
    ]


def test_share_links_show_only_what_they_name(served: Served) -> None:
    editor = served.browser("editor@example.com")
    link = editor.post("/api/v1/shares", json={"kind": "kpi", "target": "revenue"}).json()
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    anonymous = TestClient(served.client.app)
    shown = anonymous.get(path + ".json").json()
    assert shown["kind"] == "kpi"
    assert shown["kpi"]["name"] == "revenue"
    assert "spend" not in json.dumps(shown)
    series = anonymous.get(path + "/series").json()
    assert [p["value"] for p in series["points"]] == [250.0, 200.0]
    secret = path.removeprefix("/s/")
    as_token = anonymous.get("/api/v1/kpis", headers={"Authorization": f"Bearer {secret}"})
    assert as_token.status_code == 401  # a share link is not a key to the API
    assert editor.delete(f"/api/v1/shares/{link['id']}").status_code == 204
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(path + ".json").status_code == 404
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    expired = editor.post("/api/v1/shares", json={"kind": "board", "expires_at": past})
    assert expired.status_code == 400
    board = editor.post("/api/v1/shares", json={"kind": "board"}).json()
    whole = anonymous.get("/s/" + board["url"].rsplit("/s/", 1)[1] + ".json").json()
    assert {k["name"] for k in whole["kpis"]} == {"revenue", "event_amount", "spend"}
    goal = editor.post("/api/v1/shares", json={"kind": "goal", "target": "nope"})
    assert goal.status_code == 404


def test_health_and_readiness(served: Served) -> None:
    assert served.client.get("/healthz").json()["status"] == "ok"
    ready = served.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "warehouse": "ok", "project": "ok"}


def test_admins_manage_users_and_disabling_stops_tokens(served: Served) -> None:
    admin = served.browser("admin@example.com")
    made = admin.post("/api/v1/users", json={"email": "New@Example.com", "role": "editor"})
    assert made.status_code == 201
    assert made.json()["email"] == "new@example.com"
    assert len(made.json()["password"]) >= 16
    twice = admin.post("/api/v1/users", json={"email": "new@example.com"})
    assert twice.status_code == 409
    program = served.token("viewer@example.com", ["read"])
    assert admin.post("/api/v1/users/viewer@example.com/disable").status_code == 200
    assert program.get("/api/v1/kpis").status_code == 401
