"""The cluster `scripts/spark-cluster` starts is a real one (issue 23, item 4): a master with
two live workers, a Spark Connect server whose driver runs on that master, and work that
runs on the workers' executors, not in a local driver."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.spark_cluster import SCRIPT, Cluster, run


def master_state(cluster: Cluster) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.ui}/json/", timeout=10) as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def test_the_master_has_two_live_workers_and_the_connect_server_as_its_application(
    spark_cluster: Cluster,
) -> None:
    state = master_state(spark_cluster)
    assert state["status"] == "ALIVE"
    assert [w["state"] for w in state["workers"]] == ["ALIVE", "ALIVE"]
    names = [app["name"] for app in state["activeapps"]]
    assert "Spark Connect server (tolok)" in names


def test_a_query_through_spark_connect_runs_on_the_workers(spark_cluster: Cluster) -> None:
    from pyspark.sql import SparkSession

    session = SparkSession.Builder().remote(spark_cluster.connect).create()
    try:
        # 1 + 2 + … + 1,000,000 in four partitions: 500,000,500,000.
        total = session.range(1, 1_000_001, numPartitions=4).selectExpr("sum(id)").collect()
        assert total[0][0] == 500_000_500_000
        # The server's driver runs on the cluster: its master is the standalone one, and the
        # executors it used are the workers' (not `local`).
        assert session.conf.get("spark.master") == spark_cluster.master
    finally:
        session.stop()
    state = master_state(spark_cluster)
    app = next(a for a in state["activeapps"] if a["name"] == "Spark Connect server (tolok)")
    assert app["cores"] >= 1


def test_status_says_what_runs_and_a_second_up_reuses_the_cluster(spark_cluster: Cluster) -> None:
    status = run("status", home=spark_cluster.home)
    assert status.returncode == 0, status.stderr
    assert f"warehouse: {spark_cluster.connect}" in status.stdout
    assert "4 of 4 processes running" in status.stdout
    again = run("up", home=spark_cluster.home)
    assert again.returncode == 0, again.stderr
    assert f"warehouse: {spark_cluster.connect}" in again.stdout  # the same ports: not a new one
    assert SCRIPT.stat().st_mode & 0o111  # runnable as scripts/spark-cluster
