"""Benchmark: trace 1,000 cases over 20M and 100M synthetic venue stays; against a scan and against pandas.

The lake is generated directly with numpy/pyarrow in a temporary directory, laid out as ingestion lays it out
(``venue_stays/day=YYYY-MM-DD/*.parquet``, sorted by check-in within a day), with venues, residents
(households) and employments (teams). Persons visit venues of their own county; within a county, venue
popularity follows Zipf's law (exponent 0.9, as in the simulator), and a venue's size follows its popularity
(the busiest are supermarkets, markets, malls; small ones restaurants, gyms, hotels, offices, cinemas). The
1,000 cases are diagnosed in the last three days.

In the same run, on the same files and engine settings, it times:

* ``scan``  — one plain scan of the stays: count and min/max of every column the trace reads;
* ``trace`` — ``shuzhi.tracing.trace`` with every rule of an edition: the 9th (close contacts, companions and
  contacts of contacts) and the 2022-11 one (no contacts of contacts), with the time and rows of each pass;
* ``one rule`` — the same trace with a policy of one rule, the one pandas runs: the same venue (any
  category, any size) for ≥ 15 min, no companions, no second degree; its pairs must equal pandas' pairs;
* ``pandas`` — a plain pandas merge-and-filter: the cases' stays merged with every stay at the same venue,
  overlaps (cut to the case's window) ≥ 15 min kept (20M only). A merge on venue *and day* would be 6x
  faster but wrong: it misses the overlaps that cross midnight (71 pairs at 20M).

Each step runs in its own process, so its peak memory (max RSS) is its own. Targets: trace ≤ 2x the scan,
≥ 30x faster than pandas, peak < 4 GiB. The ratios are printed for the full editions and for the one-rule
trace, which does exactly the work pandas does.

    python benchmarks/trace.py --stays 20000000 100000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from harness import in_child

START = dt.date(2022, 3, 1)
COUNTIES = 90
PERSONS_PER_VENUE = 120  # as in the simulator (200,000 residents, about 1,600 venues)
STAYS_PER_PERSON_DAY = 0.6  # venue-code scans per resident per day, as in the simulator
ZIPF = 0.9
OPEN, CLOSE = 7 * 3600, 21 * 3600 + 1800
VISITS_PER_SEAT_DAY = 8  # a venue's capacity is about its daily visits / 8 (turnover in a day)
SMALL = {"restaurant": 0.75, "gym": 0.05, "hotel": 0.08, "office": 0.06, "cinema": 0.06}  # capacity <= 300
LARGE = {"supermarket": 0.4, "market": 0.25, "mall": 0.2, "hospital": 0.1, "scenic": 0.05}
ROW_GROUP = 1_000_000
PANDAS_MINUTES = 15  # the baseline's one rule: the same venue for at least this long


def person_keys(index: np.ndarray) -> np.ndarray:
    """Pseudonym-like int64 keys: a bijective scramble, so keys carry no order (as keyed hashes don't)."""
    with np.errstate(over="ignore"):
        return (index.astype(np.int64) * np.int64(-7046029254386353131)) ^ np.int64(0x5DEECE66D)


def generate(lake: str, stays: int, days: int, cases: int, seed: int = 7) -> dict:
    """Write the synthetic lake; return its sizes."""
    rng = np.random.default_rng(seed)
    persons = int(stays / (days * STAYS_PER_PERSON_DAY))
    per_county = max(1, persons // PERSONS_PER_VENUE // COUNTIES)
    county = rng.integers(0, COUNTIES, persons)
    popularity = np.cumsum(np.arange(1, per_county + 1, dtype=float) ** -ZIPF)
    popularity /= popularity[-1]
    _write(lake, "venues", _venues(rng, per_county, popularity, stays // days), dt.date(2022, 1, 1))
    _write(lake, "residents", _residents(rng, persons), dt.date(2022, 1, 1))
    _write(lake, "employments", _employments(rng, persons), dt.date(2022, 1, 1))
    _write(lake, "diagnoses", _diagnoses(rng, persons, cases, days), START + dt.timedelta(days=days - 1))
    for day in range(days):
        n = stays // days
        who = rng.integers(0, persons, n)
        rank = np.minimum(np.searchsorted(popularity, rng.random(n)), per_county - 1)
        stays_of_day = _stays(rng, who, county[who] * per_county + rank, day)
        _write(lake, "venue_stays", stays_of_day, START + dt.timedelta(day))
    return {"persons": persons, "venues": per_county * COUNTIES, "stays": stays // days * days}


def _venues(rng: np.random.Generator, per_county: int, popularity: np.ndarray, per_day: int) -> pa.Table:
    """Venues whose size follows their popularity: the busiest are supermarkets, malls, scenic spots."""
    n = per_county * COUNTIES
    share = np.diff(popularity, prepend=0.0)[np.arange(n) % per_county] / COUNTIES
    capacity = np.maximum(20, share * per_day / VISITS_PER_SEAT_DAY * rng.uniform(0.8, 1.2, n))
    small = capacity <= 300
    category = np.where(small, _pick(rng, SMALL, n), _pick(rng, LARGE, n))
    centre_lon = 118.0 + 3.0 * rng.random(COUNTIES)
    centre_lat = 28.0 + 2.5 * rng.random(COUNTIES)
    spread = 3.0 / 111.0  # 3 km around the county's centre
    home = np.arange(n) // per_county
    return pa.table(
        {
            "venue_code": _venue_codes(n),
            "name": pa.nulls(n, pa.string()),
            "category": category,
            "county_code": pa.array([f"33{h:04d}" for h in home]),
            "capacity": capacity.astype(np.int32),
            "lon": centre_lon[home] + rng.normal(0, spread, n),
            "lat": centre_lat[home] + rng.normal(0, spread, n),
            "as_of": pa.array([dt.date(2022, 1, 1)] * n, pa.date32()),
        }
    )


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(shares))
    p = np.array(list(shares.values()))
    return names[rng.choice(len(names), n, p=p / p.sum())]


def _residents(rng: np.random.Generator, persons: int) -> pa.Table:
    household = np.cumsum(rng.random(persons) < 1 / 2.35)  # households of 2.35 persons on average
    return pa.table({"person_key": person_keys(np.arange(persons)), "household_id": household.astype(str)})


def _employments(rng: np.random.Generator, persons: int) -> pa.Table:
    working = np.flatnonzero(rng.random(persons) < 0.6)
    team = np.arange(len(working)) // 15
    return pa.table(
        {
            "person_key": person_keys(working),
            "enterprise_code": (team // 20).astype(str),
            "team": team.astype(str),
        }
    )


def _diagnoses(rng: np.random.Generator, persons: int, cases: int, days: int) -> pa.Table:
    who = rng.choice(persons, cases, replace=False)
    last = dt.datetime.combine(START, dt.time()) + dt.timedelta(days=days)
    seconds = rng.integers(-3 * 86400, 0, cases)
    diagnosed = np.datetime64(last, "s") + seconds.astype("timedelta64[s]")
    onset = (diagnosed.astype("datetime64[D]") - np.timedelta64(1, "D")).astype("datetime64[D]")
    return pa.table(
        {
            "person_key": person_keys(who),
            "status": pa.array(["confirmed"] * cases),
            "onset_date": pa.array(onset, pa.date32()),
            "diagnosed_at": pa.array(diagnosed, pa.timestamp("s")),
        }
    )


def _stays(rng: np.random.Generator, who: np.ndarray, venue: np.ndarray, day: int) -> pa.Table:
    n = len(who)
    start = rng.integers(OPEN, CLOSE, n)
    minutes = np.clip(rng.lognormal(np.log(45), 0.6, n), 5, 240)
    long = rng.random(n) < 0.002  # hotel nights
    minutes = np.where(long, rng.uniform(8 * 60, 16 * 60, n), minutes)
    midnight = np.datetime64(START + dt.timedelta(days=day), "s")
    order = np.argsort(start, kind="stable")
    time_in = midnight + start[order].astype("timedelta64[s]")
    time_out = time_in + (minutes[order] * 60).astype("timedelta64[s]")
    codes = pa.DictionaryArray.from_arrays(
        pa.array(venue[order], pa.int32()), _venue_codes(int(venue.max()) + 1)
    )
    return pa.table(
        {
            "person_key": person_keys(who[order]),
            "venue_code": codes.cast(pa.string()),
            "time_in": pa.array(time_in, pa.timestamp("s")),
            "time_out": pa.array(time_out, pa.timestamp("s")),
        }
    )


def _venue_codes(n: int) -> pa.Array:
    return pa.array([f"V{i:07d}" for i in range(n)])


def _write(lake: str, table: str, data: pa.Table, day: dt.date) -> None:
    folder = Path(lake) / table / f"day={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, folder / "part-0.parquet", row_group_size=ROW_GROUP)


ONE_RULE = "one rule"


def one_rule_policy(edition: str, minimum_minutes: float):
    """The edition cut to the one rule pandas runs: the same venue (any) for ≥ ``minimum_minutes``."""
    from shuzhi.model import VENUE_CATEGORIES
    from shuzhi.tracing import load_policy
    from shuzhi.tracing.policy import VenueRule

    rule = VenueRule(
        name="same_venue",
        setting="venue",
        categories=list(VENUE_CATEGORIES),
        min_overlap_minutes=minimum_minutes,
    )
    only = {"household": None, "workspace": None, "vehicles": [], "proximity": None, "companions": None}
    return load_policy(edition).model_copy(update={**only, "venues": [rule], "secondary": None})


def scan_and_trace(lake: str, editions: list[str], memory_limit: str, minimum_minutes: float) -> dict:
    """Time one plain scan of the stays and a trace per edition, in one process, on the same engine."""
    from shuzhi.engine import connect
    from shuzhi.tracing import load_policy, trace

    engine = connect(lake=lake, memory_limit=memory_limit)
    stays = engine.table("venue_stays")
    columns = ("person_key", "venue_code", "time_in", "time_out")
    scan = stays.aggregate(
        rows=stays.count(),
        **{f"min_{c}": stays[c].min() for c in columns},
        **{f"max_{c}": stays[c].max() for c in columns},
    )
    out: dict = {"scan": _timed(lambda: engine.to_arrow(scan))[0], "editions": {}}
    policies = {edition: load_policy(edition) for edition in editions}
    policies[ONE_RULE] = one_rule_policy(editions[0], minimum_minutes)
    for name, policy in policies.items():
        passes = _passes(engine)
        seconds, result = _timed(lambda p=policy: trace(engine, p))
        engine.to_arrow = type(engine).to_arrow.__get__(engine)  # stop timing the passes
        found = result.contacts.group_by("classification").aggregate([("contact_key", "count")]).to_pylist()
        out["editions"][name] = {
            "trace": seconds,
            "cases": result.cases.num_rows,
            "rows": {row["classification"]: row["contact_key_count"] for row in found},
            "pairs": result.contacts.select(["case_key", "contact_key"])
            .group_by(["case_key", "contact_key"])
            .aggregate([])
            .num_rows,
            "passes": passes,
        }
    return out


def _timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _passes(engine) -> list[tuple[float, int]]:
    """Record (seconds, rows) of every query the engine runs from now on."""
    log: list[tuple[float, int]] = []
    run = type(engine).to_arrow.__get__(engine)

    def timed(expr):
        seconds, table = _timed(lambda: run(expr))
        log.append((round(seconds, 2), table.num_rows))
        return table

    engine.to_arrow = timed
    return log


def pandas_baseline(lake: str, minimum_minutes: float, days_before_onset: int) -> dict:
    """Cases' stays merged with every stay at the same venue; overlaps in the case's window ≥ the minimum."""
    import pandas as pd

    started = time.perf_counter()
    stays = pd.read_parquet(
        Path(lake) / "venue_stays", columns=["person_key", "venue_code", "time_in", "time_out"]
    )
    cases = pd.read_parquet(Path(lake) / "diagnoses")
    cases["window_start"] = pd.to_datetime(cases["onset_date"]) - pd.Timedelta(days=days_before_onset)
    mine = stays.merge(cases[["person_key", "window_start", "diagnosed_at"]], on="person_key")
    mine = mine[(mine.time_out > mine.window_start) & (mine.time_in < mine.diagnosed_at)]
    pairs = mine.merge(stays, on="venue_code", suffixes=("", "_contact"))
    first = pairs[["time_in", "time_in_contact", "window_start"]].max(axis=1)
    last = pairs[["time_out", "time_out_contact", "diagnosed_at"]].min(axis=1)
    long_enough = (last - first).dt.total_seconds() >= minimum_minutes * 60
    close = pairs[long_enough & (pairs.person_key != pairs.person_key_contact)]
    found = close[["person_key", "person_key_contact"]].drop_duplicates()
    return {"pandas": time.perf_counter() - started, "pairs": len(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, nargs="+", default=[20_000_000, 100_000_000])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--editions", nargs="+", default=["2022-9th", "2022-11th"])
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--pandas-up-to", type=int, default=20_000_000, help="largest size to run pandas on")
    args = parser.parse_args()
    from shuzhi.tracing import load_policy

    days_before_onset = load_policy(args.editions[0]).window.days_before_onset
    for size in args.stays:
        with tempfile.TemporaryDirectory(prefix="shuzhi-trace-bench-") as lake:
            made = in_child(generate, lake, size, args.days, args.cases)
            timed = in_child(scan_and_trace, lake, args.editions, args.memory_limit, PANDAS_MINUTES)
            base = None
            if size <= args.pandas_up_to:
                base = in_child(pandas_baseline, lake, PANDAS_MINUTES, days_before_onset)
        _report(made, timed, base, args)


def _report(made: dict, timed: dict, base: dict | None, args) -> None:
    print(
        f"\n{made['stays']:,} stays, {made['persons']:,} persons, {made['venues']:,} venues, {args.days} days"
    )
    print(f"  {args.cases:,} cases, DuckDB memory_limit {args.memory_limit}")
    print(f"  generate            {made['peak_mib']:8.0f} MiB peak")
    print(f"  scan        {timed['scan']:8.2f} s")
    for edition, t in timed["editions"].items():
        ratio = t["trace"] / timed["scan"]
        print(f"  trace {edition:9s} {t['trace']:6.2f} s   trace/scan {ratio:6.1f}x   {t['rows']}")
        print(f"      passes (s, rows): {t['passes']}")
        if base:
            same = "the same pairs as pandas" if t["pairs"] == base["pairs"] else "pairs DIFFER from pandas"
            note = f"   {same}" if edition == ONE_RULE else ""
            print(f"      pandas/trace {base['pandas'] / t['trace']:6.1f}x{note}")
    print(f"  scan + traces process  {timed['peak_mib']:8.0f} MiB peak")
    if base:
        print(f"  pandas      {base['pandas']:8.2f} s   {base['peak_mib']:8.0f} MiB peak")
        print(f"      {base['pairs']:,} pairs at the same venue, >= {PANDAS_MINUTES} min")


if __name__ == "__main__":
    main()
