"""Benchmark: the board with 50 KPIs in Chromium. Time to first byte and full load.

    python bench/board.py --loads 40

A project of 50 KPIs over 730,000 generated orders (two years) is refreshed, then served
by a real `tolok serve` on 127.0.0.1. Debian's Chromium (Playwright) signs in and loads
`/board` again and again; the Navigation Timing API gives time to first byte
(`responseStart - requestStart`) and full load (`loadEventEnd - startTime`), p50 and p95.
Baseline in the same run: the very same page (HTML, style sheet, script) as static bytes
from a Starlette app on the same uvicorn, loaded the same way. Ratios compare the two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REGIONS = ["Bali", "Jawa Barat", "Jawa Timur", "DKI Jakarta", "Sumatera Utara"]
CHANNELS = ["web", "app", "marketplace", "store", "phone"]
PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def project(folder: Path) -> None:
    """50 KPIs: per region and channel revenue, orders and order value, plus totals."""
    today = dt.date.today()
    days = pd.date_range(today - dt.timedelta(days=730), today - dt.timedelta(days=1), freq="D")
    rng = np.random.default_rng(7)
    n = len(days) * 1000
    seconds = rng.integers(0, 86_400, n).astype("timedelta64[s]")
    frame = pd.DataFrame({
        "ordered_at": np.repeat(days.values, 1000) + seconds,
        "region": rng.choice(REGIONS, n),
        "channel": rng.choice(CHANNELS, n),
        "amount": rng.gamma(2.0, 150_000, n).round(),
    })  # fmt: skip
    frame.to_parquet(folder / "orders.parquet")
    measures = ["      revenue: {agg: sum, expr: amount}", "      order_count: {agg: count}"]
    kpis = []
    for i, value in enumerate(REGIONS + CHANNELS):
        column = "region" if value in REGIONS else "channel"
        measures.append(
            f"      revenue_{i}: {{agg: sum, expr: amount, where: \"{column} == '{value}'\"}}"
        )
        measures.append(f"      orders_{i}: {{agg: count, where: \"{column} == '{value}'\"}}")
        kpis += [
            f"  revenue_{i}: {{title: 'Revenue {value}', formula: revenue_{i}, unit: currency, "
            f"owner: o{i}@example.com, goal: grow, target: {{value: 9000000000, from: 2024-01}}}}",
            f"  orders_{i}: {{title: 'Orders {value}', formula: orders_{i}, unit: count, "
            f"owner: o{i}@example.com, goal: grow, target: {{value: 30000, from: 2024-01}}}}",
            f"  aov_{i}: {{title: 'Order value {value}', "
            f"formula: 'ratio(revenue_{i}, orders_{i})', "
            f"unit: currency, owner: o{i}@example.com, goal: grow}}",
            f"  share_{i}: {{title: 'Revenue share {value}', "
            f"formula: 'ratio(revenue_{i}, revenue)', "
            f"unit: percent, owner: o{i}@example.com, goal: grow}}",
        ]
    totals = [
        ("revenue", "Revenue", "revenue", "currency"),
        ("orders", "Orders", "order_count", "count"),
        ("aov", "Order value", "'ratio(revenue, order_count)'", "currency"),
        ("growth", "Revenue growth", "growth(revenue)", "percent"),
        ("orders_ytd", "Orders this year", "to_date(order_count)", "count"),
        ("revenue_3m", "Revenue over 3 months", "'rolling(revenue, 3)'", "currency"),
        ("orders_ly", "Orders last year", "last_year(order_count)", "count"),
        ("revenue_prev", "Revenue the month before", "previous(revenue)", "currency"),
        ("per_region", "Orders per region", "'order_count / 5'", "number"),
        ("revenue_k", "Revenue in thousands", "'revenue / 1000'", "number"),
    ]
    kpis += [
        f"  {name}: {{title: {title}, formula: {formula}, unit: {unit}, goal: grow, "
        "owner: a@example.com}"
        for name, title, formula, unit in totals
    ]
    assert len(kpis) == 50
    text = "\n".join([
        "name: Board benchmark", "currency: IDR", "timezone: UTC",
        "warehouse: duckdb:///warehouse.duckdb", "store: sqlite:///tolok.db",
        "datasets:", "  orders:", "    source: file:orders.parquet", "    time: ordered_at",
        "    dimensions: [region, channel]", "    measures:", *measures,
        "goals:", "  grow: {title: Grow, owner: a@example.com}", "kpis:", *kpis, "",
    ])  # fmt: skip
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")


def serve_static(pages: dict[str, tuple[bytes, str]], port: int) -> None:
    """The same bytes from Starlette on uvicorn: the baseline."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def answer(request):  # type: ignore[no-untyped-def]
        body, kind = pages[request.url.path]
        return Response(body, media_type=kind)

    app = Starlette(routes=[Route(path, answer) for path in pages])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
  return [n.responseStart - n.requestStart, n.loadEventEnd - n.startTime]; }"""


def measure(page, url: str, loads: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    first, full = [], []
    page.goto(url)  # warm: the first load fills caches
    for _ in range(loads):
        page.goto(url, wait_until="load")
        ttfb, total = page.evaluate(TIMING)
        first.append(ttfb)
        full.append(total)
    return first, full


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from sqlalchemy.orm import Session

    from tolok.auth import accounts
    from tolok.store.database import open_store

    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-board-"))
    project(folder)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tolok", "refresh", str(folder)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"refresh of 50 KPIs over 730,000 orders: {time.perf_counter() - started:.1f} s")
    engine = open_store(f"sqlite:///{folder / 'tolok.db'}")
    with Session(engine) as session, session.begin():
        accounts.add_user(session, "bench@example.com", "Bench", "viewer", "bench", PASSWORD)
    engine.dispose()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(folder), "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for _ in range(100):
                try:
                    page.goto(f"{base}/signin?next=/board")
                    break
                except Exception:
                    time.sleep(0.2)
            page.fill("#email", "bench@example.com")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/board")
            cards = page.locator("article.card").count()
            html = page.content().encode()
            tolok_first, tolok_full = measure(page, f"{base}/board", args.loads)
            static_port = free_port()
            css = page.request.get(f"{base}/static/tolok.css").body()
            js = page.request.get(f"{base}/static/tolok.js").body()
            html = html.replace(b'data-events="/events', b'data-none="/events')  # no stream
            pages = {"/board": (html, "text/html"), "/static/tolok.css": (css, "text/css"),
                     "/static/tolok.js": (js, "text/javascript")}  # fmt: skip
            threading.Thread(target=serve_static, args=(pages, static_port), daemon=True).start()
            time.sleep(1.5)
            static_first, static_full = measure(page, f"http://127.0.0.1:{static_port}/board",
                                                args.loads)  # fmt: skip
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"board: {cards} cards, {len(html):,} bytes of HTML; {args.loads} loads each")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    rows = [("tolok: first byte", tolok_first), ("static: first byte", static_first),
            ("tolok: full load", tolok_full), ("static: full load", static_full)]  # fmt: skip
    for label, values in rows:
        print(f"{label:24}{pct(values, 50):10.1f}{pct(values, 95):10.1f}")
    print(f"ratio p95 first byte: {pct(tolok_first, 95) / pct(static_first, 95):.2f}x static")
    print(f"ratio p95 full load:  {pct(tolok_full, 95) / pct(static_full, 95):.2f}x static")
    print(f"mean full load: tolok {statistics.mean(tolok_full):.1f} ms, "
          f"static {statistics.mean(static_full):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
