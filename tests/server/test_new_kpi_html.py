"""The "Add a KPI" page and the KPI form it shares with the definition editor: in English
and Indonesian, the catalog in the reader's language, a dataset preselected, and no save
for whom may not."""

from __future__ import annotations

import json
import re

import pytest

from tests.server.conftest import Served
from tests.server.test_no_english_in_id import english_words


def page_data(html: str) -> dict[str, object]:
    found = re.search(r'id="definition-data">(.*?)</script>', html, re.S)
    assert found is not None, html
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_an_editor_sees_the_new_kpi_form_with_the_catalog(served: Served) -> None:
    editor = served.browser("editor@example.com")
    answer = editor.get("/kpis/new", params={"dataset": "orders"})
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert "<h1>Add a KPI</h1>" in html
    assert 'id="field-name" name="name"' in html
    assert 'id="field-formula" name="formula" value=""' in html
    assert '<option value="orders" selected>orders</option>' in html  # ?dataset= preselects
    assert '<option value="draft" selected>draft</option>' in html  # a new KPI starts a draft
    assert 'data-choose="sales_revenue"><strong>Sales revenue</strong>' in html
    assert '<option value="revenue"></option>' in html  # the formula's suggestions
    assert 'id="save"' in html
    assert 'id="preview"' in html
    assert 'id="suggest"' in html
    assert "build-kpi.js" in html
    data = page_data(html)
    assert data["new"] is True
    assert data["dataset"] == "orders"
    templates = {t["name"]: t for t in data["templates"]}  # type: ignore[attr-defined]
    assert len(templates) == 69
    [orders] = templates["sales_revenue"]["roles"]
    assert [c["value"] for c in orders["columns"]] == ["amount", "region"]
    datasets = {d["name"]: d for d in data["datasets"]}  # type: ignore[attr-defined]
    assert datasets["orders"]["measures"] == ["revenue", "order_count"]
    assert {"ordered_at", "region", "amount"} <= set(datasets["orders"]["columns"])
    as_json = editor.get("/kpis/new.json", params={"template": "sales_revenue"}).json()
    assert as_json["template"] == "sales_revenue"
    assert editor.get("/kpis/new.json", params={"template": "nope"}).json()["template"] is None
    assert as_json["can_save"] is True
    assert as_json["form"]["target_kind"] == "none"


def test_the_new_kpi_page_speaks_indonesian(served: Served) -> None:
    editor = served.browser("editor@example.com")
    html = editor.get("/kpis/new", params={"lang": "id"}).text
    assert "<h1>Tambah KPI</h1>" in html
    assert ">Simpan KPI<" in html
    assert "<strong>Pendapatan penjualan</strong>" in html  # the catalog in Indonesian
    assert "Total nilai pesanan yang dibuat pada periode itu" in html
    assert '<option value="month" selected>bulan</option>' in html
    assert english_words(html) == []


def test_a_viewer_sees_the_form_without_a_save(served: Served) -> None:
    viewer = served.browser("viewer@example.com")
    html = viewer.get("/kpis/new").text
    assert 'id="not-allowed"' in html
    assert "Editors and admins may add a KPI" in html
    assert 'id="save"' not in html
    assert 'id="preview"' not in html
    assert '<fieldset class="fields" disabled>' in html


def test_read_only_definitions_offer_no_save(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    html = served.browser("editor@example.com").get("/kpis/new").text
    assert 'id="read-only"' in html
    assert 'id="save"' not in html


def test_the_edit_form_shows_a_growth_target_and_the_thresholds(served: Served) -> None:
    text = (served.root / "tolok.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    formula: spend\n",
        "    formula: spend\n    target: {growth: 0.125, vs: previous}\n"
        "    thresholds: {at_risk: 0.9, off_track: 0.75}\n",
    )
    (served.root / "tolok.yaml").write_text(text, encoding="utf-8")
    editor = served.browser("editor@example.com")
    html = editor.get("/kpis/spend/edit").text
    assert '<option value="growth" selected>A growth rule</option>' in html
    assert 'id="field-growth" name="growth" value="12.5"' in html
    assert '<option value="previous" selected>the period before</option>' in html
    assert 'id="field-at-risk" name="at_risk" value="90"' in html
    assert 'id="field-off-track" name="off_track" value="75"' in html
    in_id = editor.get("/kpis/spend/edit", params={"lang": "id"}).text
    assert 'id="field-growth" name="growth" value="12,5"' in in_id
    # One value from a period on: its value and its period.
    revenue = editor.get("/kpis/revenue/edit", params={"lang": "en"}).text
    assert '<option value="value" selected>One value</option>' in revenue
    assert 'id="field-target-from" name="target_from" value="2026-01"' in revenue
    assert 'id="field-at-risk" name="at_risk" value="95"' in revenue  # the default
