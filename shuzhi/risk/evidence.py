"""The evidence every risk rule reads, as Ibis expressions over the lake: cases, visits, settings, indicators.

* **cases** — one row per person with a diagnosis whose status the edition counts, on the day and in the
  county of their first such diagnosis, flagged ``local`` (no trip or telecom stay outside the policy's unit
  in the lookback before diagnosis) and ``observed`` (under home observation when diagnosed).
* **visits** — where a person was on which day: both ends of every trip, and telecom stays of at least the
  policy's hours (city level).
* **settings** — the small settings a case belongs to (household; enterprise team), for clusters.
* **indicators** — per area per day: cumulative cases, new cases in the window, clusters in the cluster
  window, days since the last case. Rolling sums run over a dense area × day grid: window frames count days.

Optional tables (residents, employments, trips, telecom stays, home observations) may be absent: an empty
table of the model's schema stands in, so an expression never depends on which feeds a deployment has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.model import TABLES
from shuzhi.regions import zhejiang_counties
from shuzhi.risk.policy import AreaRiskPolicy, Flows

OPTIONAL = ("residents", "employments", "trips", "telecom_stays", "home_observations")


def table(engine: Engine, name: str) -> ibis.Table:
    """The canonical table ``name``; an empty one of the model's schema when an optional table is absent."""
    if engine.has_table(name) or name not in OPTIONAL:
        return engine.table(name).select(*TABLES[name].columns)
    return ibis.memtable(TABLES[name].schema.empty_table())


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def grid(areas: Sequence[str], start: dt.date, end: dt.date, column: str = "county_code") -> ibis.Table:
    """Every area on every day from ``start`` to ``end``: columns ``column`` and ``day``."""
    span = days(start, end)
    data = pa.table(
        {
            column: pa.array([a for a in areas for _ in span], pa.string()),
            "day": pa.array(span * len(areas), pa.date32()),
        }
    )
    return ibis.memtable(data)


def attach(t: ibis.Table, part: ibis.Table, keys: Sequence[str]) -> ibis.Table:
    """``t`` left-joined with ``part`` on ``keys``: ``t``'s rows and columns plus ``part``'s other columns."""
    joined = t.left_join(part, list(keys))
    return joined.select(*t.columns, *[c for c in part.columns if c not in keys])


def zhejiang() -> list[str]:
    """The 90 county codes of Zhejiang (2020)."""
    return [r.code for r in zhejiang_counties()]


def city_of(code: ibis.StringValue) -> ibis.StringValue:
    """The GB/T 2260 city code enclosing a county code (a city code maps to itself)."""
    return code.substr(0, 4) + "00"


def unit_of(code: ibis.StringValue, unit: str) -> ibis.StringValue:
    """The province, city or county (the code itself) a region code lies in."""
    return {"province": code.substr(0, 2) + "0000", "city": city_of(code), "county": code}[unit]


def is_city(code: ibis.StringValue) -> ibis.BooleanValue:
    """True for a prefecture-level code (``xxxx00``, not a province's ``xx0000``)."""
    return code.endswith("00") & ~code.endswith("0000")


def visits(engine: Engine, flows: Flows) -> ibis.Table:
    """Where persons were: ``person_key, region, day, at, source`` (``trip`` ends and ``telecom`` stays)."""
    trips = table(engine, "trips")
    trip = ibis.literal("trip")
    origins = trips.select(
        "person_key", region="origin_region", day=trips.dep_time.date(), at="dep_time", source=trip
    )
    ends = trips.select(
        "person_key", region="destination_region", day=trips.arr_time.date(), at="arr_time", source=trip
    )
    stays = table(engine, "telecom_stays")
    hours = stays.last_seen.delta(stays.first_seen, unit="second") / 3600
    telecom = stays.filter(hours >= flows.telecom_min_hours).select(
        "person_key",
        region="city_code",
        day=stays.first_seen.date(),
        at="first_seen",
        source=ibis.literal("telecom"),
    )
    return origins.union(ends).union(telecom)


def cases(engine: Engine, policy: AreaRiskPolicy, flags: bool = True) -> ibis.Table:
    """``person_key, county_code, day`` (+ ``local, observed`` with ``flags``): each case once, at its first
    counted diagnosis."""
    first = first_diagnoses(engine, policy.case_statuses)
    if not flags:
        return first
    imported = _imported(engine, policy, first).mutate(imported=ibis.literal(True))
    observed = _observed(engine, first).mutate(under_observation=ibis.literal(True))
    out = attach(attach(first, imported, ["person_key"]), observed, ["person_key"])
    return out.select(
        "person_key",
        "county_code",
        "day",
        local=out.imported.isnull(),
        observed=out.under_observation.notnull(),
    )


def first_diagnoses(engine: Engine, statuses: Sequence[str]) -> ibis.Table:
    """``person_key, county_code, day``: each person once, at their first diagnosis of one of ``statuses``."""
    diag = table(engine, "diagnoses")
    diag = diag.filter(diag.status.isin(list(statuses)))
    first = diag.group_by("person_key").agg(
        day=diag.diagnosed_at.min().date(), county_code=diag.county_code.argmin(diag.diagnosed_at)
    )
    return first.select("person_key", "county_code", "day")


def _imported(engine: Engine, policy: AreaRiskPolicy, first: ibis.Table) -> ibis.Table:
    """Persons (``person_key``) who were outside their case's unit within the lookback before diagnosis."""
    v = visits(engine, policy.flows).rename(v_person="person_key", v_day="day")
    rule = policy.imported
    joined = first.join(
        v,
        [
            first.person_key == v.v_person,
            v.v_day <= first.day,
            v.v_day > first.day - ibis.interval(days=rule.lookback_days),
            unit_of(v.region, rule.outside) != unit_of(first.county_code, rule.outside),
        ],
    )
    return joined.select("person_key").distinct()


def _observed(engine: Engine, first: ibis.Table) -> ibis.Table:
    """Persons (``person_key``) under home observation on the day of their diagnosis."""
    obs = table(engine, "home_observations").rename(o_person="person_key")
    joined = first.join(
        obs,
        [
            first.person_key == obs.o_person,
            obs.start_date <= first.day,
            obs.end_date.isnull() | (obs.end_date >= first.day),
        ],
    )
    return joined.select("person_key").distinct()


def settings(engine: Engine, policy: AreaRiskPolicy, case_table: ibis.Table) -> ibis.Table:
    """``person_key, county_code, day, setting``: every small setting a case belongs to."""
    parts = []
    if "household" in policy.cluster.settings:
        res = table(engine, "residents")
        res = res.select(r_person="person_key", setting="household:" + res.household_id)
        parts.append(_members(case_table, res))
    if "team" in policy.cluster.settings:
        emp = table(engine, "employments")
        emp = emp.select(r_person="person_key", setting="team:" + emp.enterprise_code + "/" + emp.team)
        parts.append(_members(case_table, emp))
    return ibis.union(*parts)


def _members(case_table: ibis.Table, members: ibis.Table) -> ibis.Table:
    """The cases among ``members`` (``r_person, setting``) with their setting; null settings are none."""
    joined = case_table.join(members, case_table.person_key == members.r_person)
    joined = joined.filter(joined.setting.notnull())
    return joined.select("person_key", "county_code", "day", "setting")


def window_days(policy: AreaRiskPolicy) -> int:
    """The 'new cases' window: the county rule's, or the cluster window under a compound rule."""
    return policy.county.window_days if policy.county is not None else policy.cluster.window_days


def indicators(
    engine: Engine,
    policy: AreaRiskPolicy,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> ibis.Table:
    """Per county per day from ``start`` to ``end``: ``county_code, day, cumulative, cumulative_local,
    new_14d, new_observed_14d, clusters_14d, last_case_day, days_since_last`` (null when no case yet)."""
    areas = list(counties) if counties is not None else zhejiang()
    case_table = cases(engine, policy)
    w = window_days(policy)
    daily = _rolling(case_table, areas, start, end, w)
    clusters = _clusters(settings(engine, policy, case_table), areas, start, end, policy)
    out = attach(daily, clusters, ["county_code", "day"])
    return out.select(
        "county_code",
        "day",
        "cumulative",
        "cumulative_local",
        "new_14d",
        "new_observed_14d",
        clusters_14d=out.clusters.fill_null(0),
        last_case_day=out.last_case_day,
        days_since_last=out.day.delta(out.last_case_day, unit="day"),
    )


def _rolling(case_table: ibis.Table, areas: list[str], start: dt.date, end: dt.date, w: int) -> ibis.Table:
    """Cumulative and rolling case counts on the dense county × day grid (plus what came before the grid)."""
    first = start - dt.timedelta(days=w - 1)
    c = case_table.filter(case_table.day <= end)
    flags = {"n": ibis.literal(1), "n_local": c.local.cast("int64"), "n_observed": c.observed.cast("int64")}
    per_day = (
        c.mutate(**flags)
        .group_by("county_code", "day")
        .agg(
            n=lambda t: t.n.sum(), n_local=lambda t: t.n_local.sum(), n_observed=lambda t: t.n_observed.sum()
        )
    )
    early = c.filter(c.day < first).mutate(**flags)
    before = early.group_by("county_code").agg(
        n0=early.n.sum(), local0=early.n_local.sum(), last0=early.day.max()
    )
    g = attach(grid(areas, first, end), per_day, ["county_code", "day"])
    g = g.select(
        "county_code",
        "day",
        n=g.n.fill_null(0),
        n_local=g.n_local.fill_null(0),
        n_observed=g.n_observed.fill_null(0),
    )
    running = ibis.cumulative_window(group_by="county_code", order_by="day")
    rolling = ibis.window(group_by="county_code", order_by="day", preceding=w - 1, following=0)
    g = g.mutate(
        cum=g.n.sum().over(running),
        cum_local=g.n_local.sum().over(running),
        new_14d=g.n.sum().over(rolling),
        new_observed_14d=g.n_observed.sum().over(rolling),
        last_in_grid=ibis.ifelse(g.n > 0, g.day, ibis.null("date")).max().over(running),
    )
    g = attach(g, before, ["county_code"])
    return g.filter(g.day >= start).select(
        "county_code",
        "day",
        "new_14d",
        "new_observed_14d",
        cumulative=g.cum + g.n0.fill_null(0),
        cumulative_local=g.cum_local + g.local0.fill_null(0),
        last_case_day=g.last_in_grid.coalesce(g.last0),
    )


def _clusters(
    setting_cases: ibis.Table, areas: list[str], start: dt.date, end: dt.date, policy: AreaRiskPolicy
) -> ibis.Table:
    """``county_code, day, clusters``: settings with at least ``min_cases`` cases in the cluster window."""
    rule = policy.cluster
    s = setting_cases.rename(s_county="county_code", s_day="day")
    g = grid(areas, start, end)
    joined = g.join(
        s,
        [
            g.county_code == s.s_county,
            s.s_day <= g.day,
            s.s_day > g.day - ibis.interval(days=rule.window_days),
        ],
    )
    per_setting = joined.group_by("county_code", "day", "setting").agg(cases=lambda t: t.person_key.nunique())
    big = per_setting.filter(per_setting.cases >= rule.min_cases)
    return big.group_by("county_code", "day").agg(clusters=lambda t: t.count())
