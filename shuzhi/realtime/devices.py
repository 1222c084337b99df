"""A simulator of venue people counters: realistic entries and exits, published over MQTT like real devices.

Each venue has one counter per entrance (one per 400 places of capacity, one to four). Visitors arrive as a
Poisson process whose rate follows the venue category's day: closed outside its opening hours, busiest in
the parts of the day its visits fall in (the categories, opening hours, stay lengths and part-of-day weights
of the province simulator, ``shuzhi/sim/params.yaml``). By Little's law the rate is set so that the expected
occupancy at the busiest time is ``peak`` of capacity; each visitor stays a time drawn from the category's
range and leaves by closing time. ``ramp`` replaces the daily pattern by arrivals that take the people
inside steadily from none to ``ramp`` × capacity by the end of the (first) run, then hold it (1.1: ten per
cent over capacity), to show the warnings in a demo.

Every ``interval`` seconds each counter reports the people through it since its previous report, with its
own sequence number (1, 2, 3, ...). ``duplicates`` and ``reorder`` inject what real transports do: a share
of messages sent twice, or held back behind a few later ones. Everything follows from ``seed``.

:func:`publish` sends readings to a broker at QoS 1 through one connection (a gateway for all counters),
optionally paced in simulated time; paho-mqtt queues what cannot go while the broker is away and resends
what was not acknowledged.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from paho.mqtt.client import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS

from shuzhi.model import CHINA  # opening hours are local time
from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.mqtt import BrokerAddress, default_client_id, encode_message, make_client

log = logging.getLogger(__name__)

PLACES_PER_DEVICE = 400
OFF_PEAK = 0.15  # traffic while open but outside the category's parts of the day, relative to the busiest
RAMP_LAG = 600.0  # seconds in which a ramp closes the gap between the people inside and its target


@dataclass(frozen=True)
class Venue:
    code: str
    category: str
    capacity: int


@dataclass(frozen=True)
class CategoryDay:
    """When a category is open (minutes after local midnight), how long visits last, and its hourly shape."""

    opens: int
    closes: int
    stay_minutes: tuple[int, int]
    shape: tuple[float, ...]  # 1440 values, one per minute of the day, the busiest 1.0

    @property
    def mean_stay(self) -> float:
        return sum(self.stay_minutes) / 2 * 60


DEFAULT_DAY = ("08:00", "22:00", (30, 90))  # a category the province simulator does not know


def category_days() -> dict[str, CategoryDay]:
    """Each venue category's day, from the province simulator's parameters."""
    from shuzhi.sim.world import load_params

    life = load_params().life
    parts = {name: span for name, span in life.parts.items()}
    out = {}
    for name, cat in life.categories.items():
        out[name] = _day(cat.hours[0], cat.hours[1], tuple(cat.minutes), cat.parts, parts)
    return out


def _day(opens: int, closes: int, stay: tuple[int, int], weights: dict[str, float], parts) -> CategoryDay:
    shape = np.zeros(1440)
    shape[opens:closes] = OFF_PEAK
    top = max(weights.values(), default=0.0) or 1.0
    for part, weight in weights.items():
        begin, end = parts[part]
        lo, hi = max(begin, opens), min(end, closes)
        if hi > lo:
            shape[lo:hi] = np.maximum(shape[lo:hi], weight / top)
    return CategoryDay(opens, closes, stay, tuple(shape.tolist()))


def _default_day() -> CategoryDay:
    opens, closes, stay = DEFAULT_DAY
    h = [int(x[:2]) * 60 + int(x[3:]) for x in (opens, closes)]
    return _day(h[0], h[1], stay, {}, {})


@dataclass
class Totals:
    """What the counters of one venue counted (unique readings): people in, out, and inside now."""

    entries: int = 0
    exits: int = 0

    @property
    def inside(self) -> int:
        return self.entries - self.exits


@dataclass
class _VenueState:
    venue: Venue
    day: CategoryDay
    devices: list[str]
    leaving: list[float] = field(default_factory=list)  # heap of departure times (seconds since start)
    inside: int = 0


class CounterSimulator:
    """Counters of ``venues`` from ``start`` (UTC); :meth:`run` yields readings in the order sent."""

    def __init__(
        self,
        venues: Sequence[Venue],
        *,
        seed: int = 1,
        start: dt.datetime | None = None,
        interval: int = 60,
        peak: float = 0.6,
        ramp: float | None = None,
        duplicates: float = 0.0,
        reorder: float = 0.0,
        days: dict[str, CategoryDay] | None = None,
    ) -> None:
        if not venues:
            raise ValueError("no venues to simulate")
        if interval < 1:
            raise ValueError("interval must be at least one second")
        for name, share in (("duplicates", duplicates), ("reorder", reorder)):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1, got {share}")
        self.rng = np.random.default_rng(seed)
        self.start = (start or dt.datetime(2020, 2, 10, 9, 0, tzinfo=CHINA)).astimezone(dt.UTC)
        self.interval = interval
        self.peak = peak
        self.ramp = ramp
        self.duplicates = duplicates
        self.reorder = reorder
        days = days if days is not None else category_days()
        fallback = _default_day()
        self.venues = [_VenueState(v, days.get(v.category, fallback), self._device_ids(v)) for v in venues]
        self.sequence: dict[str, int] = defaultdict(int)
        self.truth: dict[str, Totals] = {v.code: Totals() for v in venues}
        self.sent = 0  # messages yielded, duplicates included
        self._elapsed = 0.0
        self._ramp_until: float | None = None

    @staticmethod
    def _device_ids(venue: Venue) -> list[str]:
        n = min(4, max(1, -(-venue.capacity // PLACES_PER_DEVICE)))
        return [f"{venue.code}-{i}" for i in range(1, n + 1)]

    @property
    def devices(self) -> list[str]:
        return [d for v in self.venues for d in v.devices]

    def run(self, minutes: float) -> Iterator[CounterReading]:
        """Readings of the next ``minutes`` of simulated time, duplicates and reordering included."""
        steps = max(1, round(minutes * 60 / self.interval))
        held: list[tuple[int, int, CounterReading]] = []  # (release at message index, tie, reading)
        produced = 0
        if self._ramp_until is None:  # the first run ramps up; later ones hold the level
            self._ramp_until = self._elapsed + steps * self.interval
        for _ in range(steps):
            for reading in self._step(self._ramp_until):
                produced += 1
                if self.reorder and self.rng.random() < self.reorder:
                    heapq.heappush(held, (produced + int(self.rng.integers(1, 6)), produced, reading))
                else:
                    yield from self._emit(reading)
                if self.duplicates and self.rng.random() < self.duplicates:
                    heapq.heappush(held, (produced + int(self.rng.integers(1, 8)), -produced, reading))
                while held and held[0][0] <= produced:
                    yield from self._emit(heapq.heappop(held)[2])
        while held:
            yield from self._emit(heapq.heappop(held)[2])

    def _emit(self, reading: CounterReading) -> Iterator[CounterReading]:
        self.sent += 1
        yield reading

    def _step(self, ramp_until: float) -> list[CounterReading]:
        rng, begin = self.rng, self._elapsed
        end = begin + self.interval
        self._elapsed = end
        now = self.start + dt.timedelta(seconds=end)
        local = self.start.astimezone(CHINA) + dt.timedelta(seconds=begin)
        minute = local.hour * 60 + local.minute
        out = []
        for state in self.venues:
            v, day = state.venue, state.day
            if self.ramp is not None:
                # follow the ramp: replace who leaves in this step, add the ramp's growth, and close any
                # gap in RAMP_LAG
                target = self.ramp * min(1.0, end / ramp_until) * v.capacity
                growth = self.ramp * v.capacity / ramp_until if end < ramp_until else 0.0
                leaving = sum(1 for t in state.leaving if t <= end) / self.interval
                rate = max(0.0, leaving + growth + (target - state.inside) / RAMP_LAG)
            else:
                rate = self.peak * v.capacity * day.shape[minute] / day.mean_stay
            arrivals = int(rng.poisson(rate * self.interval))
            if arrivals:
                at = begin + rng.uniform(0, self.interval, arrivals)
                stay = rng.uniform(*day.stay_minutes, arrivals) * 60
                leave = at + stay
                if self.ramp is None:  # everyone is out by closing time
                    day_start = begin - minute * 60 - local.second
                    closing = day_start + day.closes * 60 + (86_400 if day.closes <= minute else 0)
                    leave = np.minimum(leave, max(closing, end))
                for t in leave.tolist():
                    heapq.heappush(state.leaving, t)
            departures = 0
            while state.leaving and state.leaving[0] <= end:
                heapq.heappop(state.leaving)
                departures += 1
            state.inside += arrivals - departures
            ins = rng.multinomial(arrivals, [1 / len(state.devices)] * len(state.devices))
            outs = rng.multinomial(departures, [1 / len(state.devices)] * len(state.devices))
            totals = self.truth[v.code]
            totals.entries += arrivals
            totals.exits += departures
            for device, n_in, n_out in zip(state.devices, ins.tolist(), outs.tolist(), strict=True):
                self.sequence[device] += 1
                jitter = dt.timedelta(seconds=int(rng.integers(0, min(5, self.interval) + 1)))
                out.append(CounterReading(v.code, device, self.sequence[device], now + jitter, n_in, n_out))
        return out


# ------------------------------------------------------------------------------------------------------------
# Venues


def demo_venues(n: int, seed: int = 1, county: str = "330102") -> list[Venue]:
    """``n`` made-up venues of a county (Hangzhou's Shangcheng district), coded, categorised and sized as
    the province simulator does it."""
    from shuzhi.sim.world import load_params

    kinds = load_params().population.venues.categories
    names = sorted(kinds)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        name = names[int(rng.integers(len(names)))]
        low, high = kinds[name].capacity
        capacity = int(rng.integers(low, high + 1))
        out.append(Venue(f"{county}{kinds[name].letter}{i + 1:05d}", name, capacity))
    return out


def lake_venues(lake_root: Path, n: int | None = None, seed: int = 1) -> list[Venue]:
    """Venues of the registry in the lake (the latest record of each), ``n`` of them drawn by ``seed``."""
    from shuzhi.lake import Lake

    table = Lake(lake_root).read("venues", ["venue_code", "category", "capacity", "as_of"])
    latest: dict[str, Venue] = {}
    rows = sorted(table.to_pylist(), key=lambda r: (r["venue_code"], r["as_of"]))
    for r in rows:
        if r["venue_code"] and r["capacity"]:
            latest[r["venue_code"]] = Venue(r["venue_code"], r["category"] or "", int(r["capacity"]))
    venues = list(latest.values())
    if n is not None and n < len(venues):
        pick = np.random.default_rng(seed).choice(len(venues), n, replace=False)
        venues = [venues[i] for i in sorted(pick.tolist())]
    return venues


# ------------------------------------------------------------------------------------------------------------
# Publishing


class Publisher:
    """One MQTT connection publishing counter readings at QoS 1 (a gateway for the simulated counters)."""

    def __init__(self, url: str, client_id: str | None = None, reconnect_delay: tuple[int, int] = (1, 10)):
        self.address = BrokerAddress.parse(url)
        self._client = make_client(self.address, client_id or default_client_id())
        self._client.reconnect_delay_set(*reconnect_delay)
        self._client.max_inflight_messages_set(100)
        self._client.on_publish = self._on_publish
        self.sent = 0
        self.acknowledged = 0  # PUBACKs received (once per message, resends included)

    def __enter__(self) -> Publisher:
        self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def send(self, reading: CounterReading) -> None:
        topic, payload = encode_message(reading)
        self.send_raw(topic, payload)

    def send_raw(self, topic: str, payload: bytes) -> None:
        """Publish anything (tests send malformed messages this way); queued while disconnected."""
        info = self._client.publish(topic, payload, qos=1)
        if info.rc not in (MQTT_ERR_SUCCESS, MQTT_ERR_NO_CONN):  # NO_CONN: queued until connected
            raise RuntimeError(f"could not queue a message for {topic}: rc {info.rc}")
        self.sent += 1

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self.acknowledged += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the broker acknowledged everything sent; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.acknowledged < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


def publish(
    url: str,
    readings: Iterable[CounterReading],
    *,
    speed: float | None = None,
    client_id: str | None = None,
    on_sent: Callable[[CounterReading], None] | None = None,
    timeout: float = 30.0,
) -> int:
    """Publish ``readings``; ``speed`` paces them (simulated seconds per second; None: as fast as possible).
    Returns how many were sent once the broker acknowledged them all (TimeoutError if it did not in time)."""
    sent = 0
    first: dt.datetime | None = None
    began = time.monotonic()
    with Publisher(url, client_id) as publisher:
        for reading in readings:
            if speed:
                first = first or reading.at
                due = began + (reading.at - first).total_seconds() / speed
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
            publisher.send(reading)
            sent += 1
            if on_sent:
                on_sent(reading)
        if not publisher.flush(timeout):
            raise TimeoutError(f"the broker at {url} did not acknowledge every message within {timeout} s")
    return sent
