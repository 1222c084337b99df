"""The synthetic world: parameters, the static registries, the day-by-day event tables and the ground truth.

Owns the simulator's public API. :class:`SimParams` says how big, how long, from when and from which seed;
:func:`load_params` reads and validates ``params.yaml`` (every modelling number, with its source). A
:class:`World` builds the population once (:attr:`World.registries`), then :meth:`World.days` yields one
:class:`DayBatch` per simulated day — never holding more than a day of events — and afterwards
:attr:`World.truth` holds who infected whom and who truly had close contact with whom. Every table has the
canonical schema ``model.with_raw_ids(model.TABLES[name])``; the same parameters and seed give byte-identical
tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from shuzhi.sim.life import DayLife, Life, LifeParams
from shuzhi.sim.outbreak import Outbreak, OutbreakParams, VaccinationParams
from shuzhi.sim.population import PopulationParams, Strict, build_population
from shuzhi.sim.proximity import ProximityParams, records, users

REGISTRIES = ("residents", "enterprises", "employments", "venues")
EVENTS = (
    "venue_stays",
    "trips",
    "telecom_stays",
    "electricity",
    "tests",
    "diagnoses",
    "vaccinations",
    "fever_visits",
    "declarations",
    "home_observations",
)
Progress = Callable[[str, int, int], None]


class ParamsError(ValueError):
    """The parameter file is missing, unreadable or violates its schema; the message names the key."""


class Params(Strict):
    """Every modelling number of the simulator (params.yaml)."""

    population: PopulationParams
    life: LifeParams
    outbreak: OutbreakParams
    vaccination: VaccinationParams
    proximity: ProximityParams

    @model_validator(mode="after")
    def _seed_region_is_a_destination(self) -> Params:
        if self.outbreak.seeds.region not in self.life.travel.destinations:
            raise ValueError(
                f"outbreak.seeds.region {self.outbreak.seeds.region} must be one of life.travel.destinations"
            )
        return self


class SimParams(BaseModel):
    """What to simulate: how many residents, how many days from which date, with which seed and parameters."""

    persons: Annotated[int, Field(ge=1_000, le=10_000_000)] = 200_000
    days: Annotated[int, Field(ge=1, le=366)] = 14
    start: dt.date = dt.date(2020, 1, 20)
    seed: int = 1
    params_file: Path | None = None


def default_params_path() -> Path:
    return Path(str(resources.files("shuzhi.sim").joinpath("params.yaml")))


def load_params(path: Path | str | None = None) -> Params:
    """Read and validate a parameter file (default: the shipped params.yaml)."""
    path = Path(path) if path is not None else default_params_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ParamsError(f"{path}: parameter file not found") from exc
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"key '{'.'.join(str(p) for p in err['loc']) or '(top level)'}': {err['msg']}"
            for err in exc.errors()
        ]
        raise ParamsError(f"{path}: " + "; ".join(problems)) from exc


@dataclass(frozen=True)
class DayBatch:
    """The events of one simulated day, by canonical table name."""

    day: dt.date
    tables: dict[str, pa.Table]


class World:
    """A synthetic province: registries at once, events day by day, then the ground truth."""

    def __init__(self, params: SimParams | None = None, progress: Progress | None = None) -> None:
        self.params = params or SimParams()
        self.model = load_params(self.params.params_file)
        self._progress = progress or (lambda step, done, total: None)
        self._progress("population", 0, 1)
        p, seed = self.params, self.params.seed
        self.population = build_population(
            self.model.population, p.persons, p.start, np.random.default_rng([seed, 0])
        )
        self.registries: dict[str, pa.Table] = self.population.registries(np.random.default_rng([seed, 1]))
        self.life = Life(self.model.life, self.population, p.days, seed)
        self.outbreak = Outbreak(self.model.outbreak, self.model.vaccination, self.population, seed)
        self.outbreak.import_seeds(self.life)
        self.app = users(self.model.proximity, p.persons, np.random.default_rng([seed, 5]))
        self._progress("population", 1, 1)
        self._state = "ready"

    def days(self) -> Iterator[DayBatch]:
        """One batch per simulated day, in order. A world runs once."""
        if self._state != "ready":
            raise RuntimeError("this World has already run its days; build a new World to run again")
        self._state = "running"
        total = self.params.days
        for d in range(total):
            status = self.outbreak.morning(d, self.life.away_all_day(d))
            life = self.life.day(d, status)
            health = self.outbreak.evening(d, life)
            tables = {**life.tables, **health}
            batch = {name: tables[name] for name in EVENTS}
            if self.app.any():
                batch["proximity"] = self._proximity(d, life)
            yield DayBatch(self.params.start + dt.timedelta(days=d), batch)
            self._progress("days", d + 1, total)
        self._state = "done"

    def _proximity(self, d: int, life: DayLife) -> pa.Table:
        day_base = int((np.datetime64(self.params.start, "s") - np.datetime64(0, "s")).astype(np.int64))
        rng = np.random.default_rng([self.params.seed, 6, d])
        ids = self.population.persons.ids
        return records(
            self.model.proximity, self.app, life.gatherings, life.mixing, ids, day_base + d * 86_400, rng
        )

    @property
    def truth(self) -> dict[str, pa.Table]:
        """``infections`` and ``close_contacts``; available once :meth:`days` has been iterated to the end."""
        if self._state != "done":
            raise RuntimeError(
                "the truth is known once all days have been simulated: iterate World.days() first"
            )
        return self.outbreak.truth()
