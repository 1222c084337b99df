"""The people-counter simulator: reproducible, realistic over the day, honest about what it sent."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from shuzhi.realtime.devices import CHINA, CounterSimulator, Venue, category_days, demo_venues

MALL = Venue("330102M00001", "mall", 2000)
MARKET = Venue("330102K00002", "market", 800)


def day_of(venue: Venue, **kwargs) -> tuple[CounterSimulator, list]:
    start = dt.datetime(2020, 2, 10, 0, 0, tzinfo=CHINA)
    sim = CounterSimulator([venue], seed=5, start=start, interval=300, **kwargs)
    return sim, list(sim.run(24 * 60))


def test_the_same_seed_sends_the_same_readings():
    a = list(CounterSimulator([MALL, MARKET], seed=3, duplicates=0.1, reorder=0.1).run(120))
    b = list(CounterSimulator([MALL, MARKET], seed=3, duplicates=0.1, reorder=0.1).run(120))
    c = list(CounterSimulator([MALL, MARKET], seed=4, duplicates=0.1, reorder=0.1).run(120))
    assert a == b != c


def test_counters_follow_the_category_day():
    sim, readings = day_of(MALL)
    opens, closes = category_days()["mall"].opens, category_days()["mall"].closes
    by_hour = Counter()
    for r in readings:
        by_hour[r.at.astimezone(CHINA).hour] += r.entries
    assert all(by_hour[h] == 0 for h in range(24) if h < opens // 60 or h > closes // 60)
    afternoon = sum(by_hour[h] for h in range(14, 17))
    morning = sum(by_hour[h] for h in range(10, 11))
    assert afternoon > 3 * morning > 0  # malls fill in the afternoon
    assert sim.truth[MALL.code].inside == 0  # everyone left by closing time
    peak_inside = 0
    inside = 0
    for r in readings:
        inside += r.entries - r.exits
        peak_inside = max(peak_inside, inside)
    assert 0.4 * MALL.capacity < peak_inside < 0.9 * MALL.capacity  # peak 0.6 of capacity, give or take


def test_a_ramp_drives_occupancy_towards_the_limit():
    sim = CounterSimulator([MALL], seed=1, ramp=1.2, interval=60)
    inside = [0]
    for r in sim.run(60):
        inside.append(inside[-1] + r.entries - r.exits)
    assert 1.1 * MALL.capacity < inside[-1] < 1.3 * MALL.capacity
    halfway = inside[len(inside) // 2]
    assert 0.4 * MALL.capacity < halfway < 0.8 * MALL.capacity  # steadily, not at once


def test_sequences_run_per_device_and_injected_copies_are_exact_repeats():
    sim = CounterSimulator([MALL, MARKET], seed=2, duplicates=0.3, reorder=0.3)
    readings = list(sim.run(180))
    assert sim.sent == len(readings)
    unique = {(r.device_id, r.sequence): r for r in readings}
    assert len(unique) < len(readings)
    assert [r for r in readings if unique[(r.device_id, r.sequence)] != r] == []
    assert sorted(unique) == sorted((d, s) for d in sim.devices for s in range(1, sim.sequence[d] + 1))
    assert readings != sorted(readings, key=lambda r: (r.at, r.device_id))  # some arrive late
    entries = Counter()
    for r in unique.values():
        entries[r.venue_code] += r.entries
    assert entries == Counter({v: t.entries for v, t in sim.truth.items()})
    assert len(sim.devices) == 4 + 2  # one counter per 400 places, one to four a venue


def test_demo_venues_are_coded_like_the_registry():
    venues = demo_venues(30, seed=2)
    assert len({v.code for v in venues}) == 30
    assert all(len(v.code) == 12 and v.code.startswith("330102") and v.capacity > 0 for v in venues)
    assert demo_venues(30, seed=2) == venues


@pytest.mark.parametrize("bad", [{"duplicates": 1.5}, {"reorder": -0.1}, {"interval": 0}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        CounterSimulator([MALL], **bad)


def test_venues_come_from_the_registry_in_the_lake(tmp_path):
    import pyarrow as pa

    from shuzhi.lake import Lake
    from shuzhi.model import TABLES
    from shuzhi.realtime.devices import lake_venues

    def registry(day: dt.date, capacity: int) -> pa.Table:
        rows = {"venue_code": ["330102M00001", "330102R00002"], "name": ["商场", "餐厅"],
                "category": ["mall", "restaurant"], "county_code": ["330102"] * 2, "capacity": [capacity, 80],
                "lon": [120.2] * 2, "lat": [30.3] * 2, "as_of": [day] * 2}  # fmt: skip
        return pa.table(rows, schema=TABLES["venues"].schema)

    lake = Lake(tmp_path / "lake")
    lake.write_part("venues", dt.date(2020, 1, 1), "a.parquet", registry(dt.date(2020, 1, 1), 1000))
    lake.write_part("venues", dt.date(2020, 2, 1), "b.parquet", registry(dt.date(2020, 2, 1), 1500))
    assert lake_venues(tmp_path / "lake") == [Venue("330102M00001", "mall", 1500),
                                             Venue("330102R00002", "restaurant", 80)]  # fmt: skip
    assert len(lake_venues(tmp_path / "lake", 1)) == 1
