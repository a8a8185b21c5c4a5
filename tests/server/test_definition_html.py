"""The KPI definition editor's page (issue 25, item 3): the definition as a form filled with
what the YAML holds, for editors to save through the definitions API and for everyone else
to read; and the live check of a would-be definition, which writes nothing."""

from __future__ import annotations

import json
import re

import pytest

from tests.server.conftest import PROJECT, Served

PAGE = "/kpis/revenue/edit"
CHECK = "/api/v1/kpis/revenue/definition/check"


def known(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="definition-data">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert found is not None, html
    got: dict[str, object] = json.loads(found.group(1))
    return got


def test_an_editor_sees_the_definition_as_a_form_to_save(served: Served) -> None:
    editor = served.browser("editor@example.com")
    answer = editor.get(PAGE, headers={"accept": "text/html"})
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert 'id="field-title" name="title" value="Revenue"' in html
    assert 'id="field-formula" name="formula" value="revenue"' in html
    assert '<option value="currency" selected>currency</option>' in html
    assert '<option value="grow" selected>Grow</option>' in html
    assert '<option value="sales-team" selected>team sales-team</option>' in html
    assert '<option value="editor@example.com"' in html  # the users, to own it
    assert 'id="field-target" name="target" value="300"' in html
    assert '<option value="order_count"></option>' in html  # the formula's suggestions
    assert 'id="save"' in html
    assert 'id="retire"' in html
    assert 'data-csrf="' in html
    assert "disabled" not in html.split('id="definition"')[1][:2000]
    data = known(html)
    assert (
        data["definition"]
        == served.browser("viewer@example.com")
        .get("/api/v1/kpis/revenue/definition")
        .json()["definition"]
    )
    assert set(data["fingerprints"]) == {"tolok.yaml"}  # type: ignore[arg-type]
    kpi = editor.get("/kpis/revenue", headers={"accept": "text/html"}).text
    assert 'href="/kpis/revenue/edit" id="edit-definition"' in kpi
    as_json = editor.get(PAGE + ".json").json()
    assert as_json["form"]["formula"] == "revenue"
    assert as_json["can_save"] is True


def test_the_page_speaks_indonesian(served: Served) -> None:
    editor = served.browser("editor@example.com")
    html = editor.get(PAGE, params={"lang": "id"}, headers={"accept": "text/html"}).text
    assert "Definisi Revenue" in html
    assert ">Rumus" in html
    assert ">Simpan definisi<" in html
    assert '<option value="currency" selected>mata uang</option>' in html
    assert '<option value="month" selected>bulan</option>' in html
    spend = editor.get("/api/v1/kpis/spend/definition").json()
    assert "target" not in spend["definition"]
    half = "/kpis/event_amount/edit"
    assert editor.get(half, params={"lang": "id"}).status_code == 200


def test_a_viewer_reads_the_definition_without_a_save(served: Served) -> None:
    viewer = served.browser("viewer@example.com")
    html = viewer.get(PAGE, headers={"accept": "text/html"}).text
    assert 'value="Revenue"' in html
    assert 'id="save"' not in html
    assert 'id="retire"' not in html
    assert '<fieldset class="fields" disabled>' in html
    assert "Editors and admins may change a definition" in html
    assert 'id="edit-definition"' not in viewer.get("/kpis/revenue").text
    assert viewer.get("/kpis/nope/edit").status_code == 404


def test_read_only_definitions_say_so_and_offer_no_save(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    editor = served.browser("editor@example.com")
    html = editor.get(PAGE, headers={"accept": "text/html"}).text
    assert 'id="read-only"' in html
    assert "read-only on this server" in html
    assert 'id="save"' not in html
    said = editor.get(PAGE, params={"lang": "id"}, headers={"accept": "text/html"}).text
    assert "hanya-baca di server ini" in said


def test_the_check_finds_a_typo_where_it_is_and_writes_nothing(served: Served) -> None:
    viewer = served.browser("viewer@example.com")  # reading is enough to check
    definition = viewer.get("/api/v1/kpis/revenue/definition").json()["definition"]
    typo = viewer.post(CHECK, json={"definition": {**definition, "formula": "revenu * 2"}})
    assert typo.status_code == 200, typo.text
    body = typo.json()
    assert body["ok"] is False
    [problem] = body["problems"]
    assert problem["code"] == "TLK011"
    assert problem["path"] == ["kpis", "revenue", "formula"]
    assert (problem["file"], problem["line"]) == ("tolok.yaml", 33)
    assert "revenu" in problem["message"]
    said = viewer.post(CHECK + "?lang=id", json={"definition": {**definition, "formula": "revenu"}})
    assert "tidak dikenal" in said.json()["problems"][0]["message"]
    fine = viewer.post(CHECK, json={"definition": {**definition, "formula": "revenue * 2"}})
    assert fine.json() == {"ok": True, "problems": []}
    assert (served.root / "tolok.yaml").read_text(encoding="utf-8") == PROJECT
    missing = viewer.post("/api/v1/kpis/nope/definition/check", json={"definition": {}})
    assert missing.status_code == 404
    assert served.client.post(CHECK, json={"definition": definition}).status_code == 401
