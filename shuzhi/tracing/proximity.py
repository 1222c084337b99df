"""Proximity records (Bluetooth-style exposure notification, wearable sensors): who was near whom, how long.

A record says persons *a* and *b* were within range from ``start_at`` for ``duration_seconds`` (the
canonical ``proximity`` table, :data:`shuzhi.model.PROXIMITY`, landed from the ``proximity.encounters`` feed).
Short encounters add up: a pair is a close contact when the cumulative time of its records starting inside
the window reaches the policy's minutes on one calendar day. Records are symmetric: either person may be the
traced one, and time in range counts once however many records cover it — an encounter both phones reported
(either way round, whether or not their clocks agree to the second) adds its time once.
"""

from __future__ import annotations

import ibis

from shuzhi.engine import Engine
from shuzhi.model import PROXIMITY
from shuzhi.tracing.cases import Exposures
from shuzhi.tracing.contacts import matches, minutes, seconds
from shuzhi.tracing.policy import ProximityRule

TABLE = PROXIMITY.name


def directed(records: ibis.Table) -> ibis.Table:
    """Each record from each side: me, other, start_at, duration_seconds."""
    forward = records.select(
        me=records.person_key_a,
        other=records.person_key_b,
        start_at=records.start_at,
        duration_seconds=records.duration_seconds,
    )
    backward = records.select(
        me=records.person_key_b,
        other=records.person_key_a,
        start_at=records.start_at,
        duration_seconds=records.duration_seconds,
    )
    return forward.union(backward)


def _time_added(t: ibis.Table, group: list[str]) -> ibis.Value:
    """Seconds a record adds to its pair's day beyond the records that started before it: time in range
    counts once however many records cover it (phones' logs overlap), so the day's sum is the union."""
    begin, end = seconds(t.start_at), seconds(t.ends_at)
    earlier = ibis.window(group_by=group, order_by=[t.start_at, t.ends_at], rows=(None, -1))
    covered_until = end.max().over(earlier)
    return ibis.greatest(end - ibis.greatest(begin, ibis.coalesce(covered_until, begin)), 0)


def proximity_matches(engine: Engine, rule: ProximityRule, exposures: Exposures) -> ibis.Table:
    """Matches of pairs whose records in the window add up to the policy's minutes on some day."""
    lo, hi = exposures.bounds()
    records = engine.table(TABLE)
    records = directed(records.filter((records.start_at >= lo) & (records.start_at <= hi)))
    e = exposures.table
    mine = records.inner_join(
        e,
        [
            records.me == e.source_key,
            records.start_at >= e.start,
            records.start_at <= e.end,
            records.other != e.source_key,
        ],
    )
    pair_day = ["case_key", "via_key", "source_key", "other", "day"]
    mine = mine.mutate(
        day=mine.start_at.date(), ends_at=mine.start_at + mine.duration_seconds.as_interval("s")
    )
    mine = mine.mutate(time_added=_time_added(mine, pair_day))
    daily = mine.group_by(pair_day).aggregate(
        first_contact_at=mine.start_at.min(),
        last_contact_at=mine.ends_at.max(),
        overlap_seconds=mine.time_added.sum(),
        records=mine.count(),
    )
    close = daily.filter(daily.overlap_seconds >= minutes(rule.min_cumulative_minutes_per_day))
    return matches(
        close,
        contact_key=close.other,
        rule=ibis.literal(rule.name),
        place=close.day.cast("string"),
        detail=close.records.cast("string") + " records in range that day",
    )
