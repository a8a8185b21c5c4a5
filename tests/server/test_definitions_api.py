"""The definitions API (issue 25, items 4 to 6): datasets, goals and KPIs changed through
`/api/v1/...`, written to the project's YAML, validated first, refused when a second editor
changed the file meanwhile, audited, and versioned with their reason at the next refresh."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.server.conftest import PROJECT, Served
from tolok.spec.loader import load_project

KPI = "/api/v1/kpis/revenue/definition"


def yaml(served: Served) -> str:
    return (served.root / "tolok.yaml").read_text(encoding="utf-8")


def loaded_definition(client: TestClient, path: str = KPI) -> dict[str, Any]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    got: dict[str, Any] = answer.json()
    return got


def changed(client: TestClient, path: str, **edits: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition at `path` with `edits`, and the fingerprints it was read with."""
    got = loaded_definition(client, path)
    return {**got["definition"], **edits}, got["fingerprints"]


def refresh(served: Served) -> None:
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse

    loaded = load_project(served.root)
    engine = served.client.app.state.tolok.engine  # type: ignore[attr-defined]
    warehouse = Warehouse(loaded)
    try:
        refresh_into_store(loaded, warehouse, engine)
    finally:
        warehouse.close()


def versions(served: Served, kpi: str) -> list[tuple[int, str | None]]:
    from tolok.store.schema import SpecVersion

    engine = served.client.app.state.tolok.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.scalars(select(SpecVersion).where(SpecVersion.kpi == kpi))
        return [(v.number, v.reason) for v in rows]


def test_a_definition_reads_as_the_yaml_holds_it(served: Served) -> None:
    got = loaded_definition(served.browser("viewer@example.com"))
    assert got["definition"] == {
        "title": "Revenue", "formula": "revenue", "unit": "currency", "goal": "grow",
        "owner": "sales-team", "target": {"value": 300, "from": "2026-01"},
    }  # fmt: skip
    assert (got["file"], got["line"], got["editable"]) == ("tolok.yaml", 31, True)
    assert set(got["fingerprints"]) == {"tolok.yaml"}
    assert (
        served.browser("viewer@example.com").get("/api/v1/kpis/nope/definition").status_code == 404
    )


def test_an_editor_changes_a_formula_with_a_reason_and_a_version_records_it(
    served: Served,
) -> None:
    refresh(served)
    assert versions(served, "revenue") == [(1, None)]
    editor = served.browser("editor@example.com")
    definition, seen = changed(editor, KPI, formula="revenue * 2")
    refused = editor.put(KPI, json={"definition": definition, "fingerprints": seen})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "reason"
    assert yaml(served) == PROJECT  # nothing written without the reason
    answer = editor.put(
        KPI, json={"definition": definition, "fingerprints": seen, "reason": "Net of returns"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["action"] == "changed"
    assert body["definition"]["formula"] == "revenue * 2"
    diff = body["diffs"]["tolok.yaml"]
    assert "-    formula: revenue\n" in diff
    assert "+    formula: revenue * 2\n" in diff
    assert "+    changelog: Net of returns\n" in diff
    old, new = PROJECT.splitlines(), yaml(served).splitlines()
    assert [line for line in new if line not in old] == [
        "    formula: revenue * 2",
        "    changelog: Net of returns",
    ]
    assert load_project(served.root).ok  # what `tolok validate` checks
    assert loaded_definition(editor)["definition"]["formula"] == "revenue * 2"  # served now
    refresh(served)
    assert versions(served, "revenue") == [(1, None), (2, "Net of returns")]


def test_a_formula_typo_is_a_422_with_its_code_and_place(served: Served) -> None:
    editor = served.browser("editor@example.com")
    definition, seen = changed(editor, KPI, formula="revenu * 2")
    answer = editor.put(KPI, json={"definition": definition, "fingerprints": seen, "reason": "x"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    [problem] = error["problems"]
    assert problem["code"] == "TLK011"
    assert problem["path"] == ["kpis", "revenue", "formula"]
    assert (problem["file"], problem["line"], problem["column"]) == ("tolok.yaml", 33, 14)
    assert "revenu" in problem["message"]
    assert yaml(served) == PROJECT
    said = editor.put(KPI + "?lang=id", json={"definition": definition, "reason": "x"})
    assert (
        said.json()["error"]["message"] == "perubahan tidak lolos validasi: tidak ada yang ditulis"
    )
    assert "tidak dikenal" in said.json()["error"]["problems"][0]["message"]


def test_a_second_editors_change_is_noticed(served: Served) -> None:
    first, second = served.browser("editor@example.com"), served.browser("admin@example.com")
    mine, seen = changed(first, KPI, title="Income")
    theirs, _ = changed(second, KPI, title="Takings")
    assert first.put(KPI, json={"definition": mine, "fingerprints": seen}).status_code == 200
    answer = second.put(KPI, json={"definition": theirs, "fingerprints": seen})
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["file"] == "tolok.yaml"
    assert "title: Income" in error["current"]
    assert "title: Takings" in error["proposed"]
    assert "title: Income" in yaml(served)


def test_who_may_change_a_definition(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"definition": {"title": "Spend!", "formula": "spend", "unit": "currency"}}
    path = "/api/v1/kpis/spend/definition"
    viewer = served.browser("viewer@example.com")
    assert viewer.get(path).status_code == 200
    refused = viewer.put(path, json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert served.token("admin@example.com", ["read"]).put(path, json=body).status_code == 403
    assert served.client.put(path, json=body).status_code == 401
    browser = served.browser("editor@example.com")
    csrf = browser.headers.pop("X-CSRF-Token")
    assert browser.put(path, json=body).status_code == 403  # a browser needs its CSRF token
    browser.headers["X-CSRF-Token"] = csrf
    assert served.token("editor@example.com", ["write"]).put(path, json=body).status_code == 200
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    closed = browser.put(path, json=body)
    assert closed.status_code == 403
    assert closed.json()["error"]["read_only"] is True
    assert "TOLOK_READONLY_DEFINITIONS" in closed.json()["error"]["message"]
    assert browser.get(path).json()["editable"] is False
    monkeypatch.delenv("TOLOK_READONLY_DEFINITIONS")
    assert (
        browser.post("/api/v1/goals", json={"name": "g", "definition": {"title": "G"}}).status_code
        == 201
    )
    (served.root / "tolok.yaml").write_text(
        yaml(served) + "definitions: {editable: false}\n", encoding="utf-8"
    )
    setting = browser.put(path, json=body)
    assert setting.status_code == 403
    assert "definitions.editable" in setting.json()["error"]["message"]


def test_changing_definitions_is_its_own_right_beside_setting_targets() -> None:
    from tolok.auth.roles import WRITES, Action, can, scope_allows

    assert [can(r, Action.edit_definitions) for r in ("viewer", "editor", "admin")] == [
        False, True, True,
    ]  # fmt: skip
    assert Action.edit_definitions in WRITES
    assert scope_allows(["write"], Action.edit_definitions)
    assert not scope_allows(["read", "ingest:orders"], Action.edit_definitions)


def test_who_may_change_alert_rules_and_schedules(served: Served) -> None:
    (served.root / "tolok.yaml").write_text(PROJECT + CHAT, encoding="utf-8")
    rule = {"name": "watch", "definition": {"when": "status", "notify": ["chat"]}}
    path = "/api/v1/definitions/alerts"
    member = served.browser("member@example.com")  # a viewer in the team owning revenue
    assert member.post(path, json=rule).status_code == 403
    assert served.browser("viewer@example.com").post(path, json=rule).status_code == 403
    assert served.token("admin@example.com", ["read"]).post(path, json=rule).status_code == 403
    made = served.token("editor@example.com", ["write"]).post(path, json=rule)
    assert made.status_code == 201, made.text
    viewer = served.browser("viewer@example.com")
    assert viewer.get(f"{path}/watch").json()["definition"] == rule["definition"]
    assert viewer.delete(f"{path}/slips").status_code == 403
    anomaly = {"definition": {"when": "anomaly", "notify": ["chat"]}}
    assert member.put(f"{path}/slips", json=anomaly).status_code == 403


def test_the_owning_team_may_change_its_target_and_actions_only(served: Served) -> None:
    member = served.browser("member@example.com")  # a viewer in sales-team, owner of revenue
    definition, _ = changed(member, KPI, target={"value": 400, "from": "2026-01"},
                            actions=["Call back lapsed buyers"])  # fmt: skip
    assert member.put(KPI, json={"definition": definition}).status_code == 200, yaml(served)
    assert "    target: {value: 400, from: 2026-01}" in yaml(served)
    assert "    actions: [Call back lapsed buyers]" in yaml(served)
    definition["title"] = "Our revenue"
    assert member.put(KPI, json={"definition": definition}).status_code == 403
    spend, _ = changed(member, "/api/v1/kpis/spend/definition", target={"value": 1})
    assert (
        member.put("/api/v1/kpis/spend/definition", json={"definition": spend}).status_code == 403
    )
    assert (
        member.post(
            "/api/v1/kpis", json={"name": "x", "definition": {"formula": "spend"}}
        ).status_code
        == 403
    )


def test_a_new_kpi_is_served_and_audited(served: Served) -> None:
    editor = served.browser("editor@example.com")
    new = {"title": "Orders", "formula": "order_count", "unit": "count", "function": "sales"}
    made = editor.post("/api/v1/kpis", json={"name": "orders", "definition": new})
    assert made.status_code == 201, made.text
    assert list(made.json()["diffs"]) == ["kpis/sales.yaml"]  # no KPIs in kpis/ yet
    assert (served.root / "kpis" / "sales.yaml").read_text(encoding="utf-8") == (
        "orders:\n  title: Orders\n  formula: order_count\n  unit: count\n  function: sales\n"
    )
    assert yaml(served) == PROJECT
    listed = editor.get("/api/v1/kpis").json()["items"]
    assert "orders" in {item["name"] for item in listed}
    again = editor.post("/api/v1/kpis", json={"name": "orders", "definition": new})
    assert again.status_code == 409
    audit = served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    [entry] = [e for e in audit if e["action"] == "definition.created"]
    assert (entry["actor"], entry["subject"]) == ("editor@example.com", "kpis orders")
    assert entry["after"]["definition"] == new


def test_a_kpi_is_retired_and_only_a_draft_deleted(served: Served) -> None:
    editor = served.browser("editor@example.com")
    retired = editor.delete("/api/v1/kpis/spend/definition")
    assert retired.status_code == 200, retired.text
    assert retired.json()["action"] == "retired"
    assert retired.json()["definition"]["status"] == "retired"
    assert "spend" not in {k["name"] for k in editor.get("/api/v1/kpis").json()["items"]}
    hard = editor.delete("/api/v1/kpis/revenue/definition?hard=true")
    assert hard.status_code == 409
    draft = {"formula": "order_count", "status": "draft"}
    assert editor.post("/api/v1/kpis", json={"name": "d", "definition": draft}).status_code == 201
    gone = editor.delete("/api/v1/kpis/d/definition?hard=true")
    assert gone.status_code == 200, gone.text
    assert gone.json()["action"] == "deleted"
    assert editor.get("/api/v1/kpis/d/definition").status_code == 404


def test_datasets_and_goals_are_made_changed_and_deleted(served: Served) -> None:
    editor = served.browser("editor@example.com")
    dataset = {"source": "manual", "dimensions": ["team"], "measures": {"calls": {"agg": "sum"}}}
    made = editor.post("/api/v1/datasets", json={"name": "calls", "definition": dataset})
    assert made.status_code == 201, made.text
    assert (
        "+  calls:\n+    source: manual\n+    dimensions: [team]\n"
        in made.json()["diffs"]["tolok.yaml"]
    )
    got = loaded_definition(editor, "/api/v1/datasets/calls")
    assert got["definition"] == dataset
    dataset["measures"]["calls"]["agg"] = "max"  # type: ignore[index]
    put = editor.put(
        "/api/v1/datasets/calls", json={"definition": dataset, "fingerprints": got["fingerprints"]}
    )
    assert put.status_code == 200, put.text
    assert "      calls: {agg: max}" in yaml(served)
    used = editor.delete("/api/v1/datasets/orders")
    assert used.status_code == 422
    assert ["kpis", "revenue"] in [p["path"][:2] for p in used.json()["error"]["problems"]]
    assert editor.delete("/api/v1/datasets/calls").status_code == 200
    assert "calls" not in yaml(served)

    goal = editor.post("/api/v1/goals", json={"name": "keep", "definition": {"title": "Keep"}})
    assert goal.status_code == 201, goal.text
    changed_goal = editor.put(
        "/api/v1/goals/keep", json={"definition": {"title": "Keep them", "parent": "grow"}}
    )
    assert changed_goal.status_code == 200
    assert loaded_definition(editor, "/api/v1/goals/keep")["definition"]["parent"] == "grow"
    assert editor.delete("/api/v1/goals/grow").status_code == 422  # revenue and keep use it
    assert editor.delete("/api/v1/goals/keep").status_code == 200
    assert load_project(served.root).ok
    actions = [
        e["action"]
        for e in served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    ]
    assert actions.count("definition.created") == 2
    assert actions.count("definition.deleted") == 2
    assert actions.count("definition.changed") == 2


CHAT = """\
channels:
  chat: {webhook: 'https://hooks.example.com/T0'}   # the team's chat room
alerts:
  # told when revenue slips
  slips: {when: status, kpis: [revenue], notify: [chat]}
"""
"""A webhook channel and one alert rule, with comments, added to the served project."""
ALERTS = "/api/v1/definitions/alerts"
SCHEDULES = "/api/v1/definitions/schedules"


def test_alert_rules_of_the_yaml_are_made_changed_and_deleted(served: Served) -> None:
    (served.root / "tolok.yaml").write_text(PROJECT + CHAT, encoding="utf-8")
    editor = served.browser("editor@example.com")
    got = loaded_definition(editor, f"{ALERTS}/slips")
    assert got["definition"] == {"when": "status", "kpis": ["revenue"], "notify": ["chat"]}
    assert (got["section"], got["file"], got["editable"]) == ("alerts", "tolok.yaml", True)
    drop = {"when": "change", "kpis": ["revenue"], "change": 0.2, "notify": ["chat"]}
    made = editor.post(ALERTS, json={"name": "drop", "definition": drop,
                                     "fingerprints": got["fingerprints"]})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["action"] == "created"
    assert yaml(served) == PROJECT + CHAT + (
        "  drop:\n    when: change\n    kpis: [revenue]\n    change: 0.2\n    notify: [chat]\n"
    )
    listed = editor.get("/api/v1/alert-rules").json()["items"]
    assert [(r["name"], r["source"]) for r in listed] == [("slips", "yaml"), ("drop", "yaml")]
    statuses = {
        "when": "status",
        "kpis": ["revenue"],
        "notify": ["chat"],
        "statuses": ["off_track"],
    }
    fresh = made.json()["fingerprints"]
    put = editor.put(f"{ALERTS}/slips", json={"definition": statuses, "fingerprints": fresh})
    assert put.status_code == 200, put.text
    text = yaml(served)
    assert "  # told when revenue slips\n" in text  # the comment above the rule kept
    assert "  chat: {webhook: 'https://hooks.example.com/T0'}   # the team's chat room\n" in text
    assert "statuses: [off_track]" in text
    gone = editor.delete(f"{ALERTS}/drop")
    assert gone.status_code == 200, gone.text
    assert gone.json()["action"] == "deleted"
    assert "drop" not in yaml(served)
    assert editor.get(f"{ALERTS}/drop").status_code == 404
    loaded = load_project(served.root)
    assert loaded.ok
    assert loaded.project is not None
    assert list(loaded.project.alerts) == ["slips"]
    audit = served.browser("admin@example.com").get("/api/v1/audit").json()["items"]
    subjects = [(e["action"], e["subject"]) for e in audit if e["action"].startswith("definition")]
    assert sorted(subjects) == [("definition.changed", "alerts slips"),
                                ("definition.created", "alerts drop"),
                                ("definition.deleted", "alerts drop")]  # fmt: skip


def test_a_bad_rule_is_refused_with_its_field_and_code(served: Served) -> None:
    (served.root / "tolok.yaml").write_text(PROJECT + CHAT, encoding="utf-8")
    editor = served.browser("editor@example.com")
    typo = {"when": "status", "kpis": ["revenu"], "notify": ["chat"]}
    refused = editor.post(ALERTS, json={"name": "typo", "definition": typo})
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["problems"]
    assert (problem["code"], problem["path"]) == ("TLK008", ["alerts", "typo", "kpis", 0])
    assert problem["hint"] == "did you mean 'revenue'?"
    worded = editor.post(f"{ALERTS}?lang=id", json={"name": "typo", "definition": typo})
    assert (
        worded.json()["error"]["message"]
        == "perubahan tidak lolos validasi: tidak ada yang ditulis"
    )
    misplaced = {"when": "status", "notify": ["chat"], "above": 5}
    wrong = editor.put(f"{ALERTS}/slips", json={"definition": misplaced})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["problems"][0]["path"][:3] == ["alerts", "slips", "above"]
    assert yaml(served) == PROJECT + CHAT
    bad_name = editor.post(ALERTS, json={"name": "no spaces", "definition": typo})
    assert bad_name.status_code == 422
    taken = editor.post(ALERTS, json={"name": "slips", "definition": typo})
    assert taken.status_code == 409
    assert taken.json()["error"]["field"] == "name"


def test_a_rule_made_in_the_app_keeps_its_name(served: Served) -> None:
    (served.root / "tolok.yaml").write_text(PROJECT + CHAT, encoding="utf-8")
    editor = served.browser("editor@example.com")
    mine = {"name": "mine", "rule": {"when": "anomaly", "notify": ["editor@example.com"]}}
    assert editor.post("/api/v1/alert-rules", json=mine).status_code == 201
    anomaly = {"when": "anomaly", "notify": ["chat"]}
    clash = editor.post(ALERTS, json={"name": "mine", "definition": anomaly})
    assert clash.status_code == 409
    assert "made in the app" in clash.json()["error"]["message"]
    assert "mine" not in yaml(served)


def test_schedules_are_made_changed_deleted_and_conflicts_show_both_versions(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    (served.root / "tolok.yaml").write_text(PROJECT + CHAT, encoding="utf-8")
    editor = served.browser("editor@example.com")
    seen = loaded_definition(editor, f"{ALERTS}/slips")["fingerprints"]
    morning = {"do": "digest", "every": "day", "at": "08:00", "to": ["chat"]}
    made = editor.post(SCHEDULES, json={"name": "morning", "definition": morning,
                                        "fingerprints": seen})  # fmt: skip
    assert made.status_code == 201, made.text
    assert yaml(served).endswith(
        'schedules:\n  morning:\n    do: digest\n    every: day\n    at: "08:00"\n    to: [chat]\n'
    )
    assert loaded_definition(editor, f"{SCHEDULES}/morning")["definition"] == morning
    later = {"definition": {**morning, "at": "09:00"}, "fingerprints": seen}
    stale = editor.put(f"{SCHEDULES}/morning", json=later)
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["file"] == "tolok.yaml"
    assert error["current"] == yaml(served)
    assert 'at: "09:00"' in error["proposed"]
    weekly = {**morning, "every": "week", "on": "friday"}
    fresh = made.json()["fingerprints"]
    put = editor.put(f"{SCHEDULES}/morning", json={"definition": weekly, "fingerprints": fresh})
    assert put.status_code == 200, put.text
    assert "    on: friday\n" in yaml(served)
    wrong_day = editor.put(f"{SCHEDULES}/morning", json={"definition": {**weekly, "on": 3}})
    assert wrong_day.status_code == 422
    assert wrong_day.json()["error"]["problems"][0]["path"][:3] == ["schedules", "morning", "on"]
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    closed = editor.delete(f"{SCHEDULES}/morning")
    assert closed.status_code == 403
    assert closed.json()["error"]["read_only"] is True
    monkeypatch.delenv("TOLOK_READONLY_DEFINITIONS")
    assert editor.delete(f"{SCHEDULES}/morning").status_code == 200
    assert "schedules: {}\n" in yaml(served)
    assert load_project(served.root).ok
