"""`tolok refresh` and `tolok show` on the example project, as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE
from tolok.cli import app
from tolok.store.database import HEAD

runner = CliRunner(env={"TOLOK_LANG": "en"})  # the example is Indonesian; these read English


def plain(output: str) -> str:
    """Rich draws usage errors in a box, wrapped: the text without the box."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy, so the DuckDB file a refresh writes stays out of the repository."""
    target = tmp_path / "toko"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db"))
    return target


def paid_revenue_by_month(month: str, region: str | None = None, csv_file: Path = EXAMPLE) -> float:
    """Straight from the CSV: Jakarta is UTC+7 all year, so a UTC timestamp's local month
    is that of the timestamp plus seven hours."""
    import datetime as dt

    total = 0.0
    with (csv_file / "data" / "orders.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            moment = dt.datetime.fromisoformat(row["Order Date"].replace("Z", "+00:00"))
            local = moment + dt.timedelta(hours=7)
            if row["Status"] != "paid" or local.strftime("%Y-%m") != month:
                continue
            if region is None or row["Region"] == region:
                total += float(row["Jumlah (Rp)"])
    return total


def test_refresh_prints_a_board_of_every_kpi(example: Path) -> None:
    result = runner.invoke(app, ["refresh", str(example)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "recorded the definitions of 14 KPIs (v1)",
        "also computed: revenue by Channel, revenue by Region",
    ]
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == [
        "kpi", "period", "value", "vs previous", "last 12", "status",
        "open period", "so far", "heading", "owner",
    ]  # fmt: skip
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert len(rows) == 14
    revenue = rows["Revenue"]
    assert revenue[1] == "2026-11"
    expected = paid_revenue_by_month("2026-11")
    assert revenue[2] == "IDR\u00a0" + f"{expected:,.0f}"  # rupiah as English pages write it
    # Ad spend is typed in by people; until then CAC has no value rather than a wrong one.
    assert rows["Customer acquisition cost"][2] == "\u2013"


def test_show_json_with_a_filter_and_a_comparison(example: Path) -> None:
    result = runner.invoke(
        app,
        [
            "show",
            "revenue",
            "-p",
            str(example),
            "--from",
            "2026-09",
            "--to",
            "2026-10",
            "--where",
            "Region == 'Bali'",
            "--compare",
            "last_year",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["period"] for p in data["points"]] == ["2026-09", "2026-10"]
    for point in data["points"]:
        assert point["value"] == paid_revenue_by_month(point["period"], "Bali")
        last_year = point["period"].replace("2026", "2025")
        assert point["compare"] == paid_revenue_by_month(last_year, "Bali")


def test_show_csv_by_dimension(example: Path) -> None:
    result = runner.invoke(
        app,
        [
            "show",
            "revenue",
            "-p",
            str(example),
            "--by",
            "Region",
            "--from",
            "2026-11",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["Region"] for r in rows} == {
        "Bali",
        "DKI Jakarta",
        "Jawa Barat",
        "Jawa Timur",
        "Sulawesi Selatan",
        "Sumatera Utara",
    }
    for row in rows:
        assert float(row["value"]) == paid_revenue_by_month("2026-11", row["Region"])


def test_show_a_breakdown_the_kpi_cannot_have(example: Path) -> None:
    result = runner.invoke(app, ["show", "conversion_rate", "-p", str(example), "--by", "Region"])
    assert result.exit_code == 1
    assert "cannot break down by 'Region': dataset 'sessions' does not have it" in result.output
    assert "Traceback" not in result.output


def test_show_a_filter_on_a_dimension_one_dataset_lacks(example: Path) -> None:
    result = runner.invoke(
        app, ["show", "conversion_rate", "-p", str(example), "--where", "Region == 'Bali'"]
    )
    assert result.exit_code == 1
    assert "cannot filter on 'Region': dataset 'sessions' does not have it" in result.output


def test_show_unknown_kpi_and_bad_period(example: Path) -> None:
    result = runner.invoke(app, ["show", "revenu", "-p", str(example)])
    assert result.exit_code == 1
    assert "no KPI 'revenu'" in result.output
    result = runner.invoke(app, ["show", "revenue", "-p", str(example), "--from", "March"])
    assert result.exit_code == 2
    assert "'March' is not a period label" in plain(result.output)


def test_show_compared_with_another_range_period_by_period(example: Path) -> None:
    result = runner.invoke(
        app,
        [
            "show",
            "revenue",
            "-p",
            str(example),
            "--from",
            "2026-01",
            "--to",
            "2026-03",
            "--compare",
            "2025-10..2025-12",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    points = json.loads(result.output)["points"]
    pairs = [(p["period"], p["value"], p["compare"]) for p in points]
    assert pairs == [
        (now, paid_revenue_by_month(now), paid_revenue_by_month(then))
        for now, then in [("2026-01", "2025-10"), ("2026-02", "2025-11"), ("2026-03", "2025-12")]
    ]
    result = runner.invoke(app, ["show", "revenue", "-p", str(example), "--compare", "lastyear"])
    assert result.exit_code == 2
    assert "use previous, last_year or FROM..TO" in plain(result.output)


def test_show_answers_from_the_store_with_the_same_values(example: Path) -> None:
    live = runner.invoke(app, ["show", "revenue", "-p", str(example), "--format", "json"])
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    stored = runner.invoke(app, ["show", "revenue", "-p", str(example), "--format", "json"])
    live_data, stored_data = json.loads(live.stdout), json.loads(stored.stdout)
    assert live_data["computed_at"] is None
    assert stored_data["computed_at"] is not None
    assert stored_data["points"] == live_data["points"]


def test_history_and_as_reported_after_a_formula_change(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    sales = example / "kpis" / "sales.yaml"
    sales.write_text(
        sales.read_text(encoding="utf-8").replace(
            "formula: revenue / paid_orders", "formula: revenue / buyers"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["refresh", str(example), "--reason", "per buyer"])
    assert result.exit_code == 0
    assert "average_purchase_value: definition v2 (values restated)" in result.stderr
    history = runner.invoke(app, ["history", "average_purchase_value", "-p", str(example)])
    assert history.exit_code == 0
    lines = history.stdout.splitlines()
    assert lines[0].startswith("v1  ")
    assert any(line.startswith("v2  ") and line.endswith("per buyer") for line in lines)
    assert '  +    "formula": "revenue / buyers",' in lines
    now = json.loads(
        runner.invoke(
            app, ["show", "average_purchase_value", "-p", str(example), "--format", "json"]
        ).stdout
    )
    then = json.loads(
        runner.invoke(
            app,
            [
                "show",
                "average_purchase_value",
                "-p",
                str(example),
                "--format",
                "json",
                "--as-reported",
            ],
        ).stdout
    )
    assert then["as_reported"] is True
    assert [p["period"] for p in now["points"]] == [p["period"] for p in then["points"]]
    for new, old in zip(now["points"], then["points"], strict=True):
        assert new["value"] >= old["value"]  # per buyer: buyers <= paid orders
    assert now["points"] != then["points"]


def test_db_upgrade_creates_and_reports_the_revision(example: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", str(example)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"store at revision {HEAD} (was empty)"
    again = runner.invoke(app, ["db", "upgrade", str(example)])
    assert again.stdout.strip() == f"store at revision {HEAD} (was {HEAD})"


def test_enter_values_then_the_board_has_them(example: Path) -> None:
    one = runner.invoke(
        app,
        [
            "enter",
            "ad_spend",
            "spend",
            "2026-11",
            "15000000",
            "--by",
            "platform=google",
            "--user",
            "budi",
            "-p",
            str(example),
        ],
    )
    assert one.exit_code == 0, one.output
    assert one.stdout.strip() == "ad_spend.spend 2026-11 [platform=google]: 15000000"
    values = example / "spend.csv"
    values.write_text(
        "measure,period,value,platform\nspend,2026-11,5000000,meta\nspend,2026-1,1,meta\n",
        encoding="utf-8",
    )
    bad = runner.invoke(app, ["enter", "ad_spend", "--file", str(values), "-p", str(example)])
    assert bad.exit_code == 1
    assert f"error: {values}:3: '2026-1' is not a period label" in bad.stderr
    assert "nothing was stored" in bad.stderr
    values.write_text("measure,period,value,platform\nspend,2026-11,5000000,meta\n", "utf-8")
    good = runner.invoke(
        app, ["enter", "ad_spend", "--file", str(values), "--user", "sari", "-p", str(example)]
    )
    assert good.exit_code == 0, good.output
    board = runner.invoke(app, ["refresh", str(example)])
    rows = {line.split("\t")[0]: line.split("\t") for line in board.stdout.splitlines()[1:]}
    new = json.loads(
        runner.invoke(app, ["show", "new_customers", "-p", str(example), "--format", "json"]).stdout
    )["points"][-1]["value"]
    expected = round(20_000_000 / new)
    assert rows["Customer acquisition cost"][2] == "IDR\u00a0" + f"{expected:,}"
    trail = runner.invoke(app, ["audit", "ad_spend", "-p", str(example)])
    actors = [line.split("\t")[1] for line in trail.stdout.splitlines()]
    assert actors == ["budi", "sari"]


def test_changed_grain_breakdowns_and_draft_kpis_never_show_stale_values(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    sales = example / "kpis" / "sales.yaml"
    text = sales.read_text(encoding="utf-8")
    text = text.replace(
        "  grain: month\n  level: strategic\n  function: sales",
        "  grain: quarter\n  level: strategic\n  function: sales",
        1,
    )
    text = text.replace("breakdowns: [Region, Channel]", "breakdowns: [Region, Category]")
    sales.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["refresh", str(example)])
    assert result.exit_code == 0, result.output
    assert "also computed: revenue by Category, revenue by Region" in result.stderr
    with (example / "data" / "orders.csv").open("a", encoding="utf-8") as handle:
        handle.write("TM-999999,2026-11-20T03:00:00Z,C00001,Bali,web,fashion,50000000,false,paid\n")
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    month = json.loads(
        runner.invoke(
            app,
            [
                "show",
                "revenue",
                "-p",
                str(example),
                "--grain",
                "month",
                "--from",
                "2026-11",
                "--format",
                "json",
            ],
        ).stdout
    )
    assert month["computed_at"] is None  # month is no longer kept: computed on the spot
    assert month["points"][0]["value"] == paid_revenue_by_month("2026-11", csv_file=example)
    channel = runner.invoke(
        app, ["show", "revenue", "-p", str(example), "--by", "Channel", "--format", "json"]
    )
    assert json.loads(channel.stdout)["computed_at"] is None
    text = sales.read_text(encoding="utf-8").replace(
        "  goal: grow-revenue\n  target: {value: 300000",
        "  goal: grow-revenue\n  status: draft\n  target: {value: 300000",
    )
    sales.write_text(text, encoding="utf-8")
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    draft = json.loads(
        runner.invoke(
            app, ["show", "average_purchase_value", "-p", str(example), "--format", "json"]
        ).stdout
    )
    assert draft["computed_at"] is None


def test_show_rejects_a_reversed_range_and_a_repeated_dimension(example: Path) -> None:
    reversed_range = runner.invoke(
        app, ["show", "revenue", "-p", str(example), "--from", "2026-06", "--to", "2026-03"]
    )
    assert reversed_range.exit_code == 2
    assert "--from 2026-06 comes after --to 2026-03" in plain(reversed_range.output)
    twice = runner.invoke(
        app, ["show", "revenue", "-p", str(example), "--by", "Region", "--by", "Region"]
    )
    assert twice.exit_code == 2
    assert "--by Region is given twice" in plain(twice.output)
    history = runner.invoke(app, ["history", "nope", "-p", str(example)])
    assert history.exit_code == 1
    assert "no KPI 'nope'" in history.output


def test_status_shows_the_last_closed_period_against_its_target(example: Path) -> None:
    before = runner.invoke(app, ["status", str(example)])
    assert before.exit_code == 1
    assert "run `tolok refresh` first" in before.stderr
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    result = runner.invoke(app, ["status", str(example)])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[1]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    # Average purchase value has a target of Rp 300.000 from 2026-01: whatever the last
    # closed month is when this runs, that is its target.
    apv = rows["Average purchase value"]
    assert apv[0] == "Grow revenue 20% year over year"
    assert apv[4] == "IDR\u00a0300,000"
    assert apv[6] in ("on track", "at risk", "off track")
    assert rows["Tickets resolved"][6] == "no target"


def test_goals_tree_rolls_up_and_names_the_gap_driver(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    result = runner.invoke(app, ["goals", str(example)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Grow revenue 20% year over year  [")
    assert any(line.startswith("  Turn more visitors into buyers  [") for line in lines)
    assert "    - Conversion rate: " in "\n".join(lines)


def test_explain_contributions_add_up_to_the_change(example: Path) -> None:
    result = runner.invoke(
        app, ["explain", "revenue", "-p", str(example), "--by", "Region", "--period", "2026-10"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Revenue: change 2026-09 -> 2026-10, by Region"
    change = paid_revenue_by_month("2026-10") - paid_revenue_by_month("2026-09")
    sign = "+" if change >= 0 else "-"  # a change carries its sign
    assert lines[-1].split("\t")[-1] == sign + "IDR\u00a0" + f"{abs(change):,.0f}"
    ratio = runner.invoke(
        app, ["explain", "csat", "-p", str(example), "--by", "region", "--period", "2026-10"]
    )
    assert ratio.exit_code == 0, ratio.output
    assert ratio.stdout.splitlines()[1].split("\t")[-2:] == ["mix", "rate"]
    nps = runner.invoke(app, ["explain", "nps", "-p", str(example), "--by", "region"])
    assert nps.exit_code == 2
    assert "explain works for KPIs that add up" in plain(nps.output)


def test_annotate_and_impact_find_the_faster_support_in_the_example(example: Path) -> None:
    # examples/toko/data/generate.py makes first responses faster from 2026 on.
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    note = runner.invoke(
        app,
        [
            "annotate",
            "first_response_time",
            "2025-12-20",
            "Second support agent",
            "--user",
            "sari",
            "-p",
            str(example),
        ],
    )
    assert note.exit_code == 0, note.output
    assert note.stdout.startswith("annotation 1: 2025-12-20 Second support agent")
    result = runner.invoke(app, ["impact", "1", "-p", str(example)])
    assert result.exit_code == 0, result.output
    assert "First response time: likely lowered first response time by" in result.stdout
    trail = runner.invoke(app, ["audit", "annotation", "-p", str(example)])
    assert "annotation.add" in trail.stdout
    missing = runner.invoke(app, ["impact", "9", "-p", str(example)])
    assert missing.exit_code == 1


def test_suggest_target_gives_a_yaml_line(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    result = runner.invoke(app, ["suggest-target", "revenue", "-p", str(example)])
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last.startswith("  target: {growth: ")
    assert last.endswith(", vs: last_year}")
    # The wording of the README's row: the rate reached a quarter of the time.
    assert "a quarter of the time" in plain(result.stdout)
    assert "75th percentile" in result.stdout
    down = runner.invoke(app, ["suggest-target", "first_response_time", "-p", str(example)])
    assert down.exit_code == 0, down.output
    assert "25th percentile" in down.stdout
    assert down.stdout.splitlines()[-1].startswith("  target: {growth: ")


def test_show_has_targets_and_status_including_growth_rules(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    data = json.loads(
        runner.invoke(
            app,
            [
                "show",
                "revenue",
                "-p",
                str(example),
                "--from",
                "2026-09",
                "--to",
                "2026-10",
                "--format",
                "json",
            ],
        ).stdout
    )
    for point in data["points"]:
        last_year = paid_revenue_by_month(point["period"].replace("2026", "2025"))
        assert point["target"] == pytest.approx(last_year * 1.2)
        expected = "on_track" if point["value"] >= 0.95 * point["target"] else point["status"]
        assert point["status"] == expected
    apv = runner.invoke(
        app,
        [
            "show",
            "average_purchase_value",
            "-p",
            str(example),
            "--from",
            "2026-10",
            "--to",
            "2026-10",
            "--format",
            "csv",
        ],
    )
    [row] = list(csv.DictReader(io.StringIO(apv.stdout)))
    assert (row["target"], row["status"] in {"on_track", "at_risk", "off_track"}) == (
        "300000.0",
        True,
    )


def test_a_target_set_by_a_person_wins_over_the_yaml_and_is_audited(example: Path) -> None:
    assert runner.invoke(app, ["refresh", str(example)]).exit_code == 0
    args = ["target", "set", "average_purchase_value", "2026-10"]
    first = runner.invoke(app, [*args, "320000", "--user", "dewi", "-p", str(example)])
    assert first.stdout.strip() == "target of average_purchase_value for 2026-10: 320000"
    second = runner.invoke(app, [*args, "325000", "--user", "budi", "-p", str(example)])
    assert second.stdout.strip().endswith("325000 (was 320000)")
    points = json.loads(
        runner.invoke(
            app,
            [
                "show",
                "average_purchase_value",
                "-p",
                str(example),
                "--from",
                "2026-09",
                "--to",
                "2026-10",
                "--format",
                "json",
            ],
        ).stdout
    )["points"]
    assert [p["target"] for p in points] == [300000.0, 325000.0]
    trail = runner.invoke(app, ["audit", "average_purchase_value", "-p", str(example)])
    assert [line.split("\t")[1:3] for line in trail.stdout.splitlines()] == [
        ["dewi", "target.set"],
        ["budi", "target.set"],
    ]
    bad = runner.invoke(app, ["target", "set", "revenu", "2026-10", "1", "-p", str(example)])
    assert bad.exit_code == 1
    assert "no KPI 'revenu'" in bad.stderr
