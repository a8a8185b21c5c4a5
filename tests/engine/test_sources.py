"""Files of every kind as datasets, and the errors people get when the data is not right."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from tolok.engine.compute import Request, compute
from tolok.engine.errors import WarehouseError
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain

ROWS = [
    ("A1", "2026-01-31T18:00:00Z", "Bali", 100.0),  # 1 February in Jakarta
    ("A2", "2026-01-15T03:00:00Z", "Jawa", 250.0),
    ("A3", "2026-02-10T03:00:00Z", "Bali", 40.0),
    ("A4", "2026-03-02T03:00:00Z", "Jawa", 10.0),
]
EXPECTED = {"2026-01": 250.0, "2026-02": 140.0, "2026-03": 10.0}


def project(folder: Path, source: str, extra: str = "") -> Path:
    (folder / "tolok.yaml").write_text(
        f"""\
name: Files
timezone: Asia/Jakarta
warehouse: duckdb://
datasets:
  sales:
    source: {source}
    time: Sold At
    dimensions: [Region]
{extra}    measures:
      revenue: {{agg: sum, expr: "`Amount (Rp)`"}}
kpis:
  revenue:
    formula: revenue
""",
        encoding="utf-8",
    )
    return folder


def frame() -> pd.DataFrame:
    data = pd.DataFrame(ROWS, columns=["Invoice", "Sold At", "Region", "Amount (Rp)"])
    data["Sold At"] = pd.to_datetime(data["Sold At"], utc=True)
    return data


def monthly(folder: Path) -> dict[str, float | None]:
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    request = Request(
        ("revenue",), Grain.month, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31)
    )
    series = compute(loaded, Warehouse(loaded), request)["revenue"]
    return {p.label: p.value for p in series.points}


def test_a_folder_of_csv_files_reads_as_one_table(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    header = "Invoice,Sold At,Region,Amount (Rp)\n"
    lines = [f"{a},{b},{c},{d}\n" for a, b, c, d in ROWS]
    (tmp_path / "data" / "2026-01.csv").write_text(header + "".join(lines[:2]), encoding="utf-8")
    (tmp_path / "data" / "2026-02.csv").write_text(header + "".join(lines[2:]), encoding="utf-8")
    assert monthly(project(tmp_path, "file:data/*.csv")) == EXPECTED


def test_parquet(tmp_path: Path) -> None:
    frame().to_parquet(tmp_path / "sales.parquet")
    assert monthly(project(tmp_path, "file:sales.parquet")) == EXPECTED


def test_excel(tmp_path: Path) -> None:
    data = frame()
    data["Sold At"] = data["Sold At"].dt.tz_localize(None)  # Excel has no time zones
    data.to_excel(tmp_path / "sales.xlsx", index=False)
    folder = project(tmp_path, "file:sales.xlsx", "    timezone: UTC\n")
    assert monthly(folder) == EXPECTED


def test_json_lines(tmp_path: Path) -> None:
    with (tmp_path / "sales.jsonl").open("w", encoding="utf-8") as handle:
        for invoice, sold, region, amount in ROWS:
            record = {"Invoice": invoice, "Sold At": sold, "Region": region, "Amount (Rp)": amount}
            handle.write(json.dumps(record) + "\n")
    assert monthly(project(tmp_path, "file:sales.jsonl")) == EXPECTED


def compute_error(folder: Path) -> WarehouseError:
    loaded = load_project(folder)
    request = Request(("revenue",), Grain.month)
    with pytest.raises(WarehouseError) as caught:
        compute(loaded, Warehouse(loaded), request)
    return caught.value


def test_a_file_that_disappeared_after_validation(tmp_path: Path) -> None:
    frame().to_parquet(tmp_path / "sales.parquet")
    folder = project(tmp_path, "file:sales.parquet")
    loaded = load_project(folder)
    (tmp_path / "sales.parquet").unlink()
    with pytest.raises(WarehouseError) as caught:
        compute(loaded, Warehouse(loaded), Request(("revenue",), Grain.month))
    error = caught.value
    assert error.message == "dataset 'sales': no file matches 'sales.parquet'"
    assert error.where is not None
    assert (error.where.file.name, error.where.line) == ("tolok.yaml", 6)


def test_an_unreachable_server_fails_fast_and_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: Down\nwarehouse: postgresql://postgres@127.0.0.1:9/test\n"
        "datasets:\n  sales:\n    source: shop.sales\n    time: sold_at\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n  revenue:\n    formula: revenue\n",
        encoding="utf-8",
    )
    began = time.monotonic()
    error = compute_error(tmp_path)
    assert time.monotonic() - began < 10
    assert error.message.startswith(
        "cannot connect to the warehouse postgresql://postgres@127.0.0.1:9/test:"
    )
    assert error.where is not None
    assert (error.where.line, error.where.col) == (2, 12)
    assert error.hint is not None
    assert "warehouse:" in error.hint


def test_a_column_missing_at_run_time_names_dataset_column_and_line(tmp_path: Path) -> None:
    # A Parquet file's columns are not known when the project is validated.
    frame().rename(columns={"Amount (Rp)": "Amount"}).to_parquet(tmp_path / "sales.parquet")
    error = compute_error(project(tmp_path, "file:sales.parquet"))
    assert error.message == "measure 'revenue': column 'Amount (Rp)' is not in the data"
    assert error.where is not None
    # `      revenue: {agg: sum, expr: "` is 33 characters: the backtick is column 34.
    assert (error.where.line, error.where.col) == (10, 34)


def test_a_declared_type_the_data_does_not_have(tmp_path: Path) -> None:
    data = frame()
    data["Amount (Rp)"] = ["100", "lots", "40", "10"]
    data.to_parquet(tmp_path / "sales.parquet")
    folder = project(tmp_path, "file:sales.parquet", "    columns: {Amount (Rp): number}\n")
    error = compute_error(folder)
    assert error.message.startswith("the query for dataset 'sales' failed on duckdb:")
    assert "lots" in error.message
    assert error.where is not None
    assert error.where.line == 5
