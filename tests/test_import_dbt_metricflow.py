"""`tolok import dbt` against MetricFlow itself (issue 24, item 2): the dbt project of
tests/test_import_dbt.py, built with dbt over the same DuckDB file, each metric queried by
month with MetricFlow's `mf query`, and the KPI the import made from it read with tolok.
Every metric the import maps equals MetricFlow's figures (to 1e-9), except the two it
reports as read otherwise (a cumulative window in whole periods, a conversion credited to
every first event), which are checked to be reported.

MetricFlow runs from its own virtual environment (`make test` makes `.venv-metricflow`:
dbt-core, dbt-duckdb and dbt-metricflow from PyPI), as a team runs it beside tolok."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import tolok
from tests.conftest import ROOT
from tests.test_import_dbt import DBT_PROJECT, METRICS, PROFILES, SEMANTIC, TODAY, warehouse
from tolok.cli import app as cli

MF = Path(os.environ.get("TOLOK_METRICFLOW", ROOT / ".venv-metricflow" / "bin" / "mf"))
SAME = ["revenue", "bali_revenue", "order_count", "customers", "aov", "revenue_growth",
        "balance"]  # fmt: skip
DIFFERS = ["revenue_3m", "signup_rate"]
TABLES = ["orders", "visits", "signups", "balances"]
SPINE = """\
select cast(range as date) as date_day
from range(date '2025-01-01', date '2027-01-01', interval 1 day)
"""
SPINE_YAML = """\
models:
  - name: metricflow_time_spine
    time_spine: {standard_granularity_column: date_day}
    columns: [{name: date_day, granularity: day}]
"""

pytestmark = pytest.mark.skipif(
    not MF.exists() and not os.environ.get("CI"),
    reason=f"MetricFlow is not at {MF} (make test installs it in .venv-metricflow)",
)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    assert MF.exists(), f"MetricFlow is not at {MF}: make test installs it"
    root = tmp_path_factory.mktemp("metricflow")
    dbt = root / "shop_dbt"
    (dbt / "models" / "marts").mkdir(parents=True)
    (dbt / "dbt_project.yml").write_text(
        DBT_PROJECT + 'version: "1.0"\nconfig-version: 2\n', encoding="utf-8"
    )
    (dbt / "profiles.yml").write_text(PROFILES, encoding="utf-8")
    (dbt / "models" / "marts" / "semantic.yml").write_text(SEMANTIC, encoding="utf-8")
    (dbt / "models" / "metrics.yml").write_text(METRICS, encoding="utf-8")
    warehouse(dbt / "shop.duckdb")
    with duckdb.connect(str(dbt / "shop.duckdb")) as con:  # the sources dbt models read
        con.execute("CREATE SCHEMA raw")
        for table in TABLES:
            con.execute(f"CREATE TABLE raw.{table} AS SELECT * FROM main.{table}")
            con.execute(f"DROP TABLE main.{table}")
    for table in TABLES:
        (dbt / "models" / f"{table}.sql").write_text(f"select * from raw.{table}\n")
    (dbt / "models" / "metricflow_time_spine.sql").write_text(SPINE, encoding="utf-8")
    (dbt / "models" / "time_spine.yml").write_text(SPINE_YAML, encoding="utf-8")
    environ = {**os.environ, "DBT_PROFILES_DIR": str(dbt), "DO_NOT_TRACK": "1"}
    built = subprocess.run([str(MF.with_name("dbt")), "build"], cwd=dbt, env=environ,
                           capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    done = CliRunner().invoke(
        cli, ["import", "dbt", str(dbt), "--to", str(root / "kpis")], env={"TOLOK_LANG": "en"}
    )
    assert done.exit_code == 0, done.output
    return dbt, root / "kpis", done.output


def metricflow(dbt: Path, metric: str) -> dict[str, float]:
    out = dbt / f"{metric}.csv"
    environ = {**os.environ, "DBT_PROFILES_DIR": str(dbt), "DO_NOT_TRACK": "1"}
    asked = [str(MF), "query", "--metrics", metric, "--group-by", "metric_time__month",
             "--start-time", "2026-01-01", "--end-time", "2026-04-30",
             "--csv", str(out)]  # fmt: skip
    ran = subprocess.run(asked, cwd=dbt, env=environ, capture_output=True, text=True,
                         timeout=300, check=False)  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {r["metric_time__month"][:10]: float(r[metric]) for r in rows if r[metric]}


def test_each_mapped_metric_equals_metricflow(
    projects: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dbt, kpis, _ = projects
    monkeypatch.setenv("TOLOK_TODAY", TODAY)
    project = tolok.open(kpis)
    for metric in SAME:
        theirs = metricflow(dbt, metric)
        frame = project.series(metric, start="2026-01", end="2026-04")
        ours = {r.period.date().isoformat(): r.value for r in frame.itertuples()}
        assert theirs, metric
        for month, value in theirs.items():
            assert ours[month] == pytest.approx(value, rel=1e-9), (metric, month)


def test_what_reads_otherwise_than_metricflow_is_said(projects: tuple[Path, Path, str]) -> None:
    _, _, said = projects
    lines = said.splitlines()
    for metric in DIFFERS:
        at = next(n for n, line in enumerate(lines) if f"KPI {metric}:" in line)
        assert lines[at + 1].strip().startswith("unlike MetricFlow:"), lines[at : at + 2]
    for metric in SAME:
        at = next(n for n, line in enumerate(lines) if f"KPI {metric}:" in line)
        assert "unlike MetricFlow" not in lines[at + 1], metric
