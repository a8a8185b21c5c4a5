"""A light load generator: N keep-alive HTTP/1.1 connections, each sending the same GET
one request after another, written with plain asyncio streams (uvloop when installed).
It prints the latencies (seconds) as a JSON list on stdout.

    python bench/loadgen.py http://127.0.0.1:8000/api/v1/kpis --clients 50 --requests 2000 \
        --header "Authorization: Bearer tlk_…"

Why not httpx: at 50 concurrent clients httpx spends more CPU per request than the server
it measures, and on 2 shared cores that CPU is taken from the server; the latencies then
measure the generator. Here a request is a few bytes written and a response is read by its
Content-Length, so most of the CPU is left to the server. Run it in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _client(host: str, port: int, request: bytes, count: int, times: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            times.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"answer {status}")
    finally:
        writer.close()


async def run(url: str, headers: list[str], clients: int, total: int) -> list[float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"GET {parts.path or '/'} HTTP/1.1", f"Host: {host}:{port}", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    times: list[float] = []
    per_client = total // clients
    await asyncio.gather(*(_client(host, port, request, per_client, times)
                           for _ in range(clients)))  # fmt: skip
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    work = run(args.url, args.header, args.clients, args.requests)
    try:
        import uvloop
    except ImportError:
        times = asyncio.run(work)
    else:
        times = uvloop.run(work)
    json.dump(times, sys.stdout)


if __name__ == "__main__":
    main()
