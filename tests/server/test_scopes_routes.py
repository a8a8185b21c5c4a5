"""Every route, pages included, with every kind of token: what each route needs is stated
once in `NEEDS`, and the routes are walked from the app itself, so a route added without
a line there fails the test instead of slipping past it.

A token's scopes decide as on the API (`scope_allows`): `read` reads, `write` reads and
writes (annotations, comments, values, targets, alert rules), `ingest:DATASET` only sends
rows to that dataset; users, tokens, share links and the audit log are for browsers only.
The tokens are an admin's, so the role never stands in the way: the scopes alone decide.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Served
from tests.server.test_access import routes
from tolok.server.app import PUBLIC as PUBLIC_PATHS

PUBLIC = "public"  # anyone, without credentials
SIGNED_IN = "signed-in"  # any session or token, whatever its scopes
READ = "read"  # a token with `read` or `write`
WRITE = "write"  # a token with `write`
INGEST = "ingest"  # a token with `ingest:` the dataset in the path (events, below)
BROWSER = "browser"  # a signed-in browser: no token scope allows it
ADMIN = "admin"  # an admin's browser

NEEDS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("GET", "/signin/sso"): PUBLIC,
    ("GET", "/signin/sso/callback"): PUBLIC,
    ("GET", "/s/{secret}"): PUBLIC,
    ("GET", "/s/{secret}.json"): PUBLIC,
    ("GET", "/s/{secret}/series"): PUBLIC,
    ("GET", "/e/{secret}"): PUBLIC,
    ("GET", "/e/{secret}.json"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,
    ("GET", "/openapi.json"): SIGNED_IN,
    ("GET", "/docs"): SIGNED_IN,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("POST", "/signout"): SIGNED_IN,
    # the API
    ("GET", "/api/v1/kpis"): READ,
    ("GET", "/api/v1/kpis/{name}"): READ,
    ("GET", "/api/v1/kpis/{name}/series"): READ,
    ("GET", "/api/v1/goals"): READ,
    ("GET", "/api/v1/annotations"): READ,
    ("POST", "/api/v1/annotations"): WRITE,
    ("GET", "/api/v1/kpis/{name}/comments"): READ,
    ("POST", "/api/v1/kpis/{name}/comments"): WRITE,
    ("PUT", "/api/v1/kpis/{name}/targets"): WRITE,
    ("GET", "/api/v1/datasets/{name}/values"): READ,
    ("POST", "/api/v1/datasets/{name}/values"): WRITE,
    ("GET", "/api/v1/datasets/{name}/values/history"): READ,
    ("POST", "/api/v1/datasets/{name}/rows"): INGEST,
    ("GET", "/api/v1/tokens"): BROWSER,
    ("POST", "/api/v1/tokens"): BROWSER,
    ("DELETE", "/api/v1/tokens/{token_id}"): BROWSER,
    ("GET", "/api/v1/shares"): BROWSER,
    ("POST", "/api/v1/shares"): BROWSER,
    ("DELETE", "/api/v1/shares/{share_id}"): BROWSER,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users/{email}/disable"): ADMIN,
    ("GET", "/api/v1/alert-rules"): READ,
    ("POST", "/api/v1/alert-rules"): WRITE,
    ("DELETE", "/api/v1/alert-rules/{name}"): WRITE,
    ("GET", "/api/v1/alerts"): READ,
    ("GET", "/api/v1/deliveries"): ADMIN,
    ("GET", "/api/v1/schedules"): ADMIN,
    ("GET", "/api/v1/kpis/{name}/definition"): READ,
    ("PUT", "/api/v1/kpis/{name}/definition"): WRITE,
    ("DELETE", "/api/v1/kpis/{name}/definition"): WRITE,
    ("POST", "/api/v1/kpis/{name}/definition/check"): READ,
    ("POST", "/api/v1/kpis"): WRITE,
    ("GET", "/api/v1/datasets/{name}"): READ,
    ("PUT", "/api/v1/datasets/{name}"): WRITE,
    ("DELETE", "/api/v1/datasets/{name}"): WRITE,
    ("POST", "/api/v1/datasets"): WRITE,
    ("GET", "/api/v1/goals/{name}"): READ,
    ("PUT", "/api/v1/goals/{name}"): WRITE,
    ("DELETE", "/api/v1/goals/{name}"): WRITE,
    ("POST", "/api/v1/goals"): WRITE,
    ("POST", "/api/v1/uploads"): WRITE,
    ("GET", "/api/v1/uploads/{upload_id}"): WRITE,
    ("POST", "/api/v1/uploads/{upload_id}/dataset"): WRITE,
    ("GET", "/api/v1/warehouse/tables"): WRITE,
    ("GET", "/api/v1/warehouse/tables/{table}"): WRITE,
    ("POST", "/api/v1/warehouse/tables/{table}/dataset"): WRITE,
    ("POST", "/api/v1/builder/check"): WRITE,
    ("POST", "/api/v1/builder/preview"): WRITE,
    ("POST", "/api/v1/builder/suggest-target"): WRITE,
    ("POST", "/api/v1/catalog/{template}/plan"): WRITE,
    ("POST", "/api/v1/catalog/{template}/add"): WRITE,
    ("GET", "/kpis/new"): READ,
    ("GET", "/kpis/new.json"): READ,
    ("GET", "/api/v1/definitions/alerts/{name}"): READ,
    ("PUT", "/api/v1/definitions/alerts/{name}"): WRITE,
    ("DELETE", "/api/v1/definitions/alerts/{name}"): WRITE,
    ("POST", "/api/v1/definitions/alerts"): WRITE,
    ("GET", "/api/v1/definitions/schedules/{name}"): READ,
    ("PUT", "/api/v1/definitions/schedules/{name}"): WRITE,
    ("DELETE", "/api/v1/definitions/schedules/{name}"): WRITE,
    ("POST", "/api/v1/definitions/schedules"): WRITE,
    ("GET", "/definitions/alerts"): READ,
    ("GET", "/definitions/alerts.json"): READ,
    ("GET", "/definitions/schedules"): READ,
    ("GET", "/definitions/schedules.json"): READ,
    # the pages
    ("GET", "/"): READ,
    ("GET", "/board"): READ,
    ("GET", "/board.json"): READ,
    ("GET", "/metrics"): READ,
    ("GET", "/goals"): READ,
    ("GET", "/goals.json"): READ,
    ("GET", "/review"): READ,
    ("GET", "/review.json"): READ,
    ("GET", "/events"): READ,
    ("GET", "/kpis/{name}"): READ,
    ("GET", "/kpis/{name}.json"): READ,
    ("GET", "/kpis/{name}.csv"): READ,
    ("GET", "/kpis/{name}.xlsx"): READ,
    ("POST", "/kpis/{name}/comments"): WRITE,
    ("POST", "/kpis/{name}/annotations"): WRITE,
    ("POST", "/kpis/{name}/alerts"): WRITE,
    ("POST", "/kpis/{name}/alerts/{rule}/remove"): WRITE,
    ("GET", "/kpis/{name}/edit"): READ,
    ("GET", "/kpis/{name}/edit.json"): READ,
    ("GET", "/datasets/new"): READ,
    ("GET", "/datasets/new.json"): READ,
    ("GET", "/catalog"): READ,
    ("GET", "/catalog.json"): READ,
    ("GET", "/catalog/{name}"): READ,
    ("GET", "/catalog/{name}.json"): READ,
    ("GET", "/entry"): WRITE,
    ("GET", "/entry.json"): WRITE,
    ("POST", "/entry/values"): WRITE,
    ("POST", "/entry/upload"): WRITE,
    ("POST", "/entry/targets"): WRITE,
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin.json"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/change"): ADMIN,
    ("POST", "/admin/tokens/{token_id}/revoke"): ADMIN,
    ("POST", "/admin/shares/{link_id}/revoke"): BROWSER,
    ("POST", "/admin/alert-rules/{name}/remove"): ADMIN,
    ("POST", "/shares/new"): BROWSER,
}
"""What each route (method, path) needs; one line per route of the app, no more, no less."""

SAMPLES = {
    "/api/v1/datasets/{name}/rows": "/api/v1/datasets/events/rows",  # `ingest:events`'s
    "/api/v1/datasets/{name}/values": "/api/v1/datasets/ad_spend/values",
    "/api/v1/datasets/{name}/values/history": "/api/v1/datasets/ad_spend/values/history",
    "/catalog/{name}": "/catalog/conversion_rate",
    "/catalog/{name}.json": "/catalog/conversion_rate.json",
    "/static/{name}": "/static/tolok.css",
}
"""The address asked for a route, where a KPI's name (or 999) would not do."""

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/annotations"): {"day": "2026-02-01", "text": "Promo", "kpis": ["revenue"]},
    ("POST", "/api/v1/kpis/{name}/comments"): {"text": "Looks low"},
    ("PUT", "/api/v1/kpis/{name}/targets"): {"period": "2026-03", "value": 5},
    ("POST", "/api/v1/datasets/{name}/rows"): [
        {"event_id": "e1", "happened_at": "2026-01-02 10:00", "kind": "a", "amount": 1}
    ],
}
"""A whole body for the API's routes that check a KPI's team or a dataset after reading the
body (an empty one is a 422 first); elsewhere an empty body is enough to be refused, and
never enough to change anything when allowed (a 400 or 422 then)."""


def sample(path: str) -> str:
    if path in SAMPLES:
        return SAMPLES[path]
    return re.sub(r"\{[^}]+\}", lambda m: "revenue" if m[0] == "{name}" else "999", path)


def token_may(need: str, scopes: list[str]) -> bool:
    return {
        SIGNED_IN: True,
        READ: "read" in scopes or "write" in scopes,
        WRITE: "write" in scopes,
        INGEST: "ingest:events" in scopes,
        BROWSER: False,
        ADMIN: False,
    }[need]


def ask(client: TestClient, method: str, route: str) -> int:
    """The status of one request to a route (see SAMPLES and BODIES); a redirect to the
    sign-in form counts as 401."""
    path = sample(route)
    if path == "/events":  # a stream that never ends: its first status is enough
        return _first_status(client, path)
    body = BODIES.get((method, route), None if method == "GET" else {})
    answer = client.request(method, path, json=body, follow_redirects=False)
    if answer.status_code == 403:
        assert answer.json()["error"]["code"] == "forbidden", (method, path, answer.text)
    if answer.status_code == 303:  # to the sign-in form is a refusal too
        return 401 if answer.headers["location"].startswith("/signin?next=") else 303
    return int(answer.status_code)


def _first_status(client: TestClient, path: str) -> int:
    """The status the app starts answering with, the client gone at once (so the stream of
    events ends instead of waiting for the board to change)."""
    headers = [(k.lower().encode(), v.encode()) for k, v in client.headers.items()]
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers += [(b"cookie", cookies.encode())] if cookies else []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": headers, "scheme": "http", "http_version": "1.1",
             "server": ("testserver", 80), "client": ("testclient", 1), "root_path": "",
             "asgi": {"version": "3.0"}}  # fmt: skip
    started: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message["status"])

    # In a thread of its own: a test run with the browser tests has an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, client.app(scope, receive, send)).result()  # type: ignore[arg-type]
    return started[0]


def test_every_route_of_the_app_says_what_it_needs(served: Served) -> None:
    """A new route fails here until its line in NEEDS says who may call it."""
    found = set(routes(served))
    assert sorted(found - NEEDS.keys()) == [], "routes missing from NEEDS"
    assert sorted(NEEDS.keys() - found) == [], "NEEDS names routes the app no longer has"
    public = {path for (_, path), need in NEEDS.items() if need == PUBLIC}
    assert public == {path for _, path in found if path in PUBLIC_PATHS}


def test_without_credentials_only_the_public_routes_answer(served: Served) -> None:
    for method, path in routes(served):
        status = ask(served.client, method, path)
        if NEEDS[(method, path)] == PUBLIC:
            assert status != 401, (method, path)
        else:
            assert status == 401, (method, path, status)


SCOPES = [
    ["read"],
    ["write"],
    ["ingest:events"],
    ["ingest:orders"],
    ["read", "ingest:events"],
    ["write", "ingest:events"],
]


@pytest.mark.parametrize("scopes", SCOPES, ids=" ".join)
def test_a_token_may_call_exactly_the_routes_its_scopes_allow(
    served: Served, scopes: list[str]
) -> None:
    program = served.token("admin@example.com", scopes)
    wrong = []
    for method, path in routes(served):
        need = NEEDS[(method, path)]
        if need == PUBLIC:
            continue
        status = ask(program, method, path)
        allowed = token_may(need, scopes)
        if (status == 403) == allowed or status == 401:
            wrong.append((method, path, need, status))
    assert wrong == [], wrong


@pytest.mark.parametrize("who", ["editor@example.com", "admin@example.com"])
def test_a_browser_may_call_what_its_role_allows(served: Served, who: str) -> None:
    """A session has no scopes: its role alone decides, as before tokens were checked."""
    browser = served.browser(who)
    wrong = []
    last = ("POST", "/signout")  # the session ends there
    for method, path in sorted(routes(served), key=lambda route: route == last):
        need = NEEDS[(method, path)]
        if need == PUBLIC:
            continue
        status = ask(browser, method, path)
        allowed = need != ADMIN or who.startswith("admin")
        if (status == 403) == allowed or status == 401:
            wrong.append((method, path, need, status))
    assert wrong == [], wrong


def test_an_ingest_token_reads_no_page_and_makes_no_alert_rule(served: Served) -> None:
    """The report: a token for sending rows had every page's data, and made alert rules."""
    program = served.token("editor@example.com", ["ingest:events"])
    for path in ["/board", "/board.json", "/goals.json", "/review.json", "/catalog.json",
                 "/kpis/revenue", "/kpis/revenue.json", "/kpis/revenue.csv",
                 "/kpis/revenue.xlsx"]:  # fmt: skip
        answer = program.get(path)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "Revenue" not in answer.text, path
    made = program.post("/kpis/revenue/alerts", data={"when": "off_track"},
                        follow_redirects=False)  # fmt: skip
    assert made.status_code == 403
    assert served.browser("editor@example.com").get("/api/v1/alert-rules").json()["items"] == []
    rows = [{"event_id": "e1", "happened_at": "2026-01-02 10:00", "kind": "a", "amount": 1}]
    assert program.post("/api/v1/datasets/events/rows", json=rows).status_code == 200


def test_a_read_token_reads_the_pages_but_writes_nothing_through_them(served: Served) -> None:
    program = served.token("admin@example.com", ["read"])
    assert program.get("/kpis/revenue.json").json()["name"] == "revenue"
    assert program.get("/board.json").status_code == 200
    for path, form in [("/kpis/revenue/comments", {"text": "Looks low"}),
                       ("/kpis/revenue/annotations", {"day": "2026-02-01", "text": "Promo"}),
                       ("/kpis/revenue/alerts", {"when": "status"}),
                       ("/entry/targets", {"kpi": "revenue", "period": "2026-03", "value": "9"}),
                       ("/entry/values", {"dataset": "ad_spend", "measure": "spend",
                                          "period": "2026-01", "value": "10"})]:  # fmt: skip
        answer = program.post(path, data=form, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code, answer.text)
    writer = served.token("admin@example.com", ["write"])
    made = writer.post("/kpis/revenue/comments", data={"text": "Looks low"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    comments = program.get("/api/v1/kpis/revenue/comments").json()["items"]
    assert [c["text"] for c in comments] == ["Looks low"]
