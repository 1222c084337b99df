"""Epidemic curves and what they imply: new cases per area and day, R(t), and the projection.

:func:`daily_cases` is an Ibis expression over the lake's diagnoses (each person once, at their first
diagnosis of a status the edition counts, flagged local or imported), rolled up to county, city and
province. :func:`epidemic` turns
each area's counts into a dense daily series, estimates R(t) and projects it (:mod:`shuzhi.decision.rt`),
and returns one table, :data:`EPI_SCHEMA`: observed days with their cases and R, then projected days with
their expected cases. Every row carries its reason.
"""

from __future__ import annotations

import datetime as dt
import functools

import ibis
import numpy as np
import pyarrow as pa

from shuzhi.decision import rt
from shuzhi.decision.policy import EpiPolicy
from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.policy import AreaRiskPolicy

UNITS = ("province", "city", "county")
EPI_SCHEMA = pa.schema(
    [
        ("area_level", pa.string()),  # province | city | county
        ("area_code", pa.string()),  # GB/T 2260
        ("day", pa.date32()),
        ("projected", pa.bool_()),  # false: observed; true: the projection
        ("cases", pa.int64()),  # new cases that day (observed days)
        ("local_cases", pa.int64()),  # of which infected here (not imported)
        ("cumulative", pa.int64()),
        ("rt_mean", pa.float64()),  # R's posterior mean; null where there is no estimate
        ("rt_low", pa.float64()),  # its credible interval
        ("rt_high", pa.float64()),
        ("cases_in_window", pa.int64()),
        ("expected", pa.float64()),  # projected days: expected cases at R's mean, low and high
        ("expected_low", pa.float64()),
        ("expected_high", pa.float64()),
        ("reason", pa.string()),
        ("edition", pa.string()),
    ]
)


def daily_cases(engine: Engine, area_policy: AreaRiskPolicy) -> ibis.Table:
    """``area_level, area_code, day, cases, local_cases``: new cases per day in every county, city and the
    province (cases and imported cases as the edition's area-risk section defines them)."""
    first = evidence.cases(engine, area_policy)
    per_unit = [
        first.group_by(area_code=evidence.unit_of(first.county_code, unit), day=first.day)
        .aggregate(cases=first.count(), local_cases=first.local.cast("int64").sum())
        .mutate(area_level=ibis.literal(unit))
        for unit in UNITS
    ]
    union = functools.reduce(lambda a, b: a.union(b), per_unit)
    return union.select(
        "area_level",
        "area_code",
        "day",
        cases=union.cases.cast("int64"),
        local_cases=union.local_cases.cast("int64"),
    )


def epidemic(
    engine: Engine, policy: EpiPolicy, area_policy: AreaRiskPolicy, start: dt.date, end: dt.date
) -> pa.Table:
    """Every area with a case in [start, end]: its daily series, R(t) and the projection after ``end``."""
    counts = engine.to_arrow(daily_cases(engine, area_policy))
    return series_table(counts, policy, start, end)


def series_table(counts: pa.Table, policy: EpiPolicy, start: dt.date, end: dt.date) -> pa.Table:
    """:data:`EPI_SCHEMA` rows from ``area_level, area_code, day, cases[, local_cases]`` (a day without a row
    had no case; without ``local_cases`` every case is local)."""
    span = (end - start).days + 1
    local = "local_cases" if "local_cases" in counts.column_names else "cases"
    daily: dict[tuple[str, str], np.ndarray] = {}
    for row in counts.to_pylist():
        offset = (row["day"] - start).days
        if 0 <= offset < span:
            key = (row["area_level"], row["area_code"])
            series = daily.setdefault(key, np.zeros((2, span), np.int64))
            series[:, offset] += (row["cases"], row[local])
    parts = [_area_rows(level, code, *both, start, policy) for (level, code), both in sorted(daily.items())]
    return pa.concat_tables([EPI_SCHEMA.empty_table(), *parts])


def _area_rows(
    level: str, code: str, cases: np.ndarray, local: np.ndarray, start: dt.date, policy: EpiPolicy
) -> pa.Table:
    found = rt.estimate(cases, policy, local)
    projection = rt.project(cases, found, policy)
    observed = len(cases)
    ahead = len(projection.expected) if projection else 0
    days = [start + dt.timedelta(days=i) for i in range(observed + ahead)]
    missing = [None] * ahead
    cumulative = np.cumsum(cases).tolist()
    return pa.table(
        {
            "area_level": [level] * len(days),
            "area_code": [code] * len(days),
            "day": days,
            "projected": [False] * observed + [True] * ahead,
            "cases": cases.tolist() + missing,
            "local_cases": local.tolist() + missing,
            "cumulative": cumulative + missing,
            "rt_mean": _values(found.mean) + missing,
            "rt_low": _values(found.low) + missing,
            "rt_high": _values(found.high) + missing,
            "cases_in_window": found.cases_in_window.tolist() + missing,
            "expected": [None] * observed + (_values(projection.expected) if projection else []),
            "expected_low": [None] * observed + (_values(projection.low) if projection else []),
            "expected_high": [None] * observed + (_values(projection.high) if projection else []),
            "reason": found.reasons + (_projection_reasons(projection, policy) if projection else []),
            "edition": [policy.edition] * len(days),
        },
        schema=EPI_SCHEMA,
    )


def _values(array: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 4) for v in array]


def _projection_reasons(projection: rt.Projection, policy: EpiPolicy) -> list[str]:
    mean, low, high = projection.r
    start = f"R {mean:.2f} ({low:.2f}-{high:.2f}, {policy.credible_interval:.0%} interval), the last estimate"
    if projection.daily_change == 1:
        return [f"projection if R stays at {start}"] * len(projection.expected)
    trend = f"{projection.daily_change - 1:+.1%} a day, its trend over {policy.projection.r_trend_days} days"
    return [f"projection from {start}, changing {trend}"] * len(projection.expected)
