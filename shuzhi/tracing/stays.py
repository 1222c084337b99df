"""Venue stays: the traced people's stays, and the time-bucketed join that finds who overlapped them.

Presence rules (venue rules, shared meals, same time-and-place) all reduce to one question: whose stay at
venue ``v`` overlapped the traced person's stay there (cut to a window) by at least ``m`` seconds? A naive
join on the venue alone compares every stay at a popular venue with every other. Here each stay of the large
side falls into the one bucket of its check-in, and the small side (the traced people's stays) is expanded
into the buckets a stay overlapping it could have started in; the join is an equi-join on (venue, bucket),
followed by the exact test in epoch seconds.

Buckets come in tiers by the length of the large side's stay (:data:`TIERS`): stays up to an hour (most
visits) fall in quarter-hour buckets, up to 3 hours in hour buckets, longer ones up to a day in day buckets,
longer still (hotel guests) in one bucket of their own.
A traced stay meets, per tier, the buckets from its check-in minus the tier's longest stay to its check-out,
so a meal is compared with the check-ins of a few hours, not of the whole day or fortnight. The tiers are
execution details — they change speed, never results — so they live here, not in a policy.
"""

from __future__ import annotations

import datetime as dt

import ibis

from shuzhi.engine import Engine
from shuzhi.tracing.cases import Exposures, within
from shuzhi.tracing.contacts import seconds

TIERS = (
    (900, 3600),
    (3600, 3 * 3600),
    (86400, 86400),
)  # (bucket width, longest stay of the tier), in seconds
LONG_BUCKET = -1  # stays longer than the last tier
NO_LATER = 2**62  # epoch seconds: no bound on a check-out

MATCH_TIMES = ("first_contact_at", "last_contact_at", "overlap_seconds")
LABELS = ("case_key", "via_key", "source_key", "rule", "venue_code", "origin_venue", "place", "detail")
LIMITS = ("min_overlap", "max_arrival_gap", "max_departure_gap")  # seconds; null gaps: no limit
LEFT_COLUMNS = (*LABELS, "time_in", "time_out", "l_in", "l_out", *LIMITS)


def stays_between(engine: Engine, lo: dt.datetime, hi: dt.datetime) -> ibis.Table:
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


def left_side(
    at: ibis.Table,
    rule: str,
    place: ibis.Value,
    detail: ibis.Value,
    min_overlap: int,
    arrival_gap: int | None = None,
    departure_gap: int | None = None,
) -> ibis.Table:
    """The left side of :func:`overlapping` from clipped stays ``at`` and a rule's labels and limits.

    ``at`` has case_key, via_key, source_key, venue_code (where to look for contacts), origin_venue (where the
    traced person was), time_in, time_out, l_in and l_out.
    """
    labelled = at.mutate(
        rule=ibis.literal(rule),
        place=place,
        detail=detail,
        min_overlap=ibis.literal(min_overlap, type="int64"),
        max_arrival_gap=ibis.literal(arrival_gap, type="int64"),
        max_departure_gap=ibis.literal(departure_gap, type="int64"),
    )
    return labelled.select(*LEFT_COLUMNS)


def overlapping(left: ibis.Table, right: ibis.Table) -> ibis.Table:
    """Stays of ``right`` overlapping the stays of ``left`` within its limits, at its ``venue_code``.

    ``left`` has :data:`LEFT_COLUMNS` (see :func:`left_side`); ``right`` is venue stays. A pair counts
    when the stays overlap by ``min_overlap`` seconds (and more than none) and, where set, the check-ins and
    the check-outs are at most ``max_arrival_gap`` and ``max_departure_gap`` seconds apart. Returns the
    labels with contact_key, first_contact_at, last_contact_at and overlap_seconds.
    """
    small = _with_buckets_met(left)
    # overlapping by ``min_overlap`` (and by more than none) needs check-in by l_out - need and check-out
    # from l_in + need; the gaps bound check-in and check-out around the traced stay's. Tested inside the
    # join, these keep the pairs that can never qualify out of its output (the exact test follows it).
    need = ibis.greatest(small.min_overlap, 1)
    arrived, left_at = seconds(small.time_in), seconds(small.time_out)
    in_by, out_from = seconds(small.l_out) - need, seconds(small.l_in) + need
    small = small.mutate(
        earliest_in=ibis.coalesce(arrived - small.max_arrival_gap, 0),
        latest_in=ibis.least(in_by, ibis.coalesce(arrived + small.max_arrival_gap, in_by)),
        earliest_out=ibis.greatest(out_from, ibis.coalesce(left_at - small.max_departure_gap, out_from)),
        latest_out=ibis.coalesce(left_at + small.max_departure_gap, NO_LATER),
    )
    large = right.select(
        contact_key=right.person_key,
        r_venue=right.venue_code,
        r_in=right.time_in,
        r_out=right.time_out,
        r_in_s=seconds(right.time_in),
        r_out_s=seconds(right.time_out),
    )
    large = large.mutate(r_bucket=_bucket_of(large.r_in_s, large.r_out_s))
    predicates = [
        small.venue_code == large.r_venue,
        small.bucket == large.r_bucket,
        large.r_in_s >= small.earliest_in,
        large.r_in_s <= small.latest_in,
        large.r_out_s >= small.earliest_out,
        large.r_out_s <= small.latest_out,
        large.contact_key != small.source_key,
    ]
    pairs = small.inner_join(large, predicates)
    first, last = ibis.greatest(pairs.l_in, pairs.r_in), ibis.least(pairs.l_out, pairs.r_out)
    pairs = pairs.mutate(
        first_contact_at=first, last_contact_at=last, overlap_seconds=seconds(last) - seconds(first)
    )
    return pairs.filter(_within_limits(pairs)).select(*LABELS, "contact_key", *MATCH_TIMES)


def _within_limits(p: ibis.Table) -> ibis.Value:
    arrival = (p.r_in_s - seconds(p.time_in)).abs()
    departure = (p.r_out_s - seconds(p.time_out)).abs()
    return (
        (p.overlap_seconds >= p.min_overlap)
        & (p.overlap_seconds > 0)
        & (p.max_arrival_gap.isnull() | (arrival <= p.max_arrival_gap))
        & (p.max_departure_gap.isnull() | (departure <= p.max_departure_gap))
    )


def _bucket_of(time_in: ibis.Value, time_out: ibis.Value) -> ibis.Value:
    """The bucket of a stay (epoch seconds): its tier's bucket of its check-in; :data:`LONG_BUCKET` beyond."""
    duration = time_out - time_in
    cases = [
        (duration <= longest, (time_in // width) * len(TIERS) + tier)
        for tier, (width, longest) in enumerate(TIERS)
    ]
    return ibis.cases(*cases, else_=LONG_BUCKET)


def _with_buckets_met(left: ibis.Table) -> ibis.Table:
    """``left`` with one row per bucket a stay can be in if it overlaps [l_in, l_out] of the row.

    Where the row's rule limits the arrival gap, the stay must also have checked in within that gap of the
    traced check-in: a party's companions are sought among a few quarter-hours of check-ins, not hours.
    Each row first meets every tier (and the long stays' bucket), then that tier's run of buckets: one
    ``range`` per row, not a concatenation of one per tier (whose null checks nest, tier over tier).
    """
    first, last = seconds(left.l_in), seconds(left.l_out)
    arrived = seconds(left.time_in)
    latest = ibis.least(last, ibis.coalesce(arrived + left.max_arrival_gap, last))
    tiers = left.mutate(tier=ibis.array([*range(len(TIERS)), LONG_BUCKET]).unnest())
    width = tiers.tier.substitute({tier: width for tier, (width, _) in enumerate(TIERS)}, else_=1)
    longest = tiers.tier.substitute({tier: longest for tier, (_, longest) in enumerate(TIERS)}, else_=0)
    earliest = ibis.greatest(first - longest, ibis.coalesce(arrived - left.max_arrival_gap, first - longest))
    runs = tiers.mutate(
        start=(tiers.tier == LONG_BUCKET).ifelse(LONG_BUCKET, (earliest // width) * len(TIERS) + tiers.tier),
        stop=(tiers.tier == LONG_BUCKET).ifelse(0, (latest // width + 1) * len(TIERS) + tiers.tier),
    )
    met = runs.mutate(bucket=ibis.range(runs.start, runs.stop, len(TIERS)).unnest())
    return met.drop("tier", "start", "stop")


def with_detail(pairs: ibis.Table) -> ibis.Table:
    """The left's detail, plus the contact's venue where it differs from the traced person's (grid cells)."""
    elsewhere = (pairs.venue_code != pairs.origin_venue).ifelse("; contact at " + pairs.venue_code, "")
    return pairs.mutate(detail=pairs.detail + elsewhere)
