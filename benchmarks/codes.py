"""Benchmark: every resident's health code for one day, over a synthetic lake of a city of 10 million.

The lake (Parquet by table and day, as :mod:`shuzhi.lake` writes it) is generated with numpy directly:
residents, telecom stays, trips, declarations with daily check-ins, tests, fever-clinic visits, home
observations, diagnoses, contacts and county risk levels, in the proportions a city in an outbreak would hold
over a month.
Each step runs in its own process so that its peak memory (max RSS, DuckDB included) is its own. The baseline,
measured in the same run on the same lake, is a plain scan of the residents table into Arrow through the same
engine: the ratio codes/scan says what the rules cost on top of reading who lives here. The follow-up worklist
of the same day (everyone under a measure, their health checks and scheduled tests) is timed against the
codes.

    python benchmarks/codes.py --persons 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from harness import in_child

DAY = dt.date(2020, 2, 10)  # the day codes are computed for
HISTORY_DAYS = 31  # days of evidence before it
EDITIONS = ("2020-5th", "2022-9th")

# Evidence rows per resident over the month, and shares of residents (a city in an outbreak).
TELECOM_PER_PERSON = 2.0
TRIPS_PER_PERSON = 0.2
DECLARATIONS_PER_PERSON = 0.3
CHECKIN_SHARE, CHECKIN_DAYS = 0.02, 14
TESTS_PER_PERSON = 0.5
FEVER_VISIT_SHARE = 0.005
HOME_OBSERVATION_SHARE = 0.005
CASE_SHARE = 0.0002
CONTACT_SHARES = {"close": 0.01, "secondary": 0.01, "companion": 0.02}
AWAY_SHARE, HUBEI_SHARE = 0.10, 0.002  # stays outside the home city; of them in Hubei


# ---- generation ------------------------------------------------------------------------------------------
def _generate(lake: str, persons: int, seed: int) -> dict:
    from shuzhi.lake import Lake

    started, rng, out = time.perf_counter(), np.random.default_rng(seed), Lake(lake)
    counties, cities = _regions()
    home = rng.choice(counties["zj"], persons)
    rows = _write(out, "residents", _residents(rng, persons, home), "registered_on")
    tables = {
        "area_risk": _area_risk(rng, counties),
        "telecom_stays": _telecom(rng, persons, home, cities),
        "trips": _trips(rng, persons, cities),
        "declarations": _declarations(rng, persons, cities),
        "tests": _tests(rng, persons),
        "fever_visits": _fever_visits(rng, persons),
        "home_observations": _home_observations(rng, persons, home),
        "diagnoses": _diagnoses(rng, persons, home),
        "contacts": _contacts(rng, persons),
    }
    day_columns = {
        "area_risk": "day",
        "telecom_stays": "first_seen",
        "trips": "dep_time",
        "declarations": "declared_at",
        "tests": "sampled_at",
        "fever_visits": "visited_at",
        "home_observations": "start_date",
        "diagnoses": "diagnosed_at",
        "contacts": "last_contact_at",
    }
    for name, table in tables.items():
        rows += _write(out, name, table, day_columns[name])
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _regions() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    from shuzhi.regions import divisions

    county = [c for c, r in divisions().items() if r.level == "county"]
    city = sorted({c[:4] + "00" for c in county})
    by = {
        "zj": lambda c: c.startswith("33"),
        "hubei": lambda c: c.startswith("42"),
        "other": lambda c: not c.startswith(("33", "42")),
        "all": lambda c: True,
    }
    counties = {k: np.array([c for c in county if f(c)]) for k, f in by.items()}
    cities = {k: np.array([c for c in city if f(c)]) for k, f in by.items()}
    return counties, cities


def _write(lake, name: str, table: pa.Table, day_column: str) -> int:
    from shuzhi.codes.inputs import schema

    target = schema(name)
    columns = [
        table[f.name] if f.name in table.column_names else pa.nulls(len(table), f.type) for f in target
    ]
    table = pa.table(columns, names=target.names).cast(target)
    days = pc.cast(table[day_column], pa.date32())
    for day in pc.unique(days).to_pylist():
        lake.write_part(name, day, "part-bench.parquet", table.filter(pc.equal(days, day)))
    return table.num_rows


def _seconds(rng, n: int, days_back: int, end: dt.date = DAY) -> np.ndarray:
    """Random instants in the ``days_back`` days up to the end of ``end``."""
    last = np.datetime64(end + dt.timedelta(days=1), "s")
    return last - rng.integers(1, days_back * 86400, n).astype("timedelta64[s]")


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[s]"), pa.timestamp("s"))


def _people(rng, persons: int, share: float) -> np.ndarray:
    return rng.integers(1, persons + 1, int(persons * share), dtype=np.int64)


def _residents(rng, persons: int, home: np.ndarray) -> pa.Table:
    keys = np.arange(1, persons + 1, dtype=np.int64)
    return pa.table(
        {
            "person_key": keys,
            "household_id": pc.cast(pa.array(keys // 3), pa.string()),
            "county_code": home,
            "sex": np.where(rng.random(persons) < 0.5, "M", "F"),
            "birth_year": rng.integers(1930, 2020, persons).astype(np.int16),
            "registered_on": pa.array(np.full(persons, np.datetime64("2019-12-31", "D")), pa.date32()),
        }
    )


def _area_risk(rng, counties: dict[str, np.ndarray]) -> pa.Table:
    every = counties["all"]
    level = np.full(len(every), "low", dtype=object)
    level[np.isin(every, counties["hubei"])] = "high"
    level[rng.random(len(every)) < 0.02] = "medium"
    days = [DAY - dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
    return pa.table(
        {
            "county_code": np.tile(every, len(days)),
            "day": pa.array(np.repeat(np.array(days, dtype="datetime64[D]"), len(every)), pa.date32()),
            "level": pa.array(np.tile(level, len(days)).astype(str)),
            "reason": pa.nulls(len(every) * len(days), pa.string()),
        }
    )


def _elsewhere(rng, n: int, cities: dict[str, np.ndarray]) -> np.ndarray:
    """Cities away from home: mostly elsewhere in Zhejiang or China, a few in Hubei."""
    where = rng.choice(cities["zj"], n)
    far = rng.random(n) < 0.5
    where[far] = rng.choice(cities["other"], int(far.sum()))
    hubei = rng.random(n) < HUBEI_SHARE / AWAY_SHARE
    where[hubei] = rng.choice(cities["hubei"], int(hubei.sum()))
    return where


def _telecom(rng, persons: int, home: np.ndarray, cities) -> pa.Table:
    n = int(persons * TELECOM_PER_PERSON)
    who = rng.integers(1, persons + 1, n, dtype=np.int64)
    city = np.char.add(home[who - 1].astype("U4"), "00")
    away = rng.random(n) < AWAY_SHARE
    city[away] = _elsewhere(rng, int(away.sum()), cities)
    first = _seconds(rng, n, 14)
    first = first - (first - first.astype("datetime64[D]")) + np.timedelta64(6 * 3600, "s")
    hours = rng.integers(1, 16, n).astype("timedelta64[h]")
    return pa.table(
        {"person_key": who, "city_code": city, "first_seen": _ts(first), "last_seen": _ts(first + hours)}
    )


def _trips(rng, persons: int, cities) -> pa.Table:
    n = int(persons * TRIPS_PER_PERSON)
    dep = _seconds(rng, n, HISTORY_DAYS)
    mode = rng.choice(np.array(["train", "flight", "coach"]), n)
    return pa.table(
        {
            "person_key": rng.integers(1, persons + 1, n, dtype=np.int64),
            "mode": mode,
            "trip_no": np.char.add("G", rng.integers(1, 9999, n).astype("U4")),
            "dep_time": _ts(dep),
            "arr_time": _ts(dep + np.timedelta64(3, "h")),
            "origin_region": _elsewhere(rng, n, cities),
            "destination_region": np.full(n, "330100"),
        }
    )


def _declarations(rng, persons: int, cities) -> pa.Table:
    once = int(persons * DECLARATIONS_PER_PERSON)
    checkers = _people(rng, persons, CHECKIN_SHARE)
    who = np.concatenate(
        [rng.integers(1, persons + 1, once, dtype=np.int64), np.repeat(checkers, CHECKIN_DAYS)]
    )
    back = np.tile(np.arange(CHECKIN_DAYS), len(checkers)).astype("timedelta64[D]")
    daily = np.datetime64(DAY, "s") + np.timedelta64(8 * 3600, "s") - back
    at = np.concatenate([_seconds(rng, once, HISTORY_DAYS), daily])
    n = len(who)
    temperature = rng.normal(36.5, 0.25, n).astype(np.float32)
    sick = rng.random(n) < 0.01
    symptoms = _lists(np.where(sick, "cough", ""), sick)
    travelled = rng.random(n) < 0.05
    visited = _lists(np.where(travelled, _elsewhere(rng, n, cities), ""), travelled)
    return pa.table(
        {
            "person_key": who,
            "declared_at": _ts(at),
            "county_code": np.full(n, "330102"),
            "temperature": temperature,
            "symptoms": symptoms,
            "visited_regions": visited,
        }
    )


def _lists(values: np.ndarray, present: np.ndarray) -> pa.Array:
    """One-element lists where ``present``, empty lists elsewhere."""
    offsets = np.concatenate([[0], np.cumsum(present)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values[present].astype(str)))


def _tests(rng, persons: int) -> pa.Table:
    n = int(persons * TESTS_PER_PERSON)
    sampled = _seconds(rng, n, HISTORY_DAYS)
    return pa.table(
        {
            "person_key": rng.integers(1, persons + 1, n, dtype=np.int64),
            "sampled_at": _ts(sampled),
            "reported_at": _ts(sampled + np.timedelta64(12, "h")),
            "method": np.where(rng.random(n) < 0.9, "pcr", "antigen"),
            "result": np.where(rng.random(n) < 0.999, "negative", "positive"),
            "lab": np.full(n, "lab-1"),
        }
    )


def _fever_visits(rng, persons: int) -> pa.Table:
    who = _people(rng, persons, FEVER_VISIT_SHARE)
    n = len(who)
    return pa.table(
        {
            "person_key": who,
            "visited_at": _ts(_seconds(rng, n, HISTORY_DAYS)),
            "hospital": np.full(n, "浙大一院"),
            "county_code": np.full(n, "330102"),
            "temperature": rng.normal(38.0, 0.4, n).astype(np.float32),
        }
    )


def _home_observations(rng, persons: int, home: np.ndarray) -> pa.Table:
    who = _people(rng, persons, HOME_OBSERVATION_SHARE)
    start = _seconds(rng, len(who), HISTORY_DAYS).astype("datetime64[D]")
    return pa.table(
        {
            "person_key": who,
            "county_code": home[who - 1],
            "start_date": pa.array(start, pa.date32()),
            "end_date": pa.array(start + np.timedelta64(14, "D"), pa.date32()),
            "reason": np.full(len(who), "返回人员"),
        }
    )


def _diagnoses(rng, persons: int, home: np.ndarray) -> pa.Table:
    who = _people(rng, persons, CASE_SHARE)
    n = len(who)
    return pa.table(
        {
            "person_key": who,
            "status": rng.choice(np.array(["confirmed", "suspected", "asymptomatic"]), n),
            "onset_date": pa.nulls(n, pa.date32()),
            "diagnosed_at": _ts(_seconds(rng, n, HISTORY_DAYS)),
            "county_code": home[who - 1],
        }
    )


def _contacts(rng, persons: int) -> pa.Table:
    parts = []
    for classification, share in CONTACT_SHARES.items():
        who = _people(rng, persons, share)
        n = len(who)
        last = _seconds(rng, n, HISTORY_DAYS)
        degree = 2 if classification == "secondary" else 1
        setting = "same_time_place" if classification == "companion" else "household"
        parts.append(
            pa.table(
                {
                    "case_key": rng.integers(1, persons + 1, n, dtype=np.int64),
                    "contact_key": who,
                    "degree": np.full(n, degree, dtype=np.int8),
                    "via_key": pa.array(
                        who if degree == 2 else np.zeros(n, np.int64), mask=np.full(n, degree == 1)
                    ),
                    "classification": np.full(n, classification),
                    "rule": np.full(n, setting),
                    "setting": np.full(n, setting),
                    "place": np.full(n, "place"),
                    "first_contact_at": _ts(last - np.timedelta64(1, "h")),
                    "last_contact_at": _ts(last),
                    "overlap_seconds": np.full(n, 3600, dtype=np.int64),
                    "evidence": np.full(n, "synthetic"),
                }
            )
        )
    return pa.concat_tables(parts)


# ---- measurement -----------------------------------------------------------------------------------------
def _scan(lake: str) -> dict:
    from shuzhi.engine import connect

    engine = connect(lake=lake)
    started = time.perf_counter()
    rows = engine.to_arrow(engine.table("residents")).num_rows
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _of_the_day(lake: str, edition: str, what: str) -> dict:
    """Time the codes (``what="codes"``) or the follow-up worklist of the day; rows by colour or status."""
    from shuzhi.codes import codes
    from shuzhi.engine import connect
    from shuzhi.followup import followup

    compute, by = {"codes": (codes, "colour"), "followup": (followup, "status")}[what]
    engine = connect(lake=lake)
    started = time.perf_counter()
    result = compute(engine, edition, DAY)
    seconds = time.perf_counter() - started
    counts = result.group_by(by).aggregate([("person_key", "count")]).to_pylist()
    return {
        "seconds": seconds,
        "rows": result.num_rows,
        "counts": {r[by]: r["person_key_count"] for r in counts},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--lake", type=Path, help="keep the synthetic lake here (default: a temporary folder)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shuzhi-codes-") as tmp:
        lake = str(args.lake or Path(tmp) / "lake")
        gen = in_child(_generate, lake, args.persons, args.seed)
        scan = in_child(_scan, lake)
        runs = {edition: in_child(_of_the_day, lake, edition, "codes") for edition in EDITIONS}
        worklists = {edition: in_child(_of_the_day, lake, edition, "followup") for edition in EDITIONS}
    print(f"city: {args.persons:,} residents; lake {gen['rows']:,} rows, generated in {gen['seconds']:.1f} s")
    print(f"{'step':28s} {'rows':>12s} {'seconds':>8s} {'peak MiB':>9s}  colours or statuses")
    _line("scan residents (baseline)", scan)
    for edition, run in runs.items():
        _line(f"codes {edition}", run, ", ".join(f"{c} {n:,}" for c, n in sorted(run["counts"].items())))
    for edition, run in worklists.items():
        _line(f"followup {edition}", run, ", ".join(f"{c} {n:,}" for c, n in sorted(run["counts"].items())))
    for edition, run in runs.items():
        print(f"codes {edition} / residents scan: {run['seconds'] / scan['seconds']:.1f}x")
    for edition, run in worklists.items():
        print(f"followup {edition} / codes {edition}: {run['seconds'] / runs[edition]['seconds']:.1f}x")


def _line(step: str, run: dict, note: str = "") -> None:
    print(f"{step:28s} {run['rows']:>12,} {run['seconds']:8.2f} {run['peak_mib']:9.0f}  {note}")


if __name__ == "__main__":
    main()
