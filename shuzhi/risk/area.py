"""Area risk per county per day, with the reason a person can read.

Two rules, chosen by the edition's ``area_risk.unit``:

* **county** (February 2020): low — no case, or none new in the window; medium — new cases and at most
  ``max_cumulative_medium`` cumulative, or more with no cluster in the cluster window; high — more than that
  and at least ``min_clusters_high`` clusters. :func:`rate_county` applies it to any table of indicators (the
  2020 replay uses it on city counts).
* **compound** (9th edition, 2022): a case makes its compound ``on_new_case`` (high); the downgrade chain
  lowers it after days without a new case (7 → medium, 3 more → low). Every new case restarts the chain, so a
  compound's level is a function of the days since its last case: the chain compiles to day thresholds.
  A county shows the highest level among its compounds. The lake has no compound identifier: a compound is
  the case's county plus a prefix of its ``household_id`` (or the household itself); cases with no registered
  household form the county's ``unregistered`` compound.

Everything is an Ibis expression through the engine layer; the results are small Arrow tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import pairwise

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.policy import (
    AreaRiskPolicy,
    CompoundRule,
    CountyRule,
    PolicyArg,
    area_risk_policy,
    level_rank,
)

AREA_RISK_SCHEMA = pa.schema(
    [
        ("county_code", pa.string()),
        ("day", pa.date32()),
        ("level", pa.string()),  # low | medium | high
        ("reason", pa.string()),
        ("cumulative", pa.int64()),
        ("new_14d", pa.int64()),
        ("clusters_14d", pa.int64()),
        ("days_since_last", pa.int64()),  # null: no case yet
    ]
)

COMPOUND_RISK_SCHEMA = pa.schema(
    [
        ("county_code", pa.string()),
        ("compound", pa.string()),
        ("day", pa.date32()),
        ("level", pa.string()),
        ("reason", pa.string()),
        ("last_case_day", pa.date32()),
        ("days_since_last", pa.int64()),
    ]
)


def text(*parts: str | ibis.Value) -> ibis.StringValue:
    """Concatenate literal strings and values (cast to strings) into one string expression."""
    out = ibis.literal("")
    for part in parts:
        out = out + (ibis.literal(part) if isinstance(part, str) else part.cast("string"))
    return out


def county_level(t: ibis.Table, rule: CountyRule, has_cluster: ibis.BooleanValue) -> ibis.StringValue:
    """The February 2020 level from ``new_14d`` and ``cumulative``, given whether there is a cluster."""
    return ibis.cases(
        (t.new_14d == 0, "low"),
        (t.cumulative <= rule.max_cumulative_medium, "medium"),
        (has_cluster, "high"),
        else_="medium",
    )


def rate_county(
    t: ibis.Table,
    rule: CountyRule,
    cluster_window: int,
    has_cluster: ibis.BooleanValue | None = None,
    cluster_reason: ibis.StringValue | None = None,
) -> ibis.Table:
    """Add ``level`` and ``reason`` to ``t`` (columns ``cumulative, new_14d, clusters_14d, days_since_last``).

    ``has_cluster`` and ``cluster_reason`` (which must say whether there is one) override how clusters are
    judged and explained; the replay's proxy uses them.
    """
    cap = rule.max_cumulative_medium
    if has_cluster is None:
        has_cluster = t.clusters_14d >= rule.min_clusters_high
        cluster_reason = text(
            t.clusters_14d, f" cluster(s) in {cluster_window} days (high needs {rule.min_clusters_high})"
        )
    new = text(t.new_14d, f" new case(s) in {rule.window_days} days, ", t.cumulative, " cumulative")
    reason = ibis.cases(
        (t.cumulative == 0, ibis.literal("no case")),
        (
            t.new_14d == 0,
            text(f"no new case in {rule.window_days} days (last ", t.days_since_last, " days ago), ")
            + text(t.cumulative, " cumulative"),
        ),
        (t.cumulative <= cap, new + f" ≤ {cap}"),
        else_=new + f" > {cap}, " + cluster_reason,
    )
    return t.mutate(level=county_level(t, rule, has_cluster), reason=reason)


def area_risk(
    engine: Engine,
    policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> pa.Table:
    """Risk level of every county on every day from ``start`` to ``end`` (inclusive).

    Reads ``diagnoses`` (and, where present, residents, employments, trips, telecom_stays, home_observations)
    through ``engine``; ``policy`` is an edition name, folder or loaded :class:`AreaRiskPolicy`. ``counties``
    defaults to Zhejiang's 90 (all present every day, low when they have no case). Returns
    :data:`AREA_RISK_SCHEMA`: ``county_code, day, level, reason, cumulative, new_14d, clusters_14d,
    days_since_last``, sorted by county and day.
    """
    p = area_risk_policy(policy)
    areas = list(counties) if counties is not None else evidence.zhejiang()
    ind = evidence.indicators(engine, p, start, end, areas)
    if p.unit == "county":
        rated = rate_county(ind, p.county, p.cluster.window_days)
    else:
        rated = _rate_by_compounds(ind, _compounds(engine, p, p.compound, start, end, areas), p.compound)
    return _arrow(engine, rated, AREA_RISK_SCHEMA)


def compound_risk(
    engine: Engine,
    policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> pa.Table:
    """The compounds at medium or high risk on each day (9th edition; low compounds are not listed).

    Returns :data:`COMPOUND_RISK_SCHEMA`: ``county_code, compound, day, level, reason, last_case_day,
    days_since_last``. Needs an edition whose ``area_risk.unit`` is ``compound``.
    """
    p = area_risk_policy(policy)
    if p.compound is None:
        raise ValueError("compound_risk needs an edition with an area_risk 'compound' rule (e.g. 2022-9th)")
    areas = list(counties) if counties is not None else evidence.zhejiang()
    return _arrow(engine, _compounds(engine, p, p.compound, start, end, areas), COMPOUND_RISK_SCHEMA)


def _arrow(engine: Engine, expr: ibis.Table, schema: pa.Schema) -> pa.Table:
    ordered = expr.select(*schema.names).order_by(list(schema.names[:3]))
    return engine.to_arrow(ordered).cast(schema)


def _compounds(
    engine: Engine,
    p: AreaRiskPolicy,
    rule: CompoundRule,
    start: dt.date,
    end: dt.date,
    areas: list[str],
) -> ibis.Table:
    """Compound × day rows at a level above low, from each compound's last case up to the day."""
    bands = [(level, until) for (_, level), (until, _) in pairwise(rule.thresholds())]
    horizon = bands[-1][1]  # from this many days without a case the compound is low
    c = _case_compounds(engine, p, rule)
    g = evidence.grid(areas, start, end)
    j = g.join(
        c,
        [
            g.county_code == c.county_code,
            c.case_day <= g.day,
            c.case_day > g.day - ibis.interval(days=horizon),
        ],
    )
    last = j.group_by("county_code", "compound", "day").agg(last_case_day=lambda t: t.case_day.max())
    since = last.day.delta(last.last_case_day, unit="day")
    plan = ", ".join(f"{level} until day {until}" for level, until in bands)
    return last.mutate(
        days_since_last=since,
        level=ibis.cases(*[(since < until, level) for level, until in bands], else_="low"),
        reason=text("last case ", since, f" day(s) ago ({plan})"),
    )


def _case_compounds(engine: Engine, p: AreaRiskPolicy, rule: CompoundRule) -> ibis.Table:
    """``county_code, compound, case_day`` of every case: county + household id (prefix) or 'unregistered'."""
    c = evidence.cases(engine, p, flags=False)
    res = evidence.table(engine, "residents").select(r_person="person_key", household_id="household_id")
    c = c.left_join(res, c.person_key == res.r_person)
    prefix = rule.household_id_prefix
    household = c.household_id if prefix is None else c.household_id.substr(0, prefix)
    compound = c.county_code + ":" + household.fill_null("unregistered")
    return c.select("county_code", compound=compound, case_day=c.day)


def _rate_by_compounds(ind: ibis.Table, comp: ibis.Table, rule: CompoundRule) -> ibis.Table:
    """A county's level is the highest of its compounds'; the reason counts compounds by level."""
    ranked = sorted({lvl for _, lvl in rule.thresholds() if lvl != "low"}, key=level_rank, reverse=True)
    counts = comp.group_by("county_code", "day").agg(
        **{f"n_{lvl}": comp.level.cases((lvl, 1), else_=0).sum() for lvl in ranked}
    )
    t = evidence.attach(ind, counts, ["county_code", "day"])
    t = t.mutate(**{f"n_{lvl}": t[f"n_{lvl}"].fill_null(0) for lvl in ranked})
    level = ibis.cases(*[(t[f"n_{lvl}"] > 0, lvl) for lvl in ranked], else_="low")
    at_risk = text("compounds at risk — ", *_join([(f"{lvl}: ", t[f"n_{lvl}"]) for lvl in ranked], ", "))
    at_risk = at_risk + text("; last case ", t.days_since_last, " days ago")
    quiet = ibis.cases(
        (t.cumulative == 0, ibis.literal("no case")),
        else_=text("no compound at risk; last case ", t.days_since_last, " days ago"),
    )
    return t.mutate(level=level, reason=ibis.cases((level != "low", at_risk), else_=quiet))


def _join(pairs: list[tuple[str, ibis.Value]], sep: str) -> list[str | ibis.Value]:
    """Flatten (label, value) pairs into text parts separated by ``sep``."""
    parts: list[str | ibis.Value] = []
    for i, (label, value) in enumerate(pairs):
        parts += ([sep] if i else []) + [label, value]
    return parts
