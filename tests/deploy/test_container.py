"""deploy/Containerfile built and run with podman (issue 26, item 3): the image runs as a
user of its own, migrates a PostgreSQL store and makes the first admin at its first start,
reports healthy, and serves the board with the shop's figures worked out by hand.

No image registry is reachable here: the Debian base is made from Debian's own packages
(`mmdebstrap`, then `podman import`), as the Containerfile's BASE argument allows. PyPI is
reached through a proxy that re-signs TLS, whose CA bundle goes to the build as a secret.
On this machine podman's default runtime (crun) cannot start containers (hybrid cgroups),
and runc may only lower resource limits: the containers run with runc and explicit limits.
The image is built once for the module (about four minutes on two cores)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.deploy.test_backup_restore import SERVER, _psql, cards, shop_project, signed_in
from tests.serving import free_port
from tests.shop import month_start, monthly

ROOT = Path(__file__).resolve().parents[2]
BASE = "localhost/tolok-test-bookworm"
IMAGE = "localhost/tolok:test"
RUNTIME = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def podman(*args: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"podman {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The image, built once, from a Debian base made here when there is none yet."""
    for tool in ("podman", "runc", "mmdebstrap"):
        if shutil.which(tool) is None:
            unavailable("podman", f"{tool} is not installed (scripts/system-packages)")
    if subprocess.run(["podman", "image", "exists", BASE], timeout=60).returncode != 0:
        rootfs = tmp_path_factory.mktemp("base") / "bookworm.tar"
        subprocess.run(
            ["mmdebstrap", "--quiet", "--variant=minbase", "--include=ca-certificates",
             "bookworm", str(rootfs), "http://deb.debian.org/debian"],
            check=True, timeout=900, capture_output=True,
        )  # fmt: skip
        podman("import", str(rootfs), BASE, timeout=300)
    bundle = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    secret = ["--secret", f"id=ca-certificates,src={bundle}"] if Path(bundle).exists() else []
    podman("build", *RUNTIME, "--network", "host", "--format", "docker", *secret,
           "--build-arg", f"BASE={BASE}", "-f", "deploy/Containerfile", "-t", IMAGE, str(ROOT),
           timeout=1800)  # fmt: skip
    return IMAGE


@pytest.fixture
def database() -> Iterator[str]:
    name = f"tolok_container_{uuid.uuid4().hex[:8]}"
    try:
        _psql("postgres", f'CREATE DATABASE "{name}"')
    except (subprocess.CalledProcessError, OSError) as exc:
        unavailable("postgres", exc)
    yield name
    _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_image_runs_tolok_as_its_own_user_on_a_postgresql_store(
    image: str, database: str, tmp_path: Path
) -> None:
    inspected = json.loads(podman("image", "inspect", image))[0]
    assert inspected["Config"]["User"] == "tolok"
    health = inspected.get("Healthcheck") or inspected["Config"].get("Healthcheck") or {}
    assert "healthz" in " ".join(health.get("Test", []))
    today = dt.date.today()
    project = tmp_path / "project"
    project.mkdir()
    rows = shop_project(project, f"{SERVER}/{database}", today)
    port = free_port()
    name = f"tolok-test-{uuid.uuid4().hex[:8]}"
    podman(
        "run", "--detach", "--name", name, *RUNTIME, "--network", "host",
        "--env", f"TOLOK_PORT={port}", "--env", "TOLOK_HOST=127.0.0.1",
        # :U gives the folder to the container's user, who writes in it (a DuckDB file)
        "--volume", f"{project}:/srv/tolok/project:U", image,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError(podman("logs", name, check=False))
        assert podman("exec", name, "id", "-u").strip() == "10001"  # not root
        checked = subprocess.run(["podman", "healthcheck", "run", name], timeout=60,
                                 capture_output=True, text=True)  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        logs = podman("logs", name)
        found = re.search(r"password: (\S+)", logs)
        assert found is not None, logs  # the first admin, made at the first start
        assert _psql(database, "select version_num from alembic_version")  # migrated
        podman("exec", name, "tolok", "refresh", "/srv/tolok/project", timeout=300)
        with signed_in(base, "admin@localhost", found.group(1)) as browser:
            got = cards(browser)
        revenue, count = monthly(rows, month_start(today, 1))  # type: ignore[arg-type]
        assert got["revenue"]["value"] == revenue
        assert got["orders"]["value"] == count
    finally:
        podman("rm", "--force", "--time", "10", name, check=False, timeout=120)
