import os
from collections.abc import Iterator

import pytest

from tests.spark_cluster import spark_cluster
from tolok.engine.spark import CONNECT_MODE

__all__ = ["spark_cluster"]


@pytest.fixture(autouse=True)
def _driver_mode_after() -> Iterator[None]:
    """A Spark Connect session made in the test process marks the process as a client
    (`SPARK_CONNECT_MODE_ENABLED`); the tests after it (and the processes they start) get
    the process as it was."""
    before = {name: os.environ.get(name) for name in CONNECT_MODE}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
