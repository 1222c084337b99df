"""Code history: how residents' colours changed over a period, and how many held each colour per day.

The same candidates as :func:`shuzhi.codes.codes`, joined with the days of the period instead of one day, give
the winning colour per person and day; persons no rule touches are green throughout and produce no rows. A
change is recorded where a person's colour differs from the day before (before the period: the default
colour), so a person red on the first day has a row on that day. Codes are as of the end of each day, with
what could be known by then: a contact traced on day 5 of their isolation is red from day 5, not day 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.codes.colour import as_policy, candidates, winners
from shuzhi.codes.evidence import Window
from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import CodePolicy
from shuzhi.codes.timeline import holds
from shuzhi.engine import Engine

CHANGES = pa.schema(
    [("person_key", pa.int64()), ("day", pa.date32()), ("colour", pa.string()), ("rule", pa.string())]
)
DAILY = pa.schema([("day", pa.date32()), ("colour", pa.string()), ("persons", pa.int64())])


@dataclass(frozen=True)
class CodeHistory:
    """``changes`` (schema :data:`CHANGES`, by person and day) and ``daily`` counts (schema :data:`DAILY`)."""

    changes: pa.Table
    daily: pa.Table


def code_history(
    engine: Engine,
    policy: CodePolicy | str | Path,
    start: dt.date,
    end: dt.date,
    allow_missing: bool = False,
) -> CodeHistory:
    """Colour changes of every resident from ``start`` to ``end`` (inclusive); persons per colour per day."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    policy = as_policy(policy)
    sources = Sources(engine, allow_missing)
    days = ibis.memtable(pa.table({"day": pa.array(_dates(start, end), pa.date32())}))
    residents = sources.table("residents").select("person_key")
    total = int(engine.to_arrow(residents.count().as_table()).column(0)[0].as_py())
    # the coloured person-days are computed once and read by both results (Ibis' cache() is not portable)
    coloured = engine.to_arrow(_daily_colours(sources, policy, Window(start, end), days, residents))
    daily_colours = ibis.memtable(coloured)
    changes = engine.to_arrow(_changes(daily_colours, days, policy)).cast(CHANGES)
    daily = engine.to_arrow(_counts(daily_colours, days, policy, total)).cast(DAILY)
    return CodeHistory(changes, daily)


def _dates(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _daily_colours(
    sources: Sources, policy: CodePolicy, window: Window, days: ir.Table, residents: ir.Table
) -> ir.Table:
    """(person_key, day, colour, rule) for residents with a colour set by a rule on that day."""
    phases = candidates(sources, policy, window)
    held = phases.join(days, holds(phases, days.day)).select(phases, day=days.day)
    top = winners(held).select("person_key", "day", "colour", "rule")
    return top.filter(top.person_key.isin(residents.person_key))


def _changes(daily_colours: ir.Table, days: ir.Table, policy: CodePolicy) -> ir.Table:
    default = policy.default
    persons = daily_colours.select("person_key").distinct()
    grid = persons.cross_join(days)
    keys = [grid.person_key == daily_colours.person_key, grid.day == daily_colours.day]
    full = grid.left_join(daily_colours, keys).select(
        grid.person_key,
        grid.day,
        colour=daily_colours.colour.fill_null(default.colour),
        rule=daily_colours.rule.fill_null(default.id),
    )
    before = full.colour.lag().over(group_by="person_key", order_by="day").fill_null(default.colour)
    full = full.mutate(before=before)
    return full.filter(full.colour != full.before).drop("before").order_by("person_key", "day")


def _counts(daily_colours: ir.Table, days: ir.Table, policy: CodePolicy, total: int) -> ir.Table:
    """Persons per day and colour, every colour of the policy on every day (the default colour: the rest)."""
    colours = ibis.memtable(pa.table({"colour": pa.array(policy.colours, pa.string())}))
    counted = daily_colours.group_by("day", "colour").agg(persons=daily_colours.count())
    grid = days.cross_join(colours)
    keys = [grid.day == counted.day, grid.colour == counted.colour]
    t = grid.left_join(counted, keys).select(grid.day, grid.colour, persons=counted.persons.fill_null(0))
    coloured = t.persons.sum().over(group_by="day")
    persons = ibis.ifelse(t.colour == policy.default.colour, total - coloured, t.persons)
    return t.select("day", "colour", persons=persons.cast("int64")).order_by("day", t.colour)
