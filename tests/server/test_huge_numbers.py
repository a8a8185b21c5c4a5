"""Huge numbers (issue 20, item 3): a target of 1e30 or an amount of 1e308 made the entry
page, the KPI page, its JSON and the API answer 500 until overwritten.

What a person types is held to `display.LARGEST` (refused with the field and the range);
what the data already holds is written in scientific notation, in English and Indonesian,
and JSON never carries NaN or Infinity. An unexpected error still answers, and keeps the
connection open."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.server.conftest import Served
from tests.serving import serving
from tolok.store.targets import set_target

ALLOWED = {"minimum": -1e15, "maximum": 1e15}
PAGES = ["/entry", "/kpis/revenue", "/kpis/revenue.json", "/api/v1/kpis/revenue", "/board",
         "/board.json", "/api/v1/kpis", "/api/v1/kpis/revenue/series"]  # fmt: skip


def _strict_json(text: str) -> Any:
    """JSON as the standard has it: `NaN` and `Infinity` are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _answers(served: Served, email: str, paths: list[str], lang: str) -> dict[str, Any]:
    """Each page in `lang`, asked as a browser asks; all must answer."""
    browser = served.browser(email)
    found = {}
    for path in paths:
        answer = browser.get(path, params={"lang": lang}, headers={"accept": "text/html"})
        assert answer.status_code == 200, (path, lang, answer.text[:300])
        if path.endswith(".json") or path.startswith("/api/"):
            _strict_json(answer.text)
        found[path] = answer
    return found


# --- what people type ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [1e30, -1e16, 1e15 + 2])
def test_a_target_beyond_the_range_is_refused_with_the_field_and_the_range(
    served: Served, value: float
) -> None:
    editor = served.browser("editor@example.com")
    sent = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": value})
    assert sent.status_code == 422, sent.text
    error = sent.json()["error"]
    assert error["field"] == "value"
    assert error["allowed"] == ALLOWED
    assert error["message"].startswith("value: must be a number from -1e15 to 1e15")
    series = editor.get("/api/v1/kpis/revenue/series").json()["points"]
    assert [p["target"] for p in series] == [300.0, 300.0]  # the YAML's: nothing was kept
    _answers(served, "editor@example.com", PAGES, "en")


@pytest.mark.parametrize("body", ['{"period": "2026-02", "value": NaN}',
                                  '{"period": "2026-02", "value": Infinity}',
                                  '{"period": "2026-02", "value": -Infinity}'])  # fmt: skip
def test_nan_and_infinity_are_no_target(served: Served, body: str) -> None:
    editor = served.browser("editor@example.com")
    sent = editor.put("/api/v1/kpis/revenue/targets", content=body,
                      headers={"content-type": "application/json"})  # fmt: skip
    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["field"] == "value"
    assert sent.json()["error"]["allowed"] == ALLOWED


@pytest.mark.parametrize("value", [True, False, "500"])
def test_a_boolean_or_a_string_is_no_target(served: Served, value: object) -> None:
    """Schemathesis sent `"value": false` and got a target of 0.0."""
    editor = served.browser("editor@example.com")
    sent = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": value})
    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["field"] == "value"


def test_the_largest_target_is_taken_and_shown_in_full(served: Served) -> None:
    editor = served.browser("editor@example.com")
    sent = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": -1e15})
    assert sent.status_code == 200, sent.text
    assert sent.json()["value"] == -1e15
    whole = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-01", "value": 7})
    assert whole.json()["value"] == 7.0  # a whole number is a number
    page = _answers(served, "editor@example.com", ["/entry"], "en")["/entry"]
    assert "1,000,000,000,000,000" in page.text


@pytest.mark.parametrize("value", [1e30, True, float("nan")])
def test_a_manual_value_beyond_the_range_is_refused_through_the_api(
    served: Served, value: object
) -> None:
    editor = served.browser("editor@example.com")
    body = json.dumps([{"measure": "spend", "period": "2026-02", "value": 5},
                       {"measure": "spend", "period": "2026-01", "value": value}])  # fmt: skip
    sent = editor.post("/api/v1/datasets/ad_spend/values", content=body,
                       headers={"content-type": "application/json"})  # fmt: skip
    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["field"] == "1.value"
    assert editor.get("/api/v1/datasets/ad_spend/values").json()["items"] == []


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "Write a number from -1,000,000,000,000,000 to 1,000,000,000,000,000."),
    ("id", "Tulis angka dari -1.000.000.000.000.000 sampai 1.000.000.000.000.000."),
])  # fmt: skip
@pytest.mark.parametrize("typed", ["1e30", "NaN", "-inf", "1e400"])
def test_the_entry_forms_say_the_range_next_to_the_value(
    served: Served, lang: str, words: str, typed: str
) -> None:
    editor = served.browser("editor@example.com")
    editor.get("/entry", params={"lang": lang})
    csrf = editor.headers["X-CSRF-Token"]
    target = editor.post("/entry/targets", data={"csrf": csrf, "kpi": "revenue",
                         "period": "2026-02", "value": typed}, follow_redirects=False)  # fmt: skip
    assert target.status_code == 400, target.text[:300]
    assert 'id="err-targets-value"' in target.text
    assert words in target.text
    assert f'value="{typed}"' in target.text  # what was typed stays
    value = editor.post("/entry/values", data={"csrf": csrf, "dataset": "ad_spend",
                        "measure": "spend", "period": "2026-02", "value": typed},
                        follow_redirects=False)  # fmt: skip
    assert value.status_code == 400, value.text[:300]
    assert 'id="err-values-value"' in value.text
    assert words in value.text
    assert editor.get("/api/v1/datasets/ad_spend/values").json()["items"] == []
    assert editor.get("/entry").status_code == 200


def test_an_uploaded_csv_with_a_huge_value_names_its_line(served: Served) -> None:
    editor = served.browser("editor@example.com")
    rows = "measure,period,value\nspend,2026-01,100\nspend,2026-02,1e30\n"
    form = {"csrf": editor.headers["X-CSRF-Token"], "dataset": "ad_spend"}
    sent = editor.post("/entry/upload", data=form, files={"file": ("s.csv", rows.encode())})
    assert sent.status_code == 400
    assert "line 3" in sent.text
    assert "-1e15 to 1e15" in sent.text
    assert editor.get("/api/v1/datasets/ad_spend/values").json()["items"] == []


# --- what the data holds -------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "shown"), [("en", "1.0E30"), ("id", "1,0E30")])
def test_a_huge_target_kept_from_before_is_shown_on_every_page(
    served: Served, lang: str, shown: str
) -> None:
    """A target of 1e30 taken before it was refused: every page writes it, none fails."""
    app: FastAPI = served.client.app  # type: ignore[assignment]
    state = app.state.tolok
    with Session(state.engine) as session, session.begin():
        set_target(session, state.project().project, "revenue", "2026-02", 1e30, {}, "old")
    pages = _answers(served, "editor@example.com", PAGES, lang)
    assert shown in pages["/entry"].text
    assert shown in pages["/kpis/revenue"].text
    points = pages["/api/v1/kpis/revenue/series"].json()["points"]
    assert [p["target"] for p in points] == [300.0, 1e30]


@pytest.mark.parametrize(("lang", "shown"), [("en", "1.0E308"), ("id", "1,0E308")])
def test_an_ingested_amount_of_1e308_is_shown_on_every_page(
    served: Served, lang: str, shown: str
) -> None:
    program = served.token("admin@example.com", ["ingest:events"])
    rows = [{"event_id": "small", "happened_at": "2026-01-05 10:00", "kind": "a", "amount": 5},
            {"event_id": "huge", "happened_at": "2026-02-03 10:00", "kind": "b",
             "amount": 1e308}]  # fmt: skip
    assert program.post("/api/v1/datasets/events/rows", json=rows).status_code == 200
    served.client.app.state.tolok.refresher.wait()  # type: ignore[attr-defined]
    paths = [p.replace("revenue", "event_amount") for p in PAGES]
    paths += ["/kpis/event_amount?by=kind", "/goals"]
    pages = _answers(served, "editor@example.com", paths, lang)
    assert shown in pages["/kpis/event_amount"].text
    assert shown in pages["/kpis/event_amount?by=kind"].text  # the breakdown's change too
    cards = [c for g in pages["/board.json"].json()["groups"] for c in g["cards"]]
    assert [c["value_text"] for c in cards if c["name"] == "event_amount"] == [shown]
    assert pages["/api/v1/kpis/event_amount"].json()["value"] == 1e308


# --- an unexpected error -------------------------------------------------------------------


def test_an_unexpected_error_answers_500_without_a_trace_and_keeps_the_connection(
    served: Served,
) -> None:
    """Every 500 closed the client's keep-alive connection: Starlette's error middleware
    re-raises after answering, and uvicorn then drops the connection."""
    app: FastAPI = served.client.app  # type: ignore[assignment]

    def broken() -> None:
        raise RuntimeError("secret detail of a bug")

    app.add_api_route("/api/v1/broken", broken)
    app.add_api_route("/broken", broken)
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/broken")
        failed = connection.getresponse()
        text = failed.read().decode()
        assert failed.status == 500
        assert json.loads(text)["error"]["code"] == "error"
        assert "secret detail" not in text
        assert "Traceback" not in text
        connection.request("GET", "/broken", headers={"accept": "text/html"})
        page = connection.getresponse()
        html = page.read().decode()
        assert page.status == 500
        assert "<html" in html
        assert "server log" in html
        assert "secret detail" not in html
        connection.request("GET", "/healthz")  # the same connection, still open
        health = connection.getresponse()
        assert health.status == 200
        health.read()
        connection.close()
