"""Open statistics: cases per county, city and the province per day, with small counts protected.

Counties come from the area-risk step's rows (every county on every day, with its risk level, which is
public by nature) and the day's new cases (``shuzhi.decision.daily_cases``: the same cases); cities and the
province add up their counties. Every count passes :func:`~shuzhi.public.disclosure.controlled` after the
sums, so a total is rounded once, from the true number.
"""

from __future__ import annotations

import functools

import ibis
import pyarrow as pa

from shuzhi.decision import daily_cases
from shuzhi.engine import Engine
from shuzhi.public.disclosure import controlled
from shuzhi.public.policy import PublicationPolicy
from shuzhi.risk import evidence
from shuzhi.risk.policy import AreaRiskPolicy

COUNTS = ("new_cases", "new_local_cases", "new_14d", "cumulative")
OPEN_STATISTICS_SCHEMA = pa.schema(
    [
        ("area_level", pa.string()),  # county | city | province
        ("area_code", pa.string()),
        ("day", pa.date32()),
        ("level", pa.string()),  # the county's risk level (null for cities and the province)
        ("new_cases", pa.int64()),  # null: withheld (1 to the policy's small count)
        ("new_local_cases", pa.int64()),
        ("new_14d", pa.int64()),
        ("cumulative", pa.int64()),
        ("edition", pa.string()),
    ]
)


def open_statistics(
    engine: Engine, area_policy: AreaRiskPolicy, publication: PublicationPolicy
) -> ibis.Table:
    """:data:`OPEN_STATISTICS_SCHEMA` rows from the lake's ``area_risk`` and diagnoses."""
    risk = engine.table("area_risk")
    daily = daily_cases(engine, area_policy)
    new = daily.filter(daily.area_level == "county").select(
        n_county="area_code", n_day="day", new_cases="cases", new_local_cases="local_cases"
    )
    counties = risk.left_join(new, [risk.county_code == new.n_county, risk.day == new.n_day])
    counties = counties.select(
        "county_code",
        "day",
        "level",
        "new_14d",
        "cumulative",
        new_cases=counties.new_cases.fill_null(0),
        new_local_cases=counties.new_local_cases.fill_null(0),
    )
    levels = [
        counties.select(
            area_level=ibis.literal("county"),
            area_code=counties.county_code,
            day=counties.day,
            level="level",
            **{c: counties[c] for c in COUNTS},
        )
    ]
    for unit in ("city", "province"):
        code = evidence.unit_of(counties.county_code, unit)
        summed = counties.group_by(area_code=code, day=counties.day).aggregate(
            **{c: counties[c].sum() for c in COUNTS}
        )
        levels.append(
            summed.select(
                area_level=ibis.literal(unit),
                area_code="area_code",
                day="day",
                level=ibis.null("string"),
                **{c: summed[c] for c in COUNTS},
            )
        )
    rows = functools.reduce(lambda a, b: a.union(b), levels)
    rule = publication.small_counts
    return rows.select(
        "area_level",
        "area_code",
        "day",
        "level",
        **{c: controlled(rows[c].cast("int64"), rule) for c in COUNTS},
        edition=ibis.literal(publication.edition),
    )
