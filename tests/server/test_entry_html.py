"""Data entry: manual values typed in or uploaded, targets set by people; editors only."""

from __future__ import annotations

from tests.server.conftest import Shop
from tests.shop import month_start


def _board(shop: Shop, email: str = "viewer@example.com") -> dict[str, dict[str, object]]:
    data = shop.browser(email).get("/board.json").json()
    return {c["name"]: c for g in data["groups"] for c in g["cards"]}


def test_a_viewer_cannot_reach_the_forms(shop: Shop) -> None:
    viewer = shop.browser("viewer@example.com")
    page = viewer.get("/entry", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert "editor" in page.text
    assert viewer.get("/entry.json").status_code == 403
    csrf = viewer.headers["X-CSRF-Token"]
    sent = viewer.post("/entry/values", data={"csrf": csrf, "dataset": "ad_spend",
                       "measure": "spend", "period": "2026-01", "value": "5"})  # fmt: skip
    assert sent.status_code == 403


def test_a_typed_value_reaches_the_kpi_after_the_refresh_it_sets_off(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    assert 'action="/entry/values"' in editor.get("/entry").text
    last = month_start(shop.today, 1)
    sent = editor.post("/entry/values", data={"csrf": editor.headers["X-CSRF-Token"],
                       "dataset": "ad_spend", "measure": "spend", "period": f"{last:%Y-%m}",
                       "value": "2500000"}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    shop.client.app.state.tolok.refresher.wait()
    card = _board(shop)["ad_spend"]
    assert card["value"] == 2_500_000
    assert card["period_start"] == last.isoformat()
    page = editor.get("/entry?done=values")
    assert "Saved." in page.text
    assert "2,500,000" in page.text


def test_indonesian_numbers_are_read_as_indonesians_write_them(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    editor.get("/entry", params={"lang": "id"})
    last = month_start(shop.today, 1)
    editor.post("/entry/values", data={"csrf": editor.headers["X-CSRF-Token"],
                "dataset": "ad_spend", "measure": "spend", "period": f"{last:%Y-%m}",
                "value": "1.250.000,5"})  # fmt: skip
    shop.client.app.state.tolok.refresher.wait()
    assert _board(shop)["ad_spend"]["value"] == 1_250_000.5


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_kept(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    sent = editor.post("/entry/values", data={"csrf": editor.headers["X-CSRF-Token"],
                       "dataset": "ad_spend", "measure": "spend", "period": "March",
                       "value": "12"})  # fmt: skip
    assert sent.status_code == 400
    assert 'id="err-values-period"' in sent.text
    assert "is not a period label" in sent.text
    assert 'value="March"' in sent.text  # what was typed stays
    number = editor.post("/entry/values", data={"csrf": editor.headers["X-CSRF-Token"],
                         "dataset": "ad_spend", "measure": "spend", "period": "2026-01",
                         "value": "twelve"})  # fmt: skip
    assert number.status_code == 400
    assert 'id="err-values-value"' in number.text
    assert editor.get("/api/v1/datasets/ad_spend/values").json()["items"] == []


def test_a_csv_upload_is_all_or_nothing_and_names_the_bad_line(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    csrf = editor.headers["X-CSRF-Token"]
    last, before = month_start(shop.today, 1), month_start(shop.today, 2)
    bad = f"measure,period,value\nspend,{before:%Y-%m},100\nspend,{last:%Y-%m},lots\n"
    sent = editor.post("/entry/upload", data={"csrf": csrf, "dataset": "ad_spend"},
                       files={"file": ("spend.csv", bad.encode(), "text/csv")})  # fmt: skip
    assert sent.status_code == 400
    assert "line 3" in sent.text
    assert editor.get("/api/v1/datasets/ad_spend/values").json()["items"] == []
    good = f"measure,period,value\nspend,{before:%Y-%m},100\nspend,{last:%Y-%m},300\n"
    sent = editor.post("/entry/upload", data={"csrf": csrf, "dataset": "ad_spend"},
                       files={"file": ("spend.csv", good.encode(), "text/csv")},
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    shop.client.app.state.tolok.refresher.wait()
    card = _board(shop)["ad_spend"]
    assert card["value"] == 300
    assert card["previous"] == 100


def test_a_target_set_here_wins_over_the_yaml(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    last = month_start(shop.today, 1)
    sent = editor.post("/entry/targets", data={"csrf": editor.headers["X-CSRF-Token"],
                       "kpi": "orders", "period": f"{last:%Y-%m}", "value": "2"},
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    card = _board(shop)["orders"]
    assert card["target"] == 2
    assert card["status"] == "on_track"
    wrong = editor.post("/entry/targets", data={"csrf": editor.headers["X-CSRF-Token"],
                        "kpi": "orders", "period": f"{last:%Y-%m}", "value": "many"})  # fmt: skip
    assert wrong.status_code == 400
    assert 'id="err-targets-value"' in wrong.text
