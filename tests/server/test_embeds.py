"""Embeds (issue 24, item 4): share links made for another site's `<iframe>` — a KPI's card or
chart, or the board — at `/e/SECRET`. Made, listed and revoked as share links are; framed
only by the origins `tolok.yaml` lists (CSP `frame-ancestors`), every other answer still
`DENY`; the verdicts and values of the board; in the reader's language; no cookie needed."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.server.conftest import Served, Shop
from tests.server.test_no_english_in_id import NAMES, english_words
from tests.shop import month_start, monthly
from tolok.i18n import voice
from tolok.spec.loader import load_project
from tolok.store.manual import audit_trail
from tolok.store.people import ShareLink

ORIGINS = ["https://intranet.example", "http://127.0.0.1:5000"]


def list_origins(root: Path, origins: list[str]) -> None:
    """The admin lists the sites that may frame embeds (the server reads the file again)."""
    with (root / "tolok.yaml").open("a", encoding="utf-8") as file:
        file.write(f"embed: {{origins: [{', '.join(origins)}]}}\n")


def embed(client: TestClient, body: dict[str, str]) -> tuple[str, dict[str, object]]:
    """A new embed's path (/e/SECRET) and the API's answer."""
    made = client.post("/api/v1/shares", json=body)
    assert made.status_code == 201, made.text
    answer = made.json()
    return "/e/" + answer["url"].rsplit("/e/", 1)[1], answer


def ancestors(policy: str) -> str:
    return re.findall(r"frame-ancestors ([^;]*)", policy)[0]


# --- making, listing, revoking -------------------------------------------------------------


def test_an_embed_is_made_like_a_share_link_and_comes_with_its_iframe(served: Served) -> None:
    editor = served.browser("editor@example.com")
    _path, made = embed(editor, {"kind": "kpi", "target": "revenue", "embed": "chart"})
    assert made["embed"] == "chart"
    assert str(made["url"]).startswith("http://testserver/e/shr_")
    assert made["iframe"] == (
        f'<iframe src="{made["url"]}" title="Revenue" width="100%" height="420" '
        'frameborder="0" loading="lazy"></iframe>'
    )
    assert made["origins"] == []  # no site may frame it yet
    _, board = embed(editor, {"kind": "board", "embed": "board"})
    assert 'title="Served shop"' in str(board["iframe"])
    page = editor.post("/api/v1/shares", json={"kind": "board"}).json()
    assert "/s/" in page["url"]
    assert page["embed"] is None
    assert page["iframe"] is None
    listed = {s["id"]: s["embed"] for s in editor.get("/api/v1/shares").json()["items"]}
    assert listed == {made["id"]: "chart", board["id"]: "board", page["id"]: None}
    with Session(served.client.app.state.tolok.engine) as session:  # which were embeds
        trail = {e.subject: json.loads(e.after or "{}") for e in audit_trail(session, "share:")}
    assert trail[f"share:{made['id']}"]["embed"] == "chart"
    assert trail[f"share:{board['id']}"]["embed"] == "board"
    assert trail[f"share:{page['id']}"]["embed"] is None


@pytest.mark.parametrize(
    "body",
    [{"kind": "goal", "target": "grow", "embed": "card"},
     {"kind": "kpi", "target": "revenue", "embed": "board"},
     {"kind": "board", "embed": "chart"}],
)  # fmt: skip
def test_an_embed_shows_a_kpis_card_or_chart_or_the_board(
    served: Served, body: dict[str, str]
) -> None:
    answer = served.browser("editor@example.com").post("/api/v1/shares", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "embed"


def test_whoever_may_not_share_may_not_embed(served: Served) -> None:
    viewer = served.browser("viewer@example.com")
    body = {"kind": "kpi", "target": "revenue", "embed": "card"}
    assert viewer.post("/api/v1/shares", json=body).status_code == 403
    program = served.token("editor@example.com", ["read", "write"])
    assert program.post("/api/v1/shares", json=body).status_code == 403  # browsers only


def test_a_revoked_or_expired_embed_is_gone_as_a_share_link_is(served: Served) -> None:
    editor = served.browser("editor@example.com")
    anonymous = TestClient(served.client.app)
    revoked, made = embed(editor, {"kind": "kpi", "target": "revenue", "embed": "card"})
    expired, late = embed(editor, {"kind": "board", "embed": "board"})
    for path in (revoked, expired):
        assert anonymous.get(path).status_code == 200
    assert editor.delete(f"/api/v1/shares/{made['id']}").status_code == 204
    with Session(served.client.app.state.tolok.engine) as session, session.begin():
        yesterday = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=1)
        session.execute(update(ShareLink).where(ShareLink.id == late["id"])
                        .values(expires_at=yesterday))  # fmt: skip
    for path in (revoked, expired, "/e/shr_unknown"):
        page = anonymous.get(path, headers={"accept": "text/html"})
        assert page.status_code == 404
        assert "This embed does not exist, has expired or was revoked." in page.text
        assert "<nav" not in page.text  # a page the frame can show, not the app's layout
        data = anonymous.get(path + ".json")
        assert data.status_code == 404
        assert data.json()["error"]["message"] == (
            "this link does not exist, has expired or was revoked"
        )


def test_an_embed_answers_at_e_only_and_a_share_link_at_s_only(served: Served) -> None:
    editor = served.browser("editor@example.com")
    path, _ = embed(editor, {"kind": "board", "embed": "board"})
    shared = editor.post("/api/v1/shares", json={"kind": "board"}).json()["url"]
    secret, page_secret = path.rsplit("/", 1)[1], shared.rsplit("/s/", 1)[1]
    anonymous = TestClient(served.client.app)
    assert anonymous.get(f"/e/{secret}").status_code == 200
    assert anonymous.get(f"/s/{page_secret}").status_code == 200
    assert anonymous.get(f"/s/{secret}").status_code == 404
    assert anonymous.get(f"/s/{secret}.json").status_code == 404
    assert anonymous.get(f"/e/{page_secret}").status_code == 404
    assert anonymous.get(f"/e/{page_secret}.json").status_code == 404


# --- framing -------------------------------------------------------------------------------


def test_with_no_origins_listed_no_site_may_frame_an_embed(served: Served) -> None:
    path, _ = embed(served.browser("editor@example.com"), {"kind": "board", "embed": "board"})
    answer = TestClient(served.client.app).get(path)
    assert answer.status_code == 200
    assert ancestors(answer.headers["content-security-policy"]) == "'none'"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "an admin lists the site&#39;s origin in tolok.yaml, under embed: origins" in answer.text
    indonesian = TestClient(served.client.app).get(path, params={"lang": "id"})
    assert "admin mencantumkan origin situs itu di tolok.yaml, di bawah embed: origins" in (
        indonesian.text
    )


def test_listed_origins_may_frame_embeds_and_nothing_else(served: Served) -> None:
    editor = served.browser("editor@example.com")
    path, _ = embed(editor, {"kind": "kpi", "target": "revenue", "embed": "chart"})
    shared = editor.post("/api/v1/shares", json={"kind": "board"}).json()["url"]
    list_origins(served.root, [*ORIGINS, "HTTPS://Intranet.Example/"])
    anonymous = TestClient(served.client.app)
    for asked in (path, path + "?lang=id&theme=dark", "/e/shr_gone"):
        answer = anonymous.get(asked)
        policy = answer.headers["content-security-policy"]
        assert ancestors(policy) == " ".join([*ORIGINS, "https://intranet.example"]), asked
        assert "x-frame-options" not in answer.headers, asked
        assert "script-src 'self';" in policy
        assert "object-src 'none'" in policy
    assert "No site may show this" not in anonymous.get(path).text
    others = [anonymous.get("/signin"), anonymous.get(shared.replace("http://testserver", "")),
              anonymous.get(path + ".json"), anonymous.get("/static/tolok.css"),
              editor.get("/board"), editor.get("/kpis/revenue"),
              editor.get("/api/v1/kpis")]  # fmt: skip
    for answer in others:
        assert answer.status_code == 200, answer.url
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        assert ancestors(answer.headers["content-security-policy"]) == "'none'", answer.url
    made = editor.post("/api/v1/shares", json={"kind": "board", "embed": "board"}).json()
    assert made["origins"] == [*ORIGINS, "https://intranet.example"]


def test_an_embed_needs_no_cookie_and_sets_none(served: Served) -> None:
    path, _ = embed(served.browser("editor@example.com"), {"kind": "board", "embed": "board"})
    anonymous = TestClient(served.client.app)
    answer = anonymous.get(path, params={"lang": "id", "theme": "dark"})
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="id" data-theme="dark" data-theme-fixed>' in answer.text
    assert '<html lang="en" data-theme="auto">' in anonymous.get(path, params={"theme": "x"}).text


def test_an_embeds_secret_stays_out_of_the_access_log(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    path, _ = embed(served.browser("editor@example.com"), {"kind": "board", "embed": "board"})
    secret = path.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="tolok.access"):
        anonymous = TestClient(served.client.app)
        assert anonymous.get(path).status_code == 200
        assert anonymous.get(path + ".json").status_code == 200
    paths = [getattr(r, "path", "") for r in caplog.records if r.name == "tolok.access"]
    assert "/e/{secret}" in paths
    assert "/e/{secret}.json" in paths
    assert secret not in json.dumps([r.__dict__ for r in caplog.records], default=str)


# --- what an embed shows -------------------------------------------------------------------


def test_a_kpi_embed_shows_the_boards_verdict_and_the_value_by_hand(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    card, _ = embed(editor, {"kind": "kpi", "target": "revenue", "embed": "card"})
    chart, _ = embed(editor, {"kind": "kpi", "target": "revenue", "embed": "chart"})
    last = month_start(shop.today, 1)
    revenue = monthly(shop.rows, last)[0]
    board = editor.get("/board.json").json()
    on_board = next(c for g in board["groups"] for c in g["cards"] if c["name"] == "revenue")
    anonymous = TestClient(shop.client.app)
    for path in (card, chart):
        shown = anonymous.get(path + ".json").json()["cards"][0]
        assert shown["value"] == revenue == on_board["value"]
        for key in ("status", "status_text", "period", "target", "attainment", "open"):
            assert shown[key] == on_board[key], key
        page = anonymous.get(path).text
        assert f"IDR\u00a0{revenue:,}" in page
        assert f'<span class="badge status-{on_board["status"]}">{on_board["status_text"]}<' in page
    figure = anonymous.get(chart + ".json").json()["figure"]
    line = next(t for t in figure["data"] if t.get("name") == "Revenue")
    assert dict(zip(line["x"], line["y"], strict=True))[last.isoformat()] == revenue
    assert anonymous.get(card + ".json").json()["figure"] is None  # a card needs no chart
    html = anonymous.get(chart).text
    assert 'data-figure="chart"' in html
    assert 'class="sketch' in html
    assert re.search(r'data-plotly="/static/plotly\.min\.js\?v=\w+"', html)


def test_the_board_embed_shows_the_boards_groups(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    path, _ = embed(editor, {"kind": "board", "embed": "board"})

    def summary(groups: list[dict[str, Any]]) -> list[object]:
        return [(g["key"], [(c["name"], c["status"], c["value"]) for c in g["cards"]])
                for g in groups]  # fmt: skip

    shown = TestClient(shop.client.app).get(path + ".json").json()
    assert summary(shown["groups"]) == summary(editor.get("/board.json").json()["groups"])
    assert shown["view"] == "board"
    assert shown["title"] == "Toko Uji"


def test_an_embed_links_nowhere_and_writes_no_script_or_style(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    anonymous = TestClient(shop.client.app)
    for body in ({"kind": "kpi", "target": "revenue", "embed": "card"},
                 {"kind": "kpi", "target": "revenue", "embed": "chart"},
                 {"kind": "board", "embed": "board"}):  # fmt: skip
        path, _ = embed(editor, body)
        html = anonymous.get(path).text
        for tag in ("<a ", "<form", "<nav"):
            assert tag not in html, (tag, body)
        assert "<script>" not in html
        assert "<style" not in html
        assert ' style="' not in html


def test_an_embed_in_indonesian_has_indonesian_words_and_numbers(shop: Shop) -> None:
    editor = shop.browser("editor@example.com")
    yaml = (shop.root / "tolok.yaml").read_text(encoding="utf-8")
    for english, indonesian in NAMES.items():  # the shop's names, said in Indonesian
        yaml = yaml.replace(english, indonesian)
    (shop.root / "tolok.yaml").write_text(yaml, encoding="utf-8")
    list_origins(shop.root, ORIGINS)  # no notice: only the embed's own words
    revenue = monthly(shop.rows, month_start(shop.today, 1))[0]
    board = editor.get("/board.json", params={"lang": "id"}).json()
    on_board = next(c for g in board["groups"] for c in g["cards"] if c["name"] == "revenue")
    assert on_board["status_text"] == "Sesuai target"  # on track: 185 % of its target
    anonymous = TestClient(shop.client.app)
    for body in ({"kind": "kpi", "target": "revenue", "embed": "card"},
                 {"kind": "kpi", "target": "revenue", "embed": "chart"},
                 {"kind": "board", "embed": "board"}):  # fmt: skip
        path, _ = embed(editor, body)
        html = anonymous.get(path, params={"lang": "id"}).text
        assert '<html lang="id"' in html
        assert f'status-on_track">{on_board["status_text"]}</span>' in html, body
        assert english_words(html) == [], body
        if body["kind"] == "kpi":
            assert "Rp\u00a0" + f"{revenue:,}".replace(",", ".") in html
        figure = anonymous.get(path + ".json", params={"lang": "id"}).json().get("figure")
        if figure:
            assert figure["layout"]["separators"] == ",."
    gone = anonymous.get("/e/shr_gone", params={"lang": "id"})
    assert "Embed ini tidak ada, sudah kedaluwarsa atau dicabut." in gone.text


# --- the page forms and the admin list -----------------------------------------------------


def test_the_admin_page_makes_and_lists_embeds(served: Served) -> None:
    admin = served.browser("admin@example.com")
    csrf = admin.headers["X-CSRF-Token"]
    made = admin.post("/shares/new", data={"csrf": csrf, "kind": "kpi", "target": "revenue",
                                           "embed": "chart", "days": "30"})  # fmt: skip
    assert made.status_code == 200, made.text
    url = re.search(r'id="created-secret">([^<]+)<', made.text)
    assert url is not None
    assert "/e/shr_" in url.group(1)
    assert f"&lt;iframe src=&#34;{url.group(1)}&#34;" in made.text  # the snippet to copy
    assert "No site may show this in a frame yet" in made.text
    listed = admin.get("/admin").text
    assert re.search(r'<tr data-embed="chart"><td>KPI Revenue</td><td>embedded chart</td>', listed)
    refused = admin.post("/shares/new", data={"csrf": csrf, "kind": "goal", "target": "grow",
                                              "embed": "card"})  # fmt: skip
    assert refused.status_code == 400
    path = "/e/" + url.group(1).rsplit("/e/", 1)[1]
    assert TestClient(served.client.app).get(path).status_code == 200
    [row] = [s for s in admin.get("/api/v1/shares").json()["items"] if s["embed"]]
    assert admin.post(f"/admin/shares/{row['id']}/revoke", data={"csrf": csrf},
                      follow_redirects=False).status_code == 303  # fmt: skip
    assert TestClient(served.client.app).get(path).status_code == 404


def test_an_editor_embeds_a_kpi_from_its_page(served: Served) -> None:
    editor = served.browser("editor@example.com")
    page = editor.get("/kpis/revenue").text
    assert '<option value="chart">an embed of the KPI&#39;s chart</option>' in page
    form = {"csrf": editor.headers["X-CSRF-Token"], "kind": "kpi", "target": "revenue",
            "embed": "card", "back": "kpi"}  # fmt: skip
    made = editor.post("/shares/new", data=form)
    assert made.status_code == 200
    assert 'id="created-snippet"' in made.text
    assert "height=&#34;340&#34;" in made.text


# --- the setting ---------------------------------------------------------------------------


def test_an_origin_that_is_not_one_is_a_located_error_in_both_languages(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: x\nembed:\n  origins:\n    - https://ok.example:8443\n"
        "    - https://intranet.example/kpi\n    - http://*.corp.example\n    - https://a.*.b\n",
        encoding="utf-8",
    )
    loaded = load_project(tmp_path)
    found = [(p.code, p.where.line, p.where.col, p.message) for p in loaded.problems.errors]
    assert found == [
        ("TLK004", 5, 7, "'https://intranet.example/kpi' is not the origin of a site such as "
                         "https://intranet.example"),
        ("TLK004", 7, 7, "'https://a.*.b' is not the origin of a site such as "
                         "https://intranet.example"),
    ]  # fmt: skip
    problem = loaded.problems.errors[0]
    assert problem.message_in(voice("id")) == (
        "'https://intranet.example/kpi' bukan origin sebuah situs seperti https://intranet.example"
    )
    assert problem.hint is not None
    assert "no path" in problem.hint
    shown = problem.render(tmp_path, loaded.lines(problem.where.file), voice("id"))
    assert shown.splitlines()[0].startswith("tolok.yaml:5:7: galat[TLK004]")
    assert "tanpa path" in shown


def test_listed_origins_are_written_as_csp_names_them(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: x\nembed: {origins: ['HTTP://127.0.0.1:8080/', 'https://*.corp.example']}\n",
        encoding="utf-8",
    )
    loaded = load_project(tmp_path)
    assert loaded.project is not None, loaded.problems
    assert loaded.project.embed.origins == ["http://127.0.0.1:8080", "https://*.corp.example"]


def test_the_readmes_embed_setting_validates(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Embedding a KPI in another page") :]
    setting = re.search(r"```yaml\n# tolok.yaml\n(.*?)```", section, re.S)
    assert setting is not None
    (tmp_path / "tolok.yaml").write_text("name: x\n" + setting.group(1), encoding="utf-8")
    loaded = load_project(tmp_path)
    assert loaded.project is not None, loaded.problems
    assert loaded.project.embed.origins == ["https://intranet.example", "https://*.wiki.example"]
