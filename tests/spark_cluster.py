"""A real Spark cluster for the tests: a standalone master, two workers and a Spark Connect
server, started once per test run by `scripts/spark-cluster` (as a person trying tolok on
Spark starts it) and stopped at the end, its folder removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "spark-cluster"


@dataclass(frozen=True)
class Cluster:
    home: Path
    connect: str  # sc://127.0.0.1:PORT
    master: str  # spark://127.0.0.1:PORT
    ui: int  # the master's web page (and its JSON at /json/)
    pids: list[int]


def run(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from tests.conftest import unavailable

    home = tmp_path_factory.mktemp("spark-cluster") / "cluster"
    started = run("up", "--ports", "auto", "--memory", "768m", home=home)
    if started.returncode != 0:
        run("down", "--wipe", home=home)
        unavailable("a Spark cluster", started.stderr.strip() or started.stdout.strip())
    known = json.loads((home / "cluster.json").read_text())
    yield Cluster(
        home=home,
        connect=f"sc://127.0.0.1:{known['connect']}",
        master=f"spark://127.0.0.1:{known['master']}",
        ui=int(known["ui"]),
        pids=[int(p) for p in known["pids"]],
    )
    stopped = run("down", "--wipe", home=home)
    assert stopped.returncode == 0, stopped.stderr
    # Nothing left behind: no process of the cluster, no folder.
    assert not [pid for pid in known["pids"] if running(int(pid))]
    assert not home.exists()


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def shell_environment(**env: str) -> dict[str, str]:
    """The environment of a new shell: this one's without the Spark Connect mode a test
    process may have set, in English unless `env` says otherwise, `env` added."""
    from tolok.engine.spark import CONNECT_MODE

    environ = {**os.environ, "TOLOK_LANG": "en", **env}
    for name in CONNECT_MODE:
        environ.pop(name, None)
    return environ


def tolok_run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`tolok ARGS` in a new process in `folder`, as a person types it in a new shell."""
    return subprocess.run(
        [sys.executable, "-m", "tolok", *args],
        cwd=folder,
        env=shell_environment(**env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def tolok_command(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`tolok_run`, which must succeed."""
    done = tolok_run(folder, *args, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done
