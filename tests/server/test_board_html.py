"""The board as a page: values formatted in the reader's language, its JSON linked, the
language remembered, escaping."""

from __future__ import annotations

from tests.server.conftest import Shop
from tests.shop import month_start, monthly


def test_the_board_shows_every_kpi_with_its_value_in_english_and_indonesian(shop: Shop) -> None:
    browser = shop.browser("viewer@example.com")
    revenue, _ = monthly(shop.rows, month_start(shop.today, 1))
    page = browser.get("/board")
    assert page.status_code == 200
    assert page.headers["link"] == '</board.json>; rel="alternate"; type="application/json"'
    for title in ("Revenue", "Orders", "Average order value", "Ad spend"):
        assert title in page.text
    assert f"IDR\u00a0{revenue:,}" in page.text
    assert ">Board<" in page.text
    indonesian = browser.get("/board", params={"lang": "id"})
    money = f"Rp\u00a0{revenue:,}".replace(",", ".")
    assert money in indonesian.text
    assert ">Papan<" in indonesian.text
    assert "Penanggung jawab" in indonesian.text
    assert 'lang="id"' in indonesian.text
    later = browser.get("/goals")  # the choice is remembered
    assert ">Sasaran<" in later.text


def test_a_viewer_sees_no_forms_in_the_menu(shop: Shop) -> None:
    viewer = shop.browser("viewer@example.com").get("/board").text
    assert 'href="/entry"' not in viewer
    assert 'href="/admin"' not in viewer
    editor = shop.browser("editor@example.com").get("/board").text
    assert 'href="/entry"' in editor
    assert 'href="/admin"' not in editor
    admin = shop.browser("admin@example.com").get("/board").text
    assert 'href="/admin"' in admin


def test_pages_escape_what_people_wrote(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    text = '<script>alert("x")</script>'
    assert editor.post("/api/v1/kpis/revenue/comments", json={"text": text}).status_code == 201
    page = editor.get("/kpis/revenue").text
    assert text not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_static_files_need_no_sign_in_and_plotly_comes_from_the_package(shop: Shop) -> None:
    css = shop.client.get("/static/tolok.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    plotly = shop.client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert b"plotly" in plotly.content[:2000].lower()
    assert shop.client.get("/static/../tolok.yaml").status_code == 404
    assert shop.client.get("/static/secret.txt").status_code == 404
