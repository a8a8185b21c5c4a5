"""The KPI page's forms as a browser sends them: "Alert me" as `admin@localhost` (the account
`tolok serve` makes first), a refused form answered by a page in the normal layout, and a
share link that comes back to the KPI's page with a copy button."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, Served
from tolok.auth import accounts
from tolok.notify.messages import Way
from tolok.notify.recipients import recipients
from tolok.spec.loader import load_project

PAGE = {"accept": "text/html"}


def _local_admin(served: Served) -> None:
    engine = served.client.app.state.tolok.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        accounts.add_user(session, "admin@localhost", "Admin", "admin", "test", PASSWORD)


def test_alert_me_works_for_the_local_admin(served: Served) -> None:
    _local_admin(served)
    browser = served.browser("admin@localhost")
    answer = browser.post("/kpis/revenue/alerts", data={"when": "status"}, headers=PAGE,
                          follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/kpis/revenue#alerts"
    page = browser.get("/kpis/revenue", headers=PAGE).text
    assert 'class="inline subscription"' in page
    assert "When it is at risk or off track" in page
    rules = browser.get("/api/v1/alert-rules").json()["items"]
    assert [r["rule"]["notify"] for r in rules] == [["admin@localhost"]]
    # the alert reaches the account's own address, in its language
    loaded = load_project(served.root)
    assert loaded.project is not None
    engine = served.client.app.state.tolok.engine  # type: ignore[attr-defined]
    found = recipients(["admin@localhost"], loaded.project, engine)
    assert [(r.way, r.address) for r in found] == [(Way.email, "admin@localhost")]
    # the project has no e-mail server: the page says what that means for the alert
    assert 'id="no-mail"' in page


def test_a_refused_form_is_a_page_with_the_navigation_in_the_readers_language(
    served: Served,
) -> None:
    browser = served.browser("editor@example.com")
    came = {**PAGE, "referer": "http://testserver/kpis/revenue"}
    refused = browser.post("/kpis/revenue/alerts?lang=id", data={"when": "sometimes"}, headers=came)
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html")
    html = refused.text
    assert '<nav aria-label="Utama">' in html  # base.html's navigation, in Indonesian
    assert 'href="/goals"' in html
    assert "Pilih kapan diberi tahu." in html  # "Pick when to be told."
    assert 'href="/kpis/revenue"' in html  # back where the person was
    assert "editor@example.com" in html  # who is signed in, as on every page
    missing = browser.get("/kpis/nothing", headers=PAGE)
    assert missing.status_code == 404
    assert "<nav" in missing.text
    assert "Not found" in missing.text
    assert browser.get("/kpis/nothing.json").json()["error"]["code"] == "not_found"  # programs


def test_sharing_from_a_kpi_page_returns_to_it_with_the_link(served: Served) -> None:
    browser = served.browser("editor@example.com")
    form = {"kind": "kpi", "target": "revenue", "days": "7", "back": "kpi"}
    made = browser.post("/shares/new", data=form, headers=PAGE, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/kpis/revenue#shared"
    page = browser.get("/kpis/revenue", headers=PAGE).text
    link = re.search(r'<input id="share-link" readonly value="([^"]+)"', page)
    assert link is not None, page
    assert 'data-copy="share-link"' in page  # the copy button (tolok.js)
    assert link.group(1).startswith("http://testserver/s/")
    assert served.client.get(link.group(1).removeprefix("http://testserver")).status_code == 200
    again = browser.get("/kpis/revenue", headers=PAGE).text
    assert 'id="share-link"' not in again  # shown once
    assert "tolok_shared" not in browser.get("/kpis/revenue.json").text
