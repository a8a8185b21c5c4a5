"""What a Spark session is given (issue 23, item 1): tolok's defaults for a driver it runs
(a warehouse folder next to the project that persists, never a temporary one), the
project's `spark:` settings, secrets from `TOLOK_SPARK_*` variables, and the UTC session
time zone tolok's queries rely on. No Spark is started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolok.engine.errors import WarehouseError
from tolok.engine.spark import kind, master, settings_for

ROOT = Path("/projects/shop")


def test_a_local_driver_keeps_its_tables_next_to_the_project() -> None:
    settings = settings_for("pyspark://local[2]", ROOT, {}, {})
    assert settings["spark.sql.warehouse.dir"] == "/projects/shop/spark-warehouse"
    assert settings["spark.ui.enabled"] == "false"
    assert settings["spark.sql.session.timeZone"] == "UTC"


def test_the_projects_settings_then_the_environments_apply_and_utc_stays() -> None:
    project = {
        "spark.executor.memory": "4g",
        "spark.sql.warehouse.dir": "lake/tables",  # relative: to the project folder
        "spark.sql.session.timeZone": "Asia/Jakarta",  # tolok's queries need UTC
    }
    environ = {
        "TOLOK_SPARK_MEMORY": "spark.executor.memory=8g",
        "TOLOK_SPARK_S3": "spark.hadoop.fs.s3a.secret.key=se=cret",
        "HOME": "/root",
    }
    settings = settings_for("spark://10.0.0.5:7077", ROOT, project, environ)
    assert settings["spark.executor.memory"] == "8g"
    assert settings["spark.hadoop.fs.s3a.secret.key"] == "se=cret"  # split at the first '='
    assert settings["spark.sql.warehouse.dir"] == "/projects/shop/lake/tables"
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert "HOME" not in settings


def test_a_warehouse_on_shared_storage_is_passed_as_written() -> None:
    project = {"spark.sql.warehouse.dir": "s3a://lake/warehouse"}
    settings = settings_for("pyspark://local[*]", ROOT, project, {})
    assert settings["spark.sql.warehouse.dir"] == "s3a://lake/warehouse"


def test_a_spark_connect_server_keeps_its_own_warehouse() -> None:
    settings = settings_for(
        "sc://spark.example.com:15002", ROOT, {"spark.sql.shuffle.partitions": "8"}, {}
    )
    assert settings == {"spark.sql.shuffle.partitions": "8", "spark.sql.session.timeZone": "UTC"}


def test_an_environment_variable_that_is_not_a_setting_is_refused_by_name() -> None:
    with pytest.raises(WarehouseError) as raised:
        settings_for("pyspark://local[1]", ROOT, {}, {"TOLOK_SPARK_KEY": "abc"})
    assert "TOLOK_SPARK_KEY" in raised.value.message
    assert raised.value.hint is not None
    assert "key=value" in raised.value.hint
    assert "abc" not in raised.value.message  # a secret is never repeated


@pytest.mark.parametrize(
    ("url", "kind_of", "master_of"),
    [
        ("pyspark://local[2]", "local", "local[2]"),
        ("pyspark://", "local", "local[*]"),
        ("spark://127.0.0.1:7077", "master", "spark://127.0.0.1:7077"),
        ("sc://127.0.0.1:15002", "connect", None),
    ],
)
def test_urls_name_the_way_to_spark(url: str, kind_of: str, master_of: str | None) -> None:
    assert kind(url) == kind_of
    if master_of is not None:
        assert master(url) == master_of


def test_a_wait_that_is_not_a_number_of_seconds_is_refused_by_name() -> None:
    from tolok.engine.spark import _seconds

    assert _seconds("300", None) == 300.0
    for text in ("soon", "0", "-5"):
        with pytest.raises(WarehouseError) as raised:
            _seconds(text, None)
        assert f"TOLOK_SPARK_WAIT is '{text}'" in raised.value.message
