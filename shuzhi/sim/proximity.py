"""What an exposure-notification app would log: proximity records between residents whose phones run it.

Owns the ``proximity`` section of params.yaml. No such app existed in Zhejiang in 2020, so the shipped share
of users is 0 and the simulator writes no proximity feed; a larger share asks what one would have added.
Two users' phones log an encounter when they are close in one of the day's gatherings (the household, the
team, the venue group, the vehicle unit within its radius): one record of their time together, as the
close-contact truth sees it. Users sharing a larger space casually (a venue in one part of the day, a metro
line in one half hour) also pass each other: a few brief encounters of a few minutes each, which the
tracer's cumulative-duration rule must tell from close contact.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pyarrow as pa
from pydantic import Field

from shuzhi import model
from shuzhi.sim.life import Gathering, Mixing
from shuzhi.sim.outbreak import pairs
from shuzhi.sim.population import IntRange, Share, Strict


class ProximityParams(Strict):
    app_share: Share  # residents whose phone logs encounters
    casual_encounters: Annotated[
        float, Field(ge=0)
    ]  # brief encounters a user's phone logs per shared space and part of day (mean)
    casual_minutes: IntRange  # how long a brief encounter lasts


def users(params: ProximityParams, persons: int, rng: np.random.Generator) -> np.ndarray:
    """Who runs the app: a boolean per person."""
    return rng.random(persons) < params.app_share


def records(
    params: ProximityParams,
    app: np.ndarray,
    gatherings: list[Gathering],
    mixing: list[Mixing],
    ids: pa.Array,
    day_base: int,
    rng: np.random.Generator,
) -> pa.Table:
    """The day's proximity records (``id_number_a``, ``id_number_b``, start, seconds) between app users."""
    found = [_close(g, app) for g in gatherings] + [_brief(params, m, app, rng) for m in mixing]
    a, b, start, end = (np.concatenate([f[k] for f in found]) for k in range(4))
    order = np.argsort(start, kind="stable")
    return pa.table(
        {
            "id_number_a": ids.take(pa.array(a[order])),
            "id_number_b": ids.take(pa.array(b[order])),
            "start_at": pa.array((day_base + start[order]).astype("datetime64[s]"), model.TS),
            "duration_seconds": pa.array((end - start)[order], pa.int64()),
        },
        schema=model.with_raw_ids(model.PROXIMITY),
    )


def _close(g: Gathering, app: np.ndarray) -> tuple[np.ndarray, ...]:
    """One record per pair of users close in the gathering (each pair once, lower person first)."""
    c = pairs(g, app)
    keep = app[c.contact] & (c.case < c.contact)
    return c.case[keep], c.contact[keep], c.start[keep].astype(np.int64), c.end[keep].astype(np.int64)


def _brief(params: ProximityParams, m: Mixing, app: np.ndarray, rng: np.random.Generator) -> tuple:
    """Brief encounters between users of one bin: each user passes a few others, for a few minutes."""
    rows = np.flatnonzero(app[m.person])
    bins, first, size = np.unique(m.bin[rows], return_index=True, return_counts=True)
    per_row = np.searchsorted(bins, m.bin[rows])
    draws = rng.poisson(params.casual_encounters, len(rows)) * (size[per_row] > 1)
    me = np.repeat(np.arange(len(rows)), draws)
    other = first[per_row[me]] + (rng.random(len(me)) * size[per_row[me]]).astype(np.int64)
    me, other = rows[me], rows[other]
    start_of, end_of = m.start.astype(np.int64), m.end.astype(np.int64)
    lo, hi = np.maximum(start_of[me], start_of[other]), np.minimum(end_of[me], end_of[other])
    lo_min, hi_min = params.casual_minutes
    seconds = rng.integers(lo_min * 60, hi_min * 60 + 1, len(me))
    keep = (m.person[me] != m.person[other]) & (hi - lo > seconds)
    me, other, lo, hi, seconds = me[keep], other[keep], lo[keep], hi[keep], seconds[keep]
    start = lo + (rng.random(len(me)) * (hi - lo - seconds)).astype(np.int64)
    return m.person[me], m.person[other], start.astype(np.int64), (start + seconds).astype(np.int64)
