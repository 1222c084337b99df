"""Simulated counters → a real Mosquitto → the subscriber → the sink: every reading exactly once, across
duplicates and reordering from the devices, a broker restart, a dropped connection, a subscriber restart
and a subscriber process killed mid-stream."""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from shuzhi.realtime.devices import CounterSimulator, Publisher, Venue, demo_venues, publish
from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.mqtt import CounterSubscriber

from .mqtt_broker import Broker, broker  # noqa: F401  (the fixture)

VENUES = [Venue("330102M00001", "mall", 1200), Venue("330102R00002", "restaurant", 150),
          Venue("330106S00003", "supermarket", 500)]  # fmt: skip
START = dt.datetime(2020, 2, 10, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class Collector:
    """A sink that keeps every reading it is given, thread-safe."""

    def __init__(self) -> None:
        self.readings: list[CounterReading] = []
        self._lock = threading.Lock()
        self.hook = None

    def __call__(self, reading: CounterReading) -> None:
        with self._lock:
            self.readings.append(reading)
            n = len(self.readings)
        if self.hook:
            self.hook(n)

    def wait_for(self, n: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.readings) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # anything beyond n (a duplicate) would arrive now
        assert len(self.readings) >= n, f"the sink got {len(self.readings)} of {n} readings"


def simulate(minutes: float, start: dt.datetime = START, **kwargs) -> tuple[CounterSimulator, list]:
    sim = CounterSimulator(VENUES, seed=7, start=start, interval=60, **kwargs)
    return sim, list(sim.run(minutes))


def assert_exactly_once(sim: CounterSimulator, readings: list[CounterReading]) -> None:
    keys = Counter((r.device_id, r.sequence) for r in readings)
    assert [k for k, n in keys.items() if n > 1] == []
    assert set(keys) == {(d, s) for d in sim.devices for s in range(1, sim.sequence[d] + 1)}
    entries, exits = Counter(), Counter()
    for r in readings:
        entries[r.venue_code] += r.entries
        exits[r.venue_code] += r.exits
    assert {v: (entries[v], exits[v]) for v in sim.truth} == {
        v: (t.entries, t.exits) for v, t in sim.truth.items()
    }
    assert sum(entries.values()) > 100  # the simulated traffic is not trivial


def subscriber(broker: Broker, sink, state: Path, **kwargs) -> CounterSubscriber:  # noqa: F811
    sub = CounterSubscriber(
        broker.url, sink, state, client_id="shuzhi-test", reconnect_delay=(1, 2), **kwargs
    )
    sub.start()
    assert sub.wait_subscribed(10), "the subscriber did not subscribe"
    return sub


def test_counters_reach_the_sink_exactly_once_despite_duplicates_and_reordering(broker, tmp_path):  # noqa: F811
    sim, readings = simulate(90, duplicates=0.2, reorder=0.2)
    assert len(readings) > len(set((r.device_id, r.sequence) for r in readings))
    sink = Collector()
    sub = subscriber(broker, sink, tmp_path / "counters.sqlite")
    try:
        with Publisher(broker.url) as device:
            device.send_raw(
                "venue/330102M00001/counter",
                b'{"device": "x", "seq": "one", "at": "2020-02-10T03:00:00Z", "in": 1, "out": 0}',
            )
            device.send_raw("venue/330102M00001/counter", b"\x00garbage")
            assert device.flush(10)
        publish(broker.url, readings)
        sink.wait_for(sum(sim.sequence.values()))
        assert_exactly_once(sim, sink.readings)
        assert sub.stats.duplicates == len(readings) - len(sink.readings)
        assert sub.stats.rejected == 2
        assert [r.field for r in sub.rejections()] == ["seq", "payload"]
    finally:
        sub.stop()


def test_a_broker_restart_mid_stream_loses_and_repeats_nothing(broker, tmp_path):  # noqa: F811
    sim, readings = simulate(120, duplicates=0.05, reorder=0.05)
    sink = Collector()
    sub = subscriber(broker, sink, tmp_path / "counters.sqlite")
    sent = threading.Event()

    def devices() -> None:
        publish(broker.url, readings, speed=120 * 60 / 4, timeout=30)  # two hours in 4 s
        sent.set()

    publisher = threading.Thread(target=devices)
    publisher.start()
    try:
        sink.wait_for(len(readings) // 4)
        broker.restart()
        assert not sent.is_set(), "the stream ended before the restart"
        publisher.join(40)
        assert sent.is_set(), "the devices did not get every message acknowledged"
        sink.wait_for(sum(sim.sequence.values()))
        assert_exactly_once(sim, sink.readings)
        assert sub.stats.connects >= 2
    finally:
        publisher.join(40)
        sub.stop()


def test_a_dropped_connection_after_recording_but_before_the_ack_repeats_nothing(broker, tmp_path):  # noqa: F811
    sim, readings = simulate(60, reorder=0.1)
    sink = Collector()
    sub = subscriber(broker, sink, tmp_path / "counters.sqlite")

    def drop(n: int) -> None:  # the network fails after the sink took the reading, before the ack left
        if n in (50, 120):
            sub._client.socket().shutdown(socket.SHUT_RDWR)

    sink.hook = drop
    try:
        publish(broker.url, readings)
        sink.wait_for(sum(sim.sequence.values()))
        assert_exactly_once(sim, sink.readings)
        assert sub.stats.connects >= 3
        assert (
            sub.stats.duplicates >= 2
        )  # the broker resent the unacknowledged readings; the ledger knew them
    finally:
        sub.stop()


def test_a_subscriber_restart_keeps_its_session_and_its_ledger(broker, tmp_path):  # noqa: F811
    sim, readings = simulate(90, duplicates=0.1)
    first, second = readings[: len(readings) // 2], readings[len(readings) // 2 :]
    state = tmp_path / "counters.sqlite"
    before = Collector()
    sub = subscriber(broker, before, state)
    publish(broker.url, first)
    before.wait_for(len({(r.device_id, r.sequence) for r in first}))
    sub.stop()
    publish(broker.url, second + first[:40])  # queued for the session while away; old ones resent by devices
    after = Collector()
    sub = subscriber(broker, after, state)
    try:
        after.wait_for(sum(sim.sequence.values()) - len(before.readings))
        assert sub.stats.duplicates >= 40
        assert_exactly_once(sim, before.readings + after.readings)
    finally:
        sub.stop()


WORKER = """
import datetime as dt, json, signal, sys, threading
from shuzhi.realtime.mqtt import CounterSubscriber
url, state, out = sys.argv[1:4]
taken, lock, done = [], threading.Lock(), threading.Event()
def sink(r):
    with lock:
        taken.append([r.device_id, r.sequence, r.venue_code, r.entries, r.exits])
sub = CounterSubscriber(url, sink, state, client_id="shuzhi-worker", reconnect_delay=(1, 2),
                        replay=dt.timedelta(days=1))
signal.signal(signal.SIGTERM, lambda *_: done.set())
sub.start()
if sub.wait_subscribed(20):
    open(out + ".ready", "w").close()
done.wait()
sub.stop()
with lock:
    open(out, "w").write(json.dumps(taken))
"""


def journal_size(state: Path) -> int:
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM counter_readings").fetchone()[0]
    except sqlite3.Error:
        return 0


def _recent_daytime(now: dt.datetime) -> dt.datetime:
    """The latest start, at least 2 hours ago, of 90 minutes within Beijing's opening hours (9:00-20:00):
    the replayed readings stay within the subscriber's day of replay, and the venues are open."""
    latest = (now - dt.timedelta(hours=2)).astimezone(START.tzinfo)
    last_start = latest.replace(hour=18, minute=30, second=0)  # its 90 minutes end at 20:00
    if last_start <= latest:
        return last_start
    return latest if latest.hour >= 9 else last_start - dt.timedelta(days=1)


def test_a_subscriber_process_killed_mid_stream_rebuilds_its_sink_exactly_once(broker, tmp_path):  # noqa: F811
    now = _recent_daytime(dt.datetime.now(dt.UTC).replace(microsecond=0))
    sim, readings = simulate(90, start=now, duplicates=0.05, reorder=0.05)
    unique = sum(sim.sequence.values())
    state, out = tmp_path / "counters.sqlite", tmp_path / "taken.json"

    def worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", WORKER, broker.url, str(state), str(out)])

    def ready() -> None:
        deadline = time.monotonic() + 30
        while not Path(f"{out}.ready").exists():
            assert process.poll() is None and time.monotonic() < deadline, "the subscriber did not subscribe"
            time.sleep(0.02)
        Path(f"{out}.ready").unlink()

    process = worker()
    try:
        ready()
        publisher = threading.Thread(
            target=publish, args=(broker.url, readings), kwargs={"speed": unique * 30}
        )
        publisher.start()
        deadline = time.monotonic() + 20
        while journal_size(state) < unique // 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        process.kill()  # mid-stream, at whatever point of record → sink → ack it happens to be
        process.wait()
        killed_at = journal_size(state)
        assert 0 < killed_at < unique
        process = worker()
        ready()
        publisher.join(30)
        deadline = time.monotonic() + 20
        while journal_size(state) < unique and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    taken = [CounterReading(v, d, s, now, i, o) for d, s, v, i, o in json.loads(out.read_text())]
    assert_exactly_once(sim, taken)


@pytest.mark.slow
def test_a_long_stream_through_every_failure_at_once(broker, tmp_path):  # noqa: F811
    venues = demo_venues(20, seed=11)
    sim = CounterSimulator(venues, seed=11, start=START, interval=60, duplicates=0.05, reorder=0.05)
    readings = list(sim.run(150))
    unique = sum(sim.sequence.values())
    state = tmp_path / "counters.sqlite"
    sinks = [Collector()]
    sub = subscriber(broker, sinks[0], state)
    publisher = threading.Thread(target=publish, args=(broker.url, readings), kwargs={"speed": 150 * 60 / 8})
    publisher.start()

    def taken() -> int:
        return sum(len(s.readings) for s in sinks)

    def wait_taken(n: int) -> None:
        deadline = time.monotonic() + 30
        while taken() < n and time.monotonic() < deadline:
            time.sleep(0.01)

    try:
        wait_taken(unique // 5)
        broker.restart()
        wait_taken(2 * unique // 5)
        sub._client.socket().shutdown(socket.SHUT_RDWR)
        wait_taken(3 * unique // 5)
        sub.stop()
        sinks.append(Collector())
        sub = subscriber(broker, sinks[-1], state)
        wait_taken(4 * unique // 5)
        broker.restart()
        publisher.join(60)
        wait_taken(unique)
        time.sleep(0.5)
        assert_exactly_once(sim, [r for s in sinks for r in s.readings])
    finally:
        publisher.join(60)
        sub.stop()
