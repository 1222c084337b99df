"""The synthetic world at demo scale (slow): speed, the size of the default epidemic, and the electricity
curve of a normal week and of the return to work in February 2020."""

from __future__ import annotations

import datetime as dt
import time

import pyarrow.compute as pc
import pytest

from shuzhi.sim.world import SimParams, World


@pytest.mark.slow
def test_the_default_province_runs_fast_with_a_meaningful_epidemic():
    started = time.perf_counter()
    world = World(SimParams(persons=200_000, days=14))
    rows = sum(t.num_rows for batch in world.days() for t in batch.tables.values())
    assert time.perf_counter() - started < 60
    assert rows > 50 * 200_000 / 10
    infections = world.truth["infections"]
    diagnosed = pc.sum(pc.is_valid(infections["diagnosed_at"])).as_py()
    assert 200 <= infections.num_rows <= 2_000 and 20 <= diagnosed <= 500
    assert world.truth["close_contacts"].num_rows > infections.num_rows


def _daily_kwh(start: dt.date, days: int) -> dict[dt.date, float]:
    world = World(SimParams(persons=5_000, days=days, start=start))
    return {b.day: pc.sum(b.tables["electricity"]["kwh"]).as_py() for b in world.days()}


@pytest.mark.slow
def test_electricity_has_a_weekly_cycle_and_rises_on_return_to_work():
    normal = _daily_kwh(dt.date(2019, 11, 4), 7)  # Monday to Sunday
    weekdays = [normal[dt.date(2019, 11, d)] for d in range(4, 9)]
    weekend = [normal[dt.date(2019, 11, d)] for d in (9, 10)]
    assert max(weekend) < 0.6 * min(weekdays)
    spring = _daily_kwh(dt.date(2020, 2, 3), 28)  # holiday, then the return to work weeks
    tuesdays = [spring[dt.date(2020, 2, 4) + dt.timedelta(weeks=k)] for k in range(4)]
    assert tuesdays == sorted(tuesdays) and tuesdays[-1] > 2 * tuesdays[0]
