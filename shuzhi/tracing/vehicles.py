"""Vehicle rules: aircraft rows and their crew, train carriages, soft-sleeper compartments, coaches, bus rows,
ship cabins.

Two trips are on the same vehicle when they share mode, trip number and departure day and their legs
overlap in time (people board and leave a train at different stations). Each vehicle rule then narrows the
pairs by seat: rows at most N apart, the same carriage or cabin, the same compartment (from the berth
number printed on the ticket), the crew serving the rows (the rows a crew member's manifest line says they
served), or anyone aboard. The numbers come from the policy."""

from __future__ import annotations

import functools
import operator

import ibis

from shuzhi.engine import Engine
from shuzhi.model import CREW
from shuzhi.tracing.cases import Exposures, within
from shuzhi.tracing.contacts import matches, minutes, seconds
from shuzhi.tracing.policy import VehicleRule

BERTH_NUMBER = r"(\d+)"  # the first number of a seat label: '12', '12下', '012A', '上铺12'
ROWS_SERVED = r"^\s*(\d+)\s*-\s*(\d+)\s*$"  # a crew member's section: '1-20'


def vehicle_matches(engine: Engine, rules: list[VehicleRule], exposures: Exposures) -> ibis.Table:
    """Matches of every vehicle rule: trips sharing a vehicle with the traced people, narrowed by seat."""
    pairs = _shared_vehicles(engine, sorted({r.mode for r in rules}), exposures)
    found = [_apply(rule, pairs) for rule in rules]
    return functools.reduce(lambda a, b: a.union(b), found)


def _shared_vehicles(engine: Engine, modes: list[str], exposures: Exposures) -> ibis.Table:
    lo, hi = exposures.bounds()
    trips = engine.table("trips")
    trips = trips.filter(
        trips.mode.isin(modes) & within(trips, ibis.literal(lo), ibis.literal(hi), "dep_time", "arr_time")
    )
    e = exposures.table
    mine = trips.inner_join(
        e, [trips.person_key == e.source_key, within(trips, e.start, e.end, "dep_time", "arr_time")]
    )
    mine = mine.mutate(
        l_dep=ibis.greatest(mine.dep_time, mine.start), l_arr=ibis.least(mine.arr_time, mine.end)
    )
    theirs = trips.select(
        contact_key=trips.person_key,
        r_mode=trips.mode,
        r_trip=trips.trip_no,
        r_day=trips.dep_time.date(),
        r_dep=trips.dep_time,
        r_arr=trips.arr_time,
        r_carriage=trips.carriage,
        r_class=trips.carriage_class,
        r_row=trips.seat_row,
        r_seat=trips.seat,
    )
    pairs = mine.inner_join(
        theirs,
        [
            mine.mode == theirs.r_mode,
            mine.trip_no == theirs.r_trip,
            mine.dep_time.date() == theirs.r_day,
            theirs.r_dep < mine.l_arr,
            theirs.r_arr > mine.l_dep,
            theirs.contact_key != mine.source_key,
        ],
    )
    first, last = ibis.greatest(pairs.l_dep, pairs.r_dep), ibis.least(pairs.l_arr, pairs.r_arr)
    return pairs.mutate(
        first_contact_at=first, last_contact_at=last, overlap_seconds=seconds(last) - seconds(first)
    )


def _apply(rule: VehicleRule, pairs: ibis.Table) -> ibis.Table:
    conditions = [
        pairs.mode == rule.mode,
        pairs.overlap_seconds > 0,
        pairs.overlap_seconds >= minutes(rule.min_overlap_minutes),
        _seat_condition(rule, pairs),
    ]
    if rule.carriage_classes is not None:
        conditions.append(pairs.carriage_class.isin(rule.carriage_classes))
    if rule.rows_unknown_only:
        conditions.append(pairs.seat_row.isnull() | pairs.r_row.isnull())
    chosen = pairs.filter(functools.reduce(operator.and_, conditions))
    return matches(
        chosen,
        rule=ibis.literal(rule.name),
        place=chosen.trip_no + " " + chosen.dep_time.date().cast("string"),
        detail="case "
        + _seat(chosen.carriage, chosen.seat_row, chosen.seat, chosen.carriage_class)
        + ", contact "
        + _seat(chosen.r_carriage, chosen.r_row, chosen.r_seat, chosen.r_class),
    )


def _seat_condition(rule: VehicleRule, p: ibis.Table) -> ibis.Value:
    same_carriage = p.carriage.notnull() & (p.carriage == p.r_carriage)
    if rule.match == "rows":
        return p.seat_row.notnull() & p.r_row.notnull() & ((p.seat_row - p.r_row).abs() <= rule.rows_apart)
    if rule.match == "carriage":
        return same_carriage
    if rule.match == "crew":
        # one of the two is crew, the other a passenger of the rows that crew member served
        crew, r_crew = (p.carriage_class == CREW).fill_null(False), (p.r_class == CREW).fill_null(False)
        serving = crew & ~r_crew & _serves(p.carriage, p.r_row, rule.rows_apart)
        served = r_crew & ~crew & _serves(p.r_carriage, p.seat_row, rule.rows_apart)
        return (serving | served).fill_null(False)
    if rule.match == "compartment":
        mine = _compartment(p.seat, rule.berths_per_compartment)
        return same_carriage & mine.notnull() & (mine == _compartment(p.r_seat, rule.berths_per_compartment))
    return ibis.literal(True)


def _serves(rows_served: ibis.Value, row: ibis.Value, rows_apart: int) -> ibis.Value:
    """Whether a crew member whose section is ``rows_served`` ('1-20'; anything else: the whole cabin) served
    a passenger in ``row``, or in a row at most ``rows_apart`` outside the section."""
    first = rows_served.re_extract(ROWS_SERVED, 1).nullif("").cast("int64")
    last = rows_served.re_extract(ROWS_SERVED, 2).nullif("").cast("int64")
    return first.isnull() | (row.notnull() & (row >= first - rows_apart) & (row <= last + rows_apart))


def _compartment(seat: ibis.Value, berths: int) -> ibis.Value:
    """Compartment of a berth label: berths 1..n are compartment 0, n+1..2n compartment 1, ..."""
    number = seat.re_extract(BERTH_NUMBER, 1).nullif("").cast("int64")
    return (number - 1) // berths


def _seat(carriage: ibis.Value, row: ibis.Value, seat: ibis.Value, carriage_class: ibis.Value) -> ibis.Value:
    crew = ibis.coalesce("crew, section " + carriage, ibis.literal("crew, the whole vehicle"))
    where = ("carriage " + carriage + " ").fill_null("")
    seated = where + ibis.coalesce("seat " + seat, "row " + row.cast("string"), ibis.literal("seat unknown"))
    return (carriage_class == CREW).ifelse(crew, seated)
