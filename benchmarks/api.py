"""Benchmark: the checkpoint scan endpoint on loopback under concurrent load — requests per second and p99.

A fresh instance (SQLite store, its own signing key) is served by uvicorn in a subprocess
(``shuzhi.web.server:app_from_env``, ``--workers`` processes); a small asyncio load generator in this process
keeps ``--clients`` keep-alive HTTP/1.1 connections busy, one request in flight on each, for ``--seconds``
after a warm-up. Two endpoints are measured in the same run on the same server:

* **baseline** ``GET /public/health`` — the framework, one store transaction, no credential work;
* **scan** ``POST /checkpoint/passages`` — bearer token check, account lookup, offline verification of a
  signed health code (ES256), the passage row and its audit record, committed.

The ratio scan / baseline says what a scan costs beyond serving any request. Server and load generator share
the machine's cores (run it on 2 cores for the target: ≥ 2,000 scans/s, p99 < 50 ms), so each line also
gives the CPU time per request of the server (all its processes, from ``/proc``) and of the load generator:
on a shared machine those say more than the rate.

    python benchmarks/api.py --seconds 10 --clients 64 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from harness import free_port, start_server, stop_server

from shuzhi.accounts import Role
from shuzhi.api import ApiSettings
from shuzhi.api.issuer import DEFAULT_REGION, local_credentials
from shuzhi.api.schemas import AccountIn
from shuzhi.api.server import add_account

USERNAME, PASSWORD = "bench-checkpoint", "benchmark password"
RESPONSE_TIMEOUT = 60.0  # seconds; a request unanswered for longer counts as failed


@dataclass
class Measured:
    """Latencies (seconds) of the requests completed in the measuring window, and the failures."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    errors: set[str] = field(default_factory=set)
    slowest: float = 0.0  # of every response after the warm-up, also those the window closed on
    server_cpu: float = 0.0  # CPU seconds of the server's processes during the window
    client_cpu: float = 0.0  # CPU seconds of this load generator during the window

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")

    def per_request(self, cpu: float) -> float:
        """Microseconds of ``cpu`` per request completed in the window."""
        return cpu / len(self.latencies) * 1e6 if self.latencies else float("nan")

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


def prepare(data: Path) -> str:
    """A store with a checkpoint account and a signing key; returns a fresh green code (valid 5 minutes)."""
    add_account(
        ApiSettings(data_dir=data), AccountIn(username=USERNAME, password=PASSWORD, role=Role.CHECKPOINT)
    )
    credentials = local_credentials(data, DEFAULT_REGION)
    return credentials.issue_code(4_242, "green", "default_green", dt.datetime.now(dt.UTC)).payload


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group ``group`` (Linux)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / tick


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def log_in(port: int) -> str:
    form = f"username={USERNAME}&password={PASSWORD.replace(' ', '+')}".encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/auth/token", data=form)
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["access_token"]


def raw_request(method: str, path: str, token: str | None = None, body: dict | None = None) -> bytes:
    """One HTTP/1.1 keep-alive request, encoded once and sent again and again."""
    content = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(content)}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + content


async def client(port: int, request: bytes, measured: Measured, window: tuple[float, float]) -> None:
    """Send ``request`` on one connection until the window closes; record responses completed inside it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start, end = window
    try:
        while (sent := time.perf_counter()) < end:
            writer.write(request)
            try:
                status = await asyncio.wait_for(read_response(reader), RESPONSE_TIMEOUT)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
                measured.failures += 1  # no answer: this connection is done
                measured.errors.add(type(exc).__name__)
                return
            done = time.perf_counter()
            if done >= start:
                measured.slowest = max(measured.slowest, done - sent)
            if start <= done < end:
                if 200 <= status < 300:
                    measured.latencies.append(done - sent)
                else:
                    measured.failures += 1
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return status


async def load(
    port: int, request: bytes, clients: int, warmup: float, seconds: float, server: int | None = None
) -> Measured:
    start = time.perf_counter() + warmup
    measured = Measured(seconds)
    window = (start, start + seconds)
    running = asyncio.gather(*(client(port, request, measured, window) for _ in range(clients)))
    if server is not None:
        await asyncio.sleep(warmup)
        server_cpu, client_cpu = group_cpu(server), own_cpu()
        await asyncio.sleep(seconds)
        measured.server_cpu = group_cpu(server) - server_cpu
        measured.client_cpu = own_cpu() - client_cpu
    await running
    return measured


def report(name: str, measured: Measured) -> None:
    print(
        f"{name:<36} {measured.rate:>9,.0f} req/s   p50 {measured.percentile(50):6.1f} ms   "
        f"p99 {measured.percentile(99):6.1f} ms   mean {measured.mean:6.1f} ms"
        f"   max {measured.slowest * 1000:7.0f} ms   failed {measured.failures} {' '.join(measured.errors)}"
    )
    if measured.server_cpu:
        print(
            f"{'':<36} CPU per request: server {measured.per_request(measured.server_cpu):5.0f} µs, "
            f"load generator {measured.per_request(measured.client_cpu):5.0f} µs"
        )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        payload = prepare(data)
        port = free_port()
        server = start_server(data, port, args.workers, args.http, args.loop)
        try:
            print(
                f"{os.cpu_count()} CPUs, {args.workers} uvicorn workers "
                f"(HTTP: {args.http}, loop: {args.loop}), "
                f"{args.clients} clients, {args.seconds:g} s per endpoint, SQLite store"
            )
            baseline, scans = (
                measure(port, name, request, args, server.pid) for name, request in phases(port, payload)
            )
            if baseline.rate and scans.rate:
                cpu = scans.per_request(scans.server_cpu) / baseline.per_request(baseline.server_cpu)
                print(
                    f"scan / baseline: {scans.rate / baseline.rate:.2f} of the rate, "
                    f"{cpu:.2f} of the server CPU per request"
                )
        finally:
            stop_server(server)


def phases(port: int, payload: str) -> list[tuple[str, bytes]]:
    """The baseline and the scan, as encoded requests."""
    scan = {"checkpoint_code": "BENCH-1", "payload": payload, "direction": "in"}
    return [
        ("baseline  GET /public/health", raw_request("GET", "/public/health")),
        (
            "scan      POST /checkpoint/passages",
            raw_request("POST", "/checkpoint/passages", log_in(port), scan),
        ),
    ]


def measure(port: int, name: str, request: bytes, args: argparse.Namespace, server: int) -> Measured:
    measured = asyncio.run(load(port, request, args.clients, args.warmup, args.seconds, server))
    report(name, measured)
    return measured


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=64, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes")
    parser.add_argument("--http", default="auto", help="uvicorn HTTP implementation: auto, h11, httptools")
    parser.add_argument("--loop", default="auto", help="uvicorn event loop: auto, asyncio, uvloop")
    return parser


if __name__ == "__main__":
    main()
