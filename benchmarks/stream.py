"""Benchmark: events per second through the occupancy pipeline on one core, and end-to-end alert latency.

**Throughput (in process, one core).** A registry of ``--venues`` venues (mixed categories, capacities 50 to
5,000, 90 counties) and ``--events`` pre-generated events: 70% scans (an entry by a new person, or the exit
of someone inside, at Zipf-popular venues), 30% people-counter readings; times advance over ten minutes.
Measured in the same run, each over the same events:

* **baseline** — a bare ``counts[code] = counts.get(code, 0) + 1`` loop over the events' venue codes;
* **engine** — :class:`shuzhi.realtime.occupancy.Occupancy` (``scan`` / ``count`` per event: stays, headcount,
  bins, the forecast and the warning threshold);
* **hub** — :class:`shuzhi.realtime.live.Realtime` as the API and MQTT feed it: passage objects in batches of
  100 (a group commit's worth) and ``CounterReading`` objects, with the datetime conversion, the lock and the
  hand-over of alerts and stays; plus one ``tick`` over all venues.

The events are generated first and frozen out of the garbage collector's sight (``gc.freeze``), as a
long-running server's startup objects would be; the run is pinned to one core (``--no-pin`` to keep all).

**Alert latency (end to end).** A fresh instance under uvicorn in a subprocess (``--workers``, default 1),
its venue registry in the lake; an SSE client (its own thread, one keep-alive connection) follows
``/realtime/alerts/stream``; the benchmark posts a checkpoint scan (a freshly signed code) that takes a venue
of limit 1 to its limit and measures from sending the scan to receiving its alert on the stream. Baseline in
the same run: the scan's own response time and ``GET /public/health``. With several workers each scan goes
on a new connection, so it lands on either worker: the alert then may come from the other worker's
following of the passage log and of the alert history.

    python benchmarks/stream.py --events 1000000 --alerts 50
    python benchmarks/stream.py --events 0 --alerts 50 --workers 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import http.client
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
from harness import free_port, start_server, stop_server

from shuzhi.accounts import Role
from shuzhi.api import ApiSettings
from shuzhi.api.issuer import DEFAULT_REGION, local_credentials
from shuzhi.api.schemas import AccountIn
from shuzhi.api.server import add_account
from shuzhi.lake import Lake
from shuzhi.model import VENUE_CATEGORIES, VENUES
from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.live import Realtime
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import load_policy

T0 = dt.datetime(2022, 5, 1, 1, 0, tzinfo=dt.UTC).timestamp()
PASSWORD = "benchmark password"


# ---- throughput -------------------------------------------------------------------------------------------
def registry(n: int, rng: random.Random) -> list[VenueInfo]:
    return [
        VenueInfo(f"V{i:06d}", f"venue {i}", rng.choice(VENUE_CATEGORIES), f"3301{i % 90:02d}",
                  rng.choice((50, 200, 500, 1000, 5000)))
        for i in range(n)
    ]  # fmt: skip


def events(venues: list[VenueInfo], n: int, rng: random.Random) -> list[tuple]:
    """``("scan", code, entering, at, person)`` and ``("count", code, at, entries, exits)`` in time order."""
    weights = [1 / (rank + 1) for rank in range(len(venues))]  # Zipf-popular venues
    codes = rng.choices([v.code for v in venues], weights, k=n)
    inside: dict[str, deque[int]] = {v.code: deque() for v in venues}
    out, person = [], 0
    for i, code in enumerate(codes):
        at = T0 + 600.0 * i / n
        if rng.random() < 0.3:
            out.append(("count", code, at, rng.randint(0, 4), rng.randint(0, 3)))
        elif inside[code] and rng.random() < 0.45:
            out.append(("scan", code, False, at, inside[code].popleft()))
        else:
            person += 1
            inside[code].append(person)
            out.append(("scan", code, True, at, person))
    return out


def rate(n: int, seconds: float) -> float:
    return n / seconds


def throughput(n_venues: int, n_events: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    venues = registry(n_venues, rng)
    stream = events(venues, n_events, rng)
    policy = load_policy("2022-9th")
    results: dict[str, float] = {}

    codes = [e[1] for e in stream]
    gc.collect()
    gc.freeze()  # the pre-generated events are not the pipeline's garbage: keep the collector off them
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    results["baseline"] = rate(len(codes), time.perf_counter() - start)

    engine = Occupancy(policy, venues)
    scan, count = engine.scan, engine.count
    start = time.perf_counter()
    for e in stream:
        if e[0] == "scan":
            scan(e[1], e[2], e[3], e[4])
        else:
            count(e[1], e[2], e[3], e[4])
    results["engine"] = rate(len(stream), time.perf_counter() - start)
    results["engine alerts"] = len(engine.alerts)
    results["engine stays"] = len(engine.stays)

    batches: list[tuple[str, list]] = []  # the hub's inputs, built before the clock starts
    for i in range(0, len(stream), 100):
        scans, readings = [], []
        for e in stream[i : i + 100]:
            if e[0] == "scan":
                at = dt.datetime.fromtimestamp(e[3], dt.UTC)
                direction = "in" if e[2] else "out"
                scans.append(SimpleNamespace(checkpoint_code=e[1], person_key=e[4], direction=direction,
                                             valid=True, passed_at=at))  # fmt: skip
            else:
                at = dt.datetime.fromtimestamp(e[2], dt.UTC)
                readings.append(CounterReading(e[1], f"{e[1]}-gate", i, at, e[3], e[4]))
        batches.append(("scans", scans))
        batches.append(("readings", readings))
    gc.collect()
    gc.freeze()
    hub = Realtime(Occupancy(policy, venues), clock=lambda: dt.datetime.fromtimestamp(T0 + 600, dt.UTC))
    start = time.perf_counter()
    for kind, batch in batches:
        if kind == "scans":
            hub.passages(batch)
        else:
            hub.counter_readings(batch)
    results["hub"] = rate(len(stream), time.perf_counter() - start)
    start = time.perf_counter()
    hub.tick()
    results["tick ms"] = (time.perf_counter() - start) * 1000
    return results


# ---- end-to-end alert latency -----------------------------------------------------------------------------


def prepare(data: Path, n_venues: int) -> None:
    """Venues of limit 1 (hospitals of capacity 1: their share is 100%) and two accounts."""
    rows = [VenueInfo(f"H{i:04d}", f"clinic {i}", "hospital", "330106", 1) for i in range(n_venues)]
    table = pa.Table.from_pylist(
        [{"venue_code": v.code, "name": v.name, "category": v.category, "county_code": v.county_code,
          "capacity": v.capacity, "lon": 120.1, "lat": 30.2, "as_of": dt.date(2022, 1, 1)} for v in rows],
        schema=VENUES.schema,
    )  # fmt: skip
    Lake(data / "lake").write_part("venues", dt.date(2022, 1, 1), "part-bench.parquet", table)
    for role in (Role.CHECKPOINT, Role.OPERATOR):
        add_account(
            ApiSettings(data_dir=data), AccountIn(username=f"bench-{role}", password=PASSWORD, role=role)
        )


def request(connection: http.client.HTTPConnection, method: str, path: str, headers=None, body=None):
    payload = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    all_headers = dict(headers or {})
    if isinstance(body, dict):
        all_headers["Content-Type"] = "application/json"
    connection.request(method, path, payload, all_headers)
    response = connection.getresponse()
    return response.status, response.read()


def token(port: int, username: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    form = f"username={username}&password={PASSWORD.replace(' ', '+')}".encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = request(connection, "POST", "/auth/token", form_type, form)
    assert status == 200, body
    return json.loads(body)["access_token"]


class StreamClient(threading.Thread):
    """Follows the alert stream; records when each venue's alert arrived (perf_counter)."""

    def __init__(self, port: int, bearer: str) -> None:
        super().__init__(daemon=True)
        self.port, self.bearer = port, bearer
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {self.bearer}", "Accept": "text/event-stream"}
        connection.request("GET", "/realtime/alerts/stream?seconds=600", headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        self.ready.set()
        while True:
            line = response.fp.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                alert = json.loads(line[6:])
                self.arrived.setdefault(alert["venue_code"], time.perf_counter())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def latency(n_alerts: int, workers: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="shuzhi-stream-") as tmp:
        data = Path(tmp) / "data"
        prepare(data, n_alerts)
        credentials = local_credentials(data, DEFAULT_REGION)
        port = free_port()
        server = start_server(data, port, workers)
        try:
            checkpoint = {"Authorization": f"Bearer {token(port, 'bench-checkpoint')}"}
            client = StreamClient(port, token(port, "bench-operator"))
            client.start()
            client.ready.wait(10)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            health, scans, alerts = [], [], []
            for i in range(n_alerts):
                start = time.perf_counter()
                status, _ = request(connection, "GET", "/public/health")
                health.append(time.perf_counter() - start)
                code = f"H{i:04d}"
                payload = credentials.issue_code(
                    10_000 + i, "green", "default_green", dt.datetime.now(dt.UTC)
                )
                body = {"checkpoint_code": code, "payload": payload.payload, "direction": "in"}
                if workers > 1:  # a new connection: either worker may take the scan
                    connection.close()
                start = time.perf_counter()
                status, answer = request(connection, "POST", "/checkpoint/passages", checkpoint, body)
                scans.append(time.perf_counter() - start)
                assert status == 201, answer
                deadline = time.monotonic() + 10
                while code not in client.arrived and time.monotonic() < deadline:
                    time.sleep(0.0005)
                if code in client.arrived:
                    alerts.append(client.arrived[code] - start)
                time.sleep(0.05)
        finally:
            stop_server(server)
    ms = 1000
    return {
        "alerts": len(alerts),
        "health p50": statistics.median(health) * ms,
        "scan p50": statistics.median(scans) * ms,
        "scan p99": percentile(scans, 99) * ms,
        "alert p50": statistics.median(alerts) * ms,
        "alert p99": percentile(alerts, 99) * ms,
        "alert max": max(alerts) * ms,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--venues", type=int, default=1_000)
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--no-pin", action="store_true", help="do not pin the throughput run to one core")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for the alert latency")
    args = parser.parse_args(argv)

    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if args.events:
        report_throughput(args)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    if args.alerts:
        report_latency(args)


def report_throughput(args: argparse.Namespace) -> None:
    t = throughput(args.venues, args.events, args.seed)
    print(
        f"throughput, one core, {args.events:,} events at {args.venues:,} venues (70% scans, 30% counters):"
    )
    base = t["baseline"]
    print(f"  baseline dict increment   {base:>12,.0f} events/s")
    print(f"  occupancy engine          {t['engine']:>12,.0f} events/s   {t['engine'] / base:.3f} × baseline")
    print(f"  hub (API/MQTT feed)       {t['hub']:>12,.0f} events/s   {t['hub'] / base:.3f} × baseline")
    print(f"  one tick over all venues  {t['tick ms']:>12.1f} ms")
    print(f"  ({t['engine alerts']:.0f} alerts, {t['engine stays']:.0f} closed stays)")


def report_latency(args: argparse.Namespace) -> None:
    lat = latency(args.alerts, args.workers)
    print(
        f"end-to-end alert latency, {lat['alerts']:.0f} alerts, {args.workers} worker(s) "
        "(HTTP scan in → alert on an SSE client):"
    )
    print(f"  baseline GET /public/health p50   {lat['health p50']:>7.1f} ms")
    print(f"  scan response p50 / p99           {lat['scan p50']:>7.1f} / {lat['scan p99']:.1f} ms")
    ratio = lat["alert p50"] / lat["scan p50"]
    print(f"  alert on the stream p50 / p99     {lat['alert p50']:>7.1f} / {lat['alert p99']:.1f} ms "
          f"(max {lat['alert max']:.1f}; {ratio:.2f} × scan response)")  # fmt: skip


if __name__ == "__main__":
    main()
