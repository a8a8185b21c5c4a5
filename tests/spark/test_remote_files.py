"""Files on another file system (issue 23, item 3): a `file:` pattern that is a URI of a
Hadoop-compatible file system (`s3a://…`, `hdfs://…`, `viewfs://…`) is passed to Spark as
written, for the cluster to list and read; on the DuckDB warehouse it is a located error.
A `file://` URI is a path on this machine and is held to the project's folders.

The positive case reads through `viewfs://`, Hadoop's client-side mount table (no server
needed): the path reaches Spark as a URI of another file system and Hadoop resolves it.
`hdfs://127.0.0.1:9` shows the other side: the URI reaches Hadoop's HDFS client, which
says it cannot connect, and tolok says so at the dataset's line, in both languages."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.spark_cluster import tolok_run

ROWS = {
    "2026-01": [("2026-01-05", 10.5, "Bali"), ("2026-01-20", 4.25, "Jawa")],
    "2026-02": [("2026-02-07", 4.0, "Jawa"), ("2026-02-09", 1.0, "Bali")],
}


def tolok(folder: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return tolok_run(folder, *args, TOLOK_LANG=lang, TMPDIR=str(folder.parent))


def exports(folder: Path) -> Path:
    """One CSV per month, as a daily export leaves them; outside the project folder."""
    folder.mkdir(parents=True)
    for month, rows in ROWS.items():
        lines = ["at,amount,region", *(f"{a},{b},{c}" for a, b, c in rows)]
        (folder / f"sales-{month}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_project(folder: Path, warehouse: str, source: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"name: Lake\nwarehouse: {warehouse}\n{extra}"
        "datasets:\n"
        "  sales:\n"
        f"    source: file:{source}\n"
        "    time: at\n"
        "    columns: {at: date, amount: number, region: string}\n"
        "    measures:\n"
        "      revenue: {agg: sum, expr: amount}\n"
        "kpis:\n"
        "  revenue: {formula: revenue, unit: number}\n",
        encoding="utf-8",
    )
    return folder


def test_a_remote_path_on_duckdb_is_a_located_error_in_both_languages(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "duckdb:///w.duckdb", "s3a://lake/sales/*.csv")
    english = tolok(folder, "validate")
    assert english.returncode == 1
    assert "tolok.yaml:5:13" in english.stdout + english.stderr
    said = english.stdout + english.stderr
    assert "'s3a://lake/sales/*.csv' is on another file system (s3a://)" in said
    assert "set `warehouse:` to Spark" in said
    indonesian = tolok(folder, "validate", lang="id")
    said = indonesian.stdout + indonesian.stderr
    assert "ada di sistem berkas lain (s3a://)" in said
    assert "is on another" not in said


def test_a_remote_path_on_spark_is_valid_without_being_listed_here(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "pyspark://local[1]", "hdfs://namenode:8020/x/*.csv")
    done = tolok(folder, "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout


def test_a_file_uri_is_a_path_here_held_to_the_projects_folders(tmp_path: Path) -> None:
    data = exports(tmp_path / "exports")
    outside = write_project(tmp_path / "p", "duckdb:///w.duckdb", f"file://{data}/*.csv")
    refused = tolok(outside, "validate")
    assert refused.returncode == 1
    assert "TLK018" in refused.stdout + refused.stderr
    allowed = write_project(
        tmp_path / "q", "duckdb:///w.duckdb", f"file://{data}/*.csv", f"data_dirs: [{data}]\n"
    )
    done = tolok(allowed, "refresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _shown(allowed) == _expected()


def test_spark_reads_another_file_system_as_written_and_says_when_it_cannot(
    tmp_path: Path,
) -> None:
    data = exports(tmp_path / "exports")
    mount = f"  spark.hadoop.fs.viewfs.mounttable.lake.link./exports: file://{data}\n"
    quick = "  spark.hadoop.ipc.client.connect.max.retries: 0\n"
    folder = write_project(
        tmp_path / "p",
        "pyspark://local[1]",
        "viewfs://lake/exports/sales-*.csv",
        "spark:\n" + mount + quick,
    )
    done = tolok(folder, "refresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _shown(folder) == _expected()
    # What the driver's JVM prints to its console is in its log, not in the terminal.
    assert "incubator" not in done.stderr, done.stderr
    assert "log level" not in done.stderr, done.stderr
    assert "incubator modules" in (folder / "spark-driver.log").read_text(encoding="utf-8")

    unreachable = "hdfs://127.0.0.1:9/exports/*.csv"
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(
        text.replace("viewfs://lake/exports/sales-*.csv", unreachable), encoding="utf-8"
    )
    for lang, words in (("en", "Spark cannot read"), ("id", "Spark tidak bisa membaca")):
        failed = tolok(folder, "refresh", "--full", lang=lang)
        said = failed.stdout + failed.stderr
        assert failed.returncode == 1, said
        assert f"{words} '{unreachable}'" in said
        assert "tolok.yaml:8:" in said  # the dataset's source line
        assert "127.0.0.1:9" in said.split(words, 1)[1]  # Hadoop's own words name the host
        assert "Traceback" not in said


def _expected() -> dict[str, float]:
    return {month: sum(amount for _, amount, _ in rows) for month, rows in ROWS.items()}


def _shown(folder: Path) -> dict[str, float]:
    import json

    done = tolok(folder, "show", "revenue", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    points = json.loads(done.stdout)["points"]
    return {p["start"][:7]: p["value"] for p in points if p["value"] is not None}


def test_a_driver_that_cannot_start_says_why_in_both_languages(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", "pyspark://local[1]", "data/*.csv", "spark: {spark.driver.memory: 12x}\n"
    )
    exports(folder / "data")
    for lang, words in (("en", "cannot start a Spark session"), ("id", "tidak bisa dimulai")):
        failed = tolok(folder, "refresh", lang=lang)
        said = failed.stdout + failed.stderr
        assert failed.returncode == 1, said
        assert words in said
        assert "tolok.yaml:2:12" in said  # the warehouse setting
        assert "(spark-driver.log: Invalid maximum heap size: -Xmx12x)" in said
        assert "Traceback" not in said
