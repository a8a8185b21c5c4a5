"""Benchmark: the server on loopback. Ingestion throughput and the KPI list's latency.

    python bench/server.py --batches 100 --clients 50 --requests 2000

1. Ingestion: `POST /api/v1/datasets/events/rows` with batches of 1,000 rows (JSON), one
   after another, through a real `tolok serve` (uvicorn) on 127.0.0.1 with an ingest token.
   Baseline: the same rows inserted by DuckDB itself (a pandas frame, one INSERT per batch).
2. Reading: `GET /api/v1/kpis` from 50 concurrent clients (p50/p95/p99 of the latency).
   Baseline: a static response of the same bytes from the same server stack (uvicorn and
   Starlette), measured the same way.
Both ways run in this one process run; the ratios printed compare them. The clock starts
once the server answers /readyz (ingestion's warehouse connection is open).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import pandas as pd

PROJECT = """\
name: Server benchmark
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {agg: sum, expr: amount}
      order_count: {agg: count}
  events:
    source: events
    time: happened_at
    key: [event_id]
    dimensions: [kind]
    columns: {event_id: string, happened_at: timestamp, kind: string, amount: number}
    measures:
      event_amount: {agg: sum, expr: amount}
      event_count: {agg: count}
kpis:
  revenue: {formula: revenue, unit: currency, target: {value: 1000000, from: 2025-01}}
  orders: {formula: order_count, unit: count}
  aov: {formula: "ratio(revenue, order_count)", unit: currency}
  event_amount: {formula: event_amount, unit: number}
  events: {formula: event_count, unit: count}
"""

STATIC_APP = """
import sys
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
body = open(sys.argv[1], "rb").read()
async def page(request):
    return Response(body, media_type="application/json")
app = Starlette(routes=[Route("/static", page)])
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 1) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def batches(count: int, size: int = 1000) -> list[list[dict[str, object]]]:
    out = []
    for b in range(count):
        month = 1 + b % 12
        out.append([
            {"event_id": f"e{b}-{i}", "happened_at": f"2026-{month:02d}-{1 + i % 28:02d} 10:00",
             "kind": ("a", "b", "c")[i % 3], "amount": (i % 97) + 0.5}
            for i in range(size)
        ])  # fmt: skip
    return out


def project(folder: Path) -> None:
    (folder / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    lines = ["ordered_at,region,amount"]
    lines += [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d},R{i % 5},{i % 200}" for i in range(20000)]
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def token(base: str, password: str) -> str:
    with httpx.Client(base_url=base) as browser:
        browser.get("/signin")
        csrf = browser.cookies.get("tolok_presession")
        browser.post("/signin", data={"email": "admin@localhost", "password": password,
                                      "csrf": csrf})  # fmt: skip
        me = browser.get("/api/v1/me").json()
        made = browser.post(
            "/api/v1/tokens",
            headers={"X-CSRF-Token": me["csrf"]},
            json={"name": "bench", "scopes": ["read", "ingest:events"]},
        )
        return str(made.json()["token"])


def duckdb_baseline(rows: list[list[dict[str, object]]]) -> float:
    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-duckdb-"))
    con = duckdb.connect(str(folder / "w.duckdb"))
    con.execute("create table events (event_id varchar primary key, happened_at timestamp, "
                "kind varchar, amount double)")  # fmt: skip
    started = time.perf_counter()
    for batch in rows:
        frame = pd.DataFrame(batch)
        frame["happened_at"] = pd.to_datetime(frame["happened_at"])
        con.execute("insert into events select * from frame")
    return time.perf_counter() - started


async def latencies(url: str, headers: dict[str, str], clients: int, total: int) -> list[float]:
    times: list[float] = []
    per_client = total // clients

    async def client() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=30) as session:
            for _ in range(per_client):
                started = time.perf_counter()
                answer = await session.get(url)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text

    await asyncio.gather(*(client() for _ in range(clients)))
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-server-"))
    project(folder)
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        printed = ""
        while "password:" not in printed:
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"tolok serve stopped: {printed}")
            printed += line
        password = printed.split("password:")[1].split()[0]
        wait_up(f"{base}/readyz", timeout=30)  # started: code loaded, warehouse connection open
        secret = token(base, password)
        headers = {"Authorization": f"Bearer {secret}"}
        rows = batches(args.batches)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as program:
            started = time.perf_counter()
            for batch in rows:
                answer = program.post("/api/v1/datasets/events/rows", json=batch)
                assert answer.status_code == 200, answer.text
                assert answer.json()["accepted"] == 1000, answer.text
            ingest_seconds = time.perf_counter() - started
            for _ in range(600):  # the refresh the ingestion set off
                cards = program.get("/api/v1/kpis").json()["items"]
                if all(c["value"] is not None for c in cards):
                    break
                time.sleep(0.2)
        baseline_seconds = duckdb_baseline(rows)
        total_rows = 1000 * len(rows)
        kpis = asyncio.run(latencies(f"{base}/api/v1/kpis", headers, args.clients, args.requests))
        body = httpx.get(f"{base}/api/v1/kpis", headers=headers).content
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    static_file = folder / "static.json"
    static_file.write_bytes(body)
    static_port = free_port()
    static = subprocess.Popen([sys.executable, "-c", STATIC_APP, str(static_file),
                               str(static_port)])  # fmt: skip
    try:
        wait_up(f"http://127.0.0.1:{static_port}/static")
        plain = asyncio.run(latencies(f"http://127.0.0.1:{static_port}/static", {},
                                      args.clients, args.requests))  # fmt: skip
    finally:
        static.send_signal(signal.SIGINT)
        static.wait(timeout=30)
    print(f"ingestion, {len(rows)} batches of 1,000 rows over loopback HTTP:")
    print(f"  tolok        {ingest_seconds:8.2f} s  {total_rows / ingest_seconds:10,.0f} rows/s")
    print(
        f"  DuckDB alone {baseline_seconds:8.2f} s  {total_rows / baseline_seconds:10,.0f} rows/s"
    )
    print(f"  tolok / DuckDB time: {ingest_seconds / baseline_seconds:.2f}x")
    print(f"GET /api/v1/kpis, {args.clients} concurrent clients, {len(kpis)} requests, "
          f"{len(body):,} bytes each:")  # fmt: skip
    for name, values in (("tolok", kpis), ("static", plain)):
        print(
            f"  {name:7s} p50 {pct(values, 0.5):7.1f} ms  p95 {pct(values, 0.95):7.1f} ms  "
            f"p99 {pct(values, 0.99):7.1f} ms  mean {statistics.mean(values) * 1000:7.1f} ms"
        )
    print(f"  tolok / static p95: {pct(kpis, 0.95) / pct(plain, 0.95):.2f}x")
    print(
        json.dumps(
            {
                "rows_per_s": total_rows / ingest_seconds,
                "baseline_rows_per_s": total_rows / baseline_seconds,
                "p95_ms": pct(kpis, 0.95),
                "static_p95_ms": pct(plain, 0.95),
            }
        )
    )


if __name__ == "__main__":
    main()
