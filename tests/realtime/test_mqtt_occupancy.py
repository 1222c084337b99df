"""Counters switched on: ``shuzhi devices`` publishes to a broker, the instance's subscriber feeds the live
occupancy hub, and a restart of the instance rebuilds the headcount from the ledger's journal."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.realtime.devices import CounterSimulator, Venue, publish
from shuzhi.realtime.live import Realtime
from shuzhi.realtime.mqtt import STATE_FILE, CounterSubscriber, instance_subscriber
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import load_policy

from .mqtt_broker import broker  # noqa: F401  (the fixture)
from .test_mqtt_broker import Collector

RESTAURANT = Venue("330102R00001", "restaurant", 300)  # one counter: its readings carry both ways in order


def hub() -> Realtime:
    info = VenueInfo(RESTAURANT.code, "餐厅1号", RESTAURANT.category, "330102", RESTAURANT.capacity)
    return Realtime(Occupancy(load_policy(), [info]))


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def unique(readings: list) -> int:
    return len({(r.device_id, r.sequence) for r in readings})


def headcount(live: Realtime) -> int:
    return live.venue(RESTAURANT.code)["counter_headcount"]


def test_counters_reach_live_occupancy_and_survive_a_restart_of_the_instance(broker, tmp_path):  # noqa: F811
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    sim = CounterSimulator([RESTAURANT], seed=4, start=start, ramp=0.8, duplicates=0.1, reorder=0.1)
    first = list(sim.run(60))
    inside_then = sim.truth[RESTAURANT.code].inside
    live = hub()
    counters = instance_subscriber(broker.url, live.counter_sink, tmp_path)
    counters.start()
    assert counters.wait_subscribed(10)
    try:
        publish(broker.url, first)
        wait_until(lambda: counters.stats.delivered == unique(first))
        assert headcount(live) == inside_then > 0, counters.status()
    finally:
        counters.stop()
    assert (tmp_path / STATE_FILE).exists()

    later = list(sim.run(30))  # counted while the instance was down: queued by the broker
    publish(broker.url, later + first[:20])
    restarted = hub()
    counters = instance_subscriber(broker.url, restarted.counter_sink, tmp_path)
    counters.start()  # replays the journal into the new hub, then takes what the broker kept
    try:
        repeats = len(later) - unique(later) + 20
        wait_until(lambda: counters.stats.delivered == unique(first) + unique(later))
        wait_until(lambda: counters.stats.duplicates >= repeats)
        time.sleep(0.2)
        assert (counters.stats.delivered, counters.stats.duplicates) == (
            unique(first) + unique(later),
            repeats,
        )
        assert headcount(restarted) == sim.truth[RESTAURANT.code].inside, counters.status()
    finally:
        counters.stop()


def test_shuzhi_devices_publishes_every_reading_once(broker, tmp_path):  # noqa: F811
    sink = Collector()
    sub = CounterSubscriber(broker.url, sink, tmp_path / "ledger.sqlite", client_id="cli-test").start()
    assert sub.wait_subscribed(10)
    try:
        args = ["devices", "--mqtt", broker.url, "--data", str(tmp_path / "empty"), "--venues", "3",
                "--minutes", "30", "--speed", "1000000", "--seed", "2"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Counted" in result.output
        sent = int(result.output.split("Counted (")[1].split(" ")[0].replace(",", ""))
        sink.wait_for(sent)
        keys = Counter((r.device_id, r.sequence) for r in sink.readings)
        assert len(keys) == sent and max(keys.values()) == 1
    finally:
        sub.stop()
