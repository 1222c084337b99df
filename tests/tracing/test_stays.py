"""The bucketed stays join finds exactly the overlapping pairs a brute-force comparison finds."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa
import pytest

from shuzhi.tracing.stays import left_side, overlapping

T0 = dt.datetime(2022, 3, 1)


def _stays(rng: np.random.Generator, n: int, venues: int, step: int = 1, days: int = 4) -> pa.Table:
    start = rng.integers(0, days * 86400 // step, n) * step
    # minutes to days: meals, afternoons, night shifts, hotel guests; a few exactly on the tier bounds
    bounds = [3600, 3601, 3 * 3600, 3 * 3600 + 1, 86400, 86401, 3 * 86400]
    length = rng.choice([*bounds, rng.integers(60, 3 * 3600)], n)
    length = np.where(rng.random(n) < 0.6, rng.integers(60 // step + 1, 3 * 3600 // step, n) * step, length)
    return pa.table(
        {
            "person_key": np.arange(n, dtype=np.int64),
            "venue_code": pa.array([f"V{v}" for v in rng.integers(0, venues, n)]),
            "time_in": pa.array([T0 + dt.timedelta(seconds=int(s)) for s in start], pa.timestamp("s")),
            "time_out": pa.array(
                [T0 + dt.timedelta(seconds=int(s + d)) for s, d in zip(start, length, strict=True)],
                pa.timestamp("s"),
            ),
        }
    )


def _brute_force(
    left: list[dict], right: list[dict], minimum: int, gaps: tuple[int, int] | None = None
) -> set[tuple[int, int, int]]:
    found = set()
    for a in left:
        for b in right:
            if a["venue_code"] != b["venue_code"] or a["person_key"] == b["person_key"]:
                continue
            together = (min(a["time_out"], b["time_out"]) - max(a["time_in"], b["time_in"])).total_seconds()
            if gaps and (
                abs((a["time_in"] - b["time_in"]).total_seconds()) > gaps[0]
                or abs((a["time_out"] - b["time_out"]).total_seconds()) > gaps[1]
            ):
                continue
            if together > 0 and together >= minimum:
                found.add((a["person_key"], b["person_key"], int(together)))
    return found


@pytest.mark.parametrize(
    ("seed", "gaps"), [(1, None), (2, None), (3, None), (4, (900, 1800)), (5, (900, 1800))]
)
def test_bucketed_join_equals_brute_force(engine, seed, gaps):
    """Any stays; and a crowded day at one venue for a party's arrival and departure gaps (times on 5-minute
    steps, so many pairs sit exactly on a gap or a tier bound)."""
    rng = np.random.default_rng(seed)
    right = _stays(rng, 400, venues=1, step=300, days=1) if gaps else _stays(rng, 400, venues=3)
    left = right.slice(0, 40)
    minimum = 15 * 60
    at = ibis.memtable(left).mutate(
        case_key=ibis.literal(0, type="int64"),
        via_key=ibis.null("int64"),
        source_key=ibis._.person_key,
        origin_venue=ibis._.venue_code,
        l_in=ibis._.time_in,
        l_out=ibis._.time_out,
    )
    arrival, departure = gaps or (None, None)
    small = left_side(
        at, "r", place=at.venue_code, detail=ibis.literal(""), min_overlap=minimum,
        arrival_gap=arrival, departure_gap=departure,
    )  # fmt: skip
    got = engine.to_arrow(overlapping(small, ibis.memtable(right))).to_pylist()
    pairs = {(r["source_key"], r["contact_key"], r["overlap_seconds"]) for r in got}
    assert len(got) == len(pairs) > 20
    assert pairs == _brute_force(left.to_pylist(), right.to_pylist(), minimum, gaps)
