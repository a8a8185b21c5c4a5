"""Benchmark: a team's server under load. `tolok serve --workers 4` and `--workers 1`, each
on a PostgreSQL store of its own, 200 concurrent keep-alive clients for 60 s on loopback,
each sending a mix of what a company's people and programs send:

| route | share | who |
|---|---|---|
| `GET /board` (HTML, signed in) | 30 % | people opening the board |
| `GET /kpis/revenue` (HTML, signed in) | 30 % | people opening a KPI |
| `GET /api/v1/kpis` (JSON, API token) | 35 % | dashboards and scripts reading |
| `POST /api/v1/datasets/events/rows` (10 rows, ingest token) | 5 % | a feed writing rows |

The warehouse is PostgreSQL too (the orders in a table, the events table made by ingestion):
a DuckDB file is one process's at a time, so several workers want a server warehouse.

It prints, per worker count, each route's requests, errors and p50/p95/p99 latency, the
throughput, and the ratios of 4 workers against 1 measured in the same run, with the load
average before and after each run (figures from a loaded machine say so).

    python bench/workers.py [--seconds 60] [--clients 200] [--workers 4]

The clients are plain asyncio streams (as in bench/loadgen.py), in a process of their own,
so that their CPU is not the server's. Needs the PostgreSQL of the machine (127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from server import PROJECT, free_port, project, wait_up

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
MIX = [("board", 30), ("kpi page", 30), ("api read", 35), ("ingest", 5)]


def _psql(sql: str) -> None:
    subprocess.run(["psql", "--no-psqlrc", "-q", "-d", f"{POSTGRES}/postgres", "-c", sql],
                   check=True, capture_output=True)  # fmt: skip


def start(workers: int, folder: Path) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    env = {**os.environ, "TOLOK_PORT": str(port), "TOLOK_WORKERS": str(workers)}
    tolok = Path(sys.executable).with_name("tolok")
    log = (folder / "server.log").open("w")  # tolok's JSON log lines, for what went wrong
    server = subprocess.Popen([str(tolok), "serve", str(folder)], stdout=subprocess.PIPE,
                              stderr=log, text=True, env=env)  # fmt: skip
    assert server.stdout is not None
    printed = ""
    while "password:" not in printed:
        line = server.stdout.readline()
        if not line:
            raise SystemExit(f"tolok serve stopped: {printed}")
        printed += line
    password = printed.split("password:")[1].split()[0]
    base = f"http://127.0.0.1:{port}"
    wait_up(f"{base}/readyz", timeout=30)
    return server, base, password


def credentials(base: str, password: str) -> tuple[str, str]:
    """The admin's session cookie, and an API token that reads and ingests events."""
    with httpx.Client(base_url=base, timeout=60) as browser:
        browser.get("/signin")
        csrf = browser.cookies.get("tolok_presession")
        browser.post("/signin", data={"email": "admin@localhost", "password": password,
                                      "csrf": csrf})  # fmt: skip
        me = browser.get("/api/v1/me").json()
        asked = {"name": "bench", "scopes": ["read", "ingest:events"]}
        made = browser.post("/api/v1/tokens", headers={"X-CSRF-Token": me["csrf"]}, json=asked)
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        return cookie, str(made.json()["token"])


def requests(host: str, cookie: str, token: str) -> dict[str, list[bytes]]:
    """Each route's requests as bytes (ingestion: 50 different bodies of 10 rows)."""

    def get(path: str, auth: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n\r\n".encode()

    bodies = []
    for b in range(50):
        rows = [{"event_id": f"load-{uuid.uuid4().hex}", "kind": "abc"[i % 3], "amount": b + i,
                 "happened_at": f"2026-11-{1 + i:02d} 10:00"} for i in range(10)]  # fmt: skip
        body = json.dumps(rows).encode()
        head = (f"POST /api/v1/datasets/events/rows HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        bodies.append(head + body)
    return {
        "board": [get("/board", f"Cookie: {cookie}")],
        "kpi page": [get("/kpis/revenue", f"Cookie: {cookie}")],
        "api read": [get("/api/v1/kpis", f"Authorization: Bearer {token}")],
        "ingest": bodies,
    }


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status, length, chunked = int(head[9:12]), 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def load(url: str, made: dict[str, list[bytes]], clients: int, seconds: float
               ) -> list[tuple[str, float, int]]:  # fmt: skip
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    routes = [r for r, share in MIX for _ in range(share)]
    out: list[tuple[str, float, int]] = []
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        pick = random.Random(n)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                route = pick.choice(routes)
                started = time.perf_counter()
                writer.write(pick.choice(made[route]))
                try:
                    status = await _answer(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    out.append((route, time.perf_counter() - started, 0))
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                out.append((route, time.perf_counter() - started, status))
        finally:
            writer.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def child(args: argparse.Namespace) -> None:
    made = {k: [bytes.fromhex(v) for v in vs] for k, vs in json.loads(sys.stdin.read()).items()}
    work = load(args.url, made, args.clients, args.seconds)
    try:
        import uvloop
    except ImportError:
        found = asyncio.run(work)
    else:
        found = uvloop.run(work)
    json.dump(found, sys.stdout)


def run(workers: int, args: argparse.Namespace) -> dict[str, object]:
    database = f"tolok_bench_{uuid.uuid4().hex[:8]}"
    _psql(f'CREATE DATABASE "{database}"')
    folder = Path(tempfile.mkdtemp(prefix="tolok-workers-"))
    project(folder)
    # A team server's warehouse: the orders in a PostgreSQL table (the store's database),
    # the events table made by the first ingestion.
    text = PROJECT.replace("store: sqlite:///tolok.db", f"store: {POSTGRES}/{database}")
    text = text.replace(
        "warehouse: duckdb:///warehouse.duckdb", f"warehouse: {POSTGRES}/{database}"
    )
    text = text.replace("source: file:orders.csv", "source: orders")
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    copy = (
        f"CREATE TABLE orders (ordered_at date, region text, amount numeric); "
        f"\\copy orders FROM '{folder / 'orders.csv'}' CSV HEADER"
    )
    subprocess.run(["psql", "--no-psqlrc", "-q", "-d", f"{POSTGRES}/{database}"],
                   input=copy.replace("; ", ";\n"), text=True, check=True,
                   capture_output=True)  # fmt: skip
    tolok = Path(sys.executable).with_name("tolok")
    subprocess.run([str(tolok), "db", "upgrade", str(folder)], check=True, capture_output=True)
    # The events' KPIs fail until rows come (no table yet); the others are stored.
    subprocess.run([str(tolok), "refresh", str(folder)], capture_output=True)
    server, base, password = start(workers, folder)
    try:
        cookie, token = credentials(base, password)
        made = requests(urlsplit(base).netloc, cookie, token)
        for route in ("board", "kpi page", "api read"):  # warm every worker's caches
            for _ in range(4 * workers):
                httpx.get(base + {"board": "/board", "kpi page": "/kpis/revenue",
                                  "api read": "/api/v1/kpis"}[route],
                          headers={"Cookie": cookie, "Authorization": f"Bearer {token}",
                                   "Connection": "close"}, timeout=60)  # fmt: skip
        before = os.getloadavg()
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--url", base, "--clients", str(args.clients),
             "--seconds", str(args.seconds)],
            input=json.dumps({k: [b.hex() for b in v] for k, v in made.items()}),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        after = os.getloadavg()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    found = [tuple(r) for r in json.loads(done.stdout)]
    by_route: dict[str, dict[str, float]] = {}
    for route, _ in MIX:
        times = [t for r, t, _ in found if r == route]
        errors = [s for r, _, s in found if r == route and s != 200]
        by_route[route] = {"requests": len(times), "errors": len(errors),
                           "statuses": sorted(set(errors)), "p50": pct(times, 0.5),
                           "p95": pct(times, 0.95), "p99": pct(times, 0.99)}  # fmt: skip
    print(f"--workers {workers}: server log in {folder / 'server.log'}", file=sys.stderr)
    return {"workers": workers, "routes": by_route, "requests": len(found),
            "per_second": len(found) / args.seconds, "load_before": before,
            "load_after": after}  # fmt: skip


def report(runs: list[dict[str, object]], args: argparse.Namespace) -> None:
    print(f"{args.clients} clients for {args.seconds:.0f} s on loopback, {os.cpu_count()} cores")
    for one in runs:
        before = " ".join(f"{x:.1f}" for x in one["load_before"])  # type: ignore[attr-defined]
        after = " ".join(f"{x:.1f}" for x in one["load_after"])  # type: ignore[attr-defined]
        print(f"\n--workers {one['workers']}: {one['requests']} requests, "
              f"{one['per_second']:.0f}/s; load average before {before}, "
              f"after {after}")  # fmt: skip
        print(f"  {'route':<10} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8}")  # fmt: skip
        for route, r in one["routes"].items():  # type: ignore[attr-defined]
            print(f"  {route:<10} {r['requests']:>9} {r['errors']:>7} {r['p50'] * 1000:>8.0f} "
                  f"{r['p95'] * 1000:>8.0f} {r['p99'] * 1000:>8.0f}"
                  + (f"  answers {r['statuses']}" if r["statuses"] else ""))  # fmt: skip
    if len(runs) == 2:
        many, one = runs
        print(f"\n{many['workers']} workers against 1, same run:")
        print(f"  throughput x{many['per_second'] / one['per_second']:.2f}")  # type: ignore[operator]
        for route, _ in MIX:
            a = many["routes"][route]["p95"]  # type: ignore[index]
            b = one["routes"][route]["p95"]  # type: ignore[index]
            print(f"  {route:<10} p95 x{a / b:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    runs = [run(args.workers, args), run(1, args)]
    report(runs, args)


if __name__ == "__main__":
    main()
