"""The instance's real-time hub: passages and counter readings in, occupancy, alerts and stays out.

:class:`Realtime` wraps one :class:`~shuzhi.realtime.occupancy.Occupancy` engine behind a lock and connects
it to the rest of the instance:

* :meth:`Realtime.passages` is a passage listener (``Services.passage_listeners``): the HTTP scan path and
  the venue-code check-in call it with each batch of committed passages — the embedded default, no broker;
* :meth:`Realtime.counter_sink` takes de-duplicated counter readings (``Callable[[CounterReading], None]``)
  from the MQTT subscriber when MQTT is switched on;
* a background thread (:meth:`start`) ticks the engine every second (bins, timeouts, alerts clearing) and
  writes closed stays to the lake every ``flush_seconds`` (:class:`~shuzhi.realtime.stays.StayWriter`);
* alerts go to the :class:`~shuzhi.realtime.alerts.AlertLog` (history file and live SSE subscribers);
* with several workers, each follows the store's passage log for the passages the others committed, and
  only the one holding the writer lease writes stays and alerts (:mod:`shuzhi.realtime.follow`).

:meth:`Realtime.for_data` builds it for a data directory: the venue registry from the lake's ``venues``
table, each county's newest risk level from the pipeline's ``area_risk`` results, the ``crowd`` section of
the policy edition (``$SHUZHI_CROWD_EDITION``, else the default edition), the alert history in
``<data>/realtime/alerts.jsonl`` and stays into ``<data>/lake/venue_stays``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow.dataset as ds

from shuzhi.lake import Lake, table_stamp
from shuzhi.policy import DEFAULT_EDITION
from shuzhi.realtime.alerts import AlertLog
from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.follow import Lease, PassageLog, lease_for
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import CrowdPolicy, load_policy
from shuzhi.realtime.stays import StayWriter
from shuzhi.settings import DataDir
from shuzhi.store import Store

log = logging.getLogger(__name__)

EDITION_ENV = "SHUZHI_CROWD_EDITION"
WATCHED = ("venues", "area_risk")
WATCH_SECONDS = 30.0  # how often the lake is checked for a new registry or new risk levels
MAX_CLOCK_AHEAD = 60.0  # seconds; a counter whose clock runs further ahead is taken at the instance's time
ALERTS_FILE = Path("realtime") / "alerts.jsonl"
WRITER_LEASE = Path("realtime") / "writer.lock"
FOLLOW_SECONDS = 0.2  # how often a worker takes up the passages the other workers committed
Clock = Callable[[], dt.datetime]


class PassageLike(Protocol):
    """What the hub reads of a passage (``shuzhi.store.models.Passage`` has it; ``id`` only where it
    follows the store's passage log)."""

    id: int
    checkpoint_code: str
    person_key: int | None
    passed_at: dt.datetime
    direction: str
    valid: bool


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Realtime:
    """One instance's live occupancy, alerts and stays (thread-safe)."""

    def __init__(
        self,
        occupancy: Occupancy,
        alerts: AlertLog | None = None,
        stays: StayWriter | None = None,
        clock: Clock = _utcnow,
        tick_seconds: float = 1.0,
        flush_seconds: float = 2.0,
        passage_log: PassageLog | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.occupancy = occupancy
        self.alerts = alerts if alerts is not None else AlertLog()  # (an empty log is falsy)
        self.stays = stays
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_flush = 0.0
        self.lake: Path | None = None  # watched for a new venue registry or new risk levels
        self._seen: dict[str, int] = {}
        self._last_watch = time.monotonic()
        self.passage_log = passage_log  # the store's passages, followed (None: fed directly only)
        self.lease = lease  # None: the only hub of its data, which writes its stays and alerts
        self._follow_lock = threading.Lock()
        self.followed = 0  # passages taken from the log (the other workers', some of its own if first there)

    @classmethod
    def for_data(
        cls,
        data: DataDir,
        clock: Clock = _utcnow,
        edition: str | Path | None = None,
        store: Store | None = None,
    ) -> Realtime:
        """The hub of the instance in ``data`` (see the module's docstring); given the ``store``, the
        passages of the longest stay timeout before now are replayed into it (:meth:`replay`)."""
        policy = load_policy(edition or os.environ.get(EDITION_ENV) or DEFAULT_EDITION)
        engine = Occupancy(policy, registry(data.lake), risk_levels(data.lake))
        passage_log = PassageLog(store) if store is not None else None
        lease = lease_for(store, data.root / WRITER_LEASE)
        hub = cls(engine, AlertLog(data.root / ALERTS_FILE), StayWriter(data.lake), clock,
                  passage_log=passage_log, lease=lease)  # fmt: skip
        hub.lake = data.lake
        hub._seen = {name: table_stamp(data.lake / name) for name in WATCHED}
        if passage_log is not None:
            hub.replay(passage_log.start(hub.clock() - policy.stays.longest))
        return hub

    @property
    def writer(self) -> bool:
        """Whether this hub writes the stays and numbers the alerts (it holds the lease, or needs none)."""
        return self.lease is None or self.lease.held

    def replay(self, passages: Iterable[PassageLike]) -> None:
        """Rebuild the live state after a restart from the passages logged before it (oldest first).

        Who is inside and each venue's state come back; the alerts and the closed stays of the replay are
        dropped, as they were raised and written before the restart (the stays within the last flush
        interval before a crash are the price of not writing them twice)."""
        with self._lock:
            scan = self.occupancy.scan
            for p in passages:
                scan(p.checkpoint_code, p.direction == "in", p.passed_at.timestamp(), p.person_key, p.valid)
            self.occupancy.tick(self.clock().timestamp())
            self.occupancy.alerts.clear()
            self.occupancy.stays.clear()

    # ---- input ------------------------------------------------------------------------------------------
    def passages(self, passages: Sequence[PassageLike]) -> None:
        """A passage listener: feed committed passages (checkpoint scans, venue-code check-ins)."""
        with self._lock:
            scan = self.occupancy.scan
            for p in passages:
                scan(p.checkpoint_code, p.direction == "in", p.passed_at.timestamp(), p.person_key, p.valid)
        self._drain()

    def committed(self, passages: Sequence[PassageLike]) -> None:
        """The instance's passage listener: the passages this worker just committed, fed at once (those
        the log already delivered are not fed twice)."""
        if self.passage_log is None:
            return self.passages(passages)
        with self._follow_lock:
            fresh = self.passage_log.taken([p.id for p in passages])
            self.passages([p for p in passages if p.id in fresh])

    def follow(self) -> int:
        """Take up the passages the other workers committed and, unless this hub writes them, the writer's
        alerts; how many passages."""
        if self.passage_log is None:
            return 0
        with self._follow_lock:
            rows = self.passage_log.new()
            if rows:
                self.passages(rows)
                self.followed += len(rows)
        if not self.writer:
            self.alerts.follow()
        return len(rows)

    def counter_sink(self, reading: CounterReading) -> None:
        """The sink of the MQTT subscriber: one de-duplicated counter reading."""
        latest = self.clock().timestamp() + MAX_CLOCK_AHEAD
        with self._lock:
            at = min(reading.at.timestamp(), latest)
            self.occupancy.count(reading.venue_code, at, reading.entries, reading.exits)
        self._drain()

    def counter_readings(self, readings: Iterable[CounterReading]) -> None:
        """Several counter readings at once (a replay, the simulator without a broker)."""
        latest = self.clock().timestamp() + MAX_CLOCK_AHEAD
        with self._lock:
            count = self.occupancy.count
            for r in readings:
                count(r.venue_code, min(r.at.timestamp(), latest), r.entries, r.exits)
        self._drain()

    def configure(
        self,
        policy: CrowdPolicy | None = None,
        venues: Iterable[VenueInfo] | None = None,
        risk: Mapping[str, str] | None = None,
    ) -> None:
        """Start afresh with another policy, registry or risk levels (the live state is forgotten)."""
        with self._lock:
            old = self.occupancy
            self.occupancy = Occupancy(
                policy or old.policy,
                venues if venues is not None else [st.info for st in old._venues.values()],
                risk if risk is not None else old._risk,
            )

    def set_risk_levels(self, levels: Mapping[str, str]) -> None:
        """New risk levels per county (after the pipeline ran): limits change at once."""
        with self._lock:
            self.occupancy.set_risk_levels(levels, self.clock().timestamp())
        self._drain()

    # ---- time -------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance to the clock's now: bins, timeouts, alerts clearing; write stays when due."""
        if self.lease is not None:
            was_writer = self.lease.held
            if self.lease.acquire() and not was_writer:
                log.info("real time: this worker now writes the stays and the alerts")
        with self._lock:
            self.occupancy.tick(self.clock().timestamp())
        self._drain()
        now = time.monotonic()
        if self.stays is not None and now - self._last_flush >= self.flush_seconds:
            self._last_flush = now
            try:
                self.stays.flush()
            except OSError:
                log.exception("writing stays to the lake failed; kept for the next flush")
        if self.lake is not None and now - self._last_watch >= WATCH_SECONDS:
            self._last_watch = now
            self.watch()

    def watch(self) -> None:
        """Take up a new venue registry (ingest) or new risk levels (the pipeline) from the lake."""
        if self.lake is None:
            return
        stamps = {name: table_stamp(self.lake / name) for name in WATCHED}
        if stamps["venues"] != self._seen.get("venues"):
            venues = registry(self.lake)
            with self._lock:
                for info in venues:
                    self.occupancy.add_venue(info)
            log.info("venue registry reloaded: %d venues", len(venues))
        if stamps["area_risk"] != self._seen.get("area_risk"):
            self.set_risk_levels(risk_levels(self.lake))
            log.info("risk levels reloaded")
        self._seen = stamps

    def start(self) -> Realtime:
        """Tick (and follow the passage log) in a background thread until :meth:`stop`."""
        if self.lease is not None:
            self.lease.acquire()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="shuzhi-realtime", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ticking and write the stays closed so far."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.stays is not None:
            self.stays.flush()
        if self.lease is not None:
            self.lease.release()

    def _run(self) -> None:
        every = FOLLOW_SECONDS if self.passage_log is not None else self.tick_seconds
        next_tick = time.monotonic() + self.tick_seconds
        while not self._stop.wait(min(every, max(0.0, next_tick - time.monotonic()))):
            try:
                self.follow()
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.tick_seconds
                    self.tick()
            except Exception:
                log.exception("real-time tick failed")

    def _drain(self) -> None:
        """Hand new alerts to the log (history and subscribers) and closed stays to the writer."""
        engine = self.occupancy
        if not engine.alerts and not engine.stays:
            return
        with self._lock:
            alerts, engine.alerts = engine.alerts, []
            stays, engine.stays = engine.stays, []
        if not self.writer:
            return  # the writer, following the same passages, writes them
        if self.stays is not None:
            self.stays.add(stays)
        self.alerts.append(alerts)

    # ---- views ------------------------------------------------------------------------------------------
    def venues(self, county: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self.occupancy.venues(county)

    def venue(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            return self.occupancy.venue(code)

    def counties(self) -> list[dict[str, Any]]:
        with self._lock:
            return self.occupancy.counties()

    def status(self) -> dict[str, Any]:
        with self._lock:
            stats = vars(self.occupancy.stats).copy()
            stats["alerts"] = dict(stats["alerts"])
            return {
                "policy_version": self.occupancy.policy.version,
                "venues": len(self.occupancy._venues),
                "stays_pending": self.stays.pending if self.stays else 0,
                "stays_written": self.stays.written if self.stays else 0,
                "subscribers": self.alerts.subscribers,
                "writer": self.writer,
                "followed": self.followed,
                **stats,
            }


def registry(lake: Path) -> list[VenueInfo]:
    """The venues of the lake's ``venues`` table (the newest row of each code); none without the table."""
    rows = Lake(lake).read("venues", ["venue_code", "name", "category", "county_code", "capacity", "as_of"])
    newest: dict[str, dict[str, Any]] = {}
    for row in rows.sort_by("as_of").to_pylist():
        newest[row["venue_code"]] = row
    return [
        VenueInfo(r["venue_code"], r["name"] or r["venue_code"], r["category"] or "", r["county_code"] or "",
                  r["capacity"])
        for r in newest.values()
    ]  # fmt: skip


def risk_levels(lake: Path) -> dict[str, str]:
    """Each county's risk level on the newest day of the pipeline's ``area_risk`` results (none: empty)."""
    days = sorted((Path(lake) / "area_risk").glob("day=*"))
    files = [str(f) for f in sorted(days[-1].glob("*.parquet"))] if days else []
    if not files:
        return {}
    try:
        table = ds.dataset(files, format="parquet").to_table(columns=["county_code", "level"])
    except (OSError, ValueError) as exc:
        log.warning("area risk unreadable (%s): every county counts as low risk", exc)
        return {}
    return dict(zip(table["county_code"].to_pylist(), table["level"].to_pylist(), strict=True))
