"""The board in Debian's Chromium, driven by Playwright: a real server (uvicorn, in a
thread) over the shop of `tests/shop.py`. Never downloads a browser; without
/usr/bin/chromium the tests are skipped locally and fail in CI."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.serving import serving

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("the browser tests need Debian's chromium at /usr/bin/chromium")
    skip = pytest.mark.skip(reason="no /usr/bin/chromium (apt-get install chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }  # fmt: skip


@dataclass
class Live:
    url: str
    root: Path
    rows: list[Any]
    today: dt.date
    app: Any


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The shop served by uvicorn on a free port of 127.0.0.1, for one test."""
    from tests import shop
    from tolok.server.app import create_app

    today = dt.datetime.now(dt.UTC).date()
    rows = shop.build(tmp_path, today)
    app = create_app(tmp_path, refresh_delay=0.1)
    with serving(app) as url:
        yield Live(url, tmp_path, rows, today, app)


def sign_in(page: Any, live: Live, email: str, then: str = "/board") -> None:
    from tests.shop import PASSWORD

    page.goto(f"{live.url}/signin?next={then}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}{then}*")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
