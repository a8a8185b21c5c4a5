"""Light commands stay light: `tolok validate`, `tolok kpis` and `tolok show` answered from
the store import none of the libraries that compute (Ibis, pandas, NumPy, DuckDB, PyArrow,
SQLGlot), forecast (statsforecast, SciPy) or serve (FastAPI, Plotly); nor do they open the
store through SQLAlchemy or read Babel's locale data (numbers in tolok's languages are
written from its own tables). A `tolok refresh` with nothing to do (no file and no table
changed) computes nothing and imports none of them either, nor reads Babel's locale data to
print its board: files are looked at by size, time and digest, a DuckDB table by one query
through the DuckDB driver. Each command runs in a new Python process, as a user runs it;
the modules it loaded are read from `sys.modules` when it is done."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.cli import app

COMPUTING = ["ibis", "pandas", "numpy", "duckdb", "pyarrow", "sqlglot"]
FORECASTING = ["statsforecast", "scipy", "statsmodels"]
SERVING = ["fastapi", "plotly", "uvicorn", "jinja2"]
HEAVY = COMPUTING + FORECASTING + SERVING

RUN = """
import contextlib, io, json, sys
sys.argv = ["tolok", *sys.argv[1:]]
from tolok.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
data = sys.modules.get("babel.localedata")
locales = sorted(data._cache) if data is not None else []
modules = sorted(m for m in sys.modules if "." not in m)
print(json.dumps({"code": code, "modules": modules, "locale_data": locales}))
"""

PROJECT = """\
name: Light
timezone: Asia/Jakarta
datasets:
  orders:
    source: file:orders.csv
    time: day
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
kpis:
  revenue:
    formula: revenue
    target: {value: 100, from: 2026-01}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("light")
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    rows = ["day,region,amount"] + [f"2026-0{m}-1{d},Bali,{10 * m + d}" for m in range(1, 4)
                                    for d in range(3)]  # fmt: skip
    (folder / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    refreshed = CliRunner().invoke(app, ["refresh", str(folder)])
    assert refreshed.exit_code == 0, refreshed.output
    return folder


def loaded_by(folder: Path, *args: str) -> set[str]:
    """The top-level modules a command loaded; `babel-data:LOCALE` for each locale whose
    Babel data it read."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["code"] in (None, 0), done.stderr
    return set(answer["modules"]) | {f"babel-data:{name}" for name in answer["locale_data"]}


@pytest.mark.parametrize(
    "args",
    [["validate"], ["kpis"], ["show", "revenue"], ["show", "revenue", "--format", "json"]],
    ids=["validate", "kpis", "show", "show-json"],
)
def test_a_light_command_imports_no_heavy_library(project: Path, args: list[str]) -> None:
    modules = loaded_by(project, *args)
    assert "tolok" in modules  # the command did run
    assert sorted(modules & set(HEAVY)) == []
    assert "sqlalchemy" not in modules
    assert not any(m.startswith("babel-data:") for m in modules)


NOTHING_TO_DO = sorted(set(HEAVY) - {"duckdb"})
"""What a refresh with nothing to do leaves out (DuckDB: it may look at a DuckDB table)."""


def test_a_refresh_with_nothing_to_do_computes_nothing(project: Path) -> None:
    loaded_by(project, "refresh")  # whatever the fixture's refresh left to do
    modules = loaded_by(project, "refresh")
    assert "tolok" in modules
    assert sorted(modules & set(NOTHING_TO_DO)) == []
    assert not any(m.startswith("babel-data:") for m in modules)
    assert "duckdb" not in modules  # files only: no warehouse opened at all


TABLE_PROJECT = """\
name: Light tables
timezone: Asia/Jakarta
warehouse: duckdb:///warehouse.duckdb
datasets:
  orders:
    source: orders
    time: day
    measures:
      revenue: {agg: sum, expr: amount}
kpis:
  revenue:
    formula: revenue
"""


def test_a_refresh_with_no_table_changed_asks_duckdb_alone(tmp_path: Path) -> None:
    """A DuckDB table unchanged: its watermark is one query through the DuckDB driver,
    and nothing computes. Then a row added is seen, and computed (with Ibis)."""
    import duckdb

    (tmp_path / "tolok.yaml").write_text(TABLE_PROJECT, encoding="utf-8")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("CREATE TABLE orders (day DATE, amount DOUBLE)")
        connection.execute("INSERT INTO orders VALUES ('2026-01-05', 10), ('2026-02-03', 7)")
    assert {"ibis", "duckdb"} <= loaded_by(tmp_path, "refresh")
    modules = loaded_by(tmp_path, "refresh")
    assert "duckdb" in modules  # the table was looked at
    assert sorted(modules & set(NOTHING_TO_DO)) == []
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("INSERT INTO orders VALUES ('2026-02-04', 5)")
    assert "ibis" in loaded_by(tmp_path, "refresh")  # the new row is computed
    shown = subprocess.run(
        [sys.executable, "-m", "tolok", "show", "revenue", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    values = {p["period"]: p["value"] for p in json.loads(shown.stdout)["points"]}
    assert (values["2026-01"], values["2026-02"]) == (10, 12)


def test_a_refresh_computes_with_what_it_needs(project: Path) -> None:
    """The check holds something: a command that computes does import Ibis and DuckDB."""
    modules = loaded_by(project, "refresh", "--full")
    assert {"ibis", "duckdb"} <= modules
    assert not modules & set(SERVING)
