"""Each lint rule: a project that triggers it, and the clean project that does not."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from tolok.cli import app
from tolok.lint import Facts, Finding, KpiFacts, Level, lint
from tolok.spec import load_project

runner = CliRunner()

CLEAN: dict[str, Any] = {
    "name": "Lint check",
    "timezone": "UTC",
    "warehouse": "duckdb://",
    "datasets": {
        "orders": {
            "source": "file:orders.csv",
            "time": "ordered_at",
            "key": ["order_id"],
            "dimensions": ["region"],
            "measures": {
                "revenue": {"agg": "sum", "expr": "amount"},
                "orders": {"agg": "count"},
                "buyers": {"agg": "count_distinct", "expr": "customer_id"},
            },
        },
        "visits": {
            "source": "file:visits.csv",
            "time": "visited_at",
            "measures": {"visits": {"agg": "count"}},
        },
    },
    "goals": {
        "grow": {"title": "Grow revenue", "level": "strategic", "owner": "ana@example.com"},
    },
    "kpis": {
        "revenue": {
            "title": "Revenue",
            "description": "Money from orders, before refunds, in the month they were placed.",
            "formula": "revenue",
            "unit": "currency",
            "grain": "month",
            "owner": "ana@example.com",
            "goal": "grow",
            "indicator": "lagging",
            "target": {"value": 1000, "from": "2026-01"},
            "actions": ["Run a promotion for lapsed buyers"],
        },
        "conversion": {
            "title": "Conversion rate",
            "description": "Orders divided by website visits: how many visits end in an order.",
            "formula": "ratio(orders, visits)",
            "unit": "percent",
            "grain": "month",
            "owner": "budi@example.com",
            "goal": "grow",
            "indicator": "leading",
            "target": {"value": 0.05, "from": "2026-01"},
        },
    },
}


def write(folder: Path, spec: dict[str, Any]) -> Path:
    (folder / "orders.csv").write_text(
        "order_id,ordered_at,region,customer_id,amount,discount\n"
        "1,2026-01-05,Bali,c1,100,10\n2,2026-02-03,Jawa,c2,250,0\n",
        encoding="utf-8",
    )
    (folder / "visits.csv").write_text(
        "visited_at,visitor_id\n2026-01-05,v1\n2026-02-03,v2\n", encoding="utf-8"
    )
    out = StringIO()
    YAML().dump(spec, out)
    (folder / "tolok.yaml").write_text(out.getvalue(), encoding="utf-8")
    return folder


def findings(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None, facts: Facts | None = None
) -> list[Finding]:
    spec = copy.deepcopy(CLEAN)
    if edit is not None:
        edit(spec)
    loaded = load_project(write(tmp_path, spec))
    assert loaded.ok, [p.headline(tmp_path) for p in loaded.problems.errors]
    return lint(loaded, facts)


def codes(found: list[Finding]) -> set[str]:
    return {f.rule.code for f in found}


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "tolok.yaml").read_text(encoding="utf-8").splitlines()
    # "  revenue:" is the KPI's key, not the measure's deeper "      revenue:"
    text, plus, below = text.partition(":+")
    if plus:
        return line_of(tmp_path, text + ":") + int(below)
    hit = str.startswith if text.startswith(" ") else str.__contains__
    return next(i for i, line in enumerate(lines, 1) if hit(line, text))


def test_the_clean_project_has_no_findings(tmp_path: Path) -> None:
    assert findings(tmp_path) == []


def kpi(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda spec: spec["kpis"][name]


EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # code: (an edit that triggers it, the text on the line the finding points to)
    "TLK101": (lambda s: s["kpis"]["revenue"].pop("goal"), "  revenue:"),
    "TLK102": (
        lambda s: s["goals"].update(happy={"title": "Happy buyers", "level": "strategic"}),
        "  happy:",
    ),
    "TLK103": (lambda s: s["kpis"]["conversion"].pop("owner"), "  conversion:"),
    "TLK106": (lambda s: s["kpis"]["conversion"].pop("target"), "  conversion:"),
    "TLK107": (lambda s: s["kpis"]["revenue"]["target"].pop("from"), "    target:"),
    "TLK108": (lambda s: s["kpis"]["revenue"].pop("unit"), "  revenue:"),
    "TLK109": (lambda s: s["kpis"]["revenue"].pop("grain"), "  revenue:"),
    "TLK110": (lambda s: s["kpis"]["revenue"].pop("description"), "  revenue:"),
    "TLK111": (
        lambda s: s["kpis"]["revenue"].update(description="The revenue."),
        "description: The revenue.",
    ),
    "TLK112": (
        lambda s: s["kpis"]["revenue"].update(
            title="Revenue (GMV)", description="All GMV of paid orders in the month."
        ),
        "title: Revenue (GMV)",
    ),
    "TLK113": (
        lambda s: s["kpis"]["revenue"].update(
            description="Money " + "and more money " * 15 + "from orders of every kind."
        ),
        "description: Money and more",
    ),
    "TLK120": (
        lambda s: s["kpis"].update(
            {
                f"extra{i}": {**CLEAN["kpis"]["revenue"], "owner": f"o{i}@example.com"}
                for i in range(7)
            }
        ),
        "  grow:",
    ),
    "TLK121": (
        lambda s: s["kpis"].update(
            {f"extra{i}": {**CLEAN["kpis"]["revenue"], "owner": "cara@x.id"} for i in range(11)}
        ),
        "owner: cara@x.id",  # the first KPI of that owner
    ),
    "TLK130": (
        lambda s: s["kpis"]["conversion"].update(formula="orders / visits"),
        "formula: orders / visits",
    ),
    "TLK131": (
        lambda s: s["datasets"]["orders"]["measures"].update(
            discount_share={"agg": "avg", "expr": "discount / amount"}
        ),
        "discount / amount",
    ),
    "TLK132": (
        lambda s: s["datasets"]["orders"]["measures"].update(
            customers={"agg": "count", "expr": "customer_id"}
        ),
        "      customers:+1",  # its agg, on the line below
    ),
    "TLK133": (lambda s: s["kpis"]["revenue"].update(indicator="leading"), "indicator: leading"),
}


@pytest.mark.parametrize("code", sorted(EDITS))
def test_a_rule_fires_on_its_problem_and_points_at_it(tmp_path: Path, code: str) -> None:
    edit, text = EDITS[code]
    found = [f for f in findings(tmp_path, edit) if f.rule.code == code]
    assert found, f"{code} did not fire"
    assert found[0].where.line == line_of(tmp_path, text)
    assert found[0].where.file == tmp_path / "tolok.yaml"
    assert found[0].fix("en")
    assert found[0].level in (Level.warning, Level.note)


def test_the_ratio_of_a_rolling_average_is_an_average_of_a_ratio(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["kpis"]["smooth"] = {
            **CLEAN["kpis"]["conversion"],
            "formula": "rolling(conversion, 3, 'avg')",
        }

    found = [f for f in findings(tmp_path, edit) if f.rule.code == "TLK131"]
    assert [f.subject for f in found] == ["kpi:smooth"]


def test_a_guarded_or_constant_division_and_a_count_of_a_key_are_fine(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        measures = spec["datasets"]["orders"]["measures"]
        measures["hours"] = {"agg": "avg", "expr": "amount / 60"}
        measures["order_ids"] = {"agg": "count", "expr": "order_id"}
        spec["kpis"]["revenue"]["formula"] = "revenue / 1000"

    assert codes(findings(tmp_path, edit)) & {"TLK130", "TLK131", "TLK132"} == set()


def test_a_leading_kpi_on_a_sub_goal_leads_the_parent_goals_result(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["goals"]["traffic"] = {"title": "More visits", "owner": "b@x.id", "parent": "grow"}
        spec["kpis"]["conversion"]["goal"] = "traffic"

    assert "TLK133" not in codes(findings(tmp_path, edit))

    def orphan(spec: dict[str, Any]) -> None:
        edit(spec)
        del spec["goals"]["traffic"]["parent"]

    assert "TLK133" in codes(findings(tmp_path, orphan))


def test_a_defined_acronym_is_fine(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["kpis"]["revenue"]["title"] = "Gross merchandise value (GMV)"
        spec["kpis"]["revenue"]["description"] = "GMV: every paid order's amount, by month."

    assert "TLK112" not in codes(findings(tmp_path, edit))


def test_off_track_without_actions_needs_the_standing(tmp_path: Path) -> None:
    off = Facts(kpis={"conversion": KpiFacts((0.04, 0.03), 0.05, "off_track")})
    assert "TLK104" in codes(findings(tmp_path, None, off))
    on = Facts(kpis={"conversion": KpiFacts((0.04, 0.06), 0.05, "on_track")})
    assert "TLK104" not in codes(findings(tmp_path, None, on))
    # revenue is off track too, but says what to do about it
    acted = Facts(kpis={"revenue": KpiFacts((900.0, 800.0), 1000.0, "off_track")})
    assert "TLK104" not in codes(findings(tmp_path, None, acted))


def test_a_target_beyond_anything_history_reached(tmp_path: Path) -> None:
    history = (600.0, 640.0, 700.0, 690.0, 720.0)
    # best 720, biggest gain 640 -> 700 = +9.4%; 1000 needs +38.9% over the best
    far = Facts(kpis={"revenue": KpiFacts(history, 1000.0, "off_track")})
    found = [f for f in findings(tmp_path, None, far) if f.rule.code == "TLK105"]
    assert len(found) == 1
    assert "38.9%" in found[0].message("en")
    assert found[0].where.line == line_of(tmp_path, "    target:")
    # 770 is 6.9% above the best: within the biggest gain seen
    near = Facts(kpis={"revenue": KpiFacts(history, 770.0, "off_track")})
    assert "TLK105" not in codes(findings(tmp_path, None, near))


def test_a_target_below_anything_history_reached_when_down_is_good(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["kpis"]["revenue"]["direction"] = "down"

    history = (50.0, 45.0, 48.0, 44.0)  # best 44; biggest drop 50 -> 45 = 10%
    far = Facts(kpis={"revenue": KpiFacts(history, 30.0, "on_track")})
    assert "TLK105" in codes(findings(tmp_path, edit, far))
    near = Facts(kpis={"revenue": KpiFacts(history, 41.0, "on_track")})
    assert "TLK105" not in codes(findings(tmp_path, edit, near))


def test_stale_data_is_older_than_the_finest_grain_reading_it(tmp_path: Path) -> None:
    today = dt.date(2026, 4, 10)
    stale = Facts(today=today, last_day={"orders": dt.date(2026, 2, 3), "visits": today})
    found = [f for f in findings(tmp_path, None, stale) if f.rule.code == "TLK140"]
    assert [f.subject for f in found] == ["dataset:orders"]
    assert found[0].where.line == line_of(tmp_path, "  orders:")
    fresh = Facts(today=today, last_day={"orders": dt.date(2026, 3, 31), "visits": today})
    assert "TLK140" not in codes(findings(tmp_path, None, fresh))


def test_rules_are_switched_off_per_kpi_or_project_with_a_reason(tmp_path: Path) -> None:
    def per_kpi(spec: dict[str, Any]) -> None:
        spec["kpis"]["conversion"].pop("owner")
        spec["kpis"]["revenue"].pop("owner")
        spec["kpis"]["conversion"]["lint"] = {"off": {"no-owner": "the whole shop owns it"}}

    found = findings(tmp_path, per_kpi)
    assert [f.subject for f in found if f.rule.code == "TLK103"] == ["kpi:revenue"]

    def per_project(spec: dict[str, Any]) -> None:
        per_kpi(spec)
        spec["lint"] = {"off": {"TLK103": "a team of two: both own everything"}}

    assert findings(tmp_path, per_project) == []


def test_an_unknown_rule_in_a_switch_is_reported(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["kpis"]["revenue"]["lint"] = {"off": {"no-owners": "typo"}}

    found = findings(tmp_path, edit)
    assert [f.rule.code for f in found] == ["TLK100"]
    assert found[0].where.line == line_of(tmp_path, "no-owners:")


def test_a_switch_without_a_reason_does_not_validate(tmp_path: Path) -> None:
    spec = copy.deepcopy(CLEAN)
    spec["kpis"]["revenue"]["lint"] = {"off": {"TLK103": ""}}
    loaded = load_project(write(tmp_path, spec))
    assert not loaded.ok


def test_cli_exit_codes_strict_and_promoted_rules(tmp_path: Path) -> None:
    spec = copy.deepcopy(CLEAN)
    spec["kpis"]["revenue"].pop("owner")
    write(tmp_path, spec)
    advice = runner.invoke(app, ["lint", str(tmp_path), "--no-data"])
    assert advice.exit_code == 0, advice.output
    assert "warning[TLK103 no-owner]" in advice.output
    assert "tolok.yaml:" in advice.output
    strict = runner.invoke(app, ["lint", str(tmp_path), "--no-data", "--strict"])
    assert strict.exit_code == 1
    assert "error[TLK103 no-owner]" in strict.output
    promoted = runner.invoke(app, ["lint", str(tmp_path), "--no-data", "--error", "no-owner"])
    assert promoted.exit_code == 1
    other = runner.invoke(app, ["lint", str(tmp_path), "--no-data", "--error", "TLK106"])
    assert other.exit_code == 0
    spec["lint"] = {"errors": ["TLK103"]}
    write(tmp_path, spec)
    assert runner.invoke(app, ["lint", str(tmp_path), "--no-data"]).exit_code == 1


def test_cli_json_sarif_and_indonesian(tmp_path: Path) -> None:
    spec = copy.deepcopy(CLEAN)
    spec["kpis"]["revenue"].pop("owner")
    spec["locale"] = "id"
    write(tmp_path, spec)
    args = ["lint", str(tmp_path), "--no-data"]
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    [finding] = data["findings"]
    assert finding["code"] == "TLK103"
    assert finding["file"] == "tolok.yaml"
    assert finding["line"] == line_of(tmp_path, "  revenue:")
    assert "penanggung jawab" in finding["message"]
    sarif = json.loads(runner.invoke(app, [*args, "--format", "sarif"]).output)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    [result] = run["results"]
    assert rule_ids[result["ruleIndex"]] == result["ruleId"] == "TLK103"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == finding["line"]
    text = runner.invoke(app, ["lint", str(tmp_path), "--no-data"]).output
    assert "perbaikan:" in text
    assert "1 temuan" in text


def test_history_and_freshness_come_from_the_store_and_the_data(tmp_path: Path) -> None:
    spec = copy.deepcopy(CLEAN)
    spec["kpis"]["revenue"]["target"] = {"value": 1_000_000, "from": "2026-01"}
    write(tmp_path, spec)
    rows = ["order_id,ordered_at,region,customer_id,amount,discount"]
    amounts = [100, 120, 130, 125, 140, 150]  # best 150, biggest gain +20%
    rows += [f"{i},2025-{i:02d}-10,Bali,c{i},{a},0" for i, a in enumerate(amounts, 1)]
    (tmp_path / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec["store"] = f"sqlite:///{tmp_path / 'tolok.db'}"
    assert runner.invoke(app, ["refresh", str(tmp_path)]).exit_code == 0
    data = json.loads(runner.invoke(app, ["lint", str(tmp_path), "--format", "json"]).output)
    subjects = {(f["code"], f["subject"]) for f in data["findings"]}
    assert ("TLK105", "kpi:revenue") in subjects  # 1,000,000 against a best month of 150
    assert ("TLK140", "dataset:orders") in subjects  # newest order 2025-06-10, long ago
    offline = json.loads(
        runner.invoke(app, ["lint", str(tmp_path), "--format", "json", "--no-data"]).output
    )
    assert {f["code"] for f in offline["findings"]} & {"TLK105", "TLK140"} == set()
