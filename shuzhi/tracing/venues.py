"""Venue rules: who counts as a close contact for being at the same venue at the same time.

Presence at a large venue is not close contact (a tracer that flags half a city is useless): a venue rule
names the categories, and the largest capacity, where sharing the room is as good as sharing a table —
small restaurants, gyms, offices — and the minimum time together. This module turns each venue rule into
the *left side* of the stays join (:func:`shuzhi.tracing.stays.overlapping`): the traced people's stays at
eligible venues, cut to their window, with the rule's minimum overlap."""

from __future__ import annotations

import ibis

from shuzhi.tracing.contacts import minutes
from shuzhi.tracing.policy import VenueRule
from shuzhi.tracing.stays import clipped, left_side


def eligible(venues: ibis.Table, rule: VenueRule) -> ibis.Table:
    """Venues where the rule applies: its categories, at most its capacity (unknown capacity is not small)."""
    chosen = venues.filter(venues.category.isin(rule.categories))
    if rule.max_capacity is not None:
        chosen = chosen.filter(chosen.capacity <= rule.max_capacity)
    return chosen.select("venue_code", "category", "capacity")


def venue_left(rule: VenueRule, traced: ibis.Table, venues: ibis.Table) -> ibis.Table:
    """Traced stays (see :func:`~shuzhi.tracing.stays.source_stays`) at the rule's venues, in the window."""
    at = clipped(traced, traced.start, traced.end)
    at = at.inner_join(eligible(venues, rule), "venue_code")
    at = at.mutate(origin_venue=at.venue_code)
    return left_side(
        at,
        rule.name,
        place=at.venue_code,
        detail=at.category + ", capacity " + at.capacity.cast("string"),
        min_overlap=minutes(rule.min_overlap_minutes),
        arrival_gap=_seconds_or_none(rule.max_arrival_gap_minutes),
        departure_gap=_seconds_or_none(rule.max_departure_gap_minutes),
    )


def _seconds_or_none(value: float | None) -> int | None:
    return None if value is None else minutes(value)
