"""IoT people counters over MQTT: parse, de-duplicate and deliver each counter reading exactly once.

Turnstiles and people counters publish to ``venue/<venue code>/counter`` one JSON object per message::

    {"device": "330102R00001-1", "seq": 42, "at": "2020-02-10T08:15:00Z", "in": 3, "out": 1}

``device`` names the counter (unique across venues), ``seq`` numbers its messages 1, 2, 3, ... (kept across
reboots), ``at`` is when it counted (ISO 8601 with an offset, stored in UTC), ``in`` and ``out`` are people
through it since its previous message. Every field is required and no other is allowed; a message that breaks
a rule is rejected with a :class:`MessageError` naming the field, counted, logged and kept in a small
quarantine — it never stops the subscriber.

:class:`CounterSubscriber` subscribes at QoS 1 in a persistent MQTT 5 session (a stable client id,
``clean_start`` off, a session expiry), so the broker keeps what arrives while it is away; paho-mqtt
reconnects with exponential backoff. QoS 1 is at least once: the broker resends what it has not seen
acknowledged, and devices resend and reorder. The subscriber therefore acknowledges by hand, in this
order: parse; record the reading in its ledger (a SQLite file: the device's window and a journal of readings,
one committed transaction) unless its ``(device, seq)`` is there already; hand it to the sink; acknowledge.
A redelivered or repeated message finds its sequence recorded and is dropped, also after a restart of the
process. A sink held in memory is rebuilt on restart from the journal (``replay``), so a crash at any point
leaves it with each reading exactly once.

De-duplication keeps per device a *floor* (every sequence at or below it is done) and the set of sequences
seen above it, so messages may arrive in any order. The set is bounded by a window: a sequence more than
``window`` above the floor moves the floor up and gives up on the gaps below it (logged as skipped), so a
device that was counting before the subscriber first heard of it costs nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shuzhi.realtime.events import CounterReading

log = logging.getLogger(__name__)

TOPIC_FILTER = "venue/+/counter"
MAX_PAYLOAD = 4096  # bytes; a counter message is under 200
MAX_SEQUENCE = 2**63 - 1
MAX_PEOPLE = 100_000  # people through one counter between two messages
FIELDS = ("device", "seq", "at", "in", "out")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TOPIC = re.compile(r"venue/([^/]*)/counter")

Sink = Callable[[CounterReading], None]


def counter_topic(venue_code: str) -> str:
    """The topic a counter of ``venue_code`` publishes to."""
    return f"venue/{venue_code}/counter"


# ------------------------------------------------------------------------------------------------------------
# The message


class MessageError(ValueError):
    """A counter message that breaks the format; ``field`` names the part at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise MessageError(key, "appears twice")
        out[key] = value
    return out


def _reject_constant(name: str) -> object:
    raise MessageError("payload", f"{name} is not JSON")


def _int(obj: dict[str, object], key: str, low: int, high: int) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageError(key, f"must be a whole number, got {value!r:.40}")
    if not low <= value <= high:
        raise MessageError(key, f"must be between {low} and {high}, got {value}")
    return value


def parse_message(topic: str, payload: bytes) -> CounterReading:
    """The reading in one MQTT message, or :class:`MessageError` naming the field at fault."""
    match = _TOPIC.fullmatch(topic)
    if not match:
        raise MessageError("topic", f"must be venue/<venue code>/counter, got {topic!r:.80}")
    venue = match.group(1)
    if not _NAME.fullmatch(venue):
        raise MessageError("topic", f"venue code must be 1-64 letters, digits or ._:-, got {venue!r:.80}")
    if len(payload) > MAX_PAYLOAD:
        raise MessageError("payload", f"{len(payload)} bytes, at most {MAX_PAYLOAD}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError("payload", f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except MessageError:
        raise
    except json.JSONDecodeError as exc:
        raise MessageError(
            "payload", f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise MessageError("payload", f"not JSON ({exc})") from None
    except RecursionError:
        raise MessageError("payload", "nested too deeply") from None
    if not isinstance(obj, dict):
        raise MessageError("payload", f"must be a JSON object, got {type(obj).__name__}")
    for key in FIELDS:
        if key not in obj:
            raise MessageError(key, "missing")
    for key in obj:
        if key not in FIELDS:
            raise MessageError(key[:40], "unknown field")
    device = obj["device"]
    if not isinstance(device, str) or not _NAME.fullmatch(device):
        raise MessageError("device", f"must be 1-64 letters, digits or ._:-, got {device!r:.40}")
    sequence = _int(obj, "seq", 1, MAX_SEQUENCE)
    at_text = obj["at"]
    if not isinstance(at_text, str):
        raise MessageError("at", f"must be an ISO 8601 time string, got {at_text!r:.40}")
    try:
        at = dt.datetime.fromisoformat(at_text)
    except ValueError:
        raise MessageError("at", f"not an ISO 8601 time: {at_text!r:.40}") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise MessageError("at", f"needs a UTC offset (Z or +08:00): {at_text!r:.40}")
    try:
        at = at.astimezone(dt.UTC)
    except OverflowError:
        raise MessageError("at", f"out of range: {at_text!r:.40}") from None
    return CounterReading(
        venue_code=venue,
        device_id=device,
        sequence=sequence,
        at=at,
        entries=_int(obj, "in", 0, MAX_PEOPLE),
        exits=_int(obj, "out", 0, MAX_PEOPLE),
    )


def encode_message(reading: CounterReading) -> tuple[str, bytes]:
    """The topic and payload a device publishes for ``reading`` (the inverse of :func:`parse_message`)."""
    at = reading.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {"device": reading.device_id, "seq": reading.sequence, "at": at, "in": reading.entries,
            "out": reading.exits}  # fmt: skip
    return counter_topic(reading.venue_code), json.dumps(body, separators=(",", ":")).encode()


# ------------------------------------------------------------------------------------------------------------
# De-duplication


@dataclass
class SequenceWindow:
    """The sequences of one device already delivered: all up to ``floor``, and ``above`` it."""

    floor: int = 0
    above: set[int] = field(default_factory=set)

    def seen(self, seq: int) -> bool:
        return seq <= self.floor or seq in self.above

    def add(self, seq: int, window: int) -> int:
        """Record ``seq`` (not yet seen); returns how many gap sequences were given up on."""
        self.above.add(seq)
        skipped = 0
        if seq - self.floor > window:
            new_floor = seq - window
            kept = {s for s in self.above if s > new_floor}
            skipped = new_floor - self.floor - (len(self.above) - len(kept))
            self.floor, self.above = new_floor, kept
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)
        return skipped


class CounterLedger:
    """The subscriber's state file (SQLite; ``None``: in memory): each device's window, the journal of
    delivered readings and the quarantine. Recording a reading updates its window and the journal in one
    committed transaction, so after any crash the file says exactly which readings were taken."""

    def __init__(self, path: Path | str | None = None, window: int = 1024) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(self.path or ":memory:"), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS counter_windows (
                device_id TEXT PRIMARY KEY, floor INTEGER NOT NULL, above TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS counter_readings (
                device_id TEXT NOT NULL, sequence INTEGER NOT NULL, venue_code TEXT NOT NULL,
                at TEXT NOT NULL, entries INTEGER NOT NULL, exits INTEGER NOT NULL,
                PRIMARY KEY (device_id, sequence));
            CREATE INDEX IF NOT EXISTS counter_readings_at ON counter_readings (at);
            CREATE TABLE IF NOT EXISTS counter_rejections (
                id INTEGER PRIMARY KEY, at TEXT NOT NULL, topic TEXT NOT NULL, field TEXT NOT NULL,
                reason TEXT NOT NULL, payload BLOB NOT NULL);
            """
        )
        self._lock = threading.Lock()
        self._windows: dict[str, SequenceWindow] = {}
        for device, floor, above in self._db.execute("SELECT device_id, floor, above FROM counter_windows"):
            self._windows[device] = SequenceWindow(floor, {int(s) for s in above.split(",") if s})

    def seen(self, device: str, seq: int) -> bool:
        with self._lock:
            window = self._windows.get(device)
            return window is not None and window.seen(seq)

    def record(self, reading: CounterReading) -> tuple[bool, int]:
        """Take ``reading`` unless its ``(device, seq)`` was taken before, durably (committed on return).
        Returns whether it is new and how many gap sequences of its device were given up on."""
        with self._lock:
            old = self._windows.get(reading.device_id)
            if old is not None and old.seen(reading.sequence):
                return False, 0
            window = SequenceWindow(old.floor, set(old.above)) if old else SequenceWindow()
            skipped = window.add(reading.sequence, self.window)
            with self._transaction():
                self._db.execute(
                    "INSERT OR REPLACE INTO counter_windows VALUES (?, ?, ?)",
                    (reading.device_id, window.floor, ",".join(map(str, sorted(window.above)))),
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO counter_readings VALUES (?, ?, ?, ?, ?, ?)",
                    (reading.device_id, reading.sequence, reading.venue_code, _utc_text(reading.at),
                     reading.entries, reading.exits),
                )  # fmt: skip
            self._windows[reading.device_id] = window
            return True, skipped

    def readings(self, since: dt.datetime | None = None) -> list[CounterReading]:
        """The journal: readings taken (counted at ``since`` or later), in the order they were counted."""
        query = "SELECT venue_code, device_id, sequence, at, entries, exits FROM counter_readings"
        args: tuple = ()
        if since is not None:
            query, args = query + " WHERE at >= ?", (_utc_text(since),)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY at, device_id, sequence", args).fetchall()
        return [CounterReading(v, d, q, dt.datetime.fromisoformat(a), i, o) for v, d, q, a, i, o in rows]

    def prune(self, before: dt.datetime) -> int:
        """Forget journal readings counted before ``before`` (their sequences stay known); how many."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM counter_readings WHERE at < ?", (_utc_text(before),)
            ).rowcount

    def window_of(self, device: str) -> SequenceWindow | None:
        with self._lock:
            window = self._windows.get(device)
            return SequenceWindow(window.floor, set(window.above)) if window else None

    def quarantine(self, rejected: Rejected, keep: int) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO counter_rejections (at, topic, field, reason, payload) VALUES (?, ?, ?, ?, ?)",
                (rejected.at.isoformat(), rejected.topic, rejected.field, rejected.reason, rejected.payload),
            )
            self._db.execute(
                "DELETE FROM counter_rejections WHERE id <= (SELECT max(id) FROM counter_rejections) - ?",
                (keep,),
            )

    def rejections(self) -> list[Rejected]:
        """The quarantined messages kept in the file, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, topic, field, reason, payload FROM counter_rejections ORDER BY id"
            ).fetchall()
        return [Rejected(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _utc_text(at: dt.datetime) -> str:
    """Sortable text of a UTC time (microseconds always written, so text order is time order)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


# ------------------------------------------------------------------------------------------------------------
# The subscriber


@dataclass(frozen=True)
class Rejected:
    """A quarantined message: when, where, the field at fault and why (payload cut to 512 bytes)."""

    at: dt.datetime
    topic: str
    field: str
    reason: str
    payload: bytes


@dataclass
class SubscriberStats:
    received: int = 0  # messages handed over by the broker, redeliveries included
    delivered: int = 0  # readings passed to the sink, once each (replayed ones included)
    duplicates: int = 0  # (device, seq) already delivered: dropped
    rejected: int = 0  # broke the message format: quarantined
    sink_errors: int = 0  # the sink raised: quarantined (the reading stays in the journal)
    skipped: int = 0  # gap sequences given up on when a device jumped ahead by more than the window
    connects: int = 0  # successful connections (the first and every reconnect)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:password@]host[:port]`` (1883) or ``mqtts://...`` (TLS, 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port, got {url!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ValueError(f"broker URL {url!r}: {exc}") from None
        return cls(
            parts.hostname, port, tls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )  # fmt: skip


def make_client(address: BrokerAddress, client_id: str, *, manual_ack: bool = False):
    """A paho-mqtt client (callback API 2, MQTT 5) set up for ``address``; not yet connected."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=manual_ack
    )
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    return client


def session_properties(expiry_seconds: int):
    """CONNECT properties asking the broker to keep the session ``expiry_seconds`` after a disconnect."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry_seconds
    return props


class CounterSubscriber:
    """Subscribes to every venue's counter topic and hands each reading, once, to ``sink``.

    ``sink`` runs on paho's network thread, one reading at a time; it must be quick and thread-safe with
    respect to whoever reads what it updates. If it raises, the reading stays taken (it is in the journal)
    and the failure is quarantined. ``state`` is the ledger's SQLite file (keep it with the instance's
    data); ``client_id`` names the persistent session at the broker, so two instances must not share one.

    A new reading is recorded in the ledger first, then handed to the sink, then acknowledged. A sink that
    lives in memory starts empty with the process: ``replay`` (a duration) makes :meth:`start` first hand
    it the journal's readings counted that recently, so a restart, even a crash between record and sink,
    leaves it with every reading exactly once. The journal keeps ``retention`` of readings.
    """

    def __init__(
        self,
        url: str,
        sink: Sink,
        state: Path | str | None,
        *,
        client_id: str = "shuzhi-occupancy",
        topic: str = TOPIC_FILTER,
        session_expiry: int = 7 * 86_400,
        reconnect_delay: tuple[int, int] = (1, 30),
        keepalive: int = 30,
        window: int = 1024,
        quarantine_size: int = 1000,
        replay: dt.timedelta | None = None,
        retention: dt.timedelta = dt.timedelta(days=2),
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self.sink = sink
        self.client_id = client_id
        self.topic = topic
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.stats = SubscriberStats()
        self.recent_rejections: deque[Rejected] = deque(maxlen=100)
        self._quarantine_size = quarantine_size
        self.ledger = CounterLedger(state, window)
        self.replay = replay
        self.retention = retention
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._client = make_client(self.address, client_id, manual_ack=True)
        self._client.reconnect_delay_set(*reconnect_delay)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self.last_message_at: dt.datetime | None = None

    # -- lifecycle

    def start(self) -> CounterSubscriber:
        """Replay the journal to the sink if asked, then connect in the background (retrying until the
        broker answers) and receive."""
        now = dt.datetime.now(dt.UTC)
        self.ledger.prune(now - self.retention)
        if self.replay is not None:
            for reading in self.ledger.readings(since=now - self.replay):
                self._deliver(reading, "replay")
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.keepalive,
            clean_start=False,
            properties=session_properties(self.session_expiry),
        )
        self._client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect (the broker keeps the session and queues for it) and close the state file."""
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self.ledger.close()

    def __enter__(self) -> CounterSubscriber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        """Block until the subscription is confirmed (after the first connect); False on timeout."""
        return self._subscribed.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def status(self) -> dict[str, object]:
        """Connection, counters and the latest rejections, for a health view."""
        return {
            "broker": f"{self.address.host}:{self.address.port}",
            "connected": self.connected,
            "last_message_at": self.last_message_at.isoformat() if self.last_message_at else None,
            **vars(self.stats),
            "recent_rejections": [
                {"at": r.at.isoformat(), "topic": r.topic, "field": r.field, "reason": r.reason}
                for r in list(self.recent_rejections)[-10:]
            ],
        }

    def rejections(self) -> list[Rejected]:
        """Every quarantined message kept in the state file (the latest ``quarantine_size``)."""
        return self.ledger.rejections()

    # -- paho callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.address.host, reason_code)
            return
        self.stats.connects += 1
        self._connected.set()
        log.info(
            "MQTT connected to %s:%s (session %s)", self.address.host, self.address.port,
            "resumed" if flags.session_present else "new",
        )  # fmt: skip
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(rc.is_failure for rc in reason_codes):
            log.error("MQTT subscription to %s refused: %s", self.topic, reason_codes)
            return
        self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if reason_code != 0:
            log.warning("MQTT connection to %s lost (%s); reconnecting", self.address.host, reason_code)

    def _on_message(self, client, userdata, message) -> None:
        self.stats.received += 1
        self.last_message_at = dt.datetime.now(dt.UTC)
        try:
            if self._handle(message.topic, message.payload):
                client.ack(message.mid, message.qos)
        except Exception:  # the state file failed: do not acknowledge, the broker resends after a reconnect
            log.exception("MQTT message on %s not acknowledged", message.topic)

    def _handle(self, topic: str, payload: bytes) -> bool:
        """Process one message; True when it may be acknowledged."""
        try:
            reading = parse_message(topic, payload)
        except MessageError as exc:
            self.stats.rejected += 1
            self._quarantine(topic, exc.field, exc.reason, payload)
            return True
        new, skipped = self.ledger.record(reading)
        if not new:
            self.stats.duplicates += 1
            return True
        if skipped:
            self.stats.skipped += skipped
            log.warning("counter %s jumped to seq %s: %s earlier sequences given up", reading.device_id,
                        reading.sequence, skipped)  # fmt: skip
        self._deliver(reading, topic)
        if self.stats.delivered % 10_000 == 0:
            self.ledger.prune(dt.datetime.now(dt.UTC) - self.retention)
        return True

    def _deliver(self, reading: CounterReading, topic: str) -> None:
        try:
            self.sink(reading)
        except Exception as exc:
            self.stats.sink_errors += 1
            log.exception("the occupancy sink failed on %s seq %s", reading.device_id, reading.sequence)
            self._quarantine(topic, "sink", f"{type(exc).__name__}: {exc}", encode_message(reading)[1])
            return
        self.stats.delivered += 1

    def _quarantine(self, topic: str, field: str, reason: str, payload: bytes) -> None:
        rejected = Rejected(dt.datetime.now(dt.UTC), topic[:200], field, reason, bytes(payload[:512]))
        log.warning("counter message on %s rejected: %s: %s", rejected.topic, field, reason)
        self.recent_rejections.append(rejected)
        self.ledger.quarantine(rejected, self._quarantine_size)


def default_client_id() -> str:
    """A client id for a one-off session (tools, not the instance's subscriber)."""
    return f"shuzhi-{uuid.uuid4().hex[:12]}"


URL_ENV = "SHUZHI_MQTT_URL"
STATE_FILE = Path("realtime") / "mqtt-counters.sqlite"


def instance_subscriber(url: str, sink: Sink, data_root: Path) -> CounterSubscriber:
    """The subscriber of the instance in ``data_root``: its ledger in ``<data>/realtime/``, and a day of
    journal replayed into ``sink`` on start (an occupancy engine held in memory starts empty)."""
    return CounterSubscriber(url, sink, Path(data_root) / STATE_FILE, replay=dt.timedelta(days=1))
