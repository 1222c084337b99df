"""What each county needs, read from the lake: residents, risk level, recent close contacts, active cases."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.policy import AreaRiskPolicy
from shuzhi.supplies.policy import SuppliesPolicy

COUNTY_NEEDS_SCHEMA = pa.schema(
    [
        ("county_code", pa.string()),
        ("level", pa.string()),  # the county's risk level on the day (low where not rated)
        ("residents", pa.int64()),
        ("recent_close_contacts", pa.int64()),  # listed in the horizon before the day
        ("active_cases", pa.int64()),  # diagnosed within the policy's active days
    ]
)


def county_needs(
    engine: Engine, policy: SuppliesPolicy, area_policy: AreaRiskPolicy, day: dt.date
) -> ibis.Table:
    """:data:`COUNTY_NEEDS_SCHEMA` for every county with residents, as of ``day``."""
    residents = evidence.table(engine, "residents")
    people = residents.group_by("county_code").aggregate(residents=residents.count())
    out = evidence.attach(people, _levels(engine, day), ["county_code"])
    out = evidence.attach(out, _recent_contacts(engine, residents, policy, day), ["county_code"])
    out = evidence.attach(out, _active_cases(engine, area_policy, policy, day), ["county_code"])
    return out.select(
        "county_code",
        level=out.level.fill_null("low"),
        residents=out.residents.cast("int64"),
        recent_close_contacts=out.recent_close_contacts.fill_null(0).cast("int64"),
        active_cases=out.active_cases.fill_null(0).cast("int64"),
    )


def _levels(engine: Engine, day: dt.date) -> ibis.Table:
    if not engine.has_table("area_risk"):
        return ibis.memtable(
            pa.table({"county_code": pa.array([], pa.string()), "level": pa.array([], pa.string())})
        )
    risk = engine.table("area_risk")
    return risk.filter(risk.day == day).select("county_code", "level")


def _recent_contacts(
    engine: Engine, residents: ibis.Table, policy: SuppliesPolicy, day: dt.date
) -> ibis.Table:
    empty = {"county_code": pa.array([], pa.string()), "recent_close_contacts": pa.array([], pa.int64())}
    if not engine.has_table("contacts"):
        return ibis.memtable(pa.table(empty))
    c = engine.table("contacts")
    since = dt.datetime.combine(day - dt.timedelta(days=policy.horizon_days - 1), dt.time())
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    recent = c.filter(
        (c.classification == "close") & (c.first_contact_at >= since) & (c.first_contact_at < until)
    )
    listed = recent.select(person_key=recent.contact_key).distinct()
    homes = listed.join(residents.select("person_key", "county_code"), "person_key")
    return homes.group_by("county_code").aggregate(recent_close_contacts=homes.count())


def _active_cases(
    engine: Engine, area_policy: AreaRiskPolicy, policy: SuppliesPolicy, day: dt.date
) -> ibis.Table:
    if not engine.has_table("diagnoses"):
        empty = {"county_code": pa.array([], pa.string()), "active_cases": pa.array([], pa.int64())}
        return ibis.memtable(pa.table(empty))
    cases = evidence.cases(engine, area_policy, flags=False)
    since = day - dt.timedelta(days=policy.active_case_days - 1)
    active = cases.filter((cases.day >= since) & (cases.day <= day))
    return active.group_by("county_code").aggregate(active_cases=active.count())
