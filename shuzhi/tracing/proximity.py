"""Proximity records (Bluetooth-style exposure notification, wearable sensors): who was near whom, how long.

A record says persons *a* and *b* were within range from ``start_at`` for ``duration_seconds`` (the
canonical ``proximity`` table, :data:`shuzhi.model.PROXIMITY`, landed from the ``proximity.encounters`` feed).
Short encounters add up: a pair is a close contact when the cumulative time of its records starting inside
the window reaches the policy's minutes on one calendar day. Records are symmetric: either person may be the
traced one, and an encounter both phones reported (the same pair and start, either way round) counts once,
for its longer duration.
"""

from __future__ import annotations

import ibis

from shuzhi.engine import Engine
from shuzhi.model import PROXIMITY
from shuzhi.tracing.cases import Exposures
from shuzhi.tracing.contacts import matches, minutes
from shuzhi.tracing.policy import ProximityRule

TABLE = PROXIMITY.name


def directed(records: ibis.Table) -> ibis.Table:
    """Each encounter from each side: me, other, start_at, duration_seconds (the longest report of it)."""
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
    both = forward.union(backward)
    return both.group_by(["me", "other", "start_at"]).aggregate(duration_seconds=both.duration_seconds.max())


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
    mine = mine.mutate(
        day=mine.start_at.date(), ends_at=mine.start_at + mine.duration_seconds.as_interval("s")
    )
    daily = mine.group_by(["case_key", "via_key", "source_key", "other", "day"]).aggregate(
        first_contact_at=mine.start_at.min(),
        last_contact_at=mine.ends_at.max(),
        overlap_seconds=mine.duration_seconds.sum(),
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
