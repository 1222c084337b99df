"""Daily life in the synthetic province: where each person goes, how they travel, who is near whom.

Owns the ``life`` section of params.yaml and, for each simulated day, the events departments record —
venue stays, trips, telecom city stays, health declarations, enterprise electricity — together with the
*gatherings* the outbreak spreads along: households, teams at work or school, proximity groups at venues (a
restaurant table, a workout group, neighbours in a cinema row) and vehicle units (a train carriage or
soft-sleeper compartment, a coach, an aircraft or bus with seat rows, a ship cabin), plus casual *mixing* bins
(same venue and part of the day; same metro line and half hour). Group mates at a venue arrive within the same
15 minutes and stay at least 30 minutes, so their recorded stays overlap by 15 minutes or more. Everything is
vectorised over persons.

Trips follow the manifests: metro and bus taps carry no seat (a bus's rows exist only in the ground truth);
coaches and aircraft have seat rows; trains have carriage, class and seat, with the soft-sleeper compartment
(and the hard-sleeper bay, the hard-seat row) in ``seat_row``; ship cabins are carriages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from shuzhi import model, regions
from shuzhi.sim.population import (
    ClockSpan,
    IntRange,
    Population,
    Share,
    Strict,
    ranks_within,
    take,
)

PARTS = ("morning", "midday", "afternoon", "evening")
MIDDAY, AFTERNOON, EVENING = 1, 2, 3  # indices into PARTS
SYMPTOMS = ("fever", "cough", "fatigue", "sore_throat", "diarrhoea")
DAY = 86_400
SLOT = 15 * 60  # arrival window of a venue group, seconds
NEVER = np.iinfo(np.int16).max
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]

# ------------------------------------------------------------------------------------------------------------
# Parameters


class CategoryLife(Strict):
    hours: ClockSpan
    minutes: IntRange
    group: IntRange
    parts: dict[str, NonNegative]

    @field_validator("parts")
    @classmethod
    def _known_parts(cls, value: dict[str, float]) -> dict[str, float]:
        if unknown := set(value) - set(PARTS):
            raise ValueError(f"unknown parts of the day {sorted(unknown)}; parts are {list(PARTS)}")
        return value


class Period(Strict):
    name: str
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    work: Share | None = None
    school: Share | None = None
    venues: NonNegative | None = None
    travel: NonNegative | None = None
    closed: list[str] | None = None

    @field_validator("closed")
    @classmethod
    def _categories(cls, value: list[str] | None) -> list[str] | None:
        if value and (unknown := set(value) - set(model.VENUE_CATEGORIES)):
            raise ValueError(f"unknown venue categories {sorted(unknown)}")
        return value


class CommuteParams(Strict):
    metro_share: Share
    bus_share: Share
    metro_lines: dict[str, Annotated[int, Field(gt=0)]]
    persons_per_bus_line: Annotated[int, Field(gt=0)]
    ferry_cities: list[str]


class Closure(Strict):
    region: str
    start: dt.date = Field(alias="from")


class Destination(Strict):
    weight: NonNegative
    flight_share: Share
    lonlat: tuple[float, float]
    airport: str
    station: str


class Stop(Strict):
    county: str
    name: str


class TravelParams(Strict):
    day_trip_rate: Share
    day_trip_train_share: Share
    departure_rate: Share
    away_days: IntRange
    away_at_start: Share
    closures: list[Closure]
    destinations: Annotated[dict[str, Destination], Field(min_length=1)]
    airports: dict[str, Stop]
    city_airport: dict[str, str]
    stations: dict[str, Stop]
    plates: dict[str, str]
    speeds_kmh: dict[str, PositiveFloat]

    @model_validator(mode="after")
    def _regions(self) -> TravelParams:
        known, cities = regions.divisions(), {c.city_code for c in regions.zhejiang_counties()}
        counties = {c.code for c in regions.zhejiang_counties()}
        for code in [*self.destinations, *(c.region for c in self.closures)]:
            if code not in known:
                raise ValueError(f"region {code} is not a GB/T 2260 code")
        if any(code.startswith("33") for code in self.destinations):
            raise ValueError("destinations must lie outside Zhejiang")
        for name, mapping in (("city_airport", self.city_airport), ("stations", self.stations)):
            if set(mapping) != cities:
                raise ValueError(f"{name} needs exactly Zhejiang's 11 city codes")
        if set(self.plates) != cities:
            raise ValueError("plates needs exactly Zhejiang's 11 city codes")
        if unknown := set(self.city_airport.values()) - set(self.airports):
            raise ValueError(f"city_airport names unknown airports {sorted(unknown)}")
        for stop in [*self.airports.values(), *self.stations.values()]:
            if stop.county not in counties:
                raise ValueError(f"{stop.name}: county {stop.county} is not a Zhejiang county")
        if {"flight", "train", "coach"} - set(self.speeds_kmh):
            raise ValueError("speeds_kmh needs flight, train and coach")
        return self


class VehicleParams(Strict):
    bus_capacity: Annotated[int, Field(gt=0, le=400)]
    coach_seats: Annotated[int, Field(gt=0, le=80)]
    flight_rows: Annotated[int, Field(gt=0, le=80)]
    ship_cabin_seats: Annotated[int, Field(gt=0, le=999)]
    ship_cabins: Annotated[int, Field(gt=0, le=20)]
    train_classes: dict[str, NonNegative]

    @field_validator("train_classes")
    @classmethod
    def _classes(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(TRAIN_LAYOUT) or sum(value.values()) <= 0:
            raise ValueError(f"need positive shares of {list(TRAIN_LAYOUT)}")
        return value


class DeclarationParams(Strict):
    daily_share: Share
    observed_share: Share
    observed_per_day: int = Field(ge=1, le=2)  # once, or morning and evening
    traveller_share: Share
    symptoms: dict[str, Share]
    background_symptomatic: Share

    @field_validator("symptoms")
    @classmethod
    def _symptoms(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(SYMPTOMS):
            raise ValueError(f"need the symptoms {list(SYMPTOMS)}")
        return value


class ElectricityParams(Strict):
    base_load: Share
    noise_sd: NonNegative


class LifeParams(Strict):
    parts: dict[str, ClockSpan]
    work_hours: ClockSpan
    school_hours: ClockSpan
    visit_probability: dict[str, tuple[Share, Share]]
    worker_visits: dict[str, Share]
    pupil_evening_visit: Share
    venue_in_home_county: Share
    group_jitter_minutes: Annotated[int, Field(ge=0, le=60)]
    categories: dict[str, CategoryLife]
    attendance: dict[str, tuple[Share, Share]]
    periods: list[Period]
    commute: CommuteParams
    travel: TravelParams
    vehicles: VehicleParams
    declarations: DeclarationParams
    electricity: ElectricityParams

    @field_validator("parts")
    @classmethod
    def _parts(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        if set(value) != set(PARTS):
            raise ValueError(f"need exactly the parts {list(PARTS)}")
        spans = [value[part] for part in PARTS]
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
            raise ValueError(
                f"parts of the day must follow each other without overlap, in the order {list(PARTS)}"
            )
        return {part: value[part] for part in PARTS}

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: dict[str, CategoryLife]) -> dict[str, CategoryLife]:
        if set(value) != set(model.VENUE_CATEGORIES):
            raise ValueError(f"need exactly the categories {list(model.VENUE_CATEGORIES)}")
        return {name: value[name] for name in model.VENUE_CATEGORIES}

    @model_validator(mode="after")
    def _consistent(self) -> LifeParams:
        if set(self.visit_probability) != {"child", "adult", "senior"}:
            raise ValueError("visit_probability needs child, adult and senior")
        if set(self.attendance) != {"work", "school"} or set(self.worker_visits) - {"midday", "evening"}:
            raise ValueError("attendance needs work and school; worker_visits only midday and evening")
        for name, cat in self.categories.items():
            _check_category(name, cat, self.parts)
        return self


def _check_category(name: str, cat: CategoryLife, parts: dict[str, tuple[int, int]]) -> None:
    if cat.group[0] < 1:
        raise ValueError(f"categories.{name}.group: sizes start at 1")
    if cat.group[1] > 1 and cat.minutes[0] < 30:
        raise ValueError(f"categories.{name}: groups need stays of at least 30 minutes")
    for part, weight in cat.parts.items():
        if weight > 0 and _slots(cat, parts[part])[1] < 1:
            raise ValueError(
                f"categories.{name}.parts.{part}: a {cat.minutes[1]}-minute stay does not fit "
                f"the {part} within opening hours"
            )


def _slots(cat: CategoryLife, part: tuple[int, int]) -> tuple[int, int]:
    """First arrival slot (15-minute index) and number of slots for a stay of the category in a part."""
    begin, end = max(part[0], cat.hours[0]), min(part[1], cat.hours[1])
    first = -(-begin // 15)
    return first, (end - cat.minutes[1] - 15 - first * 15) // 15 + 1


# ------------------------------------------------------------------------------------------------------------
# What life hands the outbreak, and what the outbreak imposes on life


@dataclass
class Gathering:
    """Persons together in one setting today, rows sorted by group. Two members are in close contact when
    their positions differ by at most the radius of the first and their times overlap."""

    setting: str
    person: np.ndarray
    group: np.ndarray
    start: np.ndarray  # seconds after midnight
    end: np.ndarray
    places: pa.Array  # place label of each group, or of each ``place_of_group`` index
    pos: np.ndarray | None = None
    radius: np.ndarray | None = None
    place_of_group: np.ndarray | None = None

    def place_index(self, group: np.ndarray) -> np.ndarray:
        return group if self.place_of_group is None else self.place_of_group[group]


@dataclass
class Mixing:
    """Persons sharing a large space casually today (a venue in one part of the day, a metro line in one half
    hour): bins of possible casual transmission, not close contact."""

    setting: str
    person: np.ndarray
    bin: np.ndarray
    start: np.ndarray
    end: np.ndarray
    places: pa.Array  # place label of each bin's place
    place_of_bin: np.ndarray


@dataclass
class Status:
    """What the outbreak and the public-health response impose on one day."""

    confined: (
        np.ndarray
    )  # bool per person: no events today (isolated, under home observation, at a fever clinic)
    isolated: np.ndarray  # bool per person: in hospital since before today, not at home either
    observed: np.ndarray  # bool per person: under home observation
    leaves: np.ndarray  # persons leaving home for isolation today ...
    leaves_at: np.ndarray  # ... at this second of the day
    symptomatic: np.ndarray  # persons with symptoms today, not isolated


@dataclass
class DayLife:
    """One day of life: the department tables and the gatherings the outbreak spreads along."""

    tables: dict[str, pa.Table]
    gatherings: list[Gathering]
    mixing: list[Mixing]
    arrivals: np.ndarray  # persons arriving from another province today ...
    arrival_regions: list[str]  # ... and the region code each came from


# ------------------------------------------------------------------------------------------------------------
# Calendar


@dataclass(frozen=True)
class Conditions:
    """Attendance rates and activity multipliers of one date."""

    work: float
    school: float
    venues: float
    travel: float
    closed: frozenset[str]
    weekend: bool


def conditions(p: LifeParams, day: dt.date) -> Conditions:
    """The day's conditions: normal attendance by weekday/weekend, changed by the periods covering it."""
    weekend = day.weekday() >= 5
    values: dict[str, object] = {"venues": 1.0, "travel": 1.0, "closed": frozenset()}
    base = {kind: p.attendance[kind][int(weekend)] for kind in ("work", "school")}
    values.update(base)
    for period in p.periods:
        if period.start <= day <= period.end:
            for kind in ("work", "school"):
                rate = getattr(period, kind)
                if rate is not None:
                    values[kind] = min(rate, p.attendance[kind][1]) if weekend else rate
            for name in ("venues", "travel"):
                if getattr(period, name) is not None:
                    values[name] = getattr(period, name)
            if period.closed is not None:
                values["closed"] = frozenset(period.closed)
    return Conditions(weekend=weekend, **values)


# ------------------------------------------------------------------------------------------------------------
# Vehicles

COMMUTE_NONE, COMMUTE_BUS, COMMUTE_METRO, COMMUTE_FERRY = range(4)
# class: (first carriage, carriages, places per carriage, places per proximity unit or 0: the whole carriage)
TRAIN_LAYOUT = {"soft_sleeper": (1, 2, 36, 4), "hard_sleeper": (3, 6, 66, 0), "hard_seat": (9, 8, 100, 0)}
ROW_WIDTH = {"soft_sleeper": 4, "hard_sleeper": 6, "hard_seat": 5}
TRAVEL_AGE = 16
AIRLINES = ("MU", "CA", "CZ", "HU", "3U", "ZH", "FM", "MF", "GJ", "KY")


def fill_runs(keys: np.ndarray, capacity: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Seat riders sharing a key in vehicles of ``capacity``: a dense run id per rider (one key may need
    several runs) and a seat 0..capacity-1, unique within the run and scattered over the vehicle."""
    if len(keys) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = rng.permutation(len(keys))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = ranks_within(keys[order])
    run = np.unique(np.asarray(keys, np.int64) * 1_000_000 + rank // capacity, return_inverse=True)[1].ravel()
    coprime = np.array([s for s in range(1, capacity + 1) if np.gcd(s, capacity) == 1])
    step = rng.choice(coprime, run.max() + 1)
    offset = rng.integers(0, capacity, run.max() + 1)
    return run, (offset[run] + (rank % capacity) * step[run]) % capacity


@dataclass
class Trips:
    """Trip rows of the day being assembled, and the vehicle units they form."""

    day_base: int
    ids: pa.Array
    tables: list[pa.Table] = field(default_factory=list)
    units: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    unit_places: list[pa.Array] = field(default_factory=list)
    n_units: int = 0

    def add(self, person: np.ndarray, mode: str, columns: dict[str, object]) -> None:
        """Rows of one mode; ``columns``: trip_no, dep/arr (seconds of the day), regions, stops, seats."""
        n = len(person)
        if n == 0:
            return
        schema = model.with_raw_ids(model.TRIPS)
        arrays = [take(self.ids, person), pa.repeat(pa.scalar(mode, pa.string()), n)]
        for f in list(schema)[2:]:
            value = columns.get(f.name)
            if value is None:
                arrays.append(pa.nulls(n, f.type))
            elif f.name in ("dep_time", "arr_time"):
                arrays.append(pa.array(self.day_base + np.asarray(value, np.int64), f.type))
            else:
                arrays.append(value if isinstance(value, pa.Array) else pa.array(value, f.type))
        self.tables.append(pa.Table.from_arrays(arrays, schema=schema))

    def add_units(self, person, unit, start, end, pos, radius, places: pa.Array) -> None:
        """Vehicle units: riders of unit ``unit`` (0..len(places)-1) are near each other within ``radius``."""
        self.units.append((person, unit + self.n_units, start, end, pos, radius))
        self.unit_places.append(places)
        self.n_units += len(places)

    def table(self) -> pa.Table:
        schema = model.with_raw_ids(model.TRIPS)
        return pa.concat_tables(self.tables) if self.tables else schema.empty_table()

    def gathering(self) -> Gathering:
        cols = [
            np.concatenate([u[k] for u in self.units]) if self.units else np.empty(0, np.int64)
            for k in range(6)
        ]
        order = np.argsort(cols[1], kind="stable")
        person, unit, start, end, pos, radius = (c[order] for c in cols)
        places = pa.concat_arrays(self.unit_places) if self.unit_places else pa.array([], pa.string())
        return Gathering("vehicle", person, unit, start, end, places, pos, radius)


# ------------------------------------------------------------------------------------------------------------
# Daily life


class Life:
    """Generates each day's events and gatherings; keeps who is out of the province, where and until when."""

    def __init__(self, p: LifeParams, pop: Population, days: int, seed: int) -> None:
        self.p, self.pop, self.days, self.seed = p, pop, days, seed
        geo, n = pop.geo, len(pop)
        rng = np.random.default_rng([seed, 10])
        self.city = geo.county_city[pop.persons.county].astype(np.int8)
        self.traveller = pop.persons.age >= TRAVEL_AGE  # who travels out of town on their own
        self.external = list(p.travel.destinations)
        self.region_pool = pa.array([*geo.city_codes, *self.external], pa.string())
        self.away_region = np.full(n, -1, dtype=np.int16)
        self.away_from = np.zeros(n, dtype=np.int16)
        self.away_until = np.zeros(n, dtype=np.int16)
        self.must_return = np.zeros(n, dtype=bool)
        self.recent_region = np.full(n, -1, dtype=np.int16)  # index into region_pool
        self.recent_day = np.full(n, -NEVER, dtype=np.int16)
        self._init_commute(rng)
        self._init_away(rng)
        self._init_layout()

    # -- static set-up ---------------------------------------------------------------------------------------

    def _init_commute(self, rng: np.random.Generator) -> None:
        c, w, geo = self.p.commute, self.pop.work, self.pop.geo
        team = w.person_team
        worker = (team >= 0) & ~(w.team_school[team] & (self.pop.persons.age < 18))
        work_county = np.where(team >= 0, w.county[w.team_enterprise[team]], -1)
        self.work_county = work_county.astype(np.int16)
        lines = np.array([c.metro_lines.get(code, 0) for code in geo.city_codes])
        city_people = np.bincount(self.city, minlength=len(geo.city_codes))
        self.bus_lines = np.maximum(3, np.rint(city_people / c.persons_per_bus_line)).astype(np.int64)
        draw = rng.random(len(team))
        has_metro = lines[self.city] > 0
        mode = np.where(has_metro & (draw < c.metro_share), COMMUTE_METRO, COMMUTE_NONE)
        bus_from = np.where(has_metro, c.metro_share, 0.0)
        mode = np.where((draw >= bus_from) & (draw < bus_from + c.bus_share), COMMUTE_BUS, mode)
        ferry_city = np.isin(np.array(geo.city_codes)[self.city], c.ferry_cities)
        mode = np.where(
            ferry_city & (work_county != self.pop.persons.county) & (work_county >= 0), COMMUTE_FERRY, mode
        )
        self.commute = np.where(worker, mode, COMMUTE_NONE).astype(np.int8)
        line_count = np.where(self.commute == COMMUTE_METRO, lines[self.city], self.bus_lines[self.city])
        self.line = (1 + rng.random(len(team)) * np.maximum(line_count, 1)).astype(np.int16)

    def _init_away(self, rng: np.random.Generator) -> None:
        away = np.flatnonzero(self.traveller & (rng.random(len(self.pop)) < self.p.travel.away_at_start))
        weights = np.array([d.weight for d in self.p.travel.destinations.values()])
        self.away_region[away] = rng.choice(len(weights), len(away), p=weights / weights.sum())
        self.away_from[away] = -1
        self.away_until[away] = rng.integers(0, self.days + 10, len(away))

    def _init_layout(self) -> None:
        p = self.p
        cats = list(p.categories.values())
        weights = np.zeros((len(PARTS), len(cats)))
        self.first_slot = np.zeros((len(PARTS), len(cats)), dtype=np.int64)
        self.n_slots = np.ones((len(PARTS), len(cats)), dtype=np.int64)
        for k, cat in enumerate(cats):
            for j, part in enumerate(PARTS):
                first, count = _slots(cat, p.parts[part])
                if count >= 1:
                    weights[j, k] = cat.parts.get(part, 0.0)
                    self.first_slot[j, k], self.n_slots[j, k] = first, count
        self.part_weights = weights
        self.minutes = np.array([c.minutes for c in cats])
        self.group_size = np.array([c.group for c in cats])
        geo = self.pop.geo
        self.city_names = [regions.divisions()[c].name for c in geo.city_codes]
        self.city_lonlat = geo.city_lonlat()
        self.stop_pool = pa.array([f"第{k}站" for k in range(1, 41)], pa.string())
        self.metro_names = pa.array([f"地铁{k}号线" for k in range(1, 21)], pa.string())
        self.metro_stations = pa.array(
            [f"{k}号线第{s}站" for k in range(1, 21) for s in range(1, 31)], pa.string()
        )
        self.seat_pools = _seat_pools(p.vehicles)
        self.person_enterprise = self.pop.work.person_enterprise.astype(np.int32)
        self.member_count = np.bincount(
            self.person_enterprise[self.person_enterprise >= 0], minlength=len(self.pop.work.staff)
        )
        members = self.pop.work.person_team
        in_team = np.flatnonzero(members >= 0).astype(np.int32)
        self.team_order = in_team[np.argsort(members[in_team], kind="stable")]
        self.team_places = self.pop.work.team_places()

    # -- travel state shared with the outbreak ---------------------------------------------------------------

    def send_away(self, person: np.ndarray, region: str, until: np.ndarray) -> None:
        """Put persons in ``region`` (another province) until day ``until`` (they return then, closures or
        not); persons with ``until`` < 0 came back before the first day and only remember the trip."""
        idx = self.external.index(region)
        later = until >= 0
        self.away_region[person[later]] = idx
        self.away_from[person[later]] = -1
        self.away_until[person[later]] = until[later]
        self.must_return[person[later]] = True
        self.recent_region[person] = len(self.pop.geo.city_codes) + idx
        self.recent_day[person] = np.minimum(until, -1)

    def away_all_day(self, d: int) -> np.ndarray:
        """Persons in another province for the whole of day ``d``."""
        return (self.away_region >= 0) & (self.away_from <= d) & (self.away_until > d)

    # -- one day ---------------------------------------------------------------------------------------------

    def day(self, d: int, status: Status) -> DayLife:
        """All events and gatherings of simulated day ``d`` (0-based)."""
        date = self.pop.start + dt.timedelta(days=d)
        cond = conditions(self.p, date)
        rng = np.random.default_rng([self.seed, 1, d])
        day_base = int((np.datetime64(date, "s") - np.datetime64(0, "s")).astype(np.int64))
        trips = Trips(day_base, self.pop.persons.ids)
        away_all_day = self.away_all_day(d)
        inter = self._interprovince(d, date, cond, status, away_all_day, trips, rng)
        mobile = ~status.confined & ~away_all_day
        mobile[inter.person] = False
        tripper = self._day_trips(d, cond, mobile, trips, rng)
        mobile_local = mobile.copy()
        mobile_local[tripper.person] = False
        attend = self._attendance(cond, mobile_local, rng)
        metro = self._commutes(attend, trips, rng)
        stays, venue_groups, venue_mixing = self._visits(cond, mobile_local, attend, tripper, day_base, rng)
        households = self._households(status, away_all_day, inter)
        teams = self._teams(attend, rng)
        tables = {
            "venue_stays": stays,
            "trips": trips.table(),
            "telecom_stays": self._telecom(away_all_day, inter, tripper, day_base, rng),
            "declarations": self._declarations(d, status, away_all_day, day_base, rng),
            "electricity": self._electricity(date, attend, rng),
        }
        arrivals = inter.person[inter.inbound]
        return DayLife(
            tables=tables,
            gatherings=[households, *teams, venue_groups, trips.gathering()],
            mixing=[venue_mixing, metro],
            arrivals=arrivals,
            arrival_regions=[self.external[r] for r in inter.region[inter.inbound]],
        )

    # -- travel out of and back into the province ------------------------------------------------------------

    def _interprovince(self, d, date, cond, status, away_all_day, trips, rng) -> _Inter:
        t = self.p.travel
        closed = np.array(
            [any(c.region == code and c.start <= date for c in t.closures) for code in self.external]
        )
        back = np.flatnonzero((self.away_region >= 0) & (self.away_until == d))
        stuck = back[closed[self.away_region[back]] & ~self.must_return[back]]
        self.away_until[stuck] = NEVER
        back = np.setdiff1d(back, stuck)
        draw = rng.random(len(self.pop), dtype=np.float32) < t.departure_rate * cond.travel
        draw[back] = False
        leaving = np.flatnonzero(draw & ~status.confined & ~away_all_day & self.traveller)
        weights = np.array([dest.weight for dest in t.destinations.values()]) * ~closed
        if weights.sum() == 0:
            leaving = leaving[:0]
        dest = rng.choice(len(weights), len(leaving), p=weights / max(weights.sum(), 1e-12))
        self.away_region[leaving] = dest
        self.away_from[leaving] = d + 1
        self.away_until[leaving] = d + rng.integers(t.away_days[0], t.away_days[1] + 1, len(leaving))
        person = np.concatenate([back, leaving])
        region = np.concatenate([self.away_region[back], dest]).astype(np.int64)
        inbound = np.arange(len(person)) < len(back)
        self.away_region[back] = -1
        self.must_return[back] = False
        self.recent_region[person] = len(self.pop.geo.city_codes) + region
        self.recent_day[person] = d
        inter = _Inter(
            person, region, inbound, np.zeros(len(person), np.int64), np.zeros(len(person), np.int64)
        )
        flight = rng.random(len(person)) < np.array([x.flight_share for x in t.destinations.values()])[region]
        self._flights(inter, flight, trips, rng)
        self._long_trains(inter, ~flight, trips, rng)
        return inter

    def _distance_km(self, city: np.ndarray, region: np.ndarray) -> np.ndarray:
        ext = np.array([x.lonlat for x in self.p.travel.destinations.values()])[region]
        return _haversine(self.city_lonlat[city], ext)

    def _flights(self, inter: _Inter, which: np.ndarray, trips: Trips, rng: np.random.Generator) -> None:
        t, v = self.p.travel, self.p.vehicles
        idx = np.flatnonzero(which)
        person, region, inbound = inter.person[idx], inter.region[idx], inter.inbound[idx]
        airports = list(t.airports)
        airport = np.array([airports.index(t.city_airport[c]) for c in self.pop.geo.city_codes])[
            self.city[person]
        ]
        key = (region * 100 + airport) * 2 + inbound
        run, seat = fill_runs(key, v.flight_rows * 6, rng)
        n_runs = int(run.max(initial=-1)) + 1
        airport_lonlat = self.pop.geo.lonlat[
            [self.pop.geo.county_codes.index(s.county) for s in t.airports.values()]
        ]
        ext_lonlat = np.array([x.lonlat for x in t.destinations.values()])
        km = _haversine(airport_lonlat[airport], ext_lonlat[region])
        minutes = _whole_minutes(40 + km / t.speeds_kmh["flight"] * 60)
        dep = _run_times(run, n_runs, minutes, rng)
        arr = dep + (minutes * 60).astype(np.int64)
        run_names = [
            f"{AIRLINES[a]}{n:04d}"
            for a, n in zip(
                rng.integers(0, len(AIRLINES), n_runs).tolist(),
                rng.integers(1000, 9999, n_runs).tolist(),
                strict=True,
            )
        ]
        ext = pa.array([x.airport for x in t.destinations.values()], pa.string())
        zj_code = pa.array(airports, pa.string())
        zj_county = pa.array([s.county for s in t.airports.values()], pa.string())
        ext_region = take(pa.array(self.external, pa.string()), region)
        here_region, here_stop, there_stop = (
            take(zj_county, airport),
            take(zj_code, airport),
            take(ext, region),
        )
        row = seat // 6 + 1
        trips.add(
            person,
            "flight",
            {
                "trip_no": take(pa.array(run_names, pa.string()), run),
                "dep_time": dep,
                "arr_time": arr,
                "origin_region": _pick(inbound, ext_region, here_region),
                "destination_region": _pick(inbound, here_region, ext_region),
                "origin_stop": _pick(inbound, there_stop, here_stop),
                "destination_stop": _pick(inbound, here_stop, there_stop),
                "carriage_class": pa.repeat(pa.scalar("economy", pa.string()), len(person)),
                "seat_row": row.astype(np.int16),
                "seat": take(self.seat_pools["flight"], seat),
            },
        )
        trips.add_units(person, run, dep, arr, row, np.full(len(person), 3), pa.array(run_names, pa.string()))
        inter.set_times(idx, dep, arr)

    def _long_trains(self, inter: _Inter, which: np.ndarray, trips: Trips, rng: np.random.Generator) -> None:
        t = self.p.travel
        idx = np.flatnonzero(which)
        person, region, inbound = inter.person[idx], inter.region[idx], inter.inbound[idx]
        city = self.city[person]
        key = (region * 100 + city) * 2 + inbound
        hours = self._distance_km(city, region) * 1.25 / t.speeds_kmh["train"]
        station = pa.array([x.station for x in t.destinations.values()], pa.string())
        ext_region = take(pa.array(self.external, pa.string()), region)
        here_county = take(pa.array([s.county for s in t.stations.values()], pa.string()), city)
        here_name = take(pa.array([s.name for s in t.stations.values()], pa.string()), city)
        there = take(station, region)
        classes = list(TRAIN_LAYOUT)
        shares = np.array([self.p.vehicles.train_classes[c] for c in classes])
        klass = rng.choice(len(classes), len(person), p=shares / shares.sum())
        dep, arr = self._trains(
            person,
            key,
            klass,
            _whole_minutes(hours * 60 + 20),
            None,
            "K",
            trips,
            rng,
            {
                "origin_region": _pick(inbound, ext_region, here_county),
                "destination_region": _pick(inbound, here_county, ext_region),
                "origin_stop": _pick(inbound, there, here_name),
                "destination_stop": _pick(inbound, here_name, there),
            },
        )
        inter.set_times(idx, dep, arr)

    def _trains(
        self, person, key, klass, minutes, dep, letter, trips, rng, where
    ) -> tuple[np.ndarray, np.ndarray]:
        """Train rides: one train per key (departing at ``dep``, or at a scheduled time when None); each class
        fills its own carriages. Returns departure and arrival times."""
        run_key_of = np.unique(key, return_inverse=True)[1].ravel()
        n_trains = int(run_key_of.max(initial=-1)) + 1
        if dep is None:
            dep = _run_times(run_key_of, n_trains, minutes, rng)
        arr = dep + (np.asarray(minutes) * 60).astype(np.int64)
        numbers = rng.choice(np.arange(100, 9999), max(n_trains, 1), replace=False)[:n_trains]
        names = pa.array([f"{letter}{n}" for n in numbers.tolist()], pa.string())
        carriage = np.zeros(len(person), np.int64)
        row = np.zeros(len(person), np.int64)
        unit = np.zeros(len(person), np.int64)
        seat_label = np.zeros(len(person), np.int64)
        for c, (name, (first, count, per, per_unit)) in enumerate(TRAIN_LAYOUT.items()):
            mine = np.flatnonzero(klass == c)
            if len(mine) == 0:
                continue
            run, seat = fill_runs(run_key_of[mine], count * per, rng)
            car = seat // per
            place = seat % per
            carriage[mine] = first + car
            row[mine] = place // (per_unit or ROW_WIDTH[name]) + 1
            sub = place // per_unit if per_unit else np.zeros(len(mine), np.int64)
            unit[mine] = ((run * 64 + car) * 64 + sub) * 4 + c
            seat_label[mine] = self.seat_pools["offset"][name] + place
        _, dense = np.unique(unit, return_inverse=True)
        dense = dense.ravel()
        unit_train = np.zeros(int(dense.max(initial=-1)) + 1, np.int64)
        unit_train[dense] = run_key_of
        class_pool = pa.array(list(TRAIN_LAYOUT), pa.string())
        trips.add(
            person,
            "train",
            {
                "trip_no": take(names, run_key_of),
                "dep_time": dep,
                "arr_time": arr,
                **where,
                "carriage": take(self.seat_pools["carriage"], carriage),
                "carriage_class": take(class_pool, klass),
                "seat_row": row.astype(np.int16),
                "seat": take(self.seat_pools["train"], seat_label),
            },
        )
        zeros = np.zeros(len(person), np.int64)
        trips.add_units(person, dense, dep, arr, zeros, zeros, take(names, unit_train))
        return dep, arr

    # -- day trips within the province -----------------------------------------------------------------------

    def _day_trips(self, d, cond, mobile, trips, rng) -> _Tripper:
        t, geo = self.p.travel, self.pop.geo
        draw = rng.random(len(mobile), dtype=np.float32) < t.day_trip_rate * cond.travel
        person = np.flatnonzero(draw & mobile & self.traveller)
        home = self.city[person].astype(np.int64)
        sizes = np.bincount(self.city, minlength=len(geo.city_codes)).astype(np.float64)
        dest = _other_city(home, sizes, rng)
        km = _haversine(self.city_lonlat[home], self.city_lonlat[dest]) * 1.3
        no_rail = np.array(
            [s.county[:4] != c[:4] for c, s in zip(geo.city_codes, t.stations.values(), strict=True)]
        )
        train = (rng.random(len(person)) < t.day_trip_train_share) & ~no_rail[home] & ~no_rail[dest]
        speed = np.where(train, t.speeds_kmh["train"], t.speeds_kmh["coach"])
        minutes = np.rint(km / speed * 60 + 20).astype(np.int64)
        out_dep = (11 * 60 + 30 - minutes - rng.integers(0, 90, len(person))) // 30 * 30
        out_dep = np.maximum(out_dep, 5 * 60)
        back_dep = (17 * 60 + 30 + rng.integers(0, 90, len(person))) // 30 * 30
        tripper = _Tripper(person, dest, (out_dep + minutes) * 60, back_dep * 60)
        for outbound in (True, False):
            origin, to = (home, dest) if outbound else (dest, home)
            dep_min = out_dep if outbound else back_dep
            self._intercity(person, origin, to, dep_min, minutes, train, trips, rng)
        self.recent_region[person] = dest
        self.recent_day[person] = d
        return tripper

    def _intercity(self, person, origin, to, dep_min, minutes, train, trips, rng) -> None:
        t, geo = self.p.travel, self.pop.geo
        key = (origin * 16 + to) * 2000 + dep_min
        stations_county = pa.array([s.county for s in t.stations.values()], pa.string())
        stations_name = pa.array([s.name for s in t.stations.values()], pa.string())
        idx = np.flatnonzero(train)
        where = {
            "origin_region": take(stations_county, origin[idx]),
            "destination_region": take(stations_county, to[idx]),
            "origin_stop": take(stations_name, origin[idx]),
            "destination_stop": take(stations_name, to[idx]),
        }
        self._trains(
            person[idx],
            key[idx],
            np.full(len(idx), list(TRAIN_LAYOUT).index("hard_seat")),
            minutes[idx],
            dep_min[idx] * 60,
            "D",
            trips,
            rng,
            where,
        )
        idx = np.flatnonzero(~train)
        run, seat = fill_runs(key[idx], self.p.vehicles.coach_seats, rng)
        n_runs = int(run.max(initial=-1)) + 1
        first_run = np.zeros(n_runs, np.int64)
        first_run[run] = idx
        cities = self.city_names
        names = pa.array(
            [
                f"{cities[origin[i]][:2]}-{cities[to[i]][:2]}-{_hhmm(dep_min[i] * 60)}"
                for i in first_run.tolist()
            ],
            pa.string(),
        )
        county = pa.array([geo.county_codes[f] for f in geo.city_first], pa.string())
        terminal = pa.array([f"{name}汽车客运中心" for name in self.city_names], pa.string())
        dep = dep_min[idx] * 60
        arr = dep + minutes[idx] * 60
        trips.add(
            person[idx],
            "coach",
            {
                "trip_no": take(names, run),
                "dep_time": dep,
                "arr_time": arr,
                "origin_region": take(county, origin[idx]),
                "destination_region": take(county, to[idx]),
                "origin_stop": take(terminal, origin[idx]),
                "destination_stop": take(terminal, to[idx]),
                "seat_row": (seat // 4 + 1).astype(np.int16),
                "seat": take(self.seat_pools["coach"], seat),
            },
        )
        zeros = np.zeros(len(idx), np.int64)
        trips.add_units(person[idx], run, dep, arr, zeros, zeros, names)

    # -- work and school -------------------------------------------------------------------------------------

    def _attendance(self, cond: Conditions, mobile: np.ndarray, rng: np.random.Generator) -> _Attend:
        w = self.pop.work
        members = self.team_order[mobile[self.team_order]]
        rate = np.where(w.team_school[w.person_team[members]], np.float32(cond.school), np.float32(cond.work))
        members = members[rng.random(len(members), dtype=np.float32) < rate]
        return _Attend(members, w.team_school[w.person_team[members]])

    def _teams(self, attend: _Attend, rng: np.random.Generator) -> list[Gathering]:
        out = []
        for setting, mask, hours in (
            ("workplace", ~attend.school, self.p.work_hours),
            ("school", attend.school, self.p.school_hours),
        ):
            person = attend.person[mask]
            start = hours[0] * 60 - rng.integers(0, 15 * 60, len(person))
            end = hours[1] * 60 + rng.integers(0, 5 * 60, len(person))
            team = self.pop.work.person_team[person].astype(np.int64)
            out.append(Gathering(setting, person, team, start, end, self.team_places))
        return out

    def _commutes(self, attend: _Attend, trips: Trips, rng: np.random.Generator) -> Mixing:
        """Bus, metro and ferry rides to work and back; returns the metro's casual mixing bins."""
        person = attend.person[self.commute[attend.person] != COMMUTE_NONE]
        mode = self.commute[person]
        home = self.pop.persons.county[person].astype(np.int64)
        work = self.work_county[person].astype(np.int64)
        metro = []
        for morning in (True, False):
            board = (
                (7 * 3600 + rng.integers(0, 45 * 60, len(person)))
                if morning
                else (17 * 3600 + 35 * 60 + rng.integers(0, 15 * 60, len(person)))
            )
            origin, to = (home, work) if morning else (work, home)
            m = mode == COMMUTE_BUS
            self._bus(person[m], origin[m], to[m], board[m], trips, rng)
            m = mode == COMMUTE_FERRY
            ferry_dep = (board[m] // 1800 + (0 if morning else 1)) * 1800
            self._ferry(person[m], origin[m], to[m], ferry_dep, trips, rng)
            m = mode == COMMUTE_METRO
            metro.append(self._metro(person[m], origin[m], to[m], board[m], trips, rng))
        person, bins, start, end = (np.concatenate([x[k] for x in metro]) for k in range(4))
        order = np.argsort(bins, kind="stable")
        return Mixing(
            "vehicle_casual",
            person[order],
            bins[order],
            start[order],
            end[order],
            self.metro_names,
            bins[order] % 100,
        )

    def _bus(self, person, origin, to, board, trips, rng) -> None:
        geo, cap = self.pop.geo, self.p.vehicles.bus_capacity
        city = self.city[person].astype(np.int64)
        line = self.line[person].astype(np.int64)
        key = (city * 1000 + line) * 200 + board // SLOT
        run, seat = fill_runs(key, cap, rng)
        n_runs = int(run.max(initial=-1)) + 1
        first = np.zeros(n_runs, np.int64)
        first[run] = np.arange(len(person))
        plates = [self.p.travel.plates[c] for c in geo.city_codes]
        vehicle = rng.integers(10000, 99999, n_runs)
        names = pa.array(
            [
                f"{line[i]}路/浙{plates[city[i]]}{v}"
                for i, v in zip(first.tolist(), vehicle.tolist(), strict=True)
            ],
            pa.string(),
        )
        arr = board + rng.integers(10 * 60, 40 * 60, len(person))
        stops = _two_stops(len(person), len(self.stop_pool), rng)
        trips.add(
            person,
            "bus",
            {
                "trip_no": take(names, run),
                "dep_time": board,
                "arr_time": arr,
                "origin_region": take(geo.county_pool, origin),
                "destination_region": take(geo.county_pool, to),
                "origin_stop": take(self.stop_pool, stops[:, 0]),
                "destination_stop": take(self.stop_pool, stops[:, 1]),
            },
        )
        rows_per = max(cap // 4, 1)
        trips.add_units(person, run, board, arr, seat % rows_per, np.full(len(person), 3), names)

    def _metro(self, person, origin, to, board, trips, rng) -> tuple[np.ndarray, ...]:
        """Metro taps (line, no seat). Returns casual bins: (city, line, half hour); bin % 100 = line - 1."""
        geo = self.pop.geo
        line = self.line[person].astype(np.int64)
        arr = board + rng.integers(8 * 60, 45 * 60, len(person))
        stops = _two_stops(len(person), 30, rng)
        trips.add(
            person,
            "metro",
            {
                "trip_no": take(self.metro_names, line - 1),
                "dep_time": board,
                "arr_time": arr,
                "origin_region": take(geo.county_pool, origin),
                "destination_region": take(geo.county_pool, to),
                "origin_stop": take(self.metro_stations, (line - 1) * 30 + stops[:, 0]),
                "destination_stop": take(self.metro_stations, (line - 1) * 30 + stops[:, 1]),
            },
        )
        city = self.city[person].astype(np.int64)
        return person, (city * 1000 + board // 1800) * 100 + line - 1, board, arr

    def _ferry(self, person, origin, to, dep, trips, rng) -> None:
        v, geo = self.p.vehicles, self.pop.geo
        key = (origin * 100 + to) * 100 + dep // 1800
        run, seat = fill_runs(key, v.ship_cabins * v.ship_cabin_seats, rng)
        n_runs = int(run.max(initial=-1)) + 1
        first = np.zeros(n_runs, np.int64)
        first[run] = np.arange(len(person))
        counties = geo.county_names
        names = pa.array(
            [f"{counties[origin[i]][:2]}{counties[to[i]][:2]}{_hhmm(dep[i])}班" for i in first.tolist()],
            pa.string(),
        )
        arr = dep + 25 * 60
        cabin = seat // v.ship_cabin_seats
        terminal = pa.array([f"{name[:2]}客运码头" for name in geo.county_names], pa.string())
        trips.add(
            person,
            "ship",
            {
                "trip_no": take(names, run),
                "dep_time": dep,
                "arr_time": arr,
                "origin_region": take(geo.county_pool, origin),
                "destination_region": take(geo.county_pool, to),
                "origin_stop": take(terminal, origin),
                "destination_stop": take(terminal, to),
                "carriage": take(self.seat_pools["carriage"], cabin + 1),
                "seat": take(self.seat_pools["ship"], seat % v.ship_cabin_seats),
            },
        )
        unit = run * v.ship_cabins + cabin
        _, dense = np.unique(unit, return_inverse=True)
        dense = dense.ravel()
        unit_run = np.zeros(int(dense.max(initial=-1)) + 1, np.int64)
        unit_run[dense] = run
        zeros = np.zeros(len(person), np.int64)
        trips.add_units(person, dense, dep, arr, zeros, zeros, take(names, unit_run))

    # -- venue visits ----------------------------------------------------------------------------------------

    def _visit_candidates(self, cond, mobile, attend, tripper, rng) -> tuple[list[np.ndarray], ...]:
        """(person, part, county) of each venue visit made today."""
        p, geo, persons = self.p, self.pop.geo, self.pop.persons
        busy = np.zeros(len(persons), dtype=bool)
        busy[attend.person] = True
        free = np.flatnonzero(mobile & ~busy).astype(np.int32)
        band = (persons.age[free] >= 18).astype(np.int8) + (persons.age[free] >= 60)  # child, adult, senior
        rates = [p.visit_probability[g][int(cond.weekend)] for g in ("child", "adult", "senior")]
        prob = np.array(rates, np.float32)[band] * np.float32(cond.venues)
        people, parts, counties = [], [], []

        def add(
            who: np.ndarray, part: int, chance: np.ndarray | float, county: np.ndarray | None = None
        ) -> None:
            """Visits by ``who`` in ``part`` with probability ``chance``; at home (or another county of the
            city), unless ``county`` says where."""
            keep = rng.random(len(who), dtype=np.float32) < chance
            who = who[keep]
            if county is None:
                county = persons.county[who].astype(np.int16)
                elsewhere = np.flatnonzero(rng.random(len(who), dtype=np.float32) >= p.venue_in_home_county)
                county[elsewhere] = geo.random_county_in_city(geo.county_city[county[elsewhere]], rng)
            else:
                county = county[keep]
            people.append(who)
            parts.append(np.full(len(who), part, np.int8))
            counties.append(county.astype(np.int16))

        at_home = rng.integers(0, len(PARTS), len(free))  # one part of the day at home: 0-3 visits a day
        for part in range(len(PARTS)):
            out = at_home != part
            add(free[out], part, prob[out])
        adult = persons.age[attend.person] >= 18
        workers, pupils = attend.person[adult], attend.person[~adult]
        add(workers, MIDDAY, p.worker_visits.get("midday", 0) * cond.venues, self.work_county[workers])
        add(workers, EVENING, p.worker_visits.get("evening", 0) * cond.venues)
        add(pupils, EVENING, p.pupil_evening_visit * cond.venues)
        for part in (MIDDAY, AFTERNOON):
            add(tripper.person, part, 0.8 * cond.venues, geo.random_county_in_city(tripper.dest, rng))
        return people, parts, counties

    def _visits(self, cond, mobile, attend, tripper, day_base, rng) -> tuple[pa.Table, Gathering, Mixing]:
        people, parts, counties = self._visit_candidates(cond, mobile, attend, tripper, rng)
        person, part, county = (np.concatenate(x) for x in (people, parts, counties))
        open_ = np.array([c not in cond.closed for c in model.VENUE_CATEGORIES])
        weights = self.part_weights * open_
        category = np.full(len(person), -1, np.int8)
        for j in range(len(PARTS)):
            mine = np.flatnonzero(part == j)
            if weights[j].sum() > 0:
                category[mine] = rng.choice(len(open_), len(mine), p=weights[j] / weights[j].sum())
        keep = category >= 0
        person, part, county, category = person[keep], part[keep], county[keep], category[keep]
        venue = self.pop.venues.sample(county, category, rng).astype(np.int32)
        draw = rng.random(len(person), dtype=np.float32)
        slot = (
            self.first_slot[part, category] + (draw * self.n_slots[part, category]).astype(np.int64)
        ).astype(np.int32)
        order = np.lexsort((rng.random(len(person)), slot, venue))
        person, part, category, venue, slot = (x[order] for x in (person, part, category, venue, slot))
        group = self._tables(venue, slot, category, rng)
        minutes = self._durations(group, category, rng)
        time_in = (slot * 15 + rng.integers(0, 15, len(person), dtype=np.int32)) * 60
        time_out = time_in + minutes.astype(np.int32) * 60
        schema = model.with_raw_ids(model.VENUE_STAYS)
        stays = pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, person),
                take(self.pop.venues.codes, venue),
                pa.array(day_base + time_in.astype(np.int64), pa.timestamp("s")),
                pa.array(day_base + time_out.astype(np.int64), pa.timestamp("s")),
            ],
            schema=schema,
        )
        group_venue = np.zeros(int(group.max(initial=-1)) + 1, np.int32)
        group_venue[group] = venue
        tables = Gathering(
            "venue_table", person, group, time_in, time_out, self.pop.venues.codes, place_of_group=group_venue
        )
        bins = venue * len(PARTS) + part
        by_bin = np.argsort(bins, kind="stable")
        mixing = Mixing(
            "venue_casual",
            person[by_bin],
            bins[by_bin],
            time_in[by_bin],
            time_out[by_bin],
            self.pop.venues.codes,
            bins[by_bin] // len(PARTS),
        )
        return stays, tables, mixing

    def _tables(self, venue, slot, category, rng) -> np.ndarray:
        """Proximity groups: visitors of a venue arriving in the same 15 minutes, in groups of a size drawn
        per (venue, slot) from the category's range. Rows are sorted by (venue, slot); returns group ids."""
        key = venue * 128 + slot
        new_bin = np.ones(len(key), dtype=bool)
        new_bin[1:] = key[1:] != key[:-1]
        bin_id = np.cumsum(new_bin) - 1
        starts = np.flatnonzero(new_bin)
        rank = np.arange(len(key)) - starts[bin_id]
        lo, hi = self.group_size[category[starts], 0], self.group_size[category[starts], 1]
        size = lo + (rng.random(len(starts)) * (hi - lo + 1)).astype(np.int64)
        local = rank // size[bin_id]
        new_group = new_bin.copy()
        new_group[1:] |= local[1:] != local[:-1]
        return np.cumsum(new_group) - 1

    def _durations(self, group, category, rng) -> np.ndarray:
        lo, hi = self.minutes[category, 0], self.minutes[category, 1]
        n_groups = int(group.max(initial=-1)) + 1
        base = np.zeros(n_groups)
        base[group] = lo + rng.random(len(group)) * (hi - lo)
        jitter = rng.integers(-self.p.group_jitter_minutes, self.p.group_jitter_minutes + 1, len(group))
        grouped = self.group_size[category, 1] > 1
        alone = lo + rng.random(len(group)) * (hi - lo)
        return np.clip(np.rint(np.where(grouped, base[group] + jitter, alone)), lo, hi).astype(np.int64)

    # -- households, telecom, declarations, electricity ------------------------------------------------------

    def _households(self, status: Status, away_all_day: np.ndarray, inter: _Inter) -> Gathering:
        n = len(self.pop)
        start = np.zeros(n, np.int32)
        end = np.full(n, DAY - 1, np.int32)
        start[inter.person[inter.inbound]] = inter.arr[inter.inbound]
        end[inter.person[~inter.inbound]] = inter.dep[~inter.inbound]
        end[status.leaves] = np.minimum(end[status.leaves], status.leaves_at)
        present = np.flatnonzero(~away_all_day & ~status.isolated & (end > start)).astype(np.int32)
        return Gathering(
            "household",
            present,
            self.pop.persons.household[present],
            start[present],
            end[present],
            self.pop.persons.household_ids,
        )

    def _telecom(self, away_all_day, inter: _Inter, tripper: _Tripper, day_base, rng) -> pa.Table:
        n = len(self.pop)
        early = rng.integers(0, 1800, n, dtype=np.int32)
        late = DAY - 1 - rng.integers(0, 1800, n, dtype=np.int32)
        first, last = early.copy(), late.copy()
        first[inter.person[inter.inbound]] = inter.arr[inter.inbound] + 600
        last[inter.person[~inter.inbound]] = inter.dep[~inter.inbound] - 600
        last = np.maximum(last, first + 60)
        n_cities = len(self.pop.geo.city_codes)
        home = np.flatnonzero(~away_all_day).astype(np.int32)
        away = np.flatnonzero(away_all_day).astype(np.int32)
        out = inter.person
        out_first = np.where(inter.inbound, early[out], inter.arr + 600)
        out_last = np.where(inter.inbound, inter.dep - 600, late[out])
        parts = [
            (home, self.city[home], first[home], last[home]),
            (tripper.person, tripper.dest, tripper.out_arr + 300, tripper.back_dep - 300),
            (out, n_cities + inter.region, out_first, np.maximum(out_last, out_first + 60)),
            (away, n_cities + self.away_region[away], early[away], late[away]),
        ]
        person, region, t0, t1 = (
            np.concatenate([np.asarray(p[k], np.int32) for p in parts]) for k in range(4)
        )
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, person),
                take(self.region_pool, region),
                pa.array(day_base + t0.astype(np.int64), pa.timestamp("s")),
                pa.array(day_base + t1.astype(np.int64), pa.timestamp("s")),
            ],
            schema=model.with_raw_ids(model.TELECOM_STAYS),
        )

    def _declarations(self, d, status: Status, away_all_day, day_base, rng) -> pa.Table:
        q = self.p.declarations
        n = len(self.pop)
        sick = np.zeros(n, dtype=bool)
        sick[status.symptomatic] = True
        from_afar = (self.recent_region >= len(self.pop.geo.city_codes)) & (self.recent_day >= d - 14)
        chance = np.full(n, q.daily_share, np.float32)
        chance[from_afar | sick] = max(q.daily_share, q.traveller_share)
        chance[status.observed] = np.maximum(chance[status.observed], q.observed_share)
        who = np.flatnonzero((rng.random(n, dtype=np.float32) < chance) & ~status.isolated)
        at = rng.integers(7 * 3600, 22 * 3600, len(who))
        if q.observed_per_day == 2:  # the observed check again after every first declaration's hour
            again = np.intersect1d(who, np.flatnonzero(status.observed))
            who = np.concatenate([who, again])
            at = np.concatenate([at, rng.integers(22 * 3600, 23 * 3600, len(again))])
        shares = np.array([q.symptoms[s] for s in SYMPTOMS])
        ill = sick[who] | (rng.random(len(who)) < q.background_symptomatic)
        symptoms = (rng.random((len(who), len(SYMPTOMS))) < shares) & ill[:, None]
        symptoms[ill & ~symptoms.any(axis=1), 0] = True
        fever = symptoms[:, 0]
        temperature = np.where(
            fever, rng.uniform(37.3, 39.2, len(who)), rng.normal(36.5, 0.2, len(who)).clip(35.8, 37.2)
        )
        here = np.where(away_all_day[who], len(self.pop.geo.city_codes) + self.away_region[who], -1)
        region = np.where(
            here >= 0, here, np.where(self.recent_day[who] >= d - 14, self.recent_region[who], -1)
        )
        has = region >= 0
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, who),
                pa.array(day_base + at, pa.timestamp("s")),
                take(self.pop.geo.county_pool, self.pop.persons.county[who]),
                pa.array(np.round(temperature, 1), pa.float32()),
                _lists(symptoms, pa.array(SYMPTOMS, pa.string())),
                pa.ListArray.from_arrays(
                    pa.array(np.concatenate([[0], np.cumsum(has)]), pa.int32()),
                    take(self.region_pool, region[has]),
                ),
            ],
            schema=model.with_raw_ids(model.DECLARATIONS),
        )

    def _electricity(self, date: dt.date, attend: _Attend, rng: np.random.Generator) -> pa.Table:
        w, e = self.pop.work, self.p.electricity
        present = np.bincount(self.person_enterprise[attend.person], minlength=len(w.staff))
        share = present / np.maximum(self.member_count, 1)
        noise = rng.lognormal(0.0, e.noise_sd, len(w.staff))
        kwh = w.kwh_per_member * np.maximum(self.member_count, 1) * (e.base_load + (1 - e.base_load) * share)
        return pa.Table.from_arrays(
            [
                w.codes,
                pa.array(np.full(len(w.staff), np.datetime64(date, "D")), pa.date32()),
                pa.array(np.round(kwh * noise, 1), pa.float64()),
            ],
            schema=model.with_raw_ids(model.ELECTRICITY),
        )


@dataclass
class _Inter:
    """Persons travelling into (inbound) or out of the province today."""

    person: np.ndarray
    region: np.ndarray  # index of the other province's city
    inbound: np.ndarray
    dep: np.ndarray
    arr: np.ndarray

    def set_times(self, idx: np.ndarray, dep: np.ndarray, arr: np.ndarray) -> None:
        self.dep[idx], self.arr[idx] = dep, arr


@dataclass
class _Tripper:
    """Persons on a day trip to another city of the province."""

    person: np.ndarray
    dest: np.ndarray  # city index
    out_arr: np.ndarray  # seconds of the day: arrival there ...
    back_dep: np.ndarray  # ... and departure back home


@dataclass
class _Attend:
    """Persons at work or school today, sorted by team."""

    person: np.ndarray
    school: np.ndarray


def _pick(first: np.ndarray, a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(first, pa.bool_()), a, b)


def _whole_minutes(minutes: np.ndarray) -> np.ndarray:
    """Scheduled journey times: whole five minutes."""
    return np.maximum(np.rint(np.asarray(minutes) / 5) * 5, 5).astype(np.int64)


def _two_stops(n: int, stops: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) boarding and alighting stop numbers, never the same stop."""
    first = rng.integers(0, stops, n)
    return np.stack([first, (first + rng.integers(1, stops, n)) % stops], axis=1)


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}"


def _haversine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(x) for x in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def _run_times(run: np.ndarray, n_runs: int, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Departure second of each rider's run: one scheduled time per run, early enough to arrive by 23:30."""
    longest = np.zeros(max(n_runs, 1))
    np.maximum.at(longest, run, np.asarray(minutes, dtype=np.float64))
    latest = np.maximum(23 * 60 + 30 - longest, 6 * 60 + 5)
    dep_min = (6 * 60 + rng.random(len(longest)) * (latest - 6 * 60)) // 5 * 5
    return (dep_min[run] * 60).astype(np.int64)


def _other_city(home: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A destination city other than home, drawn by population."""
    weights = np.broadcast_to(sizes, (len(home), len(sizes))).copy()
    weights[np.arange(len(home)), home] = 0
    cdf = np.cumsum(weights, axis=1)
    return (cdf < rng.random(len(home))[:, None] * cdf[:, -1:]).sum(axis=1)


def _lists(mask: np.ndarray, pool: pa.Array) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), take(pool, np.nonzero(mask)[1]))


def _seat_pools(v: VehicleParams) -> dict:
    """Seat labels as printed on tickets, by mode; index = seat number."""
    flight = [f"{r}{c}" for r in range(1, v.flight_rows + 1) for c in "ABCDEF"]
    coach = [f"{r:02d}{c}" for r in range(1, v.coach_seats // 4 + 2) for c in "ABCD"]
    berths = {"soft_sleeper": "下上", "hard_sleeper": "下中上", "hard_seat": ""}
    train, offset = [], {}
    for name, (_, _, per, _) in TRAIN_LAYOUT.items():
        offset[name] = len(train)
        levels = berths[name]
        train += [
            f"{k + 1:03d}号" if not levels else f"{k + 1:02d}号{levels[k % len(levels)]}铺"
            for k in range(per)
        ]
    return {
        "flight": pa.array(flight, pa.string()),
        "coach": pa.array(coach, pa.string()),
        "train": pa.array(train, pa.string()),
        "ship": pa.array([f"{k + 1:03d}" for k in range(v.ship_cabin_seats)], pa.string()),
        "carriage": pa.array([f"{k:02d}" for k in range(0, 100)], pa.string()),
        "offset": offset,
    }
