"""The command line as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import tolok
from tests.conftest import EXAMPLE, FIXTURES
from tolok.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"tolok {tolok.__version__}"


def test_validate_ok() -> None:
    result = runner.invoke(app, ["--lang", "en", "validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Toko Maju is valid: 14 KPIs, 5 datasets, 5 goals" in result.output


def test_validate_errors_exit_1_with_places() -> None:
    result = runner.invoke(app, ["validate", str(FIXTURES / "many_problems")])
    assert result.exit_code == 1
    assert "kpis/more.yaml:5:22: error[TLK011] unknown name 'orders'" in result.output
    assert "6 errors, 0 warnings" in result.output


def test_validate_json() -> None:
    result = runner.invoke(app, ["validate", str(FIXTURES / "wrong_arity"), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["errors"] == [
        {
            "file": "tolok.yaml",
            "line": 10,
            "column": 14,
            "code": "TLK013",
            "severity": "error",
            "message": "rolling() takes 2 to 3 arguments, got 1",
            "hint": "write it as rolling(x, n[, 'sum'|'avg'|'min'|'max'])",
        }
    ]


def test_validate_accepts_the_yaml_file_itself() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE / "tolok.yaml"), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"ok": True, "errors": [], "warnings": []}


def test_kpis_plain_table_when_not_a_terminal() -> None:
    result = runner.invoke(app, ["kpis", str(EXAMPLE)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split("\t")[:3] == ["name", "title", "formula"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert len(rows) == 14
    assert rows["conversion_rate"][2] == "paid_orders / visits"


def test_kpis_filters() -> None:
    result = runner.invoke(
        app, ["kpis", str(EXAMPLE), "--function", "service", "--indicator", "lagging"]
    )
    names = [line.split("\t")[0] for line in result.output.splitlines()[1:]]
    assert names == ["tickets_resolved", "csat", "nps"]
    result = runner.invoke(
        app, ["kpis", str(EXAMPLE), "--goal", "fast-support", "--format", "json"]
    )
    assert [row["name"] for row in json.loads(result.output)] == [
        "tickets_resolved",
        "first_response_time",
    ]
    result = runner.invoke(
        app, ["kpis", str(EXAMPLE), "--level", "strategic", "--owner", "DEWI@tokomaju.id"]
    )
    names = [line.split("\t")[0] for line in result.output.splitlines()[1:]]
    assert names == ["marketing_roi", "revenue", "sales_growth", "nps"]


def test_kpis_with_a_bad_filter_value_is_a_usage_error() -> None:
    result = runner.invoke(app, ["kpis", str(EXAMPLE), "--level", "tactical"])
    assert result.exit_code == 2


def test_kpis_on_a_broken_project_shows_the_errors() -> None:
    result = runner.invoke(app, ["kpis", str(FIXTURES / "kpi_cycle")])
    assert result.exit_code == 1
    assert "cycle: gross → net → gross" in result.output


def test_schema_covers_the_language() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    kpi = schema["$defs"]["KPI"]
    assert kpi["additionalProperties"] is False
    assert {"formula", "direction", "target", "thresholds", "status"} <= set(kpi["properties"])
    assert schema["$defs"]["Grain"]["enum"] == [
        "day",
        "week",
        "month",
        "quarter",
        "year",
        "fiscal_quarter",
        "fiscal_year",
    ]
    part = json.loads(runner.invoke(app, ["schema", "--part", "kpis"]).output)
    assert part["additionalProperties"]["$ref"] == "#/$defs/KPI"


def test_installed_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "tolok"
    command = [str(exe)] if exe.exists() else [shutil.which("tolok") or "tolok"]
    done = subprocess.run(
        [*command, "validate", str(FIXTURES / "unknown_measure")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "tolok.yaml:11:14: error[TLK011] unknown name 'revnue'" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
