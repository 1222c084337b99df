"""Live occupancy per venue and county from scans and counters, and crowd-limit warnings before the limit.

The engine is pure (no web, store or lake) and single-threaded: the caller serialises calls (the hub in
``shuzhi.realtime.live`` holds a lock). Times are Unix seconds (floats) on the hot path; the engine converts
to ``datetime`` only for what leaves it (alerts). Per event it does a dictionary lookup, a few integer updates
and one comparison against a precomputed threshold — everything else (the forecast, hysteresis, timeouts)
happens once per bin (``warning.bin_seconds`` of the crowd policy) or per :meth:`Occupancy.tick`.

**Two sources, one headcount.** Scans (checkpoint passages, venue-code check-ins) say *who* is inside: each
valid ``in`` opens a stay per (person, venue), an ``out`` closes it, a per-category timeout closes the
forgotten ones. People counters (turnstiles over MQTT) say *how many*: their entries and exits are summed. A
venue whose counters reported within ``counters.stale_minutes`` takes its headcount and its arrival rate from
them (a counter sees everybody, a scan only those who scan); the first reading starts from the scans'
headcount, later ones add their deltas. Without fresh counters, the scans count. Stays always come from scans.

**Scans without a matching stay.** A valid ``in`` by a person already inside is a repeat (not counted twice);
an ``out`` by a person with no open stay (entered before a restart, or without scanning) changes nothing; an
anonymous scan (the credential names no local person) counts as one unnamed person in or out; a refused
``in`` (invalid code) does not enter. Exits count whatever the verdict.

**The forecast.** Per venue and bin, arrivals and departures are smoothed by Holt's linear exponential
smoothing with a damped trend (level ``alpha``, trend ``beta``, damping ``damping``); the forecast occupancy
at the horizon is the headcount plus the forecast arrivals minus the forecast departures over the horizon's
bins. From it each venue keeps ``warn_at``, the headcount at which the forecast reaches the limit, so the
per-event check is one comparison. States: ``normal`` → ``warning`` (forecast reaches the limit) →
``limit`` (headcount reaches it); each step up is an alert at once. A step down needs the headcount *and* the
forecast below ``clear_share`` of the limit and the alert to be ``hold_seconds`` old (hysteresis).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.policy import LEVELS, CrowdPolicy

INF = math.inf
STATES = ("normal", "warning", "limit")
NORMAL, WARNING, LIMIT = 0, 1, 2
MAX_EMPTY_BINS = 120  # after this many bins without a message the smoothing starts afresh


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """A venue of the registry (the lake's ``venues`` table): what the limits depend on."""

    code: str
    name: str
    category: str
    county_code: str
    capacity: int | None


@dataclass(frozen=True)
class Alert:
    """A crowd alert with the reasons for it; ``kind`` is ``warning``, ``limit`` or ``clear``."""

    kind: str
    at: dt.datetime
    venue_code: str
    venue_name: str
    category: str
    county_code: str
    occupancy: int
    limit: int
    capacity: int
    share: float
    risk_level: str
    rule: str
    policy_version: str
    forecast: int
    horizon_minutes: float
    arrivals_per_minute: float
    departures_per_minute: float
    source: str
    reasons: tuple[str, ...]
    id: int = 0

    def to_json(self) -> dict[str, object]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["at"] = self.at.isoformat()
        out["reasons"] = list(self.reasons)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Alert:
        values = dict(obj)
        values["at"] = dt.datetime.fromisoformat(str(values["at"]))
        values["reasons"] = tuple(values["reasons"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Stay:
    """A closed stay: who was at which venue from when to when (Unix seconds), closed by exit or timeout."""

    person_key: int
    venue_code: str
    time_in: float
    time_out: float
    closed_by: str


class _Venue:
    """The live state of one venue (plain attributes: the hot path touches a few of them per event)."""

    __slots__ = (
        "info", "level", "limit", "share", "rule", "timeout", "open", "anon", "ctr", "ctr_last",
        "by_counters", "s_in", "s_out", "c_in", "c_out", "bin_end", "a_level", "a_trend", "d_level",
        "d_trend", "primed", "projected", "next_at", "state", "since",
    )  # fmt: skip

    def __init__(self, info: VenueInfo) -> None:
        self.info = info
        self.level = "low"
        self.limit = INF  # people (float: INF without a capacity)
        self.share = 1.0
        self.rule = ""
        self.timeout = 0.0
        self.open: dict[int, float] = {}  # person_key -> time in, in order of entry
        self.anon: deque[float] = deque()  # entries of unnamed persons
        self.ctr: int | None = None  # headcount by counters
        self.ctr_last = -INF
        self.by_counters = False
        self.s_in = self.s_out = self.c_in = self.c_out = 0  # this bin's arrivals and departures
        self.bin_end = -INF
        self.a_level = self.a_trend = self.d_level = self.d_trend = 0.0
        self.primed = False
        self.projected = 0.0  # forecast net change of the headcount over the horizon
        self.next_at = INF  # the headcount that moves the state up
        self.state = NORMAL
        self.since = 0.0

    @property
    def scanned(self) -> int:
        return len(self.open) + len(self.anon)

    @property
    def occupancy(self) -> int:
        return self.ctr if self.by_counters and self.ctr is not None else len(self.open) + len(self.anon)

    @property
    def reached_at(self) -> float:
        """The headcount that reaches the limit (a closed venue, limit 0, is reached by one person)."""
        return max(self.limit, 1.0)


@dataclass
class Stats:
    scans: int = 0
    readings: int = 0
    unregistered: int = 0  # events at a code that is not in the venue registry
    refused: int = 0  # invalid entry scans: not counted
    repeated: int = 0  # an entry by a person already inside
    unmatched_exits: int = 0  # an exit without an open stay
    timeouts: int = 0  # stays closed by the category's timeout
    alerts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("warning", "limit", "clear"), 0))


class Occupancy:
    """Live occupancy of the venues of a registry under a crowd policy and the counties' risk levels.

    Feed it with :meth:`scan` (a passage) and :meth:`counter` (a counter reading; also usable as the MQTT
    sink), call :meth:`tick` every second or so; take new alerts from ``alerts`` and closed stays from
    ``stays`` (both lists the caller empties).
    """

    def __init__(
        self,
        policy: CrowdPolicy,
        venues: Iterable[VenueInfo],
        risk_levels: Mapping[str, str] | None = None,
    ) -> None:
        self.policy = policy
        warning = policy.warning
        self._bin = float(warning.bin_seconds)
        self._alpha, self._beta, self._phi = warning.alpha, warning.beta, warning.damping
        self._horizon = warning.horizon_bins
        # sum over h = 1..H of the damped trend multiplier phi + phi^2 + ... + phi^h
        self._trend_sum = sum(sum(self._phi**j for j in range(1, h + 1)) for h in range(1, self._horizon + 1))
        self._clear = warning.clear_share
        self._hold = float(warning.hold_seconds)
        self._stale = 60.0 * policy.counters.stale_minutes
        self._venues: dict[str, _Venue] = {}
        self._risk: dict[str, str] = dict(risk_levels or {})
        self.alerts: list[Alert] = []
        self.stays: list[Stay] = []
        self.stats = Stats()
        for info in venues:
            self.add_venue(info)

    # ---- the registry and the limits --------------------------------------------------------------------
    def add_venue(self, info: VenueInfo) -> None:
        st = self._venues.get(info.code) or _Venue(info)
        st.info = info
        self._venues[info.code] = st
        self._set_limit(st)

    def set_risk_levels(self, levels: Mapping[str, str], now: float | None = None) -> None:
        """The risk level of each county (missing: low); limits follow at once."""
        self._risk = {county: level for county, level in levels.items() if level in LEVELS}
        for st in self._venues.values():
            self._set_limit(st)
            if now is not None:
                self._settle(st, now)

    def _set_limit(self, st: _Venue) -> None:
        info = st.info
        st.level = self._risk.get(info.county_code, "low")
        st.share = self.policy.share(info.category, st.level)
        st.rule = self.policy.rule(info.category, st.level)
        st.limit = math.floor(st.share * info.capacity + 1e-9) if info.capacity else INF
        st.timeout = self.policy.stays.timeout_seconds(info.category)
        self._thresholds(st)

    def __contains__(self, code: str) -> bool:
        return code in self._venues

    # ---- events (the hot path) --------------------------------------------------------------------------
    def scan(
        self, code: str, entering: bool, at: float, person: int | None = None, valid: bool = True
    ) -> None:
        """A passage at venue ``code``: in or out, at Unix time ``at``, by ``person`` (None: unnamed)."""
        st = self._venues.get(code)
        self.stats.scans += 1
        if st is None:
            self.stats.unregistered += 1
            return
        if at >= st.bin_end:
            self._roll(st, at)
        if entering:
            if not valid:
                self.stats.refused += 1
                return
            if person is None:
                st.anon.append(at)
            elif person in st.open:
                self.stats.repeated += 1
                return
            else:
                st.open[person] = at
            st.s_in += 1
            if not st.by_counters:
                occupancy = len(st.open) + len(st.anon)
                if occupancy >= st.next_at:
                    self._escalate(st, at, occupancy)
        else:
            if person is not None:
                time_in = st.open.pop(person, None)
                if time_in is None:
                    self.stats.unmatched_exits += 1
                    return
                self.stays.append(Stay(person, code, time_in, max(at, time_in), "exit"))
            elif st.anon:
                st.anon.popleft()
            else:
                self.stats.unmatched_exits += 1
                return
            st.s_out += 1

    def count(self, code: str, at: float, entries: int, exits: int) -> None:
        """A counter's people in and out at venue ``code`` since its previous message."""
        st = self._venues.get(code)
        self.stats.readings += 1
        if st is None:
            self.stats.unregistered += 1
            return
        if at >= st.bin_end:
            self._roll(st, at)
        headcount = (len(st.open) + len(st.anon) if st.ctr is None else st.ctr) + entries - exits
        st.ctr = headcount if headcount > 0 else 0
        st.c_in += entries
        st.c_out += exits
        if at > st.ctr_last:
            st.ctr_last = at
        st.by_counters = True
        if st.ctr >= st.next_at:
            self._escalate(st, at, st.ctr)

    def counter(self, reading: CounterReading) -> None:
        """The sink of de-duplicated counter readings (``Callable[[CounterReading], None]``)."""
        self.count(reading.venue_code, reading.at.timestamp(), reading.entries, reading.exits)

    # ---- time -------------------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """Close bins and timed-out stays up to ``now`` and let alerts clear; call it every second or so."""
        for st in self._venues.values():
            self._expire(st, now)
            if now >= st.bin_end:
                self._roll(st, now)
            elif st.state:
                self._settle(st, now)

    def _expire(self, st: _Venue, now: float) -> None:
        cutoff = now - st.timeout
        if st.open:
            expired = []
            for person, time_in in st.open.items():
                if time_in > cutoff:
                    break
                expired.append((person, time_in))
            for person, time_in in expired:
                del st.open[person]
                self.stays.append(Stay(person, st.info.code, time_in, time_in + st.timeout, "timeout"))
            st.s_out += len(expired)
            self.stats.timeouts += len(expired)
        while st.anon and st.anon[0] <= cutoff:
            st.anon.popleft()
            st.s_out += 1
            self.stats.timeouts += 1

    def _roll(self, st: _Venue, at: float) -> None:
        """Close the bins that ended by ``at``: smooth their arrivals and departures, renew the thresholds."""
        if st.bin_end == -INF:  # the venue's first event: bins aligned to the bin length
            st.bin_end = (at // self._bin + 1) * self._bin
            return
        bins = int((at - st.bin_end) // self._bin) + 1
        if st.by_counters and at - st.ctr_last > self._stale:
            st.by_counters, st.ctr = False, None  # counters went quiet: the scans count again
        if st.by_counters:
            arrivals, departures = st.c_in, st.c_out
        else:
            arrivals, departures = st.s_in, st.s_out
        st.s_in = st.s_out = st.c_in = st.c_out = 0
        self._smooth(st, arrivals, departures)
        if bins - 1 > MAX_EMPTY_BINS:
            st.a_level = st.a_trend = st.d_level = st.d_trend = 0.0
        else:
            for _ in range(bins - 1):
                self._smooth(st, 0, 0)
        st.bin_end += bins * self._bin
        self._thresholds(st)
        self._settle(st, at)

    def _smooth(self, st: _Venue, arrivals: int, departures: int) -> None:
        if not st.primed:
            st.a_level, st.d_level, st.primed = float(arrivals), float(departures), True
            return
        alpha, beta, phi = self._alpha, self._beta, self._phi
        level = alpha * arrivals + (1 - alpha) * (st.a_level + phi * st.a_trend)
        st.a_trend = beta * (level - st.a_level) + (1 - beta) * phi * st.a_trend
        st.a_level = level
        level = alpha * departures + (1 - alpha) * (st.d_level + phi * st.d_trend)
        st.d_trend = beta * (level - st.d_level) + (1 - beta) * phi * st.d_trend
        st.d_level = level

    def _forecast_flows(self, st: _Venue) -> tuple[float, float]:
        """Forecast arrivals and departures over the horizon (never negative)."""
        arrivals = self._horizon * st.a_level + self._trend_sum * st.a_trend
        departures = self._horizon * st.d_level + self._trend_sum * st.d_trend
        return max(arrivals, 0.0), max(departures, 0.0)

    def _thresholds(self, st: _Venue) -> None:
        arrivals, departures = self._forecast_flows(st)
        st.projected = arrivals - departures
        if st.state == LIMIT:
            st.next_at = INF
        elif st.state == WARNING or st.projected <= 0:
            st.next_at = st.reached_at
        else:
            st.next_at = max(st.reached_at - st.projected, 1.0)

    # ---- states and alerts ------------------------------------------------------------------------------
    def _escalate(self, st: _Venue, at: float, occupancy: int) -> None:
        state = LIMIT if occupancy >= st.reached_at else WARNING
        if state > st.state:
            self._move(st, state, at, occupancy)

    def _settle(self, st: _Venue, at: float) -> None:
        occupancy = st.occupancy
        if occupancy >= st.next_at:
            self._escalate(st, at, occupancy)
            return
        if st.state == NORMAL or at - st.since < self._hold:
            return
        line = self._clear * st.reached_at
        forecast = occupancy + st.projected
        if occupancy >= line:
            return
        if st.state == LIMIT and forecast >= st.reached_at:
            self._move(st, WARNING, at, occupancy)
        elif forecast < line:
            self._move(st, NORMAL, at, occupancy)

    def _move(self, st: _Venue, state: int, at: float, occupancy: int) -> None:
        kind = STATES[state] if state else "clear"
        st.state, st.since = state, at
        self._thresholds(st)
        self.alerts.append(self._alert(st, kind, at, occupancy))
        self.stats.alerts[kind] += 1

    def _alert(self, st: _Venue, kind: str, at: float, occupancy: int) -> Alert:
        info = st.info
        arrivals, departures = self._forecast_flows(st)
        forecast = max(round(occupancy + arrivals - departures), 0)
        per_minute = 60.0 / self._bin
        minutes = self._horizon * self._bin / 60
        limit = int(st.limit)
        source = "counters" if st.by_counters else "scans"
        where = f"{info.name} ({info.code}, {info.category}, county {info.county_code})"
        what = {
            "warning": f"forecast {forecast} inside within {minutes:g} min reaches the limit of {limit}",
            "limit": f"{occupancy} inside reached the limit of {limit}",
            "clear": f"{occupancy} inside and forecast {forecast} are below {self._clear:.0%} of the limit",
        }[kind]
        reasons = (
            f"{where}: {what}",
            f"limit {limit} = {st.share:.0%} of capacity {info.capacity} ({st.rule})",
            f"headcount {occupancy} from {source}",
            f"forecast by Holt's damped trend over {self._bin:g} s bins: "
            f"arrivals {arrivals / minutes:.1f}/min, departures {departures / minutes:.1f}/min "
            f"over the next {minutes:g} min",
        )
        return Alert(
            kind=kind,
            at=dt.datetime.fromtimestamp(at, dt.UTC),
            venue_code=info.code,
            venue_name=info.name,
            category=info.category,
            county_code=info.county_code,
            occupancy=occupancy,
            limit=limit,
            capacity=int(info.capacity or 0),
            share=st.share,
            risk_level=st.level,
            rule=st.rule,
            policy_version=self.policy.version,
            forecast=forecast,
            horizon_minutes=minutes,
            arrivals_per_minute=round(st.a_level * per_minute, 2),
            departures_per_minute=round(st.d_level * per_minute, 2),
            source=source,
            reasons=reasons,
        )

    # ---- views ------------------------------------------------------------------------------------------
    def venue(self, code: str) -> dict[str, object] | None:
        st = self._venues.get(code)
        return None if st is None else self._view(st)

    def venues(self, county: str | None = None) -> list[dict[str, object]]:
        """Every venue's live state (of one county), fullest first (by share of the limit)."""
        views = [self._view(st) for st in self._venues.values() if county in (None, st.info.county_code)]
        return sorted(views, key=lambda v: (-(v["limit_share"] or 0.0), v["venue_code"]))

    def counties(self) -> list[dict[str, object]]:
        """Per county: people inside the registered venues, their capacity and limits, venues in alert."""
        out: dict[str, dict[str, object]] = {}
        for st in self._venues.values():
            info = st.info
            row = out.setdefault(info.county_code, {
                "county_code": info.county_code, "risk_level": st.level, "venues": 0, "occupancy": 0,
                "capacity": 0, "limit": 0, "warning": 0, "at_limit": 0,
            })  # fmt: skip
            row["venues"] += 1
            row["occupancy"] += st.occupancy
            row["capacity"] += int(info.capacity or 0)
            row["limit"] += 0 if st.limit == INF else int(st.limit)
            row["warning"] += st.state == WARNING
            row["at_limit"] += st.state == LIMIT
        return sorted(out.values(), key=lambda r: r["county_code"])

    def _view(self, st: _Venue) -> dict[str, object]:
        info = st.info
        occupancy = st.occupancy
        arrivals, departures = self._forecast_flows(st)
        limit = None if st.limit == INF else int(st.limit)
        per_minute = 60.0 / self._bin
        return {
            "venue_code": info.code,
            "name": info.name,
            "category": info.category,
            "county_code": info.county_code,
            "capacity": info.capacity,
            "risk_level": st.level,
            "share": st.share,
            "limit": limit,
            "rule": st.rule,
            "occupancy": occupancy,
            "source": "counters" if st.by_counters else "scans",
            "scanned_inside": st.scanned,
            "counter_headcount": st.ctr,
            "forecast": max(round(occupancy + arrivals - departures), 0),
            "horizon_minutes": self._horizon * self._bin / 60,
            "arrivals_per_minute": round(st.a_level * per_minute, 2),
            "departures_per_minute": round(st.d_level * per_minute, 2),
            "state": STATES[st.state],
            "limit_share": None if not limit else round(occupancy / limit, 4),
        }
