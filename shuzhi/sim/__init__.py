"""The simulator: a synthetic province written as each department's feed, with dirt, a manifest and ground
truth.

``run`` is the one entry point (the ``shuzhi sim`` command calls it). It builds a ``World`` (``world.py``: the
population, daily life and the outbreak), then writes, in the formats of docs/feeds.md:

* every day's events, one file per feed and day (``feeds.py`` renders, ``dirt.py`` injects faults, carrying
  late rows and duplicates on to the next day's file);
* the registries (residents, enterprises, staff, venues) as snapshot files, after the days, so that rows
  events refer to are known and never corrupted; home observations accumulated over the days, once;
* ``truth/``: ``expected/<table>.parquet`` (exactly the rows ingestion must land), ``infections.parquet`` and
  ``close_contacts.parquet`` (who infected whom, who truly had close contact);
* ``manifest.json`` (``manifest.py``): every file, every injected fault, the expected row counts.

A world is anything with the ``World`` protocol below; ``ExampleWorld`` is a tiny one (a few hundred persons,
every table filled, Chinese text, quotes and commas, nulls) for the tests of the writers and of ingestion.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shuzhi import idcard, model, regions
from shuzhi.sim import dirt, feeds
from shuzhi.sim.feeds import FEEDS, Feed, column
from shuzhi.sim.manifest import MANIFEST, ExpectedWriter, FileRecord, Manifest

if TYPE_CHECKING:
    from shuzhi.sim.world import SimParams

log = logging.getLogger("shuzhi.sim")

__all__ = ["run", "Progress", "World", "ExampleWorld", "Manifest"]

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as each step advances (the CLI draws one Rich bar per step)."""

STEP_POPULATION = "Building the population"
STEP_DAYS = "Writing daily feeds"
STEP_REGISTRIES = "Writing registries"
STEP_TRUTH = "Writing truth"
TRUTH_TABLES = ("infections", "close_contacts")


class DayBatch(Protocol):
    day: dt.date
    tables: Mapping[str, pa.Table]


class World(Protocol):
    """What ``run`` needs of a world: registries up front, one batch of event tables per day, the truth after.

    Every table has the schema ``model.with_raw_ids(model.TABLES[name])``.
    """

    registries: Mapping[str, pa.Table]  # residents, enterprises, employments, venues

    def days(self) -> Iterator[DayBatch]: ...

    @property
    def truth(self) -> Any: ...  # infections and close_contacts tables (a mapping or attributes)


def run(
    out_dir: Path,
    params: SimParams,
    dirt_rate: float = 0.0,
    progress: Progress | None = None,
    world: World | None = None,
) -> Manifest:
    """Simulate ``params`` and write every department feed, the truth and the manifest into ``out_dir``.

    ``dirt_rate`` is the share of rows given a fault (docs/feeds.md); 0 writes clean feeds. ``progress`` is
    called as ``progress(step, done, total)`` with the steps ``STEP_POPULATION``, ``STEP_DAYS`` (days written
    of ``params.days``), ``STEP_REGISTRIES`` and ``STEP_TRUTH``. ``world`` replaces ``World(params)`` (tests
    pass an ``ExampleWorld``). A directory holding an earlier simulation is cleared first; one holding other
    feeds is refused.
    """
    out = Path(out_dir)
    _prepare(out)
    report = progress or (lambda step, done, total: None)
    world = world if world is not None else _simulated_world(params, report)
    manifest = Manifest(
        seed=params.seed,
        persons=params.persons,
        start=params.start.isoformat(),
        days=params.days,
        dirt_rate=dirt_rate,
        fault_classes={name: list(dirt.classes(feed)) for name, feed in FEEDS.items()},
    )
    writer = _Writer(out, dirt.Dirt(dirt_rate, params.seed), manifest, _venue_codes(world.registries))
    references = _References(world.registries)
    _write_days(writer, world, params, references, report)
    _write_registries(writer, world.registries, references, report)
    report(STEP_TRUTH, 0, 1)
    _write_truth(out / "truth", world.truth)
    manifest.expected = writer.expected.close()
    manifest.write(out)
    report(STEP_TRUTH, 1, 1)
    log.info(
        "wrote %d feed rows in %.1f s (%.0f rows/s)",
        writer.rows,
        writer.seconds,
        writer.rows / max(writer.seconds, 1e-9),
    )
    return manifest


def _simulated_world(params: SimParams, report: Progress) -> World:
    from shuzhi.sim.world import World as SimWorld

    def forward(step: str, done: int, total: int) -> None:
        if step == "population":  # the days are reported as they are written
            report(STEP_POPULATION, done, total)

    return SimWorld(params, progress=forward)


def _write_days(
    writer: _Writer, world: World, params: SimParams, references: _References, report: Progress
) -> None:
    last_day = params.start + dt.timedelta(days=params.days - 1)
    observations: list[pa.Table] = []
    report(STEP_DAYS, 0, params.days)
    for done, batch in enumerate(world.days(), 1):
        for name in feeds.DAILY:
            feed = FEEDS[name]
            if name in feeds.OPTIONAL and feed.table not in batch.tables:
                continue  # no empty files for a feed this world does not have
            writer.write(feed, batch.tables.get(feed.table), day=batch.day, last=batch.day >= last_day)
        references.note(batch.tables)
        if batch.tables.get("home_observations") is not None:
            observations.append(batch.tables["home_observations"])
        report(STEP_DAYS, done, params.days)
    if writer.carry:
        raise RuntimeError(f"the world ended before {last_day}: rows left to carry in {sorted(writer.carry)}")
    obs = FEEDS["community.observations"]
    writer.write(
        obs,
        pa.concat_tables([t.select(obs.schema.names).cast(obs.schema) for t in observations])
        if observations
        else None,
    )


def _write_registries(
    writer: _Writer, registries: Mapping[str, pa.Table], references: _References, report: Progress
) -> None:
    for done, name in enumerate(feeds.REGISTRIES):
        report(STEP_REGISTRIES, done, len(feeds.REGISTRIES))
        feed = FEEDS[name]
        writer.write(feed, registries.get(feed.table), protected_by=references.of(feed))
    report(STEP_REGISTRIES, len(feeds.REGISTRIES), len(feeds.REGISTRIES))


def _write_truth(directory: Path, truth: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in TRUTH_TABLES:
        table = truth.get(name) if isinstance(truth, Mapping) else getattr(truth, name, None)
        if isinstance(table, pa.Table):
            pq.write_table(table, directory / f"{name}.parquet")


def _prepare(out: Path) -> None:
    owned = sorted({feed.path.split("/")[0] for feed in FEEDS.values()} | {"truth"})
    out.mkdir(parents=True, exist_ok=True)
    if (out / MANIFEST).exists():
        for name in owned:
            shutil.rmtree(out / name, ignore_errors=True)
        (out / MANIFEST).unlink()
    elif any((out / name).is_dir() and any((out / name).iterdir()) for name in owned):
        raise FileExistsError(
            f"{out} holds feeds that shuzhi sim did not write (no {MANIFEST}); choose another"
        )


def _venue_codes(registries: Mapping[str, pa.Table]) -> frozenset[str]:
    venues = registries.get("venues")
    return frozenset(column(venues, "venue_code").to_pylist()) if venues is not None else frozenset()


class _References:
    """Codes of registry rows that other feeds refer to: those rows must land, so they are never corrupted."""

    SOURCES = {  # registry feed → (its code column, [(table referring to it, column)])
        "venue.registry": ("venue_code", [("venue_stays", "venue_code")]),
        "enterprise.registry": (
            "enterprise_code",
            [("employments", "enterprise_code"), ("electricity", "enterprise_code")],
        ),
    }

    def __init__(self, registries: Mapping[str, pa.Table]) -> None:
        self.codes: dict[str, pa.Array] = {}
        self.note(registries)

    def note(self, tables: Mapping[str, pa.Table]) -> None:
        for feed, (_, sources) in self.SOURCES.items():
            for table, name in sources:
                if tables.get(table) is not None:
                    found = pc.unique(column(tables[table], name))
                    known = self.codes.get(feed)
                    self.codes[feed] = found if known is None else pc.unique(pa.concat_arrays([known, found]))

    def of(self, feed: Feed) -> tuple[str, pa.Array] | None:
        if feed.name not in self.SOURCES or feed.name not in self.codes:
            return None
        return self.SOURCES[feed.name][0], self.codes[feed.name]


class _Writer:
    """Writes the files of every feed, carrying rows between a feed's files and recording what it wrote."""

    def __init__(self, out: Path, dirt_: dirt.Dirt, manifest: Manifest, venues: frozenset[str]) -> None:
        self.out, self.dirt, self.manifest, self.venues = out, dirt_, manifest, venues
        self.expected = ExpectedWriter(out / "truth" / "expected")
        self.carry: dict[str, dirt.Rows] = {}
        self.seen: dict[str, set] = {}  # natural keys of feeds whose key has no day, across files
        self.rows, self.seconds = 0, 0.0

    def write(
        self,
        feed: Feed,
        table: pa.Table | None,
        day: dt.date | None = None,
        last: bool = True,
        protected_by: tuple[str, pa.Array] | None = None,
    ) -> FileRecord:
        """Write one file of ``feed`` from the canonical rows ``table`` (None: no rows)."""
        started = time.perf_counter()
        table = table if table is not None else feed.schema.empty_table()
        clean, dropped = feeds.normalise(feed, table, self._seen(feed))
        raw = feeds.render(feed, clean)
        rows = feeds.lines(feed, raw) if feed.dialect.text else raw
        injected = dirt.inject(
            feed,
            clean,
            raw,
            rows,
            self.dirt,
            day,
            carried=self.carry.pop(feed.name, None),
            last=last,
            protected=_protected(clean, protected_by),
            venues=self.venues,
        )
        if injected.carry is not None:
            self.carry[feed.name] = injected.carry
        record = self._put(feed, feed.file(day), injected)
        self.manifest.count("dropped", feed.name, dropped)
        self.expected.append(feed.table, clean.filter(pa.array(injected.lands)))
        self.rows, self.seconds = self.rows + record.rows, self.seconds + time.perf_counter() - started
        return record

    def _put(self, feed: Feed, path: str, injected: dirt.Injected) -> FileRecord:
        if feed.dialect.text:
            written = feeds.write_text(
                self.out / path, feed, injected.rows, injected.utf8_rows, injected.truncated
            )
        else:
            written = feeds.write_parquet(self.out / path, injected.rows)
        record = FileRecord(feed.name, path, written.rows, written.sha256)
        self.manifest.add_file(record)
        self.manifest.count("faults", feed.name, injected.faults)
        self.manifest.count("tolerated", feed.name, injected.tolerated)
        return record

    def _seen(self, feed: Feed) -> set | None:
        if not feed.daily or model.TABLES[feed.table].day_column in model.TABLES[feed.table].key:
            return None
        return self.seen.setdefault(feed.name, set())


def _protected(clean: pa.Table, referenced: tuple[str, pa.Array] | None) -> np.ndarray | None:
    """Rows whose code (``referenced``: column, codes other feeds use) must land, or None."""
    if referenced is None:
        return None
    name, codes = referenced
    return pc.is_in(column(clean, name), value_set=codes).to_numpy(zero_copy_only=False)


# ------------------------------------------------------------------------------------------------------------
# a tiny world


@dataclass(frozen=True)
class ExampleBatch:
    day: dt.date
    tables: dict[str, pa.Table]


class ExampleWorld:
    """A tiny deterministic world with every table of the ``World`` protocol filled, for tests.

    Persons have valid GB 11643 IDs in Zhejiang counties; text is Chinese where departments write Chinese; one
    enterprise name holds a comma and quotes; onset dates of asymptomatic cases, seat rows and some symptom
    lists are null; a fifth of the venues and some enterprises are never referred to.
    """

    def __init__(self, params: SimParams) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        self.counties = np.array([r.code for r in regions.zhejiang_counties()])
        self.ids = self._ids(params.persons)
        self.registries = self._registries()
        self._truth: dict[str, pa.Table] = {}

    @property
    def truth(self) -> dict[str, pa.Table]:
        return self._truth

    def _ids(self, n: int) -> np.ndarray:
        birth = np.datetime64("1950-01-01") + (np.arange(n) // 1000 * 37) % 25000
        region = self.rng.choice(self.counties.astype(np.int64), n)
        return idcard.compose(region, birth.astype("datetime64[D]"), np.arange(n) % 1000)

    def _registries(self) -> dict[str, pa.Table]:
        n, rng, start = len(self.ids), self.rng, self.params.start
        firms, places = max(3, n // 40), max(5, n // 10)
        self.firm_codes = np.array([f"91330{i:013d}" for i in range(firms)])
        self.venue_codes = np.array([f"V{c}{i:05d}" for i, c in enumerate(rng.choice(self.counties, places))])
        workers = rng.choice(n, n // 2, replace=False)
        return {
            "residents": self._table(
                "residents",
                household_id=[f"H{i // 3:06d}" for i in range(n)],
                id_number=self.ids,
                county_code=rng.choice(self.counties, n),
                sex=["M"] * n,
                birth_year=np.full(n, 1900, np.int16),
                registered_on=np.full(n, np.datetime64(start) - 400),
            ),
            "enterprises": self._table(
                "enterprises",
                enterprise_code=self.firm_codes,
                name=['杭州"东方", 有限公司'] + [f"企业{i}号" for i in range(1, firms)],
                county_code=rng.choice(self.counties, firms),
                industry=rng.choice(["制造业", "批发零售", "信息技术"], firms),
                registered_staff=rng.integers(5, 500, firms).astype(np.int32),
                as_of=np.full(firms, np.datetime64(start) - 30),
            ),
            "employments": self._table(
                "employments",
                id_number=self.ids[workers],
                enterprise_code=rng.choice(self.firm_codes[: max(1, firms - 2)], len(workers)),
                team=rng.choice(["一车间", "办公室", "T1"], len(workers)),
                as_of=np.full(len(workers), np.datetime64(start) - 30),
            ),
            "venues": self._table(
                "venues",
                venue_code=self.venue_codes,
                name=[f"场所{i}" for i in range(places)],
                category=rng.choice(model.VENUE_CATEGORIES, places),
                county_code=[c[1:7] for c in self.venue_codes],
                capacity=rng.integers(10, 5000, places).astype(np.int32),
                lon=rng.uniform(118, 122.5, places),
                lat=rng.uniform(27, 31, places),
                as_of=np.full(places, np.datetime64(start) - 30),
            ),
        }

    def days(self) -> Iterator[ExampleBatch]:
        for i in range(self.params.days):
            day = self.params.start + dt.timedelta(days=i)
            yield ExampleBatch(day, self._events(i, np.datetime64(day, "s")))
        self._truth = {
            "infections": pa.table({"infectee": self.ids[:3], "infector": [None, *self.ids[:2]]}),
            "close_contacts": pa.table({"id_number": self.ids[3:6], "case_id_number": self.ids[:3]}),
        }

    def _events(self, index: int, midnight: np.datetime64) -> dict[str, pa.Table]:
        n, rng = len(self.ids), self.rng

        def people(k: int) -> np.ndarray:
            return self.ids[rng.choice(n, k, replace=k > n)]

        def moments(k: int, within: int = 86_400) -> np.ndarray:
            return midnight + rng.integers(0, within, k).astype("timedelta64[s]")

        def later(t: np.ndarray, most: int) -> np.ndarray:
            return t + rng.integers(0, most, len(t)).astype("timedelta64[s]")

        day = np.datetime64(midnight, "D")
        k = max(4, n)
        stays_in, tests_at, dep = moments(2 * k), moments(k // 4), moments(k // 5, 80_000)
        onset = rng.random(k // 50 + 2) < 0.6
        symptoms = [
            None if j % 7 == 0 else list(rng.choice(list(feeds.SYMPTOMS), j % 3, replace=False))
            for j in range(k // 2)
        ]
        return {
            "venue_stays": self._table(
                "venue_stays",
                id_number=people(2 * k),
                venue_code=rng.choice(self.venue_codes[: int(len(self.venue_codes) * 0.8)], 2 * k),
                time_in=stays_in,
                time_out=later(stays_in, 7200),
            ),
            "trips": self._table(
                "trips",
                id_number=people(k // 5),
                mode=rng.choice(model.TRIP_MODES, k // 5),
                trip_no=rng.choice(["G7501", "MU5401", "K8", "1路"], k // 5),
                dep_time=dep,
                arr_time=later(dep, 6000),
                origin_region=rng.choice(self.counties, k // 5),
                destination_region=rng.choice(self.counties, k // 5),
                origin_stop=rng.choice(["杭州东", "宁波站", "萧山机场"], k // 5),
                destination_stop=rng.choice(["温州南", "义乌站"], k // 5),
                carriage=rng.choice(["05", None], k // 5),
                carriage_class=rng.choice(["hard_seat", "economy", None], k // 5),
                seat_row=pa.array(rng.integers(1, 30, k // 5), pa.int16(), mask=rng.random(k // 5) < 0.3),
                seat=rng.choice(["12A", "03F", "无座"], k // 5),
            ),
            "telecom_stays": self._table(
                "telecom_stays",
                id_number=people(k),
                city_code=rng.choice(["330100", "330200", "330300", "420100"], k),
                first_seen=(first := moments(k, 40_000)),
                last_seen=later(first, 40_000),
            ),
            "electricity": self._table(
                "electricity",
                enterprise_code=self.firm_codes[:-1],
                day=np.full(len(self.firm_codes) - 1, day),
                kwh=np.round(rng.uniform(10, 9000, len(self.firm_codes) - 1), 2),
            ),
            "tests": self._table(
                "tests",
                id_number=people(k // 4),
                sampled_at=tests_at,
                reported_at=later(tests_at, 30_000),
                method=rng.choice(["pcr", "antigen"], k // 4),
                result=rng.choice(["negative"] * 9 + ["positive"], k // 4),
                lab=rng.choice(["浙江省疾控中心", "迪安诊断", "Lab A"], k // 4),
            ),
            "diagnoses": self._table(
                "diagnoses",
                id_number=self.ids[index * 10 : index * 10 + len(onset)],
                status=np.where(onset, "confirmed", "asymptomatic"),
                onset_date=pa.array(np.full(len(onset), day - 2), mask=~onset),
                diagnosed_at=moments(len(onset)),
                county_code=rng.choice(self.counties, len(onset)),
            ),
            "vaccinations": self._table(
                "vaccinations",
                id_number=people(k // 20),
                vaccinated_on=np.full(k // 20, day),
                product=rng.choice(["科兴", "国药北京所", "Zifivax"], k // 20),
                dose=np.full(k // 20, index + 1, np.int8),
            ),
            "fever_visits": self._table(
                "fever_visits",
                id_number=people(k // 50 + 1),
                visited_at=moments(k // 50 + 1),
                hospital=rng.choice(["浙大一院", "杭州市第一人民医院"], k // 50 + 1),
                county_code=rng.choice(self.counties, k // 50 + 1),
                temperature=np.round(rng.uniform(37.3, 39.5, k // 50 + 1), 1).astype(np.float32),
            ),
            "declarations": self._table(
                "declarations",
                id_number=people(k // 2),
                declared_at=moments(k // 2),
                county_code=rng.choice(self.counties, k // 2),
                temperature=np.round(rng.uniform(36, 38, k // 2), 1).astype(np.float32),
                symptoms=symptoms,
                visited_regions=[list(rng.choice(self.counties, j % 3)) for j in range(k // 2)],
            ),
            "home_observations": self._table(
                "home_observations",
                id_number=people(k // 100 + 1),
                county_code=rng.choice(self.counties, k // 100 + 1),
                start_date=np.full(k // 100 + 1, day),
                end_date=np.full(k // 100 + 1, day + 14),
                reason=rng.choice(list(feeds.OBSERVATION_REASONS), k // 100 + 1),
            ),
            "proximity": self._table(
                "proximity",
                id_number_a=self.ids[(near := rng.choice(n, k // 4))],
                id_number_b=self.ids[(near + rng.integers(1, n, k // 4)) % n],  # never the same person
                start_at=moments(k // 4),
                duration_seconds=rng.integers(1, 3600, k // 4),
            ),
        }

    @staticmethod
    def _table(name: str, /, **columns: Any) -> pa.Table:
        schema = model.with_raw_ids(model.TABLES[name])
        arrays = [
            pa.array(columns[f.name], f.type)
            if not isinstance(columns[f.name], pa.Array)
            else columns[f.name].cast(f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(arrays, schema=schema)
