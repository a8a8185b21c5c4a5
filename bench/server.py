"""Benchmark: the server on loopback. Ingestion throughput and the KPI list's latency.

    python bench/server.py --batches 200 --clients 50 --requests 2000

1. Ingestion: `POST /api/v1/datasets/events/rows` with batches of 1,000 rows (JSON), one
   after another, through a real `tolok serve` (uvicorn) on 127.0.0.1 with an ingest token:
   half the batches with the client encoding the JSON inside the clock, half with bodies
   encoded before it. Baseline: as many rows inserted by DuckDB itself (a pandas frame,
   one INSERT per batch into a table with a primary key).
2. Reading: `GET /api/v1/kpis` from 50 concurrent clients (p50/p95/p99 of the latency),
   and `/healthz` (no sign-in, no store) as the server's own floor. Baseline: a static
   response of the same bytes from the same server stack (uvicorn and Starlette), measured
   the same way. Two load generators: bench/loadgen.py (plain asyncio keep-alive
   connections in a process of its own: little CPU per request) and, for comparison with
   earlier figures, httpx clients in this process (`--no-httpx` skips them).
Both ways run in this one process run; the ratios printed compare them. The clock starts
once the server answers /readyz.
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
    """The old load generator: httpx clients in this process (kept for comparison)."""
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


def light(url: str, headers: dict[str, str], clients: int, total: int) -> list[float]:
    """The light load generator (bench/loadgen.py) in a process of its own."""
    command = [sys.executable, str(Path(__file__).with_name("loadgen.py")), url,
               "--clients", str(clients), "--requests", str(total)]  # fmt: skip
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    times: list[float] = json.loads(done.stdout)
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def ingest(
    base: str, headers: dict[str, str], rows: list[list[dict[str, object]]]
) -> dict[str, float]:
    """Seconds the batches took, one after another, by way of sending: every other batch
    with the client encoding the JSON inside the clock (as a program would), the others
    with bodies encoded before it; taking turns, both meet a table of the same size."""
    bodies = [json.dumps(batch).encode() for batch in rows]
    took = {"encoding": 0.0, "encoded": 0.0}
    kind = {"Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as program:
        for number, (batch, body) in enumerate(zip(rows, bodies, strict=True)):
            started = time.perf_counter()
            if number % 2 == 0:
                answer = program.post("/api/v1/datasets/events/rows", json=batch)
                way = "encoding"
            else:
                answer = program.post("/api/v1/datasets/events/rows", content=body, headers=kind)
                way = "encoded"
            took[way] += time.perf_counter() - started
            assert answer.status_code == 200, answer.text
            assert answer.json()["accepted"] == 1000, answer.text
        for _ in range(600):  # the refresh the ingestion set off
            cards = program.get("/api/v1/kpis").json()["items"]
            if all(c["value"] is not None for c in cards):
                break
            time.sleep(0.2)
    return {**took, "batches": len(rows) // 2}


def serve(folder: Path) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "tolok", "serve", str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    assert server.stdout is not None
    printed = ""
    while "password:" not in printed:
        line = server.stdout.readline()
        if not line:
            raise SystemExit(f"tolok serve stopped: {printed}")
        printed += line
    password = printed.split("password:")[1].split()[0]
    wait_up(f"{base}/readyz", timeout=30)  # started: code loaded, warehouse reachable
    return server, base, password


def read_latencies(url: str, headers: dict[str, str], args: argparse.Namespace
                   ) -> dict[str, list[float]]:  # fmt: skip
    found = {"light": light(url, headers, args.clients, args.requests)}
    if args.httpx:
        found["httpx"] = asyncio.run(latencies(url, headers, args.clients, args.requests))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-httpx", dest="httpx", action="store_false",
                        help="skip the old (httpx) load generator")  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-server-"))
    project(folder)
    server, base, password = serve(folder)
    try:
        headers = {"Authorization": f"Bearer {token(base, password)}"}
        rows = batches(args.batches)
        took = ingest(base, headers, rows)
        health = read_latencies(f"{base}/healthz", {}, args)
        kpis = read_latencies(f"{base}/api/v1/kpis", headers, args)
        body = httpx.get(f"{base}/api/v1/kpis", headers=headers).content
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    baseline_seconds = duckdb_baseline(rows) / 2  # for as many rows as each way sent
    static_file = folder / "static.json"
    static_file.write_bytes(body)
    static_port = free_port()
    static = subprocess.Popen([sys.executable, "-c", STATIC_APP, str(static_file),
                               str(static_port)])  # fmt: skip
    try:
        wait_up(f"http://127.0.0.1:{static_port}/static")
        plain = read_latencies(f"http://127.0.0.1:{static_port}/static", {}, args)
    finally:
        static.send_signal(signal.SIGINT)
        static.wait(timeout=30)
    report(args, took, baseline_seconds, kpis, health, plain, body)


def report(args: argparse.Namespace, took: dict[str, float], baseline: float,
           kpis: dict[str, list[float]], health: dict[str, list[float]],
           plain: dict[str, list[float]], body: bytes) -> None:  # fmt: skip
    rows = 1000 * took["batches"]
    stack = "httptools" if _has("httptools") else "h11"  # what uvicorn's "auto" picks
    loop = "uvloop" if _has("uvloop") else "asyncio"
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"server stack: uvicorn with {stack} and {loop}; load average {' '.join(load)}")
    print(f"ingestion, {int(took['batches'])} batches of 1,000 rows each way, taking turns:")
    for name in ("encoding", "encoded"):
        what = {"encoding": "client encodes JSON in the clock",
                "encoded": "bodies encoded before the clock"}[name]  # fmt: skip
        print(f"  tolok, {what:34s} {took[name]:7.2f} s {rows / took[name]:10,.0f} rows/s"
              f"  ({took[name] / baseline:.2f}x DuckDB's time)")  # fmt: skip
    alone = "DuckDB alone (pandas frame, PK insert)"
    print(f"  {alone:41s} {baseline:7.2f} s {rows / baseline:10,.0f} rows/s")
    print(f"GET, {args.clients} concurrent clients, {args.requests} requests, "
          f"{len(body):,} bytes for the KPI list:")  # fmt: skip
    summary: dict[str, float] = {"rows_per_s": rows / took["encoding"],
                                 "rows_per_s_encoded": rows / took["encoded"],
                                 "baseline_rows_per_s": rows / baseline}  # fmt: skip
    for generator in kpis:
        for name, values in (("kpis", kpis[generator]), ("static", plain[generator]),
                             ("healthz", health[generator])):  # fmt: skip
            print(f"  {generator:5s} {name:7s} p50 {pct(values, 0.5):7.1f} ms  "
                  f"p95 {pct(values, 0.95):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms  "
                  f"mean {statistics.mean(values) * 1000:7.1f} ms")  # fmt: skip
            summary[f"{generator}_{name}_p95_ms"] = pct(values, 0.95)
        ratio = pct(kpis[generator], 0.95) / pct(plain[generator], 0.95)
        print(f"  {generator:5s} KPI list / static p95: {ratio:.2f}x")
    print(json.dumps(summary))


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
