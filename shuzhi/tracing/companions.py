"""Same time-and-place (时空伴随): companions who were in the case's grid cell at the same time (yellow, not
red).

The grid is square in metres: rows are bands of ``cell_metres`` of latitude; within a row, columns are
``cell_metres`` wide at the row's middle latitude. Venues are placed in cells by their coordinates. A
traced stay at a venue in cell *c* is matched against the stays at *every* venue of cell *c*, for the
policy's minimum time, over the policy's look-back period before isolation."""

from __future__ import annotations

import ibis

from shuzhi.tracing.contacts import minutes
from shuzhi.tracing.policy import CompanionRule
from shuzhi.tracing.stays import clipped, left_side

METRES_PER_DEGREE_LATITUDE = 111_320.0  # geodesy (WGS 84 mean), not policy


def cells(venues: ibis.Table, cell_metres: float) -> ibis.Table:
    """venue_code, cell_x, cell_y of every venue with coordinates."""
    located = venues.filter(venues.lat.notnull() & venues.lon.notnull())
    row = (located.lat * METRES_PER_DEGREE_LATITUDE / cell_metres).floor()
    middle = ((row + 0.5) * cell_metres / METRES_PER_DEGREE_LATITUDE).radians().cos()
    column = (located.lon * METRES_PER_DEGREE_LATITUDE * middle / cell_metres).floor()
    return located.select("venue_code", cell_x=column.cast("int64"), cell_y=row.cast("int64"))


def companion_left(rule: CompanionRule, traced: ibis.Table, venues: ibis.Table) -> ibis.Table:
    """Traced stays in the look-back period, keyed by every venue of their grid cell."""
    at = clipped(traced, traced.end - ibis.interval(days=rule.lookback_days), traced.end)
    grid = cells(venues, rule.cell_metres)
    at = at.inner_join(grid, "venue_code")
    neighbours = grid.select(neighbour=grid.venue_code, n_x=grid.cell_x, n_y=grid.cell_y)
    at = at.inner_join(neighbours, [at.cell_x == neighbours.n_x, at.cell_y == neighbours.n_y])
    at = at.mutate(origin_venue=at.venue_code, venue_code=at.neighbour)
    return left_side(
        at,
        rule.name,
        place="cell " + at.cell_x.cast("string") + "," + at.cell_y.cast("string"),
        detail="case at " + at.origin_venue,
        min_overlap=minutes(rule.min_overlap_minutes),
    )
