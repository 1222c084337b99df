"""One call from a data directory's lake and a stock list to every item's plan."""

from __future__ import annotations

import datetime as dt

from shuzhi.engine import Engine
from shuzhi.risk.policy import area_risk_policy
from shuzhi.supplies.allocate import Plan, plan
from shuzhi.supplies.needs import county_needs
from shuzhi.supplies.policy import supplies_policy

# a plan looks weeks back and ahead: a day near year 1 or 9999 has no weeks around it
PLAN_DAYS = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))


def supply_plans(
    engine: Engine, edition: str, stock: dict[str, dict[str, int]], day: dt.date | None = None
) -> tuple[dt.date, list[Plan]]:
    """Plans for every item of the edition's ``supplies`` section as of ``day`` (default: the last day the
    area-risk step rated); an item without stock gets a plan with nothing allocated."""
    policy = supplies_policy(edition)
    check_plan_day(day)
    day = day or _last_rated(engine)
    counties = engine.to_arrow(county_needs(engine, policy, area_risk_policy(edition), day)).to_pylist()
    counties.sort(key=lambda c: c["county_code"])
    return day, [plan(name, counties, stock.get(name, {}), policy) for name in policy.items]


def check_plan_day(day: dt.date | None) -> None:
    """:class:`ValueError` naming the field for a day outside :data:`PLAN_DAYS`."""
    if day is not None and not PLAN_DAYS[0] <= day <= PLAN_DAYS[1]:
        raise ValueError(f"day: {day} is outside {PLAN_DAYS[0]} to {PLAN_DAYS[1]}")


def _last_rated(engine: Engine) -> dt.date:
    risk = engine.table("area_risk")
    return engine.to_arrow(risk.aggregate(last=risk.day.max()))["last"][0].as_py()
