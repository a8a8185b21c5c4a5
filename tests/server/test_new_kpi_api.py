"""The builder's API: an unsaved KPI checked, previewed from the data, given a suggested
target; a catalog template planned onto a dataset and added; who may ask. Expected values
are the fixture's orders summed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import Served
from tolok.spec.loader import load_project

NEW = {"name": "profit_ratio", "new": True}


def yaml(served: Served) -> str:
    return (served.root / "tolok.yaml").read_text(encoding="utf-8")


def test_a_typo_in_a_new_formula_is_reported_with_its_code_and_column(served: Served) -> None:
    editor = served.browser("editor@example.com")
    before = yaml(served)
    body = {**NEW, "definition": {"title": "Profit ratio", "formula": "revenu / order_count"}}
    answer = editor.post("/api/v1/builder/check", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is False
    [problem] = answer.json()["problems"]
    assert problem["code"] == "TLK011"
    assert problem["path"] == ["kpis", "profit_ratio", "formula"]
    # Where a save would write it: kpis/kpis.yaml, `  formula: revenu / order_count` on
    # its third line ("profit_ratio:", "  title: …", then the formula), the name at column 12.
    assert (problem["file"], problem["line"], problem["column"]) == ("kpis/kpis.yaml", 3, 12)
    assert "revenu" in problem["message"]
    said = editor.post("/api/v1/builder/check?lang=id", json=body).json()
    assert "tidak dikenal" in said["problems"][0]["message"]
    fixed = {**NEW, "definition": {"formula": "revenue / order_count"}}
    assert editor.post("/api/v1/builder/check", json=fixed).json() == {"ok": True, "problems": []}
    taken = editor.post("/api/v1/builder/check", json={**fixed, "name": "revenue"}).json()
    assert [(p["code"], p["path"]) for p in taken["problems"]] == [
        ("TLK005", ["kpis", "revenue", "name"])
    ]
    assert yaml(served) == before
    assert not (served.root / "kpis").exists()


def test_the_preview_computes_the_periods_of_the_data(served: Served) -> None:
    editor = served.browser("editor@example.com")
    before = yaml(served)
    # The orders: January 100 + 150, February 200 (tests/server/conftest.py).
    definition = {"title": "Weighted", "formula": "revenue * 10.5", "target": {"value": 2500}}
    answer = editor.post("/api/v1/builder/preview", json={**NEW, "definition": definition})
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert [p["period"] for p in got["periods"]] == ["2026-01-01", "2026-02-01"]
    assert [p["value"] for p in got["periods"]] == [2625.0, 2100.0]
    assert [p["text"] for p in got["periods"]] == ["2,625", "2,100"]
    # 2625 / 2500 is above the target; 2100 / 2500 = 84%, below the 85% of off track.
    assert [p["status"] for p in got["periods"]] == ["on_track", "off_track"]
    assert [p["target"] for p in got["periods"]] == [2500.0, 2500.0]
    assert got["figure"]["data"][0]["y"] == [2625.0, 2100.0]
    in_id = editor.post("/api/v1/builder/preview?lang=id", json={**NEW, "definition": definition})
    assert [p["text"] for p in in_id.json()["periods"]] == ["2.625", "2.100"]
    assert [p["status_text"] for p in in_id.json()["periods"]][1] == "Meleset"
    assert yaml(served) == before
    assert not (served.root / "kpis").exists()


def test_a_preview_of_a_typo_is_a_422_with_the_problem(served: Served) -> None:
    editor = served.browser("editor@example.com")
    answer = editor.post(
        "/api/v1/builder/preview", json={**NEW, "definition": {"formula": "revenu"}}
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["error"]["problems"]
    assert (problem["code"], problem["path"][-1]) == ("TLK011", "formula")


def test_a_target_is_suggested_from_the_unsaved_kpis_history(served: Served) -> None:
    editor = served.browser("editor@example.com")
    body = {**NEW, "definition": {"formula": "revenue"}}
    short = editor.post("/api/v1/builder/suggest-target", json=body)
    assert short.status_code == 200, short.text
    assert short.json()["found"] is False  # two months are not a history
    # Six months that each grew 10% on the one before: the rule is 10% on the period before.
    values = [100.0, 110.0, 121.0, 133.1, 146.41, 161.051]
    months = ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01"]
    rows = [f"{m}-10,Bali,{v}" for m, v in zip(months, values, strict=True)]
    (served.root / "orders.csv").write_text(
        "ordered_at,region,amount\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    found = editor.post("/api/v1/builder/suggest-target", json=body).json()
    assert found["found"] is True
    assert found["target"] == {"growth": 0.1, "vs": "previous"}
    assert found["next_value"] == pytest.approx(161.051 * 1.1)
    assert "10" in found["said"]


def test_a_catalog_template_is_planned_onto_a_dataset_and_added(served: Served) -> None:
    text = yaml(served).replace(
        "  ad_spend:\n",
        "  sales:\n    source: file:orders.csv\n    time: ordered_at\n"
        "    dimensions: [region]\n    measures:\n      rows: {agg: count}\n  ad_spend:\n",
    )
    (served.root / "tolok.yaml").write_text(text, encoding="utf-8")
    editor = served.browser("editor@example.com")
    mapping = {"datasets": {"": "sales"}, "columns": {"amount": "amount", "region": "region"}}
    planned = editor.post("/api/v1/catalog/sales_revenue/plan", json=mapping)
    assert planned.status_code == 200, planned.text
    plan = planned.json()
    # `revenue` is taken (a measure of orders and a KPI): the new measure is named after the KPI.
    new = {"sales_revenue_revenue": {"agg": "sum", "expr": "amount"}}
    assert plan["measures"] == {"sales": new}
    assert plan["definition"]["formula"] == "sales_revenue_revenue"
    assert plan["definition"]["breakdowns"] == ["region"]
    assert yaml(served) == text  # a plan writes nothing
    wrong = editor.post("/api/v1/catalog/sales_revenue/plan?lang=id",
                        json={"datasets": {"": "nope"}})  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "datasets"
    assert "tidak ada dataset bernama 'nope'" in wrong.json()["error"]["message"]
    assert editor.post("/api/v1/catalog/nope/plan", json={}).status_code == 404
    definition = {**plan["definition"], "title": "Sales", "target": {"value": 300}}
    seen = editor.get("/api/v1/kpis/revenue/definition").json()["fingerprints"]
    added = editor.post(
        "/api/v1/catalog/sales_revenue/add",
        json={**mapping, "name": "sales", "planned": plan["name"], "definition": definition,
              "fingerprints": seen},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    loaded = load_project(served.root)  # what `tolok validate` reads
    assert loaded.ok, loaded.problems
    assert loaded.project is not None
    kpi = loaded.project.kpis["sales"]
    assert (kpi.title, kpi.formula) == ("Sales", "sales_revenue_revenue")
    measure = loaded.project.datasets["sales"].measures["sales_revenue_revenue"]
    assert (measure.agg.value, measure.expr) == ("sum", "amount")
    assert "sales_revenue_revenue: {agg: sum, expr: amount}" in yaml(served)
    again = editor.post(
        "/api/v1/catalog/sales_revenue/add",
        json={**mapping, "name": "sales", "planned": plan["name"], "definition": definition,
              "fingerprints": seen},
    )  # fmt: skip
    assert again.status_code in (409, 422), again.text  # the name is taken, the files changed


def test_viewers_and_read_only_definitions_are_refused(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = served.browser("viewer@example.com")
    body = {**NEW, "definition": {"formula": "revenue"}}
    routes = ["/api/v1/builder/check", "/api/v1/builder/preview", "/api/v1/builder/suggest-target"]
    for path in routes:
        assert viewer.post(path, json=body).status_code == 403, path
    assert viewer.post("/api/v1/catalog/sales_revenue/plan", json={}).status_code == 403
    # A viewer in the team that owns `revenue` may look at that KPI's changes, no other.
    member = served.browser("member@example.com")
    own = {"name": "revenue", "definition": {"formula": "revenue * 2", "owner": "sales-team"}}
    assert member.post("/api/v1/builder/check", json=own).status_code == 200
    assert member.post("/api/v1/builder/check", json=body).status_code == 403
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    editor = served.browser("editor@example.com")
    for path in routes:
        refused = editor.post(path, json=body)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["read_only"] is True


def test_nothing_is_written_to_the_store_by_a_preview(served: Served) -> None:
    editor = served.browser("editor@example.com")
    before = sorted(p.name for p in Path(served.root).iterdir())
    answer = editor.post(
        "/api/v1/builder/preview", json={**NEW, "definition": {"formula": "revenue"}}
    )
    assert answer.status_code == 200
    series = editor.get("/api/v1/kpis").json()
    assert "profit_ratio" not in str(series)
    assert sorted(p.name for p in Path(served.root).iterdir()) == before


def test_the_preview_of_a_kpi_judges_with_the_targets_people_set(served: Served) -> None:
    """The edit page's preview of an existing KPI judges each period as the board does: a
    target set in the app for February wins over the YAML's 300 (January 250, February 200)."""
    editor = served.browser("editor@example.com")
    set_ = editor.put("/api/v1/kpis/revenue/targets", json={"period": "2026-02", "value": 200})
    assert set_.status_code == 200, set_.text
    got = editor.get("/api/v1/kpis/revenue/definition").json()
    body = {"name": "revenue", "new": False, "definition": got["definition"]}
    preview = editor.post("/api/v1/builder/preview", json=body)
    assert preview.status_code == 200, preview.text
    periods = {p["period"]: p for p in preview.json()["periods"]}
    assert (periods["2026-01-01"]["target"], periods["2026-01-01"]["status"]) == (
        300.0,
        "off_track",  # 250 / 300 = 83 %
    )
    assert (periods["2026-02-01"]["target"], periods["2026-02-01"]["status"]) == (
        200.0,
        "on_track",  # 200 / 200, the target set in the app
    )
    # An unsaved KPI of another name knows no such target: February against the YAML's 300.
    other = editor.post("/api/v1/builder/preview", json={**NEW, "definition": {
        "formula": "revenue", "target": {"value": 300}}})  # fmt: skip
    assert [p["status"] for p in other.json()["periods"]] == ["off_track", "off_track"]
