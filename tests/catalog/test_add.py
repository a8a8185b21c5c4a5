"""`tolok catalog add` edits the team's YAML without disturbing it; `tolok catalog` browses."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tolok.cli import app
from tolok.spec import load_project

runner = CliRunner()

MAIN = """\
# Our shop's KPIs: reviewed every Monday.
name: Shop
warehouse: duckdb://
datasets:
  # one row per campaign and day
  ads:
    source: file:ads.csv
    time: day
    dimensions:
    - channel
    measures:
      spend: {agg: sum, expr: cost}   # money out
  visits:
    source: file:visits.csv
    time: started_at
"""

KPIS = """\
# KPIs owned by marketing
spend:
  formula: spend   # as it is
  tags:
    - money
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "ads.csv").write_text(
        "day,channel,cost,rev\n2026-01-05,search,10,30\n2026-02-03,social,20,10\n",
        encoding="utf-8",
    )
    (tmp_path / "visits.csv").write_text(
        "started_at,source\n2026-01-05,organic\n", encoding="utf-8"
    )
    (tmp_path / "tolok.yaml").write_text(MAIN, encoding="utf-8")
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpis" / "marketing.yaml").write_text(KPIS, encoding="utf-8")
    return tmp_path


def add(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["catalog", "add", *args, "-p", str(tmp_path)])
    return result.exit_code, result.output


def test_add_keeps_comments_order_and_layout(tmp_path: Path) -> None:
    project(tmp_path)
    code, said = add(tmp_path, "roi", "--dataset", "ads", "--map", "revenue=rev",
                     "--map", "campaign=channel", "--owner", "ana@x.id")  # fmt: skip
    assert code == 0, said
    main = (tmp_path / "tolok.yaml").read_text(encoding="utf-8")
    # Every line as written is still there, in the same order; one measure was added.
    old_lines = MAIN.splitlines()
    new_lines = main.splitlines()
    assert [line for line in new_lines if line in old_lines] == old_lines
    assert [line for line in new_lines if line not in old_lines] == [
        "      attributed_revenue: {agg: sum, expr: rev}"
    ]
    kpis = (tmp_path / "kpis" / "marketing.yaml").read_text(encoding="utf-8")
    assert kpis.startswith(KPIS)  # the KPI goes where the KPIs are, after them
    assert "  formula: ratio(attributed_revenue - spend, spend)" in kpis
    assert "  breakdowns: [channel]" in kpis
    assert "campaign_cost: uses the existing measure ads.spend" in said
    loaded = load_project(tmp_path)
    assert loaded.ok
    assert loaded.project is not None
    assert loaded.project.kpis["roi"].owner == "ana@x.id"
    shown = runner.invoke(app, ["show", "roi", "-p", str(tmp_path), "--format", "csv"])
    # January: (30 - 10) / 10 = 200%; February: (10 - 20) / 20 = -50%
    rows = {line.split(",")[0]: line.split(",")[2] for line in shown.output.splitlines()[1:]}
    assert rows == {"2026-01": "2.0", "2026-02": "-0.5"}


def test_a_column_the_data_lacks_writes_nothing(tmp_path: Path) -> None:
    project(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")}
    code, said = add(tmp_path, "roi", "--dataset", "ads", "--map", "revenue=income")
    assert code == 1
    assert "unknown column 'income'" in said
    assert "nothing was changed" in said
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")} == before


def test_clear_errors_for_what_cannot_be_added(tmp_path: Path) -> None:
    project(tmp_path)
    code, said = add(tmp_path, "conversion_rate", "--dataset", "ads")
    assert code == 1
    assert "--dataset sessions=DATASET" in said
    code, said = add(tmp_path, "roi", "--dataset", "nope")
    assert (code, "no dataset named 'nope'" in said) == (1, True)
    code, said = add(tmp_path, "roi", "--dataset", "ads", "--map", "colour=channel")
    assert (code, "has no input column 'colour'" in said) == (1, True)
    code, said = add(tmp_path, "roi", "--dataset", "ads", "--name", "spend")
    assert (code, "already has a KPI named 'spend'" in said) == (1, True)
    code, said = add(tmp_path, "no_such_kpi", "--dataset", "ads")
    assert (code, "no template named 'no_such_kpi'" in said) == (1, True)


def test_two_tables_map_to_two_datasets_and_the_kpi_name_is_chosen(tmp_path: Path) -> None:
    project(tmp_path)
    code, said = add(tmp_path, "conversion_rate", "--dataset", "sessions=visits",
                     "--dataset", "orders=ads", "--name", "ad_days_per_visit")  # fmt: skip
    assert code == 0, said
    loaded = load_project(tmp_path)
    assert loaded.project is not None
    kpi = loaded.project.kpis["ad_days_per_visit"]
    assert kpi.unit.value == "percent"
    assert loaded.project.datasets["visits"].measures["sessions"].agg.value == "count"


def test_browse_search_filter_and_show_in_both_languages() -> None:
    listed = runner.invoke(app, ["catalog", "--function", "service"]).output
    assert "csat" in listed
    assert "roi" not in listed
    found = runner.invoke(app, ["catalog", "search", "churn"]).output
    assert "churn_rate" in found
    assert "csat" not in found
    indonesian = runner.invoke(app, ["catalog", "search", "pelanggan", "--lang", "id"]).output
    assert "customer_acquisit" in indonesian  # the table wraps at 80 columns here
    assert "Biaya akuisisi" in indonesian
    shown = runner.invoke(app, ["catalog", "show", "nps", "--lang", "id"])
    assert shown.exit_code == 0
    assert "rumus:" in shown.output
    assert "tolok catalog add nps --dataset DATASET" in shown.output
    missing = runner.invoke(app, ["catalog", "show", "churn_rat"])
    assert missing.exit_code == 1
    assert "did you mean: churn_rate" in missing.output


def test_a_column_can_be_mapped_to_an_expression_of_yours(tmp_path: Path) -> None:
    (tmp_path / "lines.csv").write_text(
        "Order Date,Sales,Profit,Category\n2026-01-05,100,30,A\n2026-01-09,300,20,B\n",
        encoding="utf-8",
    )
    (tmp_path / "tolok.yaml").write_text(
        "name: Lines\nwarehouse: duckdb://\ndatasets:\n  lines:\n    source: file:lines.csv\n"
        "    time: Order Date\n    dimensions: [Category]\n",
        encoding="utf-8",
    )
    code, said = add(tmp_path, "gross_margin", "--dataset", "lines", "--map", "line_revenue=Sales",
                     "--map", "line_cost=Sales - Profit", "--map", "category=Category")  # fmt: skip
    assert code == 0, said
    shown = runner.invoke(app, ["show", "gross_margin", "-p", str(tmp_path), "--format", "csv"])
    [row] = shown.output.splitlines()[1:]
    # (400 - (400 - 50)) / 400 = 0.125: the profit share of sales
    assert row.split(",")[2] == "0.125"
