"""The outbreak: transmission along the simulated contacts, the care pathway, a simple response, the truth.

Owns the ``outbreak`` and ``vaccination`` sections of params.yaml and a transparent daily stochastic model:

* **Seeds**: residents back from Wuhan, infected there some days before arriving.
* **Natural history**: lognormal incubation; infectiousness by day from symptom onset (from two days before);
  a share of infections stays asymptomatic and less infectious. A PCR test is positive from a few days after
  infection to three weeks after onset, and negative otherwise, so every result agrees with the truth.
* **Transmission** only along the day's gatherings from :mod:`shuzhi.sim.life`: each infectious person infects
  each member of their household, team, venue group or vehicle unit (seat rows within a radius) with the
  setting's probability per contact-day, scaled by their infectiousness that day; plus a small casual term in
  large shared spaces (same venue and part of the day, same metro line and half hour), shared among those
  present so that it does not grow with the simulated population.
* **Care**: symptomatic cases go to a fever clinic some days after onset, are sampled, isolated pending the
  result, reported 6-24 h later and diagnosed (some first as suspected); others with fever test negative.
* **Response**: a diagnosed case's household and team mates are put under home observation the next day and
  screened; arrivals from Hubei are observed from a date. Positive screens are diagnosed and isolated (persons
  tested before onset are reported asymptomatic and re-reported as confirmed on onset).
* **Truth**: every infection (who, by whom, where, when, onset, diagnosis) and every close contact (household,
  team, venue group, vehicle unit) an infectious person had while infectious and not isolated.

Isolated persons have no events; observed persons stay home (household contacts only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from shuzhi import model, regions
from shuzhi.sim.life import DAY, NEVER, DayLife, Gathering, Life, Mixing, Status
from shuzhi.sim.population import (
    DayRange,
    FloatRange,
    IntRange,
    Population,
    Share,
    Strict,
    expand,
    take,
)

SETTINGS = (
    "imported",
    "household",
    "workplace",
    "school",
    "venue_table",
    "vehicle",
    "venue_casual",
    "vehicle_casual",
)
CLOSE_SETTINGS = ("household", "workplace", "school", "venue_table", "vehicle")
STATUSES = model.DIAGNOSIS_STATUSES  # confirmed, suspected, asymptomatic
CONFIRMED, SUSPECTED, ASYMPTOMATIC = range(3)
FOREVER = np.iinfo(np.int32).max  # "never" for times kept as int32 seconds since the period start
SYMPTOM_DAYS = 10  # days a symptomatic case shows symptoms (declarations)

INFECTIONS_SCHEMA = pa.schema(
    [
        ("id_number", pa.string()),
        ("infector_id_number", pa.string()),
        ("setting", pa.string()),
        ("place", pa.string()),
        ("infected_at", pa.timestamp("s")),
        ("onset_date", pa.date32()),
        ("asymptomatic", pa.bool_()),
        ("first_positive_sample_at", pa.timestamp("s")),
        ("diagnosed_at", pa.timestamp("s")),
    ]
)
CLOSE_CONTACTS_SCHEMA = pa.schema(
    [
        ("case_id_number", pa.string()),
        ("contact_id_number", pa.string()),
        ("setting", pa.string()),
        ("place", pa.string()),
        ("first_contact_at", pa.timestamp("s")),
        ("last_contact_at", pa.timestamp("s")),
    ]
)

# ------------------------------------------------------------------------------------------------------------
# Parameters


class SeedParams(Strict):
    per_100k: Annotated[float, Field(ge=0)]
    region: str
    arrival_days: DayRange  # relative to the first simulated day, may be negative
    infected_days_before_arrival: IntRange
    city_weights: dict[str, Annotated[float, Field(ge=0)]]
    ages: IntRange

    @field_validator("city_weights")
    @classmethod
    def _cities(cls, value: dict[str, float]) -> dict[str, float]:
        if unknown := set(value) - {c.city_code for c in regions.zhejiang_counties()}:
            raise ValueError(f"{sorted(unknown)} are not Zhejiang city codes")
        if sum(value.values()) <= 0:
            raise ValueError("need a positive weight for at least one city")
        return value


class IncubationParams(Strict):
    mean_days: Annotated[float, Field(gt=0)]
    sd_days: Annotated[float, Field(gt=0)]


class InfectiousnessParams(Strict):
    from_day: Annotated[int, Field(le=0)]
    weights: Annotated[list[Share], Field(min_length=1)]


class TransmissionParams(Strict):
    household: Share
    workplace: Share
    school: Share
    venue_table: Share
    vehicle: Share
    venue_casual: Share
    vehicle_casual: Share


class CareParams(Strict):
    fever_clinic_share: Share
    onset_to_visit_days: IntRange
    background_fever_rate: Share
    suspected_share: Share
    report_hours: FloatRange
    diagnosis_hours: FloatRange


class ArrivalObservation(Strict):
    prefix: str
    start: dt.date = Field(alias="from")


class ResponseParams(Strict):
    observe_days: Annotated[int, Field(gt=0)]
    screening_days: list[Annotated[int, Field(ge=1)]]
    arrival_observation: ArrivalObservation


class OutbreakParams(Strict):
    seeds: SeedParams
    incubation: IncubationParams
    infectiousness: InfectiousnessParams
    asymptomatic_share: Share
    asymptomatic_infectiousness: Share
    transmission: TransmissionParams
    detection: IntRange
    care: CareParams
    response: ResponseParams


class VaccinationParams(Strict):
    start: dt.date
    daily_share: Share
    min_age: Annotated[int, Field(ge=0)]
    dose_interval_days: Annotated[int, Field(gt=0)]
    max_doses: Annotated[int, Field(gt=0, le=9)]
    products: dict[str, Annotated[float, Field(gt=0)]]


# ------------------------------------------------------------------------------------------------------------
# Event queues


@dataclass
class _Queue:
    """Future events by day: columns of equal length and the day each becomes due."""

    columns: tuple[str, ...]
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def push(self, due: np.ndarray, **values: np.ndarray) -> None:
        if len(due):
            self.parts.append(
                {"due": np.asarray(due, np.int64), **{k: np.asarray(v) for k, v in values.items()}}
            )

    def pop(self, d: int) -> dict[str, np.ndarray]:
        """Events due on day ``d`` (removed from the queue)."""
        if not self.parts:
            return {k: np.empty(0, np.int64) for k in self.columns}
        merged = {k: np.concatenate([p[k] for p in self.parts]) for k in ("due", *self.columns)}
        now = merged["due"] == d
        self.parts = [{k: v[~now] for k, v in merged.items()}] if (~now).any() else []
        return {k: merged[k][now] for k in self.columns}


@dataclass
class _Contacts:
    """Pairs of (infectious source, member) found in a gathering today."""

    setting: str
    case: np.ndarray
    contact: np.ndarray
    start: np.ndarray
    end: np.ndarray
    place: pa.Array


def pairs(g: Gathering, infectious: np.ndarray) -> _Contacts:
    """Close contacts in gathering ``g`` of every infectious member: same group, positions within the source's
    radius, overlapping times. ``infectious`` is a boolean mask over persons."""
    src = np.flatnonzero(infectious[g.person])
    lo = np.searchsorted(g.group, g.group[src], side="left")
    counts = np.searchsorted(g.group, g.group[src], side="right") - lo
    s, m = np.repeat(src, counts), expand(lo, counts)
    keep = g.person[m] != g.person[s]
    if g.pos is not None:
        keep &= np.abs(g.pos[m] - g.pos[s]) <= g.radius[s]
    start, end = np.maximum(g.start[s], g.start[m]), np.minimum(g.end[s], g.end[m])
    keep &= end > start
    s, m = s[keep], m[keep]
    return _Contacts(
        g.setting, g.person[s], g.person[m], start[keep], end[keep], take(g.places, g.place_index(g.group[s]))
    )


# ------------------------------------------------------------------------------------------------------------
# The outbreak


class Outbreak:
    """The epidemic and the health system's events, day by day, with the ground truth."""

    def __init__(self, p: OutbreakParams, vaccination: VaccinationParams, pop: Population, seed: int) -> None:
        self.p, self.vacc, self.pop, self.seed = p, vaccination, pop, seed
        n = len(pop)
        self.period_base = int((np.datetime64(pop.start, "s") - np.datetime64(0, "s")).astype(np.int64))
        self.inf_day = np.full(n, NEVER, np.int16)
        self.onset = np.full(n, NEVER, np.int16)  # symptom onset; for asymptomatic cases the would-be onset
        self.asym = np.zeros(n, bool)
        self.visit_day = np.full(n, NEVER, np.int16)
        self.iso_at = np.full(n, FOREVER, np.int32)  # seconds since the period start
        self.obs_end = np.full(n, -1, np.int16)  # observed on days obs_start..obs_end-1
        self.obs_start = np.zeros(n, np.int16)
        self.diag_at = np.full(n, FOREVER, np.int32)
        self.first_pos = np.full(n, FOREVER, np.int32)
        self.infectious = np.zeros(n, np.float32)
        self.tests = _Queue(("person", "sampled", "reported", "positive", "lab"))
        self.diagnoses = _Queue(("person", "status", "at", "trigger"))
        self.orders = _Queue(("person", "reason"))
        self.screens = _Queue(("person",))
        self.log: list[tuple] = []  # infections: person, infector, setting, place, infected_at
        self.contacts: list[pa.Table] = []
        self.isolations: list[np.ndarray] = []
        self.doses: np.ndarray | None = None  # vaccination state, from the first day of the campaign
        self.last_dose: np.ndarray | None = None
        self.product: np.ndarray | None = None
        self.profile = np.asarray(p.infectiousness.weights, np.float32)
        self.team_order = np.argsort(pop.work.person_team, kind="stable").astype(np.int32)
        self.team_offsets = np.searchsorted(
            pop.work.person_team[self.team_order], np.arange(len(pop.work.team_enterprise) + 1)
        )
        self.hospital = pop.categories.index("hospital")
        self.hospital_names = pa.array(pop.venues.names, pa.string())
        self.hospital_labs = pa.array([f"{name}检验科" for name in pop.venues.names], pa.string())
        self.cdc_labs = pa.array([f"{name}疾控中心" for name in pop.geo.county_names], pa.string())
        self._today: dict[str, pa.Table] = {}

    # -- seeds -----------------------------------------------------------------------------------------------

    def import_seeds(self, life: Life) -> None:
        """Choose the imported cases and send them to their origin until they arrive."""
        s, rng = self.p.seeds, np.random.default_rng([self.seed, 20])
        count = int(round(s.per_100k * len(self.pop) / 1e5))
        age = self.pop.persons.age
        eligible = (age >= s.ages[0]) & (age <= s.ages[1])
        codes = self.pop.geo.city_codes
        weights = np.array([s.city_weights.get(c, 0.0) for c in codes])[life.city] * eligible
        if count == 0 or weights.sum() == 0:
            return
        person = rng.choice(
            len(weights), min(count, int(eligible.sum())), replace=False, p=weights / weights.sum()
        )
        arrival = rng.integers(s.arrival_days[0], s.arrival_days[1] + 1, len(person))
        infected = arrival - rng.integers(
            s.infected_days_before_arrival[0], s.infected_days_before_arrival[1] + 1, len(person)
        )
        at = infected * DAY + rng.integers(0, DAY, len(person))
        self._infect(
            person,
            infected,
            at,
            np.full(len(person), -1),
            SETTINGS.index("imported"),
            pa.repeat(pa.scalar(s.region, pa.string()), len(person)),
            rng,
        )
        visit = self.visit_day[person]
        self.visit_day[person] = np.where(visit == NEVER, NEVER, np.maximum(visit, np.maximum(arrival, 0)))
        life.send_away(person, s.region, arrival)

    def _infect(self, person, day, at, infector, setting, place: pa.Array, rng) -> None:
        """Record infections and draw each one's natural history and care-seeking."""
        inc, care = self.p.incubation, self.p.care
        sigma = np.sqrt(np.log(1 + (inc.sd_days / inc.mean_days) ** 2))
        mu = np.log(inc.mean_days) - sigma**2 / 2
        incubation = np.maximum(np.rint(rng.lognormal(mu, sigma, len(person))), 1).astype(np.int64)
        self.inf_day[person] = day
        self.onset[person] = np.minimum(day + incubation, NEVER - 1)
        self.asym[person] = rng.random(len(person)) < self.p.asymptomatic_share
        seeks = ~self.asym[person] & (rng.random(len(person)) < care.fever_clinic_share)
        delay = rng.integers(care.onset_to_visit_days[0], care.onset_to_visit_days[1] + 1, len(person))
        self.visit_day[person] = np.where(seeks, np.minimum(day + incubation + delay, NEVER - 1), NEVER)
        settings = np.full(len(person), setting) if np.isscalar(setting) else setting
        self.log.append((person, infector, settings, place, self.period_base + at))

    # -- morning: who is where -------------------------------------------------------------------------------

    def morning(self, d: int, away: np.ndarray) -> Status:
        """Apply today's observation orders, fever-clinic visits and screening; say who is confined."""
        rng = np.random.default_rng([self.seed, 2, d])
        self._today = {"home_observations": self._start_orders(d)}
        day_start = d * DAY
        isolated = self.iso_at < day_start
        visitors = self._fever_clinics(d, away, isolated, rng)
        self._screen(d, visitors, rng)
        leaving = self._leaving(d)
        observed = (self.obs_start <= d) & (self.obs_end > d)
        confined = isolated | observed
        confined[visitors] = True
        confined[leaving] = True
        symptomatic = np.flatnonzero(
            ~self.asym & (self.onset <= d) & (self.onset > d - SYMPTOM_DAYS) & ~isolated
        ).astype(np.int32)
        return Status(
            confined=confined,
            isolated=isolated,
            observed=observed,
            leaves=leaving,
            leaves_at=self.iso_at[leaving].astype(np.int64) - day_start,
            symptomatic=symptomatic,
        )

    def _leaving(self, d: int) -> np.ndarray:
        if not self.isolations:
            return np.empty(0, np.int64)
        people = np.unique(np.concatenate(self.isolations))
        at = self.iso_at[people]
        return people[(at >= d * DAY) & (at < (d + 1) * DAY)]

    def _start_orders(self, d: int) -> pa.Table:
        orders = self.orders.pop(d)
        person, first = np.unique(orders["person"], return_index=True)
        reason = orders["reason"][first]
        fresh = (self.obs_end[person] <= d) & (self.iso_at[person] > d * DAY)
        person, reason = person[fresh], reason[fresh]
        length = self.p.response.observe_days
        self.obs_start[person], self.obs_end[person] = d, d + length
        for k in self.p.response.screening_days:
            if k <= length:
                self.screens.push(np.full(len(person), d + k - 1), person=person)
        start = np.datetime64(self.pop.start, "D") + d
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, person),
                take(self.pop.geo.county_pool, self.pop.persons.county[person]),
                pa.array(np.full(len(person), start), pa.date32()),
                pa.array(np.full(len(person), start + length - 1), pa.date32()),
                take(pa.array(["close_contact", "arrival"], pa.string()), reason),
            ],
            schema=model.with_raw_ids(model.HOME_OBSERVATIONS),
        )

    def _fever_clinics(self, d: int, away: np.ndarray, isolated: np.ndarray, rng) -> np.ndarray:
        """Today's fever-clinic visits: cases whose day it is, and other fevers. Samples everyone."""
        care, n = self.p.care, len(self.pop)
        due = (self.visit_day == d) & ~isolated & ~away & (self.diag_at == FOREVER)
        other = (rng.random(n, dtype=np.float32) < care.background_fever_rate) & ~isolated & ~away & ~due
        person = np.flatnonzero(due | other)
        visited = d * DAY + rng.integers(8 * 3600, 20 * 3600, len(person))
        county = self.pop.persons.county[person].astype(np.int64)
        hospital = self.pop.venues.sample(county, np.full(len(person), self.hospital), rng)
        infected = self.inf_day[person] <= d
        temperature = rng.uniform(37.3, 39.5, len(person))
        self._today["fever_visits"] = pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, person),
                pa.array(self.period_base + visited, pa.timestamp("s")),
                take(self.hospital_names, hospital),
                take(self.pop.geo.county_pool, county),
                pa.array(np.round(temperature, 1), pa.float32()),
            ],
            schema=model.with_raw_ids(model.FEVER_VISITS),
        )
        sampled = visited + rng.integers(10 * 60, 60 * 60, len(person))
        positive = self._sample(d, person, sampled, take(self.hospital_labs, hospital), rng)
        suspect = rng.random(len(person)) < np.where(
            infected, care.suspected_share, care.suspected_share / 20
        )
        at = visited[suspect] + rng.integers(3600, 3 * 3600, int(suspect.sum()))
        self.diagnoses.push(
            at // DAY,
            person=person[suspect],
            status=np.full(len(at), SUSPECTED),
            at=at,
            trigger=np.zeros(len(at), bool),
        )
        self._isolate(person[positive], visited[positive])
        return person

    def _screen(self, d: int, visitors: np.ndarray, rng) -> None:
        person = np.unique(self.screens.pop(d)["person"])
        person = person[(self.iso_at[person] > d * DAY) & (self.diag_at[person] == FOREVER)]
        person = np.setdiff1d(person, visitors)
        sampled = d * DAY + rng.integers(9 * 3600, 16 * 3600, len(person))
        self._sample(d, person, sampled, take(self.cdc_labs, self.pop.persons.county[person]), rng)

    def _sample(self, d: int, person, sampled, lab: pa.Array, rng) -> np.ndarray:
        """PCR samples: results follow the truth; positives are diagnosed after the report."""
        care = self.p.care
        lo, hi = self.p.detection
        inf = self.inf_day[person].astype(np.int64)
        positive = (inf + lo <= d) & (d <= self.onset[person].astype(np.int64) + hi) & (inf <= d)
        reported = sampled + (rng.uniform(*care.report_hours, len(person)) * 3600).astype(np.int64)
        self.tests.push(
            reported // DAY,
            person=person,
            sampled=sampled,
            reported=reported,
            positive=positive,
            lab=np.asarray(lab.to_pylist() if len(lab) else [], dtype=object),
        )
        pos = person[positive]
        self.first_pos[pos] = np.minimum(self.first_pos[pos], sampled[positive])
        new = pos[self.diag_at[pos] == FOREVER]
        at = reported[positive][self.diag_at[pos] == FOREVER]
        at = at + (rng.uniform(*care.diagnosis_hours, len(new)) * 3600).astype(np.int64)
        self.diag_at[new] = at
        early = self.asym[new] | (self.onset[new].astype(np.int64) > d)
        self.diagnoses.push(
            at // DAY,
            person=new,
            status=np.where(early, ASYMPTOMATIC, CONFIRMED),
            at=at,
            trigger=np.ones(len(new), bool),
        )
        turns = early & ~self.asym[new]
        onset = self.onset[new[turns]].astype(np.int64)
        confirm = np.maximum(onset * DAY + rng.integers(9 * 3600, 18 * 3600, len(onset)), at[turns] + 3600)
        self.diagnoses.push(
            confirm // DAY,
            person=new[turns],
            status=np.full(len(onset), CONFIRMED),
            at=confirm,
            trigger=np.zeros(len(onset), bool),
        )
        self._isolate(new, at)
        return positive

    def _isolate(self, person: np.ndarray, at: np.ndarray) -> None:
        self.iso_at[person] = np.minimum(self.iso_at[person], at)
        self.isolations.append(person)

    # -- evening: transmission, reports, response ------------------------------------------------------------

    def evening(self, d: int, life: DayLife) -> dict[str, pa.Table]:
        """Spread along today's gatherings, then emit today's health events and tomorrow's observations."""
        rng = np.random.default_rng([self.seed, 3, d])
        self._set_infectiousness(d)
        infectious = self.infectious > 0
        found = [pairs(g, infectious) for g in life.gatherings]
        self._record_contacts(d, found)
        self._transmit(d, found, life.mixing, rng)
        tables = dict(self._today)
        tables["tests"] = self._emit_tests(d)
        tables["diagnoses"] = self._emit_diagnoses(d)
        self._order_arrivals(d, life)
        tables["vaccinations"] = self._vaccinate(d, rng)
        return tables

    def _set_infectiousness(self, d: int) -> None:
        self.infectious[:] = 0
        if not self.log:
            return
        person = np.concatenate([entry[0] for entry in self.log])
        rel = d - self.onset[person].astype(np.int64) - self.p.infectiousness.from_day
        ok = (rel >= 0) & (rel < len(self.profile)) & (self.inf_day[person] < d)
        scale = np.where(self.asym[person], self.p.asymptomatic_infectiousness, 1.0)
        self.infectious[person[ok]] = self.profile[rel[ok]] * scale[ok]

    def _record_contacts(self, d: int, found: list[_Contacts]) -> None:
        base = self.period_base + d * DAY
        for c in found:
            if len(c.case) == 0 or c.setting not in CLOSE_SETTINGS:
                continue
            self.contacts.append(
                pa.table(
                    {
                        "case": pa.array(c.case, pa.int64()),
                        "contact": pa.array(c.contact, pa.int64()),
                        "setting": pa.repeat(pa.scalar(c.setting, pa.string()), len(c.case)),
                        "place": c.place,
                        "first": pa.array(base + c.start.astype(np.int64), pa.int64()),
                        "last": pa.array(base + c.end.astype(np.int64), pa.int64()),
                    }
                )
            )

    def _transmit(self, d: int, found: list[_Contacts], mixing: list[Mixing], rng) -> None:
        beta = self.p.transmission
        susceptible = self.inf_day == NEVER
        hits = []
        for c in found:
            chance = getattr(beta, c.setting) * self.infectious[c.case]
            hit = np.flatnonzero((rng.random(len(c.case)) < chance) & susceptible[c.contact])
            hits.append(
                (
                    c.contact[hit],
                    c.case[hit],
                    np.full(len(hit), SETTINGS.index(c.setting)),
                    c.start[hit],
                    c.end[hit],
                    c.place.take(pa.array(hit, pa.int64())),
                )
            )
        hits += [self._casual(m, getattr(beta, m.setting), susceptible, rng) for m in mixing]
        person, infector, setting, start, end = (
            np.concatenate([h[k] for h in hits]).astype(np.int64) for k in range(5)
        )
        place = pa.concat_arrays([h[5] for h in hits])
        order = np.lexsort((rng.random(len(person)), start, person))
        first = order[np.r_[True, person[order][1:] != person[order][:-1]]] if len(order) else order
        at = d * DAY + start[first] + (rng.random(len(first)) * (end[first] - start[first])).astype(np.int64)
        self._infect(
            person[first],
            np.full(len(first), d),
            at,
            infector[first],
            setting[first],
            place.take(pa.array(first, pa.int64())),
            rng,
        )

    def _casual(self, m: Mixing, beta: float, susceptible: np.ndarray, rng) -> tuple:
        """Casual infections in shared bins, frequency-dependent so that the simulated population's size
        does not matter: each person present faces hazard beta × (infectiousness present) / (persons present),
        so an infectious person causes about beta infections per bin among susceptibles. The infector is one
        infectious person of the bin, drawn at random."""
        weight = self.infectious[m.person]
        src = np.flatnonzero(weight > 0)
        bins, first_src, n_src = np.unique(m.bin[src], return_index=True, return_counts=True)
        force = np.add.reduceat(weight[src], first_src) if len(src) else np.empty(0)
        lo = np.searchsorted(m.bin, bins, side="left")
        counts = np.searchsorted(m.bin, bins, side="right") - lo
        rows = expand(lo, counts)
        which = np.repeat(np.arange(len(bins)), counts)
        chance = 1 - np.exp(-beta * force[which] / counts[which])
        hit = (rng.random(len(rows)) < chance) & susceptible[m.person[rows]]
        rows, which = rows[hit], which[hit]
        source = src[first_src[which] + (rng.random(len(rows)) * n_src[which]).astype(np.int64)]
        return (
            m.person[rows],
            m.person[source],
            np.full(len(rows), SETTINGS.index(m.setting)),
            m.start[rows],
            m.end[rows],
            take(m.places, m.place_of_bin[rows]),
        )

    def _emit_tests(self, d: int) -> pa.Table:
        t = self.tests.pop(d)
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, t["person"]),
                pa.array(self.period_base + t["sampled"].astype(np.int64), pa.timestamp("s")),
                pa.array(self.period_base + t["reported"].astype(np.int64), pa.timestamp("s")),
                pa.repeat(pa.scalar("pcr", pa.string()), len(t["person"])),
                take(pa.array(["negative", "positive"], pa.string()), t["positive"].astype(np.int64)),
                pa.array(t["lab"].tolist(), pa.string()),
            ],
            schema=model.with_raw_ids(model.TESTS),
        )

    def _emit_diagnoses(self, d: int) -> pa.Table:
        x = self.diagnoses.pop(d)
        person, status = x["person"].astype(np.int64), x["status"].astype(np.int64)
        trigger = person[x["trigger"].astype(bool)]
        self._order_contacts(d, trigger)
        day = x["at"].astype(np.int64) // DAY
        onset = np.where(
            self.inf_day[person] <= day, self.onset[person].astype(np.int64), day
        )  # other fevers
        has_onset = status != ASYMPTOMATIC
        onset_date = np.datetime64(self.pop.start, "D") + np.where(has_onset, np.minimum(onset, day), 0)
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, person),
                take(pa.array(list(STATUSES), pa.string()), status),
                pa.array(onset_date, pa.date32(), mask=~has_onset),
                pa.array(self.period_base + x["at"].astype(np.int64), pa.timestamp("s")),
                take(self.pop.geo.county_pool, self.pop.persons.county[person]),
            ],
            schema=model.with_raw_ids(model.DIAGNOSES),
        )

    def _order_contacts(self, d: int, cases: np.ndarray) -> None:
        """Home observation from tomorrow for each new case's household and team mates."""
        persons, work = self.pop.persons, self.pop.work
        hh = persons.household[cases].astype(np.int64)
        lo = persons.household_start[hh]
        members = [expand(lo, persons.household_start[hh + 1] - lo)]
        team = work.person_team[cases].astype(np.int64)
        team = team[team >= 0]
        lo = self.team_offsets[team]
        members.append(self.team_order[expand(lo, self.team_offsets[team + 1] - lo)])
        contacts = np.setdiff1d(np.concatenate(members), cases)
        self.orders.push(
            np.full(len(contacts), d + 1), person=contacts, reason=np.zeros(len(contacts), np.int64)
        )

    def _order_arrivals(self, d: int, life: DayLife) -> None:
        obs = self.p.response.arrival_observation
        if self.pop.start + dt.timedelta(days=d) < obs.start:
            return
        hit = np.array([r.startswith(obs.prefix) for r in life.arrival_regions], dtype=bool)
        person = life.arrivals[hit] if len(hit) else life.arrivals[:0]
        self.orders.push(np.full(len(person), d + 1), person=person, reason=np.ones(len(person), np.int64))

    def _vaccinate(self, d: int, rng) -> pa.Table:
        v, n = self.vacc, len(self.pop)
        date = self.pop.start + dt.timedelta(days=d)
        schema = model.with_raw_ids(model.VACCINATIONS)
        if date < v.start:
            return schema.empty_table()
        if self.doses is None:
            self.doses = np.zeros(n, np.int8)
            self.last_dose = np.full(n, -NEVER, np.int16)
            names = list(v.products)
            shares = np.array(list(v.products.values()))
            self.product = rng.choice(len(names), n, p=shares / shares.sum()).astype(np.int8)
        eligible = (self.pop.persons.age >= v.min_age) & (self.doses < v.max_doses)
        eligible &= d - self.last_dose.astype(np.int64) >= v.dose_interval_days
        who = np.flatnonzero(eligible & (rng.random(n) < v.daily_share) & (self.iso_at > d * DAY))
        self.doses[who] += 1
        self.last_dose[who] = d
        return pa.Table.from_arrays(
            [
                take(self.pop.persons.ids, who),
                pa.array(np.full(len(who), np.datetime64(date, "D")), pa.date32()),
                take(pa.array(list(v.products), pa.string()), self.product[who]),
                pa.array(self.doses[who], pa.int8()),
            ],
            schema=schema,
        )

    # -- truth -----------------------------------------------------------------------------------------------

    def truth(self) -> dict[str, pa.Table]:
        """``infections`` and ``close_contacts`` as Arrow tables (raw ID numbers)."""
        return {"infections": self._infections(), "close_contacts": self._close_contacts()}

    def _infections(self) -> pa.Table:
        if not self.log:
            return INFECTIONS_SCHEMA.empty_table()
        person, infector, setting, at = (
            np.concatenate([e[k] for e in self.log]).astype(np.int64) for k in (0, 1, 2, 4)
        )
        place = pa.concat_arrays([e[3] for e in self.log])
        ids = self.pop.persons.ids
        onset = self.onset[person].astype(np.int64)
        asym = self.asym[person]
        first_pos, diag = self.first_pos[person].astype(np.int64), self.diag_at[person].astype(np.int64)
        imported = pa.array(infector < 0, pa.bool_())
        table = pa.Table.from_arrays(
            [
                take(ids, person),
                pc.if_else(imported, pa.scalar(None, pa.string()), take(ids, np.maximum(infector, 0))),
                take(pa.array(SETTINGS, pa.string()), setting),
                place,
                pa.array(at, pa.timestamp("s")),
                pa.array(np.datetime64(self.pop.start, "D") + onset, pa.date32(), mask=asym),
                pa.array(asym, pa.bool_()),
                pa.array(
                    self.period_base + np.where(first_pos == FOREVER, 0, first_pos),
                    pa.timestamp("s"),
                    mask=first_pos == FOREVER,
                ),
                pa.array(
                    self.period_base + np.where(diag == FOREVER, 0, diag),
                    pa.timestamp("s"),
                    mask=diag == FOREVER,
                ),
            ],
            schema=INFECTIONS_SCHEMA,
        )
        return table.sort_by([("infected_at", "ascending"), ("id_number", "ascending")])

    def _close_contacts(self) -> pa.Table:
        if not self.contacts:
            return CLOSE_CONTACTS_SCHEMA.empty_table()
        keys = ["case", "contact", "setting", "place"]
        grouped = (
            pa.concat_tables(self.contacts).group_by(keys).aggregate([("first", "min"), ("last", "max")])
        )
        grouped = grouped.sort_by([(k, "ascending") for k in keys])
        ids = self.pop.persons.ids
        return pa.Table.from_arrays(
            [
                take(ids, grouped["case"].to_numpy()),
                take(ids, grouped["contact"].to_numpy()),
                grouped["setting"].combine_chunks(),
                grouped["place"].combine_chunks(),
                pa.array(grouped["first_min"].to_numpy(), pa.timestamp("s")),
                pa.array(grouped["last_max"].to_numpy(), pa.timestamp("s")),
            ],
            schema=CLOSE_CONTACTS_SCHEMA,
        )
