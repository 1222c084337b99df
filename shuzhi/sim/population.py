"""The synthetic province's static population: geography, persons, households, workplaces, schools and venues.

Owns what does not change while a simulation runs, built once from the ``population`` section of params.yaml
and a seed: Zhejiang's 11 cities and 90 counties with residents split by census population; persons with valid
GB 11643 ID numbers living in households; Zipf-sized enterprises and schools with their teams (the enclosed
workspaces: offices, workshops, classes); venues with Zipf popularity. :meth:`Population.registries` exports
them as the canonical registry tables. Also owns the small helpers the daily modules share: strict parameter
models and Arrow string columns built from numpy without Python loops.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from shuzhi import idcard, model, regions

# ------------------------------------------------------------------------------------------------------------
# Parameter models shared by the simulator's modules


class Strict(BaseModel):
    """A parameter section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _ordered(value: tuple) -> tuple:
    if value[0] > value[1]:
        raise ValueError(f"range {list(value)} has its lower bound above its upper bound")
    return value


def _clock(value: object) -> int:
    """Minutes after midnight of an ``HH:MM`` string."""
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a clock time: write it quoted, as "HH:MM"')
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"{value!r} is not a clock time HH:MM")
    return int(hours) * 60 + int(minutes)


Share = Annotated[float, Field(ge=0.0, le=1.0)]
IntRange = Annotated[
    tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]], AfterValidator(_ordered)
]
FloatRange = Annotated[tuple[float, float], AfterValidator(_ordered)]
DayRange = Annotated[tuple[int, int], AfterValidator(_ordered)]  # day offsets, may be negative
Clock = Annotated[int, BeforeValidator(_clock)]  # minutes after midnight, written "HH:MM"
ClockSpan = Annotated[tuple[Clock, Clock], AfterValidator(_ordered)]


class CitiesParams(Strict):
    source: str
    millions: dict[str, Annotated[float, Field(gt=0)]]

    @field_validator("millions")
    @classmethod
    def _all_cities(cls, value: dict[str, float]) -> dict[str, float]:
        expected = {r.city_code for r in regions.zhejiang_counties()}
        if set(value) != expected:
            raise ValueError(
                f"need exactly Zhejiang's 11 city codes; missing {sorted(expected - set(value))}, "
                f"unknown {sorted(set(value) - expected)}"
            )
        return value


class AgeParams(Strict):
    source: str
    band_years: Annotated[int, Field(gt=0)]
    shares: list[Annotated[float, Field(ge=0)]]
    max_age: Annotated[int, Field(ge=18, le=110)]

    def per_year(self) -> np.ndarray:
        """Share of each single year of age 0..max_age (bands spread evenly, the last band open-ended)."""
        years = np.arange(self.max_age + 1)
        band = np.minimum(years // self.band_years, len(self.shares) - 1)
        width = np.bincount(band, minlength=len(self.shares))
        weights = np.asarray(self.shares)[band] / width[band]
        return weights / weights.sum()


class HouseholdParams(Strict):
    size_shares: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=5, max_length=5)]
    head_age: Annotated[list[IntRange], Field(min_length=5, max_length=5)]
    four_with_grandparent: Share


class IndustryParams(Strict):
    share: Annotated[float, Field(gt=0)]
    kwh_per_staff: Annotated[float, Field(gt=0)]
    team: str


class WorkParams(Strict):
    employment_rate: Share
    working_age: IntRange
    home_county_share: Share
    staff_zipf_exponent: Annotated[float, Field(gt=1.0)]
    staff: IntRange
    team_size: IntRange
    industries: dict[str, IndustryParams]


class SchoolLevel(Strict):
    ages: IntRange
    pupils_per_school: Annotated[int, Field(gt=0)]
    name: str


class SchoolParams(Strict):
    levels: dict[str, SchoolLevel]
    class_size: Annotated[int, Field(gt=0)]
    pupils_per_teacher: Annotated[int, Field(gt=0)]
    kwh_per_person: Annotated[float, Field(gt=0)]


class VenueKind(Strict):
    letter: Annotated[str, Field(pattern=r"^[A-Z]$")]
    name: str
    persons_per_venue: Annotated[float, Field(gt=0)]
    capacity: IntRange


class VenueParams(Strict):
    popularity_zipf: Annotated[float, Field(ge=0)]
    jitter_km: Annotated[float, Field(ge=0)]
    categories: dict[str, VenueKind]

    @field_validator("categories")
    @classmethod
    def _model_categories(cls, value: dict[str, VenueKind]) -> dict[str, VenueKind]:
        if set(value) != set(model.VENUE_CATEGORIES):
            raise ValueError(f"need exactly the categories of shuzhi.model: {list(model.VENUE_CATEGORIES)}")
        if len({k.letter for k in value.values()}) != len(value):
            raise ValueError("category letters must be distinct")
        return {name: value[name] for name in model.VENUE_CATEGORIES}


class PopulationParams(Strict):
    cities: CitiesParams
    ages: AgeParams
    households: HouseholdParams
    work: WorkParams
    schools: SchoolParams
    venues: VenueParams

    @model_validator(mode="after")
    def _school_ages(self) -> PopulationParams:
        for name, level in self.schools.levels.items():
            if level.ages[1] > self.ages.max_age:
                raise ValueError(f"schools.levels.{name}.ages beyond ages.max_age")
        return self


# ------------------------------------------------------------------------------------------------------------
# Arrow string columns from numpy


def ascii_digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII codes of the zero-padded decimal digits of non-negative integers."""
    rest = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(rest), width), dtype=np.uint8)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = rest % 10 + ord("0")
        rest //= 10
    return out


def fixed_strings(chars: np.ndarray) -> pa.Array:
    """An Arrow string array from an (n, width) matrix of ASCII codes, one row per string."""
    n, width = chars.shape
    data = pa.py_buffer(np.ascontiguousarray(chars, dtype=np.uint8).tobytes())
    offsets = pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def take(pool: pa.Array, index: np.ndarray) -> pa.Array:
    """``pool[index]`` as an Arrow array (index: integer numpy array)."""
    index = np.asarray(index)
    return pool.take(pa.array(index if index.dtype.kind in "iu" else index.astype(np.int64)))


def ranks_within(keys: np.ndarray) -> np.ndarray:
    """0-based rank of each element among the elements with the same key, in input order (stable)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys)) - run_start
    return ranks


def expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges ``starts[i] .. starts[i] + counts[i]``."""
    total = int(counts.sum())
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total)


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    raw = np.asarray(weights, dtype=np.float64) / np.sum(weights) * total
    base = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


# ------------------------------------------------------------------------------------------------------------
# Geography


@dataclass(frozen=True)
class Geography:
    """Zhejiang's counties in code order (each city's counties contiguous) and its cities."""

    county_codes: list[str]
    county_names: list[str]
    city_codes: list[str]
    county_city: np.ndarray  # city index of each county
    city_first: np.ndarray  # index of each city's first county
    city_counties: np.ndarray  # number of counties of each city
    lonlat: np.ndarray  # (counties, 2) centroids

    @classmethod
    def zhejiang(cls) -> Geography:
        counties = regions.zhejiang_counties()
        centroids = regions.county_centroids()
        city_codes = sorted({c.city_code for c in counties})
        county_city = np.array([city_codes.index(c.city_code) for c in counties], dtype=np.int64)
        return cls(
            county_codes=[c.code for c in counties],
            county_names=[c.name for c in counties],
            city_codes=city_codes,
            county_city=county_city,
            city_first=np.searchsorted(county_city, np.arange(len(city_codes))),
            city_counties=np.bincount(county_city, minlength=len(city_codes)),
            lonlat=np.array([centroids[c.code] for c in counties], dtype=np.float64),
        )

    @property
    def county_pool(self) -> pa.Array:
        return pa.array(self.county_codes, pa.string())

    def city_lonlat(self) -> np.ndarray:
        """(cities, 2) mean of each city's county centroids."""
        sums = np.stack([np.bincount(self.county_city, weights=self.lonlat[:, k]) for k in (0, 1)], axis=1)
        return sums / self.city_counties[:, None]

    def random_county_in_city(self, city: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A county drawn uniformly from each given city."""
        return self.city_first[city] + (rng.random(len(city)) * self.city_counties[city]).astype(np.int64)


# ------------------------------------------------------------------------------------------------------------
# Persons and households

HEAD, SPOUSE, CHILD, GRANDPARENT = 0, 1, 2, 3
_ROLES = np.array(
    [
        [HEAD, -1, -1, -1, -1],
        [HEAD, SPOUSE, -1, -1, -1],
        [HEAD, SPOUSE, CHILD, -1, -1],
        [HEAD, SPOUSE, CHILD, CHILD, -1],
        [HEAD, SPOUSE, CHILD, GRANDPARENT, GRANDPARENT],
    ]
)


@dataclass
class Persons:
    """Residents by person index (households contiguous) and the households they live in."""

    county: np.ndarray  # county index
    household: np.ndarray  # household index
    age: np.ndarray  # whole years on the first simulated day
    birth: np.ndarray  # datetime64[D]
    male: np.ndarray  # bool
    ids: pa.Array  # GB 11643 ID numbers
    household_start: np.ndarray  # person offsets of each household (length households + 1)
    household_ids: pa.Array  # household number: county code + 8-digit sequence

    def __len__(self) -> int:
        return len(self.county)


def _household_sizes(p: HouseholdParams, total: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.asarray(p.size_shares) / sum(p.size_shares)
    mean = float(np.dot(shares, np.arange(1, 6)))
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < total:
        sizes = np.concatenate(
            [sizes, rng.choice(np.arange(1, 6), size=int(total / mean * 1.05) + 8, p=shares)]
        )
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, total)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(ends[count - 1]) - total
    return sizes


def _head_ages(p: PopulationParams, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    per_year = p.ages.per_year()
    ages = np.empty(len(sizes), dtype=np.int64)
    for size in range(1, 6):
        which = np.flatnonzero(sizes == size)
        lo, hi = p.households.head_age[size - 1]
        weights = per_year.copy()
        weights[:lo] = 0
        weights[hi + 1 :] = 0
        if weights.sum() == 0:
            raise ValueError(f"population.households.head_age[{size - 1}] selects no age of the pyramid")
        ages[which] = rng.choice(len(weights), size=len(which), p=weights / weights.sum())
    return ages


def _member_ages(
    p: PopulationParams, role: np.ndarray, head: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    top = p.ages.max_age
    spouse = np.clip(head + np.rint(rng.normal(0, 3, len(head))).astype(np.int64), 18, top)
    span = np.maximum(np.minimum(38, head) - 22 + 1, 1)
    child = np.maximum(head - 22 - (rng.random(len(head)) * span).astype(np.int64), 0)
    grandparent = np.minimum(head + 24 + rng.integers(0, 9, len(head)), top)
    return np.select([role == HEAD, role == SPOUSE, role == CHILD], [head, spouse, child], grandparent)


def _id_numbers(county_codes: np.ndarray, birth: np.ndarray, male: np.ndarray) -> pa.Array:
    """Unique ID numbers: the sequence is 2·rank + 1 (men) or + 2 (women) within (county, birth date, sex)."""
    days = birth.astype(np.int64) + 40_000  # 1900-01-01 is day -25567
    key = (county_codes.astype(np.int64) * 2**17 + days) * 2 + male
    rank = ranks_within(key)
    if len(rank) and rank.max() > 498:
        raise ValueError("more than 499 persons share a county, birth date and sex: ID sequences exhausted")
    sequence = 2 * rank + np.where(male, 1, 2)
    return id_numbers(county_codes, birth, sequence)


def id_numbers(region: np.ndarray, birth: np.ndarray, sequence: np.ndarray) -> pa.Array:
    """GB 11643 ID numbers as ``idcard.compose`` makes them, at numpy speed and memory: the 17 digits laid
    out as bytes, the MOD 11-2 check (``idcard.WEIGHTS``, ``idcard.CHECK_CHARS``) summed column by column."""
    days = np.asarray(birth, "datetime64[D]").astype(np.int64)
    first = int(days.min(initial=0))
    calendar = np.arange(first, int(days.max(initial=0)) + 1).astype("datetime64[D]")  # each date once
    year, month = calendar.astype("datetime64[Y]"), calendar.astype("datetime64[M]")
    yyyymmdd = (
        (year.astype(np.int64) + 1970) * 10_000
        + ((month - year).astype(np.int64) + 1) * 100
        + (calendar - month).astype(np.int64)
        + 1
    )
    ymd = yyyymmdd[days - first]
    chars = np.concatenate(
        [
            ascii_digits(region, 6),
            ascii_digits(ymd, 8),
            ascii_digits(sequence, 3),
            np.empty((len(ymd), 1), np.uint8),
        ],
        axis=1,
    )
    weighted = np.zeros(len(chars), np.int64)
    for pos, weight in enumerate(idcard.WEIGHTS.tolist()):
        weighted += (chars[:, pos] - ord("0")) * weight
    chars[:, 17] = _CHECK_CODES[weighted % 11]
    return fixed_strings(chars)


_CHECK_CODES = np.frombuffer(idcard.CHECK_CHARS.encode(), dtype=np.uint8)


def build_persons(
    p: PopulationParams, geo: Geography, county_targets: np.ndarray, start: dt.date, rng: np.random.Generator
) -> Persons:
    """Households with members by role (head, spouse, children, grandparents), ages, sexes and ID numbers."""
    total = int(county_targets.sum())
    sizes = _household_sizes(p.households, total, rng)
    household_start = np.concatenate([[0], np.cumsum(sizes)])
    hh_county = np.searchsorted(np.cumsum(county_targets), household_start[:-1], side="right")
    household = np.repeat(np.arange(len(sizes)), sizes)
    slot = np.arange(total) - household_start[household]
    roles = _ROLES[sizes - 1].copy()
    with_grandparent = (sizes == 4) & (rng.random(len(sizes)) < p.households.four_with_grandparent)
    roles[with_grandparent, 3] = GRANDPARENT
    role = roles[household, slot]
    head_age = _head_ages(p, sizes, rng)
    age = _member_ages(p, role, head_age[household], rng)
    head_male = rng.random(len(sizes)) < 0.5
    male = np.select(
        [role == HEAD, role == SPOUSE, role == GRANDPARENT],
        [head_male[household], ~head_male[household], slot == 3],
        rng.random(total) < 0.5,
    )
    back = np.floor(age * 365.25 + rng.random(total) * 364).astype(np.int64) + 1
    birth = np.datetime64(start, "D") - back.astype("timedelta64[D]")
    county = hh_county[household]
    codes = np.array(geo.county_codes, dtype=np.int64)
    hh_seq = ranks_within(hh_county) + 1
    hh_chars = np.concatenate([ascii_digits(codes[hh_county], 6), ascii_digits(hh_seq, 8)], axis=1)
    return Persons(
        county=county.astype(np.int16),
        household=household.astype(np.int32),
        age=age.astype(np.int16),
        birth=birth,
        male=male,
        ids=_id_numbers(codes[county], birth, male),
        household_start=household_start,
        household_ids=fixed_strings(hh_chars),
    )


# ------------------------------------------------------------------------------------------------------------
# Enterprises, schools and their teams

EDUCATION = "education"
_SYLLABLES = list("华信恒盛达鑫宏利通源兴泰嘉瑞丰安润德博远")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def credit_codes(prefix: np.ndarray, county_codes: np.ndarray, serial: np.ndarray, salt: int) -> pa.Array:
    """Unified social credit codes (GB 32100): 2-digit registration type, county, organisation code (GB 11714,
    with its check) and the MOD 31 check character. Synthetic but well formed; unique for distinct serials."""
    body = (np.asarray(serial, dtype=np.int64) * 61_803_399 + salt) % 10**8  # coprime to 10: a bijection
    org = ascii_digits(body, 8) - ord("0")
    org_check = (11 - (org.astype(np.int64) * _ORG_WEIGHTS).sum(axis=1) % 11) % 11  # 10 is written X
    values = np.concatenate(
        [ascii_digits(prefix, 2) - ord("0"), ascii_digits(county_codes, 6) - ord("0"), org], axis=1
    ).astype(np.int64)
    values = np.concatenate(
        [values, np.where(org_check == 10, _CREDIT_CHARS.index("X"), org_check)[:, None]], 1
    )
    check = (31 - (values * _CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    table = np.frombuffer(_CREDIT_CHARS.encode(), dtype=np.uint8)
    return fixed_strings(table[np.concatenate([values, check[:, None]], axis=1)])


@dataclass
class Workplaces:
    """Enterprises and schools (schools last), their teams, and who belongs to which team."""

    codes: pa.Array
    names: list[str]
    county: np.ndarray
    industry: np.ndarray  # index into ``industries``
    industries: list[str]  # the params' industries, then "education"
    staff: np.ndarray
    team_enterprise: np.ndarray
    team_labels: pa.Array
    team_school: np.ndarray  # bool: a class or a school's staff room
    person_team: np.ndarray  # team of each person, -1 for none
    kwh_per_member: np.ndarray  # electricity per attending member (staff, pupils) on a full day

    @property
    def person_enterprise(self) -> np.ndarray:
        return np.where(self.person_team >= 0, self.team_enterprise[self.person_team], -1)

    def team_places(self) -> pa.Array:
        """``<enterprise code>/<team>`` per team: the place of a workplace contact."""
        return pc.binary_join_element_wise(take(self.codes, self.team_enterprise), self.team_labels, "/")


@dataclass
class _Teams:
    """Team memberships being assembled: member persons, their team's enterprise and label."""

    person: list[np.ndarray]
    key: list[np.ndarray]  # (enterprise, local team) packed in one int64
    labels: dict[int, str]


_GRADE = 1_000  # local key of a class: grade · 1000 + class
_STAFF_ROOM = 90_000  # local key of a school's staff room: 90000 + room


def _pack(enterprise: np.ndarray, local: np.ndarray) -> np.ndarray:
    return np.asarray(enterprise, dtype=np.int64) * 100_000 + local


def _schools(
    p: SchoolParams, geo: Geography, persons: Persons, rng: np.random.Generator, teams: _Teams
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Schools per county and level; pupils in classes by grade. Returns county, name, pupils per school."""
    n_counties = len(geo.county_codes)
    county_out, names, pupils_out = [], [], []
    next_id = 0
    for level in p.levels.values():
        lo, hi = level.ages
        pupils = np.flatnonzero((persons.age >= lo) & (persons.age <= hi))
        per_county = np.bincount(persons.county[pupils], minlength=n_counties)
        n_schools = np.where(per_county > 0, np.maximum(1, np.rint(per_county / level.pupils_per_school)), 0)
        offsets = np.concatenate([[0], np.cumsum(n_schools)]).astype(np.int64)
        c = persons.county[pupils]
        school = offsets[c] + (rng.random(len(pupils)) * n_schools[c]).astype(np.int64)
        grade = persons.age[pupils] - lo + 1
        klass = ranks_within(school * 100 + grade) // p.class_size
        teams.person.append(pupils)
        teams.key.append(_pack(next_id + school, grade * _GRADE + klass))
        for g in range(1, hi - lo + 2):
            for k in range(int(klass.max(initial=-1)) + 1):
                teams.labels.setdefault(g * _GRADE + k, f"{g}年级{k + 1}班")
        school_county = np.repeat(np.arange(n_counties), n_schools.astype(np.int64))
        seq = ranks_within(school_county) + 1
        names += [
            f"{geo.county_names[cc]}第{s}{level.name}" for cc, s in zip(school_county, seq, strict=True)
        ]
        county_out.append(school_county)
        pupils_out.append(np.bincount(school, minlength=int(offsets[-1])))
        next_id += int(offsets[-1])
    return np.concatenate(county_out), names, np.concatenate(pupils_out)


def _zipf_sizes(p: WorkParams, workers: int, rng: np.random.Generator) -> np.ndarray:
    """Enterprise sizes from a truncated discrete power law, summing exactly to ``workers``."""
    lo, hi = p.staff[0], max(min(p.staff[1], workers), p.staff[0])
    a = p.staff_zipf_exponent - 1.0
    tail = 1.0 - (lo / hi) ** a
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < workers:
        u = rng.random(workers // (lo * 2) + 4)
        sizes = np.concatenate([sizes, np.floor(lo * (1.0 - u * tail) ** (-1.0 / a)).astype(np.int64)])
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, workers)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(ends[count - 1]) - workers
    return sizes


def _staff_teams(
    p: WorkParams, enterprise: np.ndarray, rank: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Local team number of each staff member: consecutive blocks of a per-enterprise team size."""
    lo, hi = p.team_size
    size = rng.integers(max(lo, 1), max(hi, 1) + 1, int(enterprise.max(initial=-1)) + 1)
    return rank // size[enterprise]


def _assign_jobs(
    p: WorkParams,
    schools: SchoolParams,
    workers: np.ndarray,
    work_county: np.ndarray,
    school_county: np.ndarray,
    school_pupils: np.ndarray,
    n_counties: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teachers first (from the school's county), then Zipf-sized enterprises per county.

    Returns the workplace of each worker (schools numbered first), the county and staff of each enterprise.
    """
    order = workers[np.argsort(work_county[workers], kind="stable")]
    bounds = np.searchsorted(work_county[order], np.arange(n_counties + 1))
    teachers = np.ceil(school_pupils / schools.pupils_per_teacher).astype(np.int64)
    workplace = np.full(len(order), -1, dtype=np.int64)
    ent_county, ent_staff = [], []
    next_id = len(school_pupils)
    for c in range(n_counties):
        here = slice(int(bounds[c]), int(bounds[c + 1]))
        pool = np.arange(here.start, here.stop)
        slots = np.repeat(np.flatnonzero(school_county == c), teachers[school_county == c])[: len(pool)]
        workplace[pool[: len(slots)]] = slots
        rest = pool[len(slots) :]
        if len(rest):
            sizes = _zipf_sizes(p, len(rest), rng)
            workplace[rest] = next_id + np.repeat(np.arange(len(sizes)), sizes)
            ent_county.append(np.full(len(sizes), c))
            ent_staff.append(sizes)
            next_id += len(sizes)
    result = np.full(len(work_county), -1, dtype=np.int64)
    result[order] = workplace
    return (
        result,
        np.concatenate(ent_county or [np.empty(0, int)]),
        np.concatenate(ent_staff or [np.empty(0, int)]),
    )


def build_workplaces(
    p: PopulationParams, geo: Geography, persons: Persons, rng: np.random.Generator
) -> Workplaces:
    """Schools with classes and staff rooms; enterprises with industries and teams; who belongs where."""
    n, n_counties = len(persons), len(geo.county_codes)
    teams = _Teams([], [], {})
    school_county, school_names, school_pupils = _schools(p.schools, geo, persons, rng, teams)
    lo, hi = p.work.working_age
    workers = np.flatnonzero(
        (persons.age >= lo) & (persons.age <= hi) & (rng.random(n) < p.work.employment_rate)
    )
    work_county = persons.county.copy()
    moved = workers[rng.random(len(workers)) >= p.work.home_county_share]
    work_county[moved] = geo.random_county_in_city(geo.county_city[persons.county[moved]], rng)
    workplace, ent_county, ent_staff = _assign_jobs(
        p.work, p.schools, workers, work_county, school_county, school_pupils, n_counties, rng
    )
    staffed = workers[workplace[workers] >= 0]
    where = workplace[staffed]
    local = _staff_teams(p.work, where, ranks_within(where), rng)
    is_teacher = where < len(school_pupils)
    teams.person.append(staffed)
    teams.key.append(_pack(where, np.where(is_teacher, _STAFF_ROOM + local, local)))

    industries = list(p.work.industries)
    shares = np.array([i.share for i in p.work.industries.values()])
    ent_industry = rng.choice(len(industries), size=len(ent_staff), p=shares / shares.sum())
    n_schools = len(school_pupils)
    industry = np.concatenate([np.full(n_schools, len(industries)), ent_industry])
    county = np.concatenate([school_county, ent_county]).astype(np.int64)

    member = np.concatenate(teams.person)
    keys = np.concatenate(teams.key)
    team_keys, person_team_idx = np.unique(keys, return_inverse=True)
    team_enterprise = team_keys // 100_000
    local_key = team_keys % 100_000
    team_school = team_enterprise < n_schools
    labels = _team_labels(p.work, industries, industry[team_enterprise], local_key, team_school, teams.labels)
    person_team = np.full(n, -1, dtype=np.int32)
    person_team[member] = person_team_idx
    is_class = team_school & (local_key < _STAFF_ROOM)
    staff_teams = person_team_idx[~is_class[person_team_idx]]
    staff = np.bincount(team_enterprise[staff_teams], minlength=len(industry))
    names = school_names + _enterprise_names(geo, industries, ent_county, ent_industry, rng)
    codes = credit_codes(
        np.where(np.arange(len(industry)) < n_schools, 12, 91),
        np.array(geo.county_codes, dtype=np.int64)[county],
        np.arange(len(industry)),
        int(rng.integers(10**8)),
    )
    return Workplaces(
        codes=codes,
        names=names,
        county=county,
        industry=industry,
        industries=[*industries, EDUCATION],
        staff=staff,
        team_enterprise=team_enterprise,
        team_labels=pa.array(labels, pa.string()),
        team_school=team_school,
        person_team=person_team,
        kwh_per_member=np.array(
            [i.kwh_per_staff for i in p.work.industries.values()] + [p.schools.kwh_per_person]
        )[industry],
    )


def _team_labels(
    p: WorkParams,
    industries: list[str],
    industry: np.ndarray,
    local: np.ndarray,
    school: np.ndarray,
    class_labels: dict[int, str],
) -> list[str]:
    words = [p.industries[i].team for i in industries]
    out = []
    for ind, key, is_school in zip(industry.tolist(), local.tolist(), school.tolist(), strict=True):
        if not is_school:
            out.append(f"{words[ind]}{key + 1:02d}")
        elif key >= _STAFF_ROOM:
            out.append(f"教师组{key - _STAFF_ROOM + 1:02d}")
        else:
            out.append(class_labels[key])
    return out


def _enterprise_names(
    geo: Geography,
    industries: list[str],
    county: np.ndarray,
    industry: np.ndarray,
    rng: np.random.Generator,
) -> list[str]:
    words = {
        "manufacturing": "制造",
        "construction": "建设",
        "wholesale_retail": "商贸",
        "logistics": "物流",
        "hospitality": "餐饮",
        "information_technology": "科技",
        "finance": "投资",
        "services": "服务",
    }
    syllables = rng.integers(0, len(_SYLLABLES), (len(county), 2))
    return [
        f"{geo.county_names[c][:2]}{_SYLLABLES[a]}{_SYLLABLES[b]}{words.get(industries[i], '实业')}有限公司"
        for c, i, (a, b) in zip(county.tolist(), industry.tolist(), syllables.tolist(), strict=True)
    ]


# ------------------------------------------------------------------------------------------------------------
# Venues


@dataclass
class Venues:
    """Venues sorted by (county, category, popularity rank); sampling follows Zipf popularity."""

    codes: pa.Array
    names: list[str]
    category: np.ndarray
    county: np.ndarray
    capacity: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    cdf_key: np.ndarray  # cell (county × categories + category) + cumulative popularity share within the cell
    n_categories: int

    def sample(self, county: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A venue of each (county, category), drawn by popularity."""
        cell = np.asarray(county, dtype=np.int64) * self.n_categories + category
        return np.searchsorted(self.cdf_key, cell + rng.random(len(cell)), side="right")


def build_venues(
    p: VenueParams, geo: Geography, county_persons: np.ndarray, rng: np.random.Generator
) -> Venues:
    """At least one venue of each category per county; capacities log-uniform; the biggest most popular."""
    kinds = list(p.categories.values())
    per_cell = np.maximum(1, np.rint(county_persons[:, None] / [k.persons_per_venue for k in kinds]))
    per_cell = per_cell.astype(np.int64).ravel()
    cell = np.repeat(np.arange(len(per_cell)), per_cell)
    category = cell % len(kinds)
    lo = np.log([kinds[c].capacity[0] for c in range(len(kinds))])[category]
    hi = np.log([kinds[c].capacity[1] for c in range(len(kinds))])[category]
    capacity = np.rint(np.exp(lo + rng.random(len(cell)) * (hi - lo))).astype(np.int64)
    order = np.lexsort((-capacity, cell))
    capacity = capacity[order]
    rank = ranks_within(cell) + 1
    weight = 1.0 / rank**p.popularity_zipf
    totals = np.bincount(cell, weights=weight)
    local = np.cumsum(weight) - np.repeat(np.cumsum(totals) - totals, per_cell)
    local = local / totals[cell]
    last = np.cumsum(per_cell) - 1
    local[last] = 1.0
    county = cell // len(kinds)
    lat0 = geo.lonlat[county, 1]
    jitter = rng.normal(0.0, p.jitter_km, (len(cell), 2)) / 111.0
    codes = [
        f"{geo.county_codes[c]}{kinds[k].letter}{r:05d}"
        for c, k, r in zip(county.tolist(), category.tolist(), rank.tolist(), strict=True)
    ]
    names = [
        f"{geo.county_names[c]}{kinds[k].name}{r}号"
        for c, k, r in zip(county.tolist(), category.tolist(), rank.tolist(), strict=True)
    ]
    return Venues(
        codes=pa.array(codes, pa.string()),
        names=names,
        category=category,
        county=county,
        capacity=capacity,
        lon=np.round(geo.lonlat[county, 0] + jitter[:, 0] / np.cos(np.radians(lat0)), 6),
        lat=np.round(lat0 + jitter[:, 1], 6),
        cdf_key=cell + local,
        n_categories=len(kinds),
    )


# ------------------------------------------------------------------------------------------------------------
# The population


@dataclass
class Population:
    """The static province: geography, persons, workplaces and venues, as of the first simulated day."""

    start: dt.date
    geo: Geography
    persons: Persons
    work: Workplaces
    venues: Venues
    categories: list[str]

    def __len__(self) -> int:
        return len(self.persons)

    def registries(self, rng: np.random.Generator) -> dict[str, pa.Table]:
        """residents, enterprises, employments and venues with the canonical raw-ID schemas."""
        return {
            "residents": self._residents(rng),
            "enterprises": self._enterprises(),
            "employments": self._employments(),
            "venues": self._venues(),
        }

    def _as_of(self, n: int) -> pa.Array:
        return pa.array(np.full(n, np.datetime64(self.start, "D")), pa.date32())

    def _residents(self, rng: np.random.Generator) -> pa.Table:
        p = self.persons
        first_day = np.datetime64(self.start, "D")
        earliest = np.maximum(p.birth, first_day - np.timedelta64(30 * 365, "D"))
        span = (first_day - earliest).astype(np.int64)
        registered = earliest + (rng.random(len(p)) * span).astype("timedelta64[D]")
        columns = [
            p.ids,
            take(p.household_ids, p.household),
            take(self.geo.county_pool, p.county),
            take(pa.array(["F", "M"]), p.male.astype(np.int64)),
            pa.array(p.birth.astype("datetime64[Y]").astype(np.int64) + 1970, pa.int16()),
            pa.array(registered, pa.date32()),
        ]
        return pa.Table.from_arrays(columns, schema=model.with_raw_ids(model.RESIDENTS))

    def _enterprises(self) -> pa.Table:
        w = self.work
        columns = [
            w.codes,
            pa.array(w.names, pa.string()),
            take(self.geo.county_pool, w.county),
            take(pa.array(w.industries, pa.string()), w.industry),
            pa.array(w.staff, pa.int32()),
            self._as_of(len(w.staff)),
        ]
        return pa.Table.from_arrays(columns, schema=model.with_raw_ids(model.ENTERPRISES))

    def _employments(self) -> pa.Table:
        w = self.work
        who = np.flatnonzero(w.person_team >= 0)
        team = w.person_team[who]
        columns = [
            take(self.persons.ids, who),
            take(w.codes, w.team_enterprise[team]),
            take(w.team_labels, team),
            self._as_of(len(who)),
        ]
        return pa.Table.from_arrays(columns, schema=model.with_raw_ids(model.EMPLOYMENTS))

    def _venues(self) -> pa.Table:
        v = self.venues
        columns = [
            v.codes,
            pa.array(v.names, pa.string()),
            take(pa.array(self.categories, pa.string()), v.category),
            take(self.geo.county_pool, v.county),
            pa.array(v.capacity, pa.int32()),
            pa.array(v.lon, pa.float64()),
            pa.array(v.lat, pa.float64()),
            self._as_of(len(v.capacity)),
        ]
        return pa.Table.from_arrays(columns, schema=model.with_raw_ids(model.VENUES))


def county_targets(p: CitiesParams, geo: Geography, persons: int) -> np.ndarray:
    """Residents per county: cities by census population, split evenly among each city's counties."""
    city_millions = np.array([p.millions[c] for c in geo.city_codes])
    weights = city_millions[geo.county_city] / geo.city_counties[geo.county_city]
    return apportion(weights, persons)


def build_population(
    p: PopulationParams, persons: int, start: dt.date, rng: np.random.Generator
) -> Population:
    """The static province of ``persons`` residents on ``start``."""
    geo = Geography.zhejiang()
    targets = county_targets(p.cities, geo, persons)
    people = build_persons(p, geo, targets, start, rng)
    work = build_workplaces(p, geo, people, rng)
    county_persons = np.bincount(people.county, minlength=len(geo.county_codes))
    venues = build_venues(p.venues, geo, county_persons, rng)
    return Population(start, geo, people, work, venues, list(p.venues.categories))
