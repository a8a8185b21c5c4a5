"""Benchmark: a KPI's page against the board in Chromium, warm and on a first visit.

    python bench/page_load.py --loads 30

The sample project of `tolok init` (six KPIs, about 390,000 rows over two years) is
refreshed, then served by a real `tolok serve` on 127.0.0.1. Debian's Chromium (Playwright)
signs in, then loads the board, a KPI's page and the same page by week and region, one after
the other, `--loads` times (after one warm-up round: the browser's cache is warm). The
Navigation Timing API gives time to first byte (`responseStart - requestStart`) and full
load (`loadEventEnd - startTime`: the HTML, style sheet and scripts). The page's script
sets the mark `tolok:painted` once the frame after the page was read is drawn: the time
until a reader sees the page (`painted`; `load` may come before it). A KPI page carries a
picture of its chart drawn by the server (SVG), so its chart is seen then too. The page
then fetches Plotly once it has loaded, and Plotly draws the same chart in the picture's
place: the mark `tolok:charts` gives the time until the chart answers
hover and zoom (`Plotly drawn`), waited for on every load. All from the same start. The
board, measured in the same run, is the baseline the KPI pages are held against.

A first visit is measured apart: each KPI page once in a new browser context (signed in,
its cache empty), adding up the bytes on the wire of the page and everything it loads
(Resource Timing's `transferSize`: headers and the body as sent, compressed or not),
once its chart is drawn (Plotly, fetched after `load`, counts).
The machine's load average is printed before and after: the load generator shares the
cores with the server, and with whatever else runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

KPI = "sales_revenue"
PAGES = {
    "board": "/board",
    "kpi": f"/kpis/{KPI}",
    "kpi week by region": f"/kpis/{KPI}?grain=week&by=region",
}
EMAIL, PASSWORD = "bench@example.com", "bench password 123"
TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
  const c = performance.getEntriesByName('tolok:charts')[0];
  const s = performance.getEntriesByName('tolok:painted')[0];
  return [n.responseStart - n.requestStart, n.loadEventEnd - n.startTime,
          c ? c.startTime - n.startTime : null, s ? s.startTime - n.startTime : null]; }"""
CHARTED = """() => !document.querySelector('script[data-figure]')
  || performance.getEntriesByName('tolok:charts').length > 0"""
BYTES = """() => performance.getEntriesByType('navigation').concat(
  performance.getEntriesByType('resource')).map(e => [e.name, e.transferSize, e.encodedBodySize,
  e.decodedBodySize])"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample_project() -> Path:
    """The project `tolok init` makes (its change recorded as an annotation), refreshed,
    with one viewer. Made through the library, as `tolok init` and `tolok refresh` do."""
    from sqlalchemy.orm import Session

    from tolok.auth import accounts
    from tolok.catalog.init import create
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.annotations import annotate
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source as manual_source

    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-page-")) / "shop"
    created = create(folder, "ecommerce", "en")
    loaded = load_project(folder)
    assert loaded.project is not None
    store = open_store(store_url(loaded.project.store, loaded.root))
    with Session(store) as session, session.begin():
        annotate(session, created.change_day, created.change, created.change_kpis, "bench")
        accounts.add_user(session, EMAIL, "Bench", "viewer", "bench", PASSWORD)
    refresh_into_store(loaded, Warehouse(loaded, manual=manual_source(store)), store, "bench")
    store.dispose()
    return folder


def wait_ready(base: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/signin?next=/board")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/board")


def first_visits(browser: Any, signed_in: Any, base: str) -> dict[str, list[list[Any]]]:
    """Each page once in a new context: the same session cookie, an empty cache."""
    out = {}
    for label, path in PAGES.items():
        context = browser.new_context(storage_state=signed_in.storage_state())
        page = context.new_page()
        page.goto(base + path, wait_until="load")
        page.wait_for_function(CHARTED)
        out[label] = page.evaluate(BYTES)
        context.close()
    return out


Times = dict[str, tuple[list[float], list[float], list[float], list[float]]]


def warm_loads(page: Any, base: str, loads: int) -> Times:
    """The pages one after the other, `loads` rounds, after a warm-up round: first byte,
    load and (on a page with a chart) the chart drawn, each page left only once drawn."""
    times: Times = {k: ([], [], [], []) for k in PAGES}
    for path in PAGES.values():
        page.goto(base + path, wait_until="load")
        page.wait_for_function(CHARTED)
    for _ in range(loads):
        for label, path in PAGES.items():
            page.goto(base + path, wait_until="load")
            page.wait_for_function(CHARTED)
            first, full, chart, seen = page.evaluate(TIMING)
            times[label][0].append(first)
            times[label][1].append(full)
            if chart is not None:
                times[label][2].append(chart)
            if seen is not None:
                times[label][3].append(seen)
    return times


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def report(times: Times, visits: dict[str, list[list[Any]]], loads: int) -> None:
    print(f"\n{loads} warm loads of each page, interleaved (ms; ratios of each p95 to the"
          " board's same column)")  # fmt: skip
    print(f"{'':18}{'first byte':>16}{'full load':>22}{'painted (chart seen)':>22}"
          f"{'Plotly drawn':>22}")  # fmt: skip
    print(f"{'':18}{'p50':>8}{'p95':>8}" + f"{'p50':>8}{'p95':>8}{'/board':>7}" * 3)
    board = times["board"]

    def column(values: list[float], baseline: list[float]) -> str:
        if not values:
            return f"{'-':>8}{'-':>8}{'-':>7}"
        ratio = pct(values, 95) / pct(baseline, 95)
        return f"{pct(values, 50):8.1f}{pct(values, 95):8.1f}{ratio:7.2f}"

    for label, (first, full, chart, seen) in times.items():
        print(f"{label:18}{pct(first, 50):8.1f}{pct(first, 95):8.1f}{column(full, board[1])}"
              f"{column(seen, board[3])}{column(chart, board[1])}")  # fmt: skip
    print("(Plotly drawn is held against the board's full load: the board draws no chart)")
    print("\nfirst visit (empty cache), bytes on the wire / decoded")
    for label, entries in visits.items():
        wire = sum(e[1] for e in entries)
        decoded = sum(e[3] for e in entries)
        print(f"{label:18}{wire:>12,}{decoded:>12,}")
        for name, sent, body, size in entries:
            short = name.split("//", 1)[-1].split("/", 1)[-1]
            print(f"    /{short[:58]:58}{sent:>11,}{body:>11,}{size:>11,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = sample_project()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(folder), "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    try:
        wait_ready(base)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            sign_in(page, base)
            visits = first_visits(browser, context, base)
            times = warm_loads(page, base, args.loads)
            browser.close()
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    report(times, visits, args.loads)


if __name__ == "__main__":
    main()
