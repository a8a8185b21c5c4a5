"""Alert rules made in the app, open alerts, schedules and the delivery log, as JSON."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.server.conftest import Shop
from tolok.store.database import open_store
from tolok.store.sharing import Delivery


def test_an_editor_makes_an_alert_rule_for_themselves_and_an_admin_sees_deliveries(
    shop: Shop,
) -> None:
    editor = shop.browser("editor@example.com")
    rule = {"when": "status", "kpis": ["revenue"], "notify": ["editor@example.com"]}
    made = editor.post("/api/v1/alert-rules", json={"name": "my-revenue", "rule": rule})
    assert made.status_code == 201, made.text
    assert made.json()["rule"]["notify"] == ["editor@example.com"]
    listed = editor.get("/api/v1/alert-rules").json()["items"]
    assert [(r["name"], r["source"]) for r in listed] == [("my-revenue", "app")]

    twice = editor.post("/api/v1/alert-rules", json={"name": "my-revenue", "rule": rule})
    assert twice.status_code == 409
    other = {**rule, "notify": ["boss@example.com"]}
    refused = editor.post("/api/v1/alert-rules", json={"name": "boss", "rule": other})
    assert refused.status_code == 403
    bad = editor.post("/api/v1/alert-rules", json={"name": "x", "rule": {**rule, "when": "oops"}})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "rule.when"
    unknown = {**rule, "kpis": ["revenu"]}
    assert (
        editor.post("/api/v1/alert-rules", json={"name": "y", "rule": unknown}).status_code == 422
    )

    viewer = shop.browser("viewer@example.com")
    assert viewer.post("/api/v1/alert-rules", json={"name": "v", "rule": rule}).status_code == 403
    assert viewer.get("/api/v1/deliveries").status_code == 403
    assert viewer.delete("/api/v1/alert-rules/my-revenue").status_code == 403

    engine = open_store(f"sqlite:///{shop.root / 'tolok.db'}")
    with Session(engine) as session, session.begin():
        import datetime as dt

        session.add(Delivery(key="k1", kind="alert", channel="chat", address="hooks.example.com",
                             subject="Revenue is off track", status="failed", attempts=4,
                             error="HTTP 503 from hooks.example.com after 4 attempts",
                             created_at=dt.datetime(2026, 11, 28, 1, 0)))  # fmt: skip
    admin = shop.browser("admin@example.com")
    log = admin.get("/api/v1/deliveries", params={"status": "failed"}).json()["items"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in log] == [("chat", "failed", 4)]
    [check] = admin.get("/api/v1/schedules").json()["items"]  # the rule brings an hourly check
    assert (check["name"], check["do"], check["every"]) == ("alerts", "alerts", "hour")
    page = admin.get("/admin", headers={"accept": "text/html"}).text
    title = page[page.index("<title>") : page.index("</title>")]
    assert "Delivery log" not in title
    section = page[page.index('id="deliveries"') :]
    section = section[: section.index("</section>")]
    assert "HTTP 503 from hooks.example.com after 4 attempts" in section
    assert "<td>chat</td>" in section
    shown = admin.get("/admin.json").json()["deliveries"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in shown] == [("chat", "failed", 4)]
    assert editor.delete("/api/v1/alert-rules/my-revenue").status_code == 204
    assert editor.get("/api/v1/alert-rules").json()["items"] == []


def test_the_language_picked_on_a_page_is_the_one_messages_speak(shop: Shop) -> None:
    from sqlalchemy import select

    from tolok.store.people import User

    viewer = shop.browser("viewer@example.com")
    assert viewer.get("/board", params={"lang": "id"}).status_code == 200
    engine = open_store(f"sqlite:///{shop.root / 'tolok.db'}")
    with Session(engine) as session:
        query = select(User.locale).where(User.email == "viewer@example.com")
        assert session.scalars(query).one() == "id"


def test_a_viewer_subscribes_to_a_kpi_from_its_page_and_stops(shop: Shop) -> None:
    viewer = shop.browser("viewer@example.com")
    csrf = viewer.headers["X-CSRF-Token"]
    page = viewer.get("/kpis/orders", headers={"accept": "text/html"}).text
    assert 'action="/kpis/orders/alerts"' in page
    made = viewer.post("/kpis/orders/alerts", data={"csrf": csrf, "when": "target_reached"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    again = viewer.post("/kpis/orders/alerts", data={"csrf": csrf, "when": "target_reached"},
                        follow_redirects=False)  # fmt: skip
    assert again.status_code == 303  # subscribed already: still one rule
    rules = viewer.get("/api/v1/alert-rules").json()["items"]
    assert len(rules) == 1
    assert rules[0]["rule"] == {"kpis": ["orders"], "when": "target_reached",
                                "notify": ["viewer@example.com"]}  # fmt: skip
    shown = viewer.get("/kpis/orders.json").json()["my_alerts"]
    assert shown == [[rules[0]["name"], "When it reaches its target"]]
    # A viewer's rule tells only the viewer.
    other = {"when": "status", "kpis": ["orders"], "notify": ["owner"]}
    answer = viewer.post("/api/v1/alert-rules", json={"name": "theirs", "rule": other})
    assert answer.status_code == 403
    # Without the CSRF token the form is refused.
    refused = viewer.post("/kpis/orders/alerts", data={"when": "status"},
                          headers={"X-CSRF-Token": "forged"}, follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403
    stop = viewer.post(f"/kpis/orders/alerts/{rules[0]['name']}/remove", data={"csrf": csrf},
                       follow_redirects=False)  # fmt: skip
    assert stop.status_code == 303
    assert viewer.get("/api/v1/alert-rules").json()["items"] == []


def test_an_admin_sees_every_rule_and_removes_one_made_in_the_app(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    rule = {"when": "anomaly", "goal": "grow", "notify": ["editor@example.com"]}
    assert editor.post("/api/v1/alert-rules", json={"name": "odd", "rule": rule}).status_code == 201
    admin = shop.browser("admin@example.com")
    rows = admin.get("/admin.json").json()["rules"]
    assert [(r["name"], r["source"], r["made_by"], r["kpis"]) for r in rows] == [
        ("odd", "app", "editor@example.com", "goal grow")
    ]
    csrf = admin.headers["X-CSRF-Token"]
    viewer = shop.browser("viewer@example.com")
    refused = viewer.post("/admin/alert-rules/odd/remove",
                          data={"csrf": viewer.headers["X-CSRF-Token"]})  # fmt: skip
    assert refused.status_code == 403
    gone = admin.post("/admin/alert-rules/odd/remove", data={"csrf": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    assert admin.get("/admin.json").json()["rules"] == []


def test_a_rule_made_in_the_app_reads_back_as_it_was_made(shop: Shop) -> None:
    from tolok.notify.alerts import rules_of
    from tolok.spec.loader import load_project

    editor = shop.browser("editor@example.com")
    rule = {
        "when": "stale",
        "kpis": ["orders"],
        "after": "2 days",
        "notify": ["editor@example.com"],
    }
    assert (
        editor.post("/api/v1/alert-rules", json={"name": "quiet", "rule": rule}).status_code == 201
    )
    loaded = load_project(shop.root)
    assert loaded.project is not None
    kept = rules_of(loaded.project, open_store(f"sqlite:///{shop.root / 'tolok.db'}"))
    assert kept["quiet"].after is not None
    assert kept["quiet"].after.days == 2  # checked like any other rule, not skipped
    bad = {**rule, "when": "change", "change": 0.2, "min_volume": 5, "volume": "ordrs"}
    bad.pop("after")
    answer = editor.post("/api/v1/alert-rules", json={"name": "vol", "rule": bad})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "rule.volume"
    # Others' subscriptions name them: a viewer lists only their own, an admin everyone's.
    viewer = shop.browser("viewer@example.com")
    assert viewer.get("/api/v1/alert-rules").json()["items"] == []
    admin = shop.browser("admin@example.com")
    assert [r["name"] for r in admin.get("/api/v1/alert-rules").json()["items"]] == ["quiet"]
