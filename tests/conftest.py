from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"
EXAMPLE = ROOT / "examples" / "toko"


def shared_data(name: str) -> Path:
    """A dataset of `../shared/data` (SOURCE.md beside each): beside the project's folder, or
    at /work/shared/data when the checkout lies elsewhere (CI's clean clone)."""
    for base in (ROOT.parent / "shared" / "data", Path("/work/shared/data")):
        if (base / name).exists():
            return base / name
    return ROOT.parent / "shared" / "data" / name


def without_shared_data(path: Path) -> pytest.MarkDecorator:
    """Skip where the shared data is missing, locally; in CI its absence fails the test."""
    return pytest.mark.skipif(
        not path.exists() and not os.environ.get("CI"), reason=f"the shared data: {path}"
    )


def unavailable(backend: str, reason: object) -> None:
    message = f"{backend} is not reachable here: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    try:
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.master("local[1]")
            .appName("tolok-tests")
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tolok-spark-"))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as exc:  # no Java, no pyspark
        unavailable("pyspark", exc)
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _spark_driver_mode_after() -> Iterator[None]:
    """A Spark Connect session made in the test process marks the process as a Spark
    Connect client (`SPARK_CONNECT_MODE_ENABLED`): the tests after it, and the processes
    they start, get the process as it was."""
    from tolok.engine.spark import CONNECT_MODE

    before = {name: os.environ.get(name) for name in CONNECT_MODE}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


from tests.spark_cluster import spark_cluster  # noqa: E402  (a fixture, for every test)

__all__ = ["spark_cluster"]
