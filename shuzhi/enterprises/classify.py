"""Class one enterprise's application: its county's risk level, its staff's codes, the measures it lacks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ibis

from shuzhi.engine import Engine
from shuzhi.enterprises.policy import ApplicationsPolicy
from shuzhi.risk import evidence


@dataclass(frozen=True)
class Classification:
    risk_class: str  # low | medium | high
    reasons: list[str]
    county_code: str | None
    county_level: str | None
    staff: int
    red: int
    yellow: int


def classify(
    engine: Engine, policy: ApplicationsPolicy, enterprise_code: str, measures: Iterable[str]
) -> Classification:
    """The class of ``enterprise_code``'s application, with every reason, from the newest results."""
    county = _county(engine, enterprise_code)
    level = _level(engine, county) if county else None
    staff, red, yellow = _staff_codes(engine, enterprise_code)
    missing = sorted(set(policy.required_measures) - set(measures))
    high, medium = [], []
    if level in policy.high.county_levels:
        high.append(f"the county {county} is at {level} risk")
    if staff and red / staff > policy.high.red_staff_share_above:
        high.append(f"{red} of {staff} registered staff have a red code")
    if level in policy.medium.county_levels:
        medium.append(f"the county {county} is at {level} risk")
    if red >= policy.medium.red_staff_at_least:
        medium.append(f"{red} of {staff} registered staff have a red code and stay at home")
    if staff and yellow / staff > policy.medium.yellow_staff_share_above:
        medium.append(f"{yellow} of {staff} registered staff have a yellow code")
    if len(missing) >= policy.medium.missing_measures_at_least:
        medium.append(f"measures missing: {', '.join(missing)}")
    if county is None:
        medium.append(f"{enterprise_code} is not in the enterprise registry")
    risk_class = "high" if high else "medium" if medium else "low"
    reasons = high or medium or [f"county at {level or 'no'} risk, no red or few yellow codes, every measure"]
    return Classification(risk_class, reasons, county, level, staff, red, yellow)


def _county(engine: Engine, code: str) -> str | None:
    if not engine.has_table("enterprises"):
        return None
    e = engine.table("enterprises")
    rows = engine.to_arrow(e.filter(e.enterprise_code == code).select("county_code").limit(1))
    return rows["county_code"][0].as_py() if rows.num_rows else None


def _level(engine: Engine, county: str) -> str | None:
    if not engine.has_table("area_risk"):
        return None
    r = engine.table("area_risk")
    newest = r.filter(r.county_code == county).order_by(ibis.desc("day")).limit(1)
    rows = engine.to_arrow(newest.select("level"))
    return rows["level"][0].as_py() if rows.num_rows else None


def _staff_codes(engine: Engine, code: str) -> tuple[int, int, int]:
    """Registered staff, and how many of them have a red and a yellow code in the newest codes."""
    staff = evidence.table(engine, "employments")
    people = staff.filter(staff.enterprise_code == code).select("person_key").distinct()
    if engine.has_table("codes"):
        codes = engine.table("codes").select(p_key="person_key", colour="colour")
        joined = people.left_join(codes, people.person_key == codes.p_key)
        colour = joined.colour
    else:
        joined, colour = people, ibis.null("string")
    counts = joined.aggregate(
        staff=joined.count(),
        red=(colour == "red").cast("int64").sum(),
        yellow=(colour == "yellow").cast("int64").sum(),
    )
    row = engine.to_arrow(counts).to_pylist()[0]
    return row["staff"], row["red"] or 0, row["yellow"] or 0
