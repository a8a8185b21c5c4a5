"""The "Add data" page (`/datasets/new`): the form for editors, in English and Indonesian,
with its script and data block; a message and no form for viewers and read-only servers."""

from __future__ import annotations

import json
import re

import pytest

from tests.server.conftest import Served


def data_block(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="dataset-data">(.*?)</script>', html,
                      re.DOTALL)  # fmt: skip
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


def test_an_editor_gets_the_form_with_its_script(served: Served) -> None:
    page = served.browser("editor@example.com").get("/datasets/new")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Add data</h1>" in html
    assert 'id="data-file"' in html
    assert 'type="file"' in html
    assert 'accept=".csv,.tsv,.txt,.xlsx,.xlsm,text/csv"' in html
    assert re.search(r'<script src="/static/build-data\.js\?v=\w+" defer></script>', html)
    assert 'class="table-scroll"' in html
    assert "<script>" not in html  # no inline script (the CSP forbids it)
    known = data_block(html)
    assert known["lang"] == "en"
    assert set(known["fingerprints"]) == {"tolok.yaml"}  # type: ignore[arg-type]
    kinds = {k["value"]: k["label"] for k in known["kinds"]}  # type: ignore[attr-defined]
    assert kinds["decimal"] == "decimal number"
    assert kinds["id"] == "identifier"
    assert page.headers["link"] == '</datasets/new.json>; rel="alternate"; type="application/json"'


def test_the_page_speaks_indonesian(served: Served) -> None:
    page = served.browser("editor@example.com").get("/datasets/new?lang=id")
    html = page.text
    assert "<h1>Tambah data</h1>" in html
    assert "Berkas CSV atau Excel (paling besar 50 MB)" in html
    assert "Simpan dataset" in html
    assert "Tambah KPI dari dataset ini" in html
    assert "Add data" not in html
    assert "Save the dataset" not in html
    known = data_block(html)
    words = known["words"]
    assert words["read"] == "{rows} baris terbaca. Periksa usulan di bawah, lalu simpan."  # type: ignore[index]
    aggregations = {a["value"]: a["label"] for a in known["aggregations"]}  # type: ignore[attr-defined]
    assert aggregations["count_distinct"] == "banyaknya nilai berbeda"


def test_the_json_twin_says_what_the_form_offers(served: Served) -> None:
    got = served.browser("editor@example.com").get("/datasets/new.json").json()
    assert got["can_save"] is True
    assert got["not_allowed"] is None
    assert got["datasets"] == ["ad_spend", "events", "orders"]
    assert "revenue" in got["measures"]
    assert [a["value"] for a in got["aggregations"]] == [
        "sum", "count", "count_distinct", "avg", "min", "max", "median"]  # fmt: skip


def test_a_viewer_is_told_they_may_not_add_data(served: Served) -> None:
    said_in = {"en": "Editors and admins may add data; your role may not.",
               "id": "Editor dan admin boleh menambah data; peran Anda tidak."}  # fmt: skip
    for lang, said in said_in.items():
        html = served.browser("viewer@example.com").get(f"/datasets/new?lang={lang}").text
        assert said in html
        assert 'id="data-file"' not in html
        assert 'id="dataset-data"' not in html


def test_a_read_only_server_shows_no_form(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    html = served.browser("editor@example.com").get("/datasets/new").text
    assert 'id="read-only"' in html
    assert "TOLOK_READONLY_DEFINITIONS" in html
    assert 'id="data-file"' not in html


def test_anonymous_visitors_are_sent_to_sign_in(served: Served) -> None:
    answer = served.client.get("/datasets/new", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/datasets/new"
