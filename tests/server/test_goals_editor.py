"""The goals page as an editor (issue 25, item 3): each goal's definition as a form, a new
goal's form, the goals a goal may move under (never itself nor one below it), and the goals
API the page's script calls: a goal made, changed, moved, and a move that would make a
cycle refused under the field, in the reader's language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.server.conftest import PROJECT, Served
from tolok.spec.loader import load_project

TREE = PROJECT.replace(
    "goals:\n  grow:\n    title: Grow\n    owner: owner@example.com\n",
    "goals:\n"
    "  grow:\n    title: Grow\n    owner: owner@example.com\n"
    "  # the sales team's part\n"
    "  sell:\n    title: Sell more\n    parent: grow\n    level: operational\n"
    "  upsell: {title: Upsell, parent: sell, weight: 2}\n"
    "  keep: {title: Keep buyers}\n",
)
"""The served project with a tree: grow ← sell ← upsell, and keep beside it."""


@pytest.fixture
def tree(served: Served) -> Served:
    (served.root / "tolok.yaml").write_text(TREE, encoding="utf-8")
    assert load_project(served.root).ok
    return served


def builder_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="builder-data">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert found is not None, html
    got: dict[str, Any] = json.loads(found.group(1))
    return got


def form_of(html: str, goal: str) -> str:
    start = html.index(f'data-entry="{goal}"')
    return html[start : html.index("</form>", start)]


def test_an_editor_sees_each_goal_as_a_form_and_a_new_goals_form(tree: Served) -> None:
    editor = tree.browser("editor@example.com")
    html = editor.get("/goals", headers={"accept": "text/html"}).text
    assert '<script src="/static/build-rules.js' in html
    sell = form_of(html, "sell")
    assert 'name="title" value="Sell more"' in sell
    assert '<option value="operational" selected>operational</option>' in sell
    assert '<option value="grow" selected>Grow</option>' in sell
    assert 'value="upsell"' not in sell  # below sell: moving there would be a cycle
    assert 'value="sell"' not in sell.split('name="parent"')[1]
    assert '<option value="keep" >Keep buyers</option>' in sell
    assert "Save the goal" in sell
    assert "data-delete" in sell
    assert 'data-entry=""' in html  # a new goal's form
    data = builder_data(html)
    assert data["definitions"]["upsell"] == {"title": "Upsell", "parent": "sell", "weight": 2}
    assert set(data["fingerprints"]) == {"tolok.yaml"}
    assert data["csrf"] == editor.headers["X-CSRF-Token"]
    page = editor.get("/goals.json").json()
    forms = {f["name"]: f for f in page["forms"]}
    assert [n for n, _ in forms["grow"]["parents"]] == ["keep"]
    assert [n for n, _ in forms["upsell"]["parents"]] == ["grow", "sell", "keep"]
    assert forms["upsell"]["weight"] == "2"
    assert page["read_only"] is None


def test_a_viewer_reads_the_goals_definitions_without_saving(tree: Served) -> None:
    viewer = tree.browser("viewer@example.com")
    html = viewer.get("/goals", headers={"accept": "text/html"}).text
    assert "Editors and admins may change goals" in html
    assert '<fieldset class="fields" disabled>' in form_of(html, "sell")
    assert "Save the goal" not in html
    assert 'data-entry=""' not in html
    said = viewer.get("/goals", params={"lang": "id"}, headers={"accept": "text/html"}).text
    assert "Editor dan admin boleh mengubah sasaran" in said


def test_read_only_definitions_say_why_on_the_goals_page(
    tree: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    editor = tree.browser("editor@example.com")
    html = editor.get("/goals", headers={"accept": "text/html"}).text
    assert 'id="read-only"' in html
    assert "read-only on this server" in html
    assert "Save the goal" not in html
    assert editor.get("/goals.json").json()["read_only"].startswith("definitions are read-only")


def test_a_goal_is_made_and_moved_and_a_cycle_is_refused_under_its_field(tree: Served) -> None:
    editor = tree.browser("editor@example.com")
    seen = builder_data(editor.get("/goals").text)["fingerprints"]
    new = {"title": "Win back", "parent": "keep", "owner": "owner@example.com"}
    made = editor.post("/api/v1/goals", json={"name": "win-back", "definition": new,
                                              "fingerprints": seen})  # fmt: skip
    assert made.status_code == 201, made.text
    text = (tree.root / "tolok.yaml").read_text(encoding="utf-8")
    assert "  # the sales team's part\n" in text
    assert "  upsell: {title: Upsell, parent: sell, weight: 2}\n" in text
    assert "  win-back:\n    title: Win back\n    parent: keep\n" in text
    page = editor.get("/goals.json").json()
    [keep] = [g for g in page["goals"] if g["name"] == "keep"]
    assert [c["name"] for c in keep["children"]] == ["win-back"]

    moved = editor.put("/api/v1/goals/sell", json={
        "definition": {"title": "Sell more", "parent": "keep", "level": "operational"},
        "fingerprints": made.json()["fingerprints"]})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert "    parent: keep\n    level: operational\n" in (tree.root / "tolok.yaml").read_text(
        encoding="utf-8"
    )
    [keep] = [g for g in editor.get("/goals.json").json()["goals"] if g["name"] == "keep"]
    assert [c["name"] for c in keep["children"]] == ["sell", "win-back"]

    before = (tree.root / "tolok.yaml").read_text(encoding="utf-8")
    under_upsell = {"definition": {"title": "Keep buyers", "parent": "upsell"}}
    cycle = editor.put("/api/v1/goals/keep?lang=id", json=under_upsell)
    assert cycle.status_code == 422
    problems = cycle.json()["error"]["problems"]
    assert ["goals", "keep", "parent"] in [p["path"] for p in problems]
    [said] = [p for p in problems if p["path"] == ["goals", "keep", "parent"]]
    assert said["code"] == "TLK014"
    assert "keep" in said["message"]
    assert "upsell" in said["message"]
    assert (tree.root / "tolok.yaml").read_text(encoding="utf-8") == before


def test_the_goals_page_speaks_indonesian(tree: Served) -> None:
    editor = tree.browser("editor@example.com")
    html = editor.get("/goals", params={"lang": "id"}, headers={"accept": "text/html"}).text
    assert "Ubah atau pindahkan sasaran ini" in html
    assert "Simpan sasaran" in html
    assert "Tambah sasaran" in html
    assert '<option value="operational" selected>operasional</option>' in form_of(html, "sell")
    assert builder_data(html)["words"]["number"] == "Tulis sebuah angka, misalnya 0,5."
