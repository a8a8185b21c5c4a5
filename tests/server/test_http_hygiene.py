"""HTTP as clients and proxies expect it (issue 20, item 10): HEAD wherever GET works, the
`Allow` header of a 405 naming every method of the path, security headers on every answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Served

SAME = ("content-type", "content-length", "etag", "cache-control", "link",
        "content-security-policy", "x-content-type-options", "referrer-policy")  # fmt: skip


ANYONE = ["/healthz", "/readyz", "/static/tolok.css", "/static/plotly.min.js", "/signin",
          "/s/unknown.json"]  # fmt: skip


@pytest.mark.parametrize("path", ANYONE)
def test_head_answers_where_get_does_for_anyone(served: Served, path: str) -> None:
    client = TestClient(served.client.app)
    got = client.get(path, follow_redirects=False)
    head = client.head(path, follow_redirects=False)
    assert head.status_code == got.status_code, path
    assert head.content == b""
    for name in SAME:
        if name != "content-length" or path != "/signin":  # its CSRF token is new each time
            assert head.headers.get(name) == got.headers.get(name), (path, name)


def test_head_answers_where_get_does_signed_in(served: Served) -> None:
    browser = served.browser("viewer@example.com")
    program = served.token("viewer@example.com", ["read"])
    for client, path in [(browser, "/board"), (browser, "/kpis/revenue"), (browser, "/goals"),
                         (program, "/api/v1/kpis"), (program, "/api/v1/kpis/revenue/series"),
                         (program, "/api/v1/goals"), (browser, "/board.json")]:  # fmt: skip
        got = client.get(path)
        head = client.head(path)
        assert (path, got.status_code, head.status_code) == (path, 200, 200)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        if "etag" in got.headers:
            assert head.headers["etag"] == got.headers["etag"]
    anonymous = TestClient(served.client.app)
    assert anonymous.head("/api/v1/kpis").status_code == 401  # as GET would
    assert browser.head("/events").status_code == 200  # a stream: its head, then done


def test_a_405_names_every_method_of_the_path(served: Served) -> None:
    program = served.token("editor@example.com", ["read", "write"])
    for path, methods in [("/api/v1/annotations", "GET, HEAD, POST"),
                          ("/api/v1/tokens", "GET, HEAD, POST"),
                          ("/api/v1/kpis/revenue/comments", "GET, HEAD, POST"),
                          ("/api/v1/shares/1", "DELETE"),
                          ("/healthz", "GET, HEAD")]:  # fmt: skip
        answer = program.options(path)
        assert answer.status_code == 405, path
        assert answer.headers["allow"] == methods, path
    assert program.head("/signout").headers["allow"] == "POST"  # HEAD is a GET: none here


def test_every_answer_carries_the_security_headers(served: Served) -> None:
    anonymous = TestClient(served.client.app)
    for answer in [anonymous.get("/signin"), anonymous.get("/api/v1/kpis"),
                   anonymous.get("/healthz"), anonymous.get("/nowhere")]:  # fmt: skip
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self';" in policy  # no inline script, no eval
        assert "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"


def test_no_page_writes_a_script_or_style_into_itself(served: Served) -> None:
    browser = served.browser("admin@example.com")
    signin = TestClient(served.client.app).get("/signin").text
    for path in ["/board", "/kpis/revenue", "/goals", "/review", "/catalog", "/entry", "/admin"]:
        page = browser.get(path).text
        for html in (page, signin):
            assert "<script>" not in html, path  # only src= and JSON data blocks
            assert "<style" not in html, path
            assert ' style="' not in html, path
            assert " onclick=" not in html, path
            assert " onchange=" not in html, path


def test_the_api_docs_allow_their_own_script_by_its_hash(served: Served) -> None:
    browser = served.browser("viewer@example.com")
    docs = browser.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy
    assert "'sha256-" in policy.split("script-src", 1)[1].split(";")[0]
    assert "unsafe-eval" not in policy
