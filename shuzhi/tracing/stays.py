"""Venue stays: the traced people's stays, and the time-bucketed join that finds who overlapped them.

Presence rules (venue rules, shared meals, same time-and-place) all reduce to one question: whose stay at
venue ``v`` overlapped the traced person's stay there (clipped to a window) by at least ``m`` seconds? A
naive join on the venue alone compares every stay at a popular venue with every other; here the small side
(the traced people's stays) is expanded into hour buckets, and each stay of the large side falls into the
one bucket of its check-in, so the join is an equi-join on (venue, bucket) followed by an exact filter in
epoch seconds. Stays longer than :data:`LONG_STAY_SECONDS` (hotel nights) fall into a bucket of their own
that every traced stay meets; they are rare, so that bucket stays small.

The bucket sizes are execution details — they change speed, never results — so they live here, not in a
policy."""

from __future__ import annotations

import ibis

from shuzhi.engine import Engine
from shuzhi.tracing.cases import Exposures, within
from shuzhi.tracing.contacts import seconds

BUCKET_SECONDS = 3600
LONG_STAY_SECONDS = 6 * 3600
LONG_BUCKET = -1

LEFT_COLUMNS = ("case_key", "via_key", "source_key", "rule", "venue_code", "origin_venue", "place", "detail")


def stays_between(engine: Engine, lo, hi) -> ibis.Table:
    """Venue stays meeting [lo, hi] (literal bounds, so the lake's Parquet statistics prune the scan)."""
    stays = engine.table("venue_stays")
    return stays.filter(within(stays, ibis.literal(lo), ibis.literal(hi)))


def source_stays(engine: Engine, exposures: Exposures, lookback_days: int | None = None) -> ibis.Table:
    """The traced people's stays within their windows (widened to ``lookback_days`` before the end if given).

    Columns: case_key, via_key, source_key, venue_code, time_in, time_out, start, end (the exposure window).
    """
    lo, hi = exposures.bounds(lookback_days)
    stays = stays_between(engine, lo, hi)
    e = exposures.table
    fetch_from = (
        e.start if lookback_days is None else ibis.least(e.start, e.end - ibis.interval(days=lookback_days))
    )
    joined = stays.inner_join(e, [stays.person_key == e.source_key, within(stays, fetch_from, e.end)])
    return joined.select(
        "case_key", "via_key", "source_key", "venue_code", "time_in", "time_out", "start", "end"
    )


def clipped(t: ibis.Table, start: ibis.Value, end: ibis.Value) -> ibis.Table:
    """Stays cut to [start, end] as ``l_in``/``l_out``; stays outside it are dropped."""
    cut = t.mutate(l_in=ibis.greatest(t.time_in, start), l_out=ibis.least(t.time_out, end))
    return cut.filter(cut.l_in < cut.l_out)


def overlapping(left: ibis.Table, right: ibis.Table) -> ibis.Table:
    """Stays of ``right`` overlapping the stays of ``left`` at its ``venue_code`` by ``min_overlap`` seconds.

    ``left`` has :data:`LEFT_COLUMNS`, ``l_in``, ``l_out`` and ``min_overlap``; ``right`` is venue stays.
    Returns the left columns with contact_key, first_contact_at, last_contact_at and overlap_seconds.
    """
    lo = (seconds(left.l_in) - LONG_STAY_SECONDS) // BUCKET_SECONDS
    hi = seconds(left.l_out) // BUCKET_SECONDS
    buckets = ibis.range(lo, hi + 1).concat(ibis.array([ibis.literal(LONG_BUCKET, type="int64")]))
    small = left.mutate(bucket=buckets.unnest())
    duration = seconds(right.time_out) - seconds(right.time_in)
    large = right.select(
        contact_key=right.person_key,
        r_venue=right.venue_code,
        r_in=right.time_in,
        r_out=right.time_out,
        r_bucket=(duration <= LONG_STAY_SECONDS).ifelse(
            seconds(right.time_in) // BUCKET_SECONDS, LONG_BUCKET
        ),
    )
    predicates = [
        small.venue_code == large.r_venue,
        small.bucket == large.r_bucket,
        large.r_in < small.l_out,
        large.r_out > small.l_in,
        large.contact_key != small.source_key,
    ]
    pairs = small.inner_join(large, predicates)
    pairs = pairs.mutate(
        first_contact_at=ibis.greatest(pairs.l_in, pairs.r_in),
        last_contact_at=ibis.least(pairs.l_out, pairs.r_out),
    )
    pairs = pairs.mutate(overlap_seconds=seconds(pairs.last_contact_at) - seconds(pairs.first_contact_at))
    pairs = pairs.filter((pairs.overlap_seconds >= pairs.min_overlap) & (pairs.overlap_seconds > 0))
    return pairs.select(
        *LEFT_COLUMNS, "contact_key", "first_contact_at", "last_contact_at", "overlap_seconds"
    )


def with_detail(pairs: ibis.Table) -> ibis.Table:
    """The left's detail, plus the contact's venue where it differs from the traced person's (grid cells)."""
    elsewhere = (pairs.venue_code != pairs.origin_venue).ifelse("; contact at " + pairs.venue_code, "")
    return pairs.mutate(detail=pairs.detail + elsewhere)
