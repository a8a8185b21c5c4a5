"""Payloads in names, filters and texts: SQL changes no data, HTML and script stay inert."""

from __future__ import annotations

import json
from urllib.parse import quote

import duckdb
from fastapi.testclient import TestClient

from tests.server.conftest import Served

SQL = "x'); DROP TABLE events; --"
HTML = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def _count(served: Served) -> int:
    with duckdb.connect(str(served.root / "warehouse.duckdb")) as con:
        return int(con.execute("select count(*) from events").fetchone()[0])  # type: ignore[index]


def test_sql_in_filters_names_and_rows_changes_no_data(served: Served) -> None:
    editor = served.token("editor@example.com", ["read", "write", "ingest:events"])
    rows = [{"event_id": SQL, "happened_at": "2026-01-02 10:00", "kind": SQL, "amount": 1}]
    assert editor.post("/api/v1/datasets/events/rows", json=rows).json()["accepted"] == 1
    assert _count(served) == 1  # the payload is a value, the table is intact
    for where in [f"region == '{SQL}'", "region == 'Bali' or 1 == 1; DROP TABLE events",
                  "__import__('os').system('true')", "region == 'a'' OR ''1''=''1'"]:  # fmt: skip
        answer = editor.get("/api/v1/kpis/revenue/series", params={"where": where})
        assert answer.status_code in (200, 400), (where, answer.text)
        if answer.status_code == 200:
            assert all(p["value"] in (0, None) for p in answer.json()["points"]), where
    for name in [SQL, HTML, "../../etc/passwd"]:
        answer = editor.get(f"/api/v1/kpis/{quote(name, safe='')}/series")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/json")
    by = editor.get("/api/v1/kpis/revenue/series", params={"by": SQL})
    assert by.status_code == 400
    assert _count(served) == 1
    series = editor.get("/api/v1/kpis/revenue/series").json()["points"]
    assert [p["value"] for p in series] == [250.0, 200.0]


def test_html_and_script_come_back_as_inert_json(served: Served) -> None:
    editor = served.browser("editor@example.com")
    made = editor.post("/api/v1/kpis/revenue/comments", json={"text": HTML})
    assert made.status_code == 201
    listed = editor.get("/api/v1/kpis/revenue/comments")
    assert listed.headers["content-type"].startswith("application/json")
    assert listed.headers["x-content-type-options"] == "nosniff"
    assert listed.json()["items"][0]["text"] == HTML  # stored as typed, shown as data
    note = editor.post("/api/v1/annotations",
                       json={"day": "2026-01-10", "text": HTML, "kpis": ["revenue"]})  # fmt: skip
    assert note.json()["text"] == HTML


def test_the_sign_in_page_escapes_what_was_typed(served: Served) -> None:
    client = TestClient(served.client.app)
    client.get("/signin")
    token = client.cookies.get("tolok_presession")
    page = client.post("/signin", data={"email": HTML, "password": "x" * 12, "csrf": token})
    assert page.status_code == 401
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    next_page = client.get("/signin", params={"next": 'javascript:alert(1)"><script>'})
    assert "<script>" not in next_page.text  # the page has no script of its own
    assert 'value="/board"' in next_page.text  # an unsafe next becomes the home page


def test_a_target_or_value_with_payloads_is_a_clear_4xx(served: Served) -> None:
    editor = served.token("editor@example.com", ["write", "read"])
    bad = editor.put("/api/v1/kpis/revenue/targets",
                     json={"period": SQL, "value": 1, "by": {HTML: "x"}})  # fmt: skip
    assert bad.status_code == 400
    assert "dimension" in bad.json()["error"]["message"]
    admin = served.browser("admin@example.com")
    log = json.dumps(admin.get("/api/v1/audit").json())
    assert "target.set" not in log  # nothing was written
