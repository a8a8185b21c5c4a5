"""The example project (examples/toko: files, a typed-in dataset, breakdowns, conversions,
goals) refreshed on the cluster the tests start, through Spark Connect and on its
standalone master, as a user runs it (`tolok refresh`, a new process), gives the values the
embedded DuckDB gives (issue 23, item 4): every KPI, grain, breakdown, period and slice
the store keeps, equal to 1e-9."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.spark_cluster import Cluster, tolok_command

TODAY = "2026-06-15"  # a pinned day: every copy computes the same periods

Kept = dict[tuple[str, str, str, str, str], float | None]


def refreshed(folder: Path, warehouse: str | None) -> Kept:
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.db", "*.duckdb*"))
    if warehouse is not None:
        settings = folder / "tolok.yaml"
        text = settings.read_text(encoding="utf-8")
        assert "warehouse: duckdb:///warehouse.duckdb" in text
        settings.write_text(
            text.replace("warehouse: duckdb:///warehouse.duckdb", f"warehouse: {warehouse}"),
            encoding="utf-8",
        )
    tolok_command(folder, "refresh", str(folder), TOLOK_TODAY=TODAY)
    with sqlite3.connect(folder / "tolok.db") as store:
        rows = store.execute(
            "SELECT kpi, grain, breakdown, period, slice, value FROM results"
        ).fetchall()
    return {tuple(row[:5]): row[5] for row in rows}  # type: ignore[misc]


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Kept:
    kept = refreshed(tmp_path_factory.mktemp("duckdb") / "toko", None)
    assert len(kept) > 100  # the example keeps hundreds of values
    return kept


def assert_same(found: Kept, expected: Kept) -> None:
    assert found.keys() == expected.keys()
    different = {
        key: (value, expected[key])
        for key, value in found.items()
        if (value is None) != (expected[key] is None)
        or (value is not None and value != pytest.approx(expected[key], rel=1e-9, abs=1e-12))
    }
    assert not different, different


def test_the_example_through_spark_connect_equals_duckdb(
    tmp_path: Path, on_duckdb: Kept, spark_cluster: Cluster
) -> None:
    assert_same(refreshed(tmp_path / "toko", spark_cluster.connect), on_duckdb)


def test_the_example_on_the_standalone_master_equals_duckdb(
    tmp_path: Path, on_duckdb: Kept, spark_cluster: Cluster
) -> None:
    assert_same(refreshed(tmp_path / "toko", spark_cluster.master), on_duckdb)
