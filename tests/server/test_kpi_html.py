"""A KPI's page and its forms: comments and annotations kept and shown; refusals."""

from __future__ import annotations

from tests.server.conftest import Shop
from tests.shop import month_start


def test_a_comment_on_a_period_is_kept_and_shown(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    page = editor.get("/kpis/revenue")
    assert 'action="/kpis/revenue/comments"' in page.text
    label = f"{month_start(shop.today, 1):%Y-%m}"
    csrf = editor.headers["X-CSRF-Token"]
    sent = editor.post("/kpis/revenue/comments", data={"csrf": csrf, "period": label,
                       "text": "Rain kept people home"}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    assert sent.headers["location"] == "/kpis/revenue#comments"
    again = editor.get("/kpis/revenue.json").json()
    [said] = again["comments"]
    assert said["text"] == "Rain kept people home"
    assert said["author"] == "editor@example.com"
    assert said["period"] == f"{month_start(shop.today, 1):%b %Y}"


def test_an_empty_comment_is_refused_next_to_its_field_and_nothing_is_kept(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    csrf = editor.headers["X-CSRF-Token"]
    sent = editor.post("/kpis/revenue/comments", data={"csrf": csrf, "text": "  "})
    assert sent.status_code == 400
    assert 'id="err-text"' in sent.text
    assert "Write a comment first." in sent.text
    assert editor.get("/kpis/revenue.json").json()["comments"] == []


def test_an_annotation_is_kept_with_its_day(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    csrf = editor.headers["X-CSRF-Token"]
    day = month_start(shop.today, 3).replace(day=10).isoformat()
    sent = editor.post("/kpis/revenue/annotations", data={"csrf": csrf, "day": day,
                       "text": "Free shipping"}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    [note] = editor.get("/kpis/revenue.json").json()["annotations"]
    assert note["day"] == day
    assert note["text"] == "Free shipping"
    assert note["verdict"]  # two closed months after it: an effect is estimated
    bad = editor.post("/kpis/revenue/annotations", data={"csrf": csrf, "day": "10/3/2026",
                      "text": "x"})  # fmt: skip
    assert bad.status_code == 400
    assert "2026-03-15" in bad.text


def test_a_viewer_gets_no_forms_and_cannot_post_them(shop: Shop) -> None:
    viewer = shop.browser("viewer@example.com")
    page = viewer.get("/kpis/revenue").text
    assert "/comments" not in page.split("<main")[1]
    csrf = viewer.headers["X-CSRF-Token"]
    refused = viewer.post("/kpis/revenue/comments", data={"csrf": csrf, "text": "hi"},
                          headers={"accept": "text/html"})  # fmt: skip
    assert refused.status_code == 403
    assert "<html" in refused.text


def test_forms_need_the_sessions_csrf_token(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    del editor.headers["X-CSRF-Token"]
    refused = editor.post("/kpis/revenue/comments", data={"csrf": "forged", "text": "hi"})
    assert refused.status_code == 403
    missing = editor.post("/kpis/revenue/comments", data={"text": "hi"})
    assert missing.status_code == 403
