"""Admin: users, roles, tokens, share links, the audit log; share links as pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.server.conftest import Shop


def test_only_admins_reach_the_admin_page(shop: Shop) -> None:
    for email in ("viewer@example.com", "editor@example.com"):
        page = shop.browser(email).get("/admin", headers={"accept": "text/html"})
        assert page.status_code == 403
    admin = shop.browser("admin@example.com").get("/admin")
    assert admin.status_code == 200
    for heading in ("Users", "Share links", "API tokens", "Audit log"):
        assert heading in admin.text
    assert "viewer@example.com" in admin.text


def test_an_added_user_gets_a_password_shown_once_and_can_sign_in(shop: Shop) -> None:
    admin = shop.browser("admin@example.com")
    csrf = admin.headers["X-CSRF-Token"]
    made = admin.post("/admin/users", data={"csrf": csrf, "email": "new@example.com",
                      "name": "New", "role": "editor"})  # fmt: skip
    assert made.status_code == 200
    secret = re.search(r'id="created-secret">([^<]+)<', made.text)
    assert secret is not None
    assert secret.group(1) not in admin.get("/admin").text  # once
    client = TestClient(shop.client.app)
    client.get("/signin")
    signed = client.post("/signin", data={"email": "new@example.com", "password": secret.group(1),
                         "csrf": client.cookies.get("tolok_presession"), "next": "/board"},
                         follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303
    again = admin.post("/admin/users", data={"csrf": csrf, "email": "new@example.com",
                       "role": "viewer"})  # fmt: skip
    assert again.status_code == 400
    assert "already has an account" in again.text


def test_roles_change_and_disabled_users_are_signed_out(shop: Shop) -> None:
    admin = shop.browser("admin@example.com")
    csrf = admin.headers["X-CSRF-Token"]
    viewer = shop.browser("viewer@example.com")
    admin.post("/admin/users/change", data={"csrf": csrf, "email": "viewer@example.com",
               "change": "editor"})  # fmt: skip
    assert viewer.get("/api/v1/me").json()["role"] == "editor"
    admin.post("/admin/users/change", data={"csrf": csrf, "email": "viewer@example.com",
               "change": "disable"})  # fmt: skip
    assert viewer.get("/api/v1/me").status_code == 401
    mine = admin.post("/admin/users/change", data={"csrf": csrf, "email": "admin@example.com",
                      "change": "viewer"})  # fmt: skip
    assert mine.status_code == 400
    audit = admin.get("/admin.json").json()["audit"]
    assert {"user.role", "user.disable"} <= {e["action"] for e in audit}


def test_a_share_link_shows_signed_out_only_what_it_names(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    made = editor.post("/shares/new", data={"csrf": editor.headers["X-CSRF-Token"],
                       "kind": "kpi", "target": "orders", "days": "7"})  # fmt: skip
    assert made.status_code == 200
    url = re.search(r'id="created-secret">([^<]+)<', made.text)
    assert url is not None
    path = "/s/" + url.group(1).rsplit("/s/", 1)[1]
    page = TestClient(shop.client.app).get(path)
    assert page.status_code == 200
    assert "Orders" in page.text
    for other in ("Revenue", "Average order value", "Ad spend", 'href="/board"'):
        assert other not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    [link] = shop.browser("admin@example.com").get("/admin.json").json()["shares"]
    admin = shop.browser("admin@example.com")
    admin.post(f"/admin/shares/{link['id']}/revoke", data={"csrf": admin.headers["X-CSRF-Token"]})
    assert TestClient(shop.client.app).get(path).status_code == 404


def test_a_definition_changed_in_the_app_reads_in_words_in_the_audit(shop: Shop) -> None:
    admin = shop.browser("admin@example.com")
    got = admin.get("/api/v1/kpis/orders/definition").json()
    changed = admin.put("/api/v1/kpis/orders/definition", json={
        "definition": {**got["definition"], "title": "Orders placed"},
        "fingerprints": got["fingerprints"]})  # fmt: skip
    assert changed.status_code == 200, changed.text
    for lang, said, subject in (("en", "changed a definition", "KPI orders"),
                                ("id", "mengubah definisi", "KPI orders")):  # fmt: skip
        audit = admin.get("/admin.json", params={"lang": lang}).json()["audit"]
        entry = next(e for e in audit if e["action"] == "definition.changed")
        assert (entry["said"], entry["subject_text"]) == (said, subject)
    page = admin.get("/admin", params={"lang": "id"}).text
    assert "mengubah definisi" in page
    assert "definition.changed" not in page
