"""Every route refuses anonymous requests unless it is named public; each role and each
token scope may do exactly what the matrix says."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from tests.server.conftest import Served
from tolok.server.app import PUBLIC


def routes(served: Served) -> list[tuple[str, str]]:
    """(method, path) of every route, routers included in the app walked into."""
    found = []
    stack = list(served.client.app.routes)
    while stack:
        route = stack.pop(0)
        if hasattr(route, "original_router"):  # FastAPI's wrapper of an included router
            stack.extend(route.original_router.routes)
        elif isinstance(route, APIRoute | Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_but_the_public_ones_refuses_anonymous_requests(served: Served) -> None:
    checked = 0
    for method, path in routes(served):
        if path in PUBLIC:
            continue
        answer = served.client.request(method, concrete(path), json={}, follow_redirects=False)
        page = method == "GET" and not path.startswith("/api/") and not path.endswith(".json")
        if page and path not in ("/openapi.json", "/events", "/metrics"):  # a page: sign in
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"] == "/signin?next=" + concrete(path)
            continue
        assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == "not_signed_in"
        checked += 1
    assert checked >= 20  # the API is all there


def test_the_public_routes_are_the_expected_ones(served: Served) -> None:
    public = {path for _, path in routes(served) if path in PUBLIC}
    assert public == {
        "/signin",
        "/signin/sso",
        "/signin/sso/callback",
        "/healthz",
        "/readyz",
        "/s/{secret}",
        "/s/{secret}.json",
        "/s/{secret}/series",
        "/e/{secret}",
        "/e/{secret}.json",
        "/static/{name}",
    }


def test_a_bad_or_revoked_token_is_refused(served: Served) -> None:
    bad = served.client.get("/api/v1/kpis", headers={"Authorization": "Bearer tlk_nope"})
    assert bad.status_code == 401
    assert "unknown, revoked" in bad.json()["error"]["message"]
    basic = served.client.get("/api/v1/kpis", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401
    program = served.token("editor@example.com", ["read"])
    assert program.get("/api/v1/kpis").status_code == 200
    browser = served.browser("editor@example.com")
    [token] = browser.get("/api/v1/tokens").json()["items"][-1:]
    assert browser.delete(f"/api/v1/tokens/{token['id']}").status_code == 204
    assert program.get("/api/v1/kpis").status_code == 401


def test_a_browser_write_needs_its_csrf_token(served: Served) -> None:
    browser = served.browser("editor@example.com")
    note = {"day": "2026-02-01", "text": "Promo", "kpis": ["revenue"]}
    del browser.headers["X-CSRF-Token"]
    refused = browser.post("/api/v1/annotations", json=note)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    browser.headers["X-CSRF-Token"] = "wrong"
    assert browser.post("/api/v1/annotations", json=note).status_code == 403


# The matrix: which principal may do which action. Each action is one request that
# succeeds (2xx) when allowed; 403 when not.
ACTIONS = {
    "read": ("GET", "/api/v1/kpis", None),
    "annotate": ("POST", "/api/v1/annotations",
                 {"day": "2026-02-01", "text": "Promo", "kpis": ["spend"]}),
    "comment": ("POST", "/api/v1/kpis/spend/comments", {"text": "Looks low"}),
    "enter_values": ("POST", "/api/v1/datasets/ad_spend/values",
                     [{"measure": "spend", "period": "2026-01", "value": 10}]),
    "set_targets": ("PUT", "/api/v1/kpis/spend/targets", {"period": "2026-03", "value": 5}),
    "edit_definitions": ("PUT", "/api/v1/kpis/spend/definition",
                         {"definition": {"title": "Spend", "formula": "spend",
                                         "unit": "currency"}}),
    "ingest": ("POST", "/api/v1/datasets/events/rows",
               [{"event_id": "e1", "happened_at": "2026-01-02 10:00", "kind": "a",
                 "amount": 1}]),
    "share": ("POST", "/api/v1/shares", {"kind": "board"}),
    "manage_users": ("GET", "/api/v1/users", None),
    "read_audit": ("GET", "/api/v1/audit", None),
    "add_data": ("GET", "/api/v1/warehouse/tables", None),
}  # fmt: skip
EVERYTHING = set(ACTIONS)
EDITOR = {"read", "annotate", "comment", "enter_values", "set_targets", "ingest", "share",
          "edit_definitions", "add_data"}  # fmt: skip
MATRIX = {
    ("session", "viewer@example.com"): {"read"},
    ("session", "editor@example.com"): EDITOR,
    ("session", "admin@example.com"): EVERYTHING,
    ("token:read", "admin@example.com"): {"read"},
    ("token:write", "editor@example.com"): {"read", "annotate", "comment", "enter_values",
                                             "set_targets", "edit_definitions", "add_data"},
    ("token:write", "admin@example.com"): {"read", "annotate", "comment", "enter_values",
                                            "set_targets", "edit_definitions", "add_data"},
    ("token:ingest:events", "editor@example.com"): {"ingest"},
}  # fmt: skip


@pytest.mark.parametrize(("how", "who"), sorted(MATRIX))
def test_role_and_scope_matrix(served: Served, how: str, who: str) -> None:
    if how == "session":
        client = served.browser(who)
    else:
        client = served.token(who, [how.removeprefix("token:")])
    for action, (method, path, body) in ACTIONS.items():
        answer = client.request(method, path, json=body)
        if action in MATRIX[(how, who)]:
            assert answer.status_code < 300, (how, who, action, answer.status_code, answer.text)
        else:
            assert answer.status_code == 403, (how, who, action, answer.status_code, answer.text)
            assert answer.json()["error"]["code"] == "forbidden"


def test_a_viewer_in_the_owning_team_may_edit_that_kpi_only(served: Served) -> None:
    member = served.browser("member@example.com")  # a viewer in sales-team, owner of revenue
    target = member.put("/api/v1/kpis/revenue/targets", json={"period": "2026-03", "value": 9})
    assert target.status_code == 200, target.text
    other = member.put("/api/v1/kpis/spend/targets", json={"period": "2026-03", "value": 9})
    assert other.status_code == 403
    assert member.post("/api/v1/kpis/revenue/comments", json={"text": "ok"}).status_code == 201


def test_a_viewer_cannot_make_a_write_token(served: Served) -> None:
    viewer = served.browser("viewer@example.com")
    refused = viewer.post("/api/v1/tokens", json={"name": "x", "scopes": ["write"]})
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "scopes"
    unknown = viewer.post("/api/v1/tokens", json={"name": "x", "scopes": ["ingest:nope"]})
    assert unknown.status_code == 400


def test_the_api_description_is_for_signed_in_users(served: Served) -> None:
    assert served.client.get("/openapi.json").status_code == 401
    program = served.token("viewer@example.com", ["read"])
    described = program.get("/openapi.json").json()
    assert "/api/v1/kpis" in described["paths"]
    browser = served.browser("viewer@example.com")
    page = browser.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
