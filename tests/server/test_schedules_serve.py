"""`tolok serve` runs the schedules itself and checks alerts after each refresh it makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.notify.conftest import SmtpServer
from tests.server.conftest import Shop
from tests.shop import build, month_start
from tolok.server.app import create_app
from tolok.server.ticker import Ticker

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def sharing_shop(tmp_path: Path, smtp: SmtpServer) -> Iterator[Shop]:
    rows = build(tmp_path, TODAY)
    text = (tmp_path / "tolok.yaml").read_text(encoding="utf-8")
    head = f"email: {{host: 127.0.0.1, port: {smtp.port}, security: none, sender: kpi@toko.id}}\n"
    (tmp_path / "tolok.yaml").write_text(head + text + """
alerts:
  big-spend: {when: threshold, kpis: [ad_spend], above: 100, notify: [owner]}
schedules:
  morning: {do: digest, every: day, at: "08:00", to: [boss@example.com]}
""", encoding="utf-8")  # fmt: skip
    # The server's own ticker thread would tick on the real clock at start; this one ticks
    # only when told, on the test's clock. Its thread is not started either: its first tick,
    # on the real clock, would mark today's 08:00 as seen once the real time is past it.
    app = create_app(tmp_path, refresh_delay=0.05, schedules=False)
    state = app.state.tolok
    state.ticker = Ticker(state)
    state.ticker.start = lambda: None  # type: ignore[method-assign]
    with TestClient(app) as client:
        yield Shop(tmp_path, client, rows, TODAY)
    state.refresher.wait()


def test_a_value_typed_in_refreshes_and_its_alert_is_mailed(
    sharing_shop: Shop, smtp: SmtpServer
) -> None:
    editor = sharing_shop.browser("editor@example.com")
    period = f"{month_start(TODAY, 1):%Y-%m}"
    sent = editor.post("/api/v1/datasets/ad_spend/values",
                       json=[{"measure": "spend", "period": period, "value": 500}])  # fmt: skip
    assert sent.status_code in (200, 201), sent.text
    sharing_shop.client.app.state.tolok.refresher.wait()  # type: ignore[attr-defined]
    subjects = [(str(m["To"]), str(m["Subject"])) for m in smtp.messages]
    assert subjects == [("marketing@example.com", f"Toko Uji: Ad spend is above its alert line "
                         f"({month_start(TODAY, 1):%b %Y})")]  # fmt: skip


def test_the_server_runs_a_due_digest_once(sharing_shop: Shop, smtp: SmtpServer) -> None:
    ticker = sharing_shop.client.app.state.tolok.ticker  # type: ignore[attr-defined]
    clock = [dt.datetime.combine(TODAY, dt.time(7, 0))]
    ticker.scheduler.now = lambda: clock[0]
    ticker.tick()  # the server starts at 07:00: first seen, nothing yet
    assert [m for m in smtp.messages if "digest" in str(m["Subject"]).lower()] == []
    clock[0] = dt.datetime.combine(TODAY, dt.time(8, 0, 30))
    ticker.tick()
    ticker.tick()
    digests = [m for m in smtp.messages if "Daily digest" in str(m["Subject"])]
    assert [str(m["To"]) for m in digests] == ["boss@example.com"]


def test_the_server_starts_its_schedules_and_stops_them(tmp_path: Path) -> None:
    build(tmp_path, TODAY)
    app = create_app(tmp_path, refresh_delay=0.05)
    ticker = app.state.tolok.ticker
    assert ticker is not None
    with TestClient(app):
        assert ticker._thread is not None
        assert ticker._thread.is_alive()
    assert not ticker._thread.is_alive()  # stopped with the server
