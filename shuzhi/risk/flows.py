"""High-risk population flows: who arrived from medium/high-risk areas, and origin–destination flows.

**Arrivals.** On each day ``d``, a person is listed when a place they were at within the edition's
lookback (``flows.lookback_days``, ``d`` included) shows a risk area at one of ``flows.risk_levels`` on
``d``: the day's risk list applied to the recent itinerary, as health codes and the telecom itinerary
card did. Places are both ends of every trip and the cities of telecom stays of at least
``flows.telecom_min_hours``. A place shows a risk area when it is the area (``region_code`` is the area),
when it is a city containing one (the itinerary card's rule: a city is flagged when it contains a
medium/high-risk area; ``region_code`` is the city, at the highest level in it), or when it lies inside a
city-level risk area (the replay's lists). Places in the person's own city of residence are not arrivals.
``county_code`` is the residence (null when the person has no residence registration).

**Origin–destination.** Movements between regions per day: trips (origin → destination at ``unit`` level) and,
at city or province level, telecom itineraries (a stay in one city followed by a stay in another).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, NamedTuple

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.area import area_risk
from shuzhi.risk.policy import LEVELS, AreaRiskPolicy, PolicyArg, area_risk_policy
from shuzhi.risk.policy import Flows as FlowRule

RISK_AREAS_SCHEMA = pa.schema([("region_code", pa.string()), ("day", pa.date32()), ("level", pa.string())])

ARRIVALS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),  # the day of the risk list
        ("person_key", pa.int64()),
        ("county_code", pa.string()),  # residence; null when unregistered
        ("region_code", pa.string()),  # the risk area
        ("level", pa.string()),
        ("source", pa.string()),  # trip | telecom
        ("visited_on", pa.date32()),  # the last day in the lookback the person was there
    ]
)

OD_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("origin_code", pa.string()),
        ("destination_code", pa.string()),
        ("source", pa.string()),  # trip | telecom
        ("movements", pa.int64()),
        ("persons", pa.int64()),
    ]
)

Unit = Literal["county", "city", "province"]


class Flows(NamedTuple):
    """Both flow tables: :data:`ARRIVALS_SCHEMA` and :data:`OD_SCHEMA`."""

    arrivals: pa.Table
    od: pa.Table


def flows(
    engine: Engine,
    policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    risk: pa.Table | None = None,
    unit: Unit = "city",
) -> Flows:
    """Arrivals from risk areas and the origin–destination matrix from ``start`` to ``end``.

    ``risk`` is a list of risk areas (:data:`RISK_AREAS_SCHEMA`: ``region_code, day, level``), e.g. a national
    list or the 2020 replay; by default the counties' :func:`~shuzhi.risk.area.area_risk` on the same engine.
    """
    return Flows(risk_arrivals(engine, policy, start, end, risk), od_matrix(engine, policy, start, end, unit))


def risk_arrivals(
    engine: Engine,
    policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    risk: pa.Table | None = None,
) -> pa.Table:
    """Persons whose recent places show a medium/high-risk area, per day: :data:`ARRIVALS_SCHEMA`."""
    p = area_risk_policy(policy)
    areas = risk if risk is not None else risk_areas(engine, p, start, end)
    risk_table = ibis.memtable(areas.select(RISK_AREAS_SCHEMA.names).cast(RISK_AREAS_SCHEMA))
    expr = arrivals(engine, p, risk_table, start, end).select(*ARRIVALS_SCHEMA.names)
    ordered = expr.order_by(["day", "person_key", "region_code", "source"])
    return engine.to_arrow(ordered).cast(ARRIVALS_SCHEMA)


def risk_areas(
    engine: Engine,
    policy: AreaRiskPolicy,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> pa.Table:
    """The counties' own risk list (:data:`RISK_AREAS_SCHEMA`) from :func:`~shuzhi.risk.area.area_risk`."""
    rated = area_risk(engine, policy, start, end, counties)
    return rated.select(["county_code", "day", "level"]).rename_columns(RISK_AREAS_SCHEMA.names)


def arrivals(
    engine: Engine, policy: AreaRiskPolicy, risk: ibis.Table, start: dt.date, end: dt.date
) -> ibis.Table:
    """The arrivals expression (columns of :data:`ARRIVALS_SCHEMA`) against a risk-area table expression.

    A county-level risk area is matched exactly and through its city (one row for the city, at the highest
    level of its risk areas); a city-level risk area also matches the counties inside it.
    """
    rule = policy.flows
    r = risk.filter(risk.level.isin(rule.risk_levels) & risk.day.between(start, end))
    r = r.select(key="region_code", r_day="day", level="level")
    cities = r.filter(~evidence.is_city(r.key)).mutate(key=evidence.city_of(r.key))
    keys = _highest(r.union(cities))
    v = _away_from_home(engine, rule, start - dt.timedelta(days=rule.lookback_days - 1), end)
    direct = _match(v.mutate(key=v.region), keys, rule.lookback_days)
    inside = v.filter(~evidence.is_city(v.region)).mutate(key=evidence.city_of(v.region))
    contained = _match(inside, r.filter(evidence.is_city(r.key)), rule.lookback_days)
    m = direct.union(contained)
    per = m.group_by(["r_day", "person_key", "county_code", "key", "level", "source"]).agg(
        visited_on=lambda t: t.day.max()
    )
    return per.select(
        "person_key", "county_code", "level", "source", "visited_on", day="r_day", region_code="key"
    )


def _highest(r: ibis.Table) -> ibis.Table:
    """One row per ``key`` and ``r_day`` with the highest ``level``."""
    rank = r.level.cases(*[(lvl, i) for i, lvl in enumerate(LEVELS)])
    top = r.mutate(rank=rank).group_by(["key", "r_day"]).agg(rank=lambda t: t.rank.max())
    return top.select("key", "r_day", level=top.rank.cases(*[(i, lvl) for i, lvl in enumerate(LEVELS)]))


def _away_from_home(engine: Engine, rule: FlowRule, first: dt.date, last: dt.date) -> ibis.Table:
    """Distinct visits between two days outside the person's city of residence, with that ``county_code``."""
    v = evidence.visits(engine, rule)
    v = v.filter(v.day.between(first, last)).select("person_key", "region", "day", "source").distinct()
    res = evidence.table(engine, "residents").select(r_person="person_key", county_code="county_code")
    v = v.left_join(res, v.person_key == res.r_person)
    away = v.county_code.isnull() | (evidence.city_of(v.region) != evidence.city_of(v.county_code))
    return v.filter(away).select("person_key", "county_code", "region", "day", "source")


def _match(v: ibis.Table, r: ibis.Table, lookback: int) -> ibis.Table:
    """Visits ``v`` joined to risk rows ``r`` on ``key``, visited within the lookback before the list day."""
    r = r.rename(r_key="key")
    j = v.join(r, [v.key == r.r_key, v.day <= r.r_day, v.day > r.r_day - ibis.interval(days=lookback)])
    return j.select("person_key", "county_code", "day", "source", "r_day", key="r_key", level="level")


def od_matrix(
    engine: Engine, policy: AreaRiskPolicy | PolicyArg, start: dt.date, end: dt.date, unit: Unit = "city"
) -> pa.Table:
    """Movements between different regions at ``unit`` level per day: :data:`OD_SCHEMA`.

    Trips count on their departure day; telecom moves (city level, so only for ``unit`` city or province) on
    the first sighting in the new city.
    """
    p = area_risk_policy(policy)
    moves = [_trip_moves(engine)]
    if unit != "county":
        moves.append(_telecom_moves(engine, p))
    m = ibis.union(*moves)
    m = m.mutate(
        origin_code=evidence.unit_of(m.origin, unit), destination_code=evidence.unit_of(m.destination, unit)
    )
    m = m.filter(m.day.between(start, end) & (m.origin_code != m.destination_code))
    od = m.group_by(["day", "origin_code", "destination_code", "source"]).agg(
        movements=lambda t: t.count(), persons=lambda t: t.person_key.nunique()
    )
    ordered = od.select(*OD_SCHEMA.names).order_by(["day", "origin_code", "destination_code", "source"])
    return engine.to_arrow(ordered).cast(OD_SCHEMA)


def _trip_moves(engine: Engine) -> ibis.Table:
    t = evidence.table(engine, "trips")
    return t.select(
        "person_key",
        day=t.dep_time.date(),
        origin=t.origin_region,
        destination=t.destination_region,
        source=ibis.literal("trip"),
    )


def _telecom_moves(engine: Engine, policy: AreaRiskPolicy) -> ibis.Table:
    v = evidence.visits(engine, policy.flows)
    stays = v.filter(v.source == "telecom")
    previous = stays.region.lag().over(ibis.window(group_by="person_key", order_by="at"))
    s = stays.mutate(origin=previous)
    s = s.filter(s.origin.notnull())
    return s.select("person_key", "day", "origin", destination=s.region, source=s.source)
