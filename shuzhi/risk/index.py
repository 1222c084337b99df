"""The one index (一指数) per county and city per day, and the return-to-work index.

**The index** follows Zhejiang's 精密智控指数: a control sub-index (管控: keep cases and imports down) and a
flow sub-index (畅通: people moving again), each the weighted mean of named sub-indicators' scores, and the
index the weighted mean of the two. Weights and reference values are the edition's ``index.yaml``. A score is
``100 × min(value / reference, 1)`` when higher is better and ``100 × (1 − min(value / reference, 1))`` when
lower is better; a sub-indicator without a value drops out and the other weights are rescaled (likewise a
sub-index). The sub-indicators, each a column of the result:

* ``new_cases_per_100k_14d`` — new cases in the window per 100,000 residents (residence registrations);
* ``days_without_case`` — days since the last case; an area that never had one gets the reference value;
* ``share_found_under_observation_14d`` — share of the window's new cases already under home observation;
* ``risk_arrivals_per_100k_14d`` — residents with a recent stay in a medium/high-risk area, per 100,000;
* ``inflow_vs_baseline`` / ``outflow_vs_baseline`` — trips into / out of the area that day over the baseline
  period's daily average.

A city's values come from its counties' counts (sums; the least days since a case), not from their indices.

**Return to work** (Zhejiang's 复工电力指数, February 2020): the share of firms back at work — a firm is back
when its day's electricity use reaches ``firm_back_min_share`` of its baseline daily average — and the area's
electricity use as a share of its firms' baseline; the index is their weighted mean (weights ½, ½: 57.60% and
45.28% give 51.44).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.flows import RISK_AREAS_SCHEMA, arrivals, risk_areas
from shuzhi.risk.policy import (
    AreaRiskPolicy,
    Baseline,
    IndexPolicy,
    Indicator,
    PolicyArg,
    area_risk_policy,
    index_policy,
)

LEVELS = ("county", "city")
INDICATORS = (
    "new_cases_per_100k_14d",
    "days_without_case",
    "share_found_under_observation_14d",
    "risk_arrivals_per_100k_14d",
    "inflow_vs_baseline",
    "outflow_vs_baseline",
)
_KEYS = [("area_code", pa.string()), ("area_level", pa.string()), ("day", pa.date32())]
INDEX_SCHEMA = pa.schema(
    _KEYS
    + [
        ("population", pa.int64()),
        ("new_14d", pa.int64()),
        ("new_observed_14d", pa.int64()),
        ("days_since_last", pa.int64()),
        ("risk_arrivals_14d", pa.int64()),
        ("inflow", pa.int64()),
        ("outflow", pa.int64()),
        ("inflow_baseline", pa.float64()),
        ("outflow_baseline", pa.float64()),
    ]
    + [(name, pa.float64()) for name in INDICATORS]
    + [(f"score_{name}", pa.float64()) for name in INDICATORS]  # null: not in the policy, or no value
    + [("control", pa.float64()), ("flow", pa.float64()), ("index", pa.float64())]
)
RETURN_TO_WORK_SCHEMA = pa.schema(
    _KEYS
    + [
        ("firms", pa.int64()),  # firms with electricity use in the baseline period
        ("firms_back", pa.int64()),
        ("firms_back_pct", pa.float64()),
        ("kwh", pa.float64()),
        ("baseline_kwh", pa.float64()),  # the firms' baseline daily average, summed
        ("electricity_pct", pa.float64()),
        ("index", pa.float64()),
    ]
)


def index(
    engine: Engine,
    policy: IndexPolicy | PolicyArg,
    area_policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
    risk: pa.Table | None = None,
) -> pa.Table:
    """The index of every county and city (default: Zhejiang's) on every day from ``start`` to ``end``.

    ``policy`` is the ``index`` section (edition name, folder or model), ``area_policy`` the ``area_risk``
    section whose case, cluster and arrival rules feed the sub-indicators; ``risk`` an optional list of risk
    areas (:data:`~shuzhi.risk.flows.RISK_AREAS_SCHEMA`; default: the counties' own area risk). Returns
    :data:`INDEX_SCHEMA`, sorted by level, area and day: the counts, every sub-indicator's value and score,
    ``control``, ``flow`` and ``index`` (0–100).
    """
    ip, ap = index_policy(policy), area_risk_policy(area_policy)
    areas = list(counties) if counties is not None else evidence.zhejiang()
    risk = risk if risk is not None else risk_areas(engine, ap, start, end, areas)
    counts = _counts(engine, ip, ap, start, end, areas, risk)
    parts = [_score(_values(counts[level], ip), ip) for level in LEVELS]
    out = ibis.union(*parts).select(*INDEX_SCHEMA.names).order_by(["area_level", "area_code", "day"])
    return engine.to_arrow(out).cast(INDEX_SCHEMA)


def recompute(row: dict, policy: IndexPolicy) -> dict[str, float | None]:
    """``control``, ``flow`` and ``index`` of one result row from its sub-indicator values (a check)."""
    subs = {
        name: _mean({k: (ind.weight, _score_value(row[k], ind)) for k, ind in sub.indicators.items()})
        for name, sub in (("control", policy.control), ("flow", policy.flow))
    }
    total = _mean(
        {"control": (policy.control.weight, subs["control"]), "flow": (policy.flow.weight, subs["flow"])}
    )
    return {**subs, "index": total}


def _score_value(value: float | None, ind: Indicator) -> float | None:
    if value is None:
        return None
    share = min(value / ind.reference, 1.0)
    return 100 * share if ind.direction == "higher_is_better" else 100 * (1 - share)


def _mean(parts: dict[str, tuple[float, float | None]]) -> float | None:
    known = [(w, s) for w, s in parts.values() if s is not None]
    weight = sum(w for w, _ in known)
    return sum(w * s for w, s in known) / weight if known and weight > 0 else None


def _counts(
    engine: Engine,
    ip: IndexPolicy,
    ap: AreaRiskPolicy,
    start: dt.date,
    end: dt.date,
    counties: list[str],
    risk: pa.Table,
) -> dict[str, ibis.Table]:
    """Per level: ``area_code, area_level, day`` and the raw counts the sub-indicators divide."""
    ind = evidence.indicators(engine, ap, start, end, counties)
    people = evidence.table(engine, "residents")
    risk_table = ibis.memtable(risk.select(RISK_AREAS_SCHEMA.names).cast(RISK_AREAS_SCHEMA))
    arr = arrivals(engine, ap, risk_table, start, end)
    arr = arr.filter(arr.county_code.notnull())
    trips = evidence.table(engine, "trips")
    base = baseline_period(engine, ip.baseline, trips.dep_time.date())
    out = {}
    for level in LEVELS:
        g = evidence.grid(_areas(counties, level), start, end, column="area_code")
        parts = [
            _case_counts(ind, level),
            _population(people, level),
            _arrival_counts(arr, level),
            *_flow_counts(trips, level, start, end, base),
        ]
        for part in parts:
            g = evidence.attach(g, part, [k for k in ("area_code", "day") if k in part.columns])
        out[level] = g.mutate(area_level=ibis.literal(level))
    return out


def _case_counts(ind: ibis.Table, level: str) -> ibis.Table:
    return ind.group_by([evidence.unit_of(ind.county_code, level).name("area_code"), "day"]).agg(
        new_14d=ind.new_14d.sum(),
        new_observed_14d=ind.new_observed_14d.sum(),
        days_since_last=ind.days_since_last.min(),
    )


def _population(people: ibis.Table, level: str) -> ibis.Table:
    area = evidence.unit_of(people.county_code, level).name("area_code")
    return people.group_by(area).agg(population=people.count())


def _arrival_counts(arr: ibis.Table, level: str) -> ibis.Table:
    area = evidence.unit_of(arr.county_code, level).name("area_code")
    return arr.group_by([area, "day"]).agg(risk_arrivals_14d=arr.person_key.nunique())


def _areas(counties: list[str], level: str) -> list[str]:
    return counties if level == "county" else sorted({c[:4] + "00" for c in counties})


def baseline_period(engine: Engine, baseline: Baseline, day: ibis.DateValue) -> tuple[dt.date, dt.date]:
    """The baseline's dates: as configured, or the first ``days`` days from the earliest ``day`` with data."""
    if baseline.start is not None and baseline.end is not None:
        return baseline.start, baseline.end
    first = engine.to_arrow(day.min()).as_py()
    first = first or dt.date.min
    return first, first + dt.timedelta(days=baseline.days - 1)


def _flow_counts(
    trips: ibis.Table, level: str, start: dt.date, end: dt.date, base: tuple[dt.date, dt.date]
) -> list[ibis.Table]:
    """Daily inflow (arrival day) and outflow (departure day) per area, and their baseline daily averages."""
    n_days = (base[1] - base[0]).days + 1
    out = []
    for name, here, there, when in (
        ("inflow", trips.destination_region, trips.origin_region, trips.arr_time.date()),
        ("outflow", trips.origin_region, trips.destination_region, trips.dep_time.date()),
    ):
        area, other = evidence.unit_of(here, level), evidence.unit_of(there, level)
        moves = trips.select(area_code=area, day=when, crossed=area != other)
        moves = moves.filter(moves.crossed)
        daily = moves.filter(moves.day.between(start, end)).group_by(["area_code", "day"])
        then = moves.filter(moves.day.between(*base)).group_by("area_code")
        out += [
            daily.agg(**{name: lambda t: t.count()}),
            then.agg(**{f"{name}_baseline": lambda t: t.count() / n_days}),
        ]
    return out


def _values(t: ibis.Table, ip: IndexPolicy) -> ibis.Table:
    """The counts completed (no data → 0 where zero is the truth) and every sub-indicator's value."""
    t = t.mutate(
        new_14d=t.new_14d.fill_null(0),
        new_observed_14d=t.new_observed_14d.fill_null(0),
        risk_arrivals_14d=t.risk_arrivals_14d.fill_null(0),
        inflow=t.inflow.fill_null(0),
        outflow=t.outflow.fill_null(0),
    )
    never = ip.indicators().get("days_without_case")
    days = t.days_since_last.cast("float64")
    per_100k = ibis.ifelse(t.population > 0, 100_000 / t.population.cast("float64"), ibis.null("float64"))
    return t.mutate(
        new_cases_per_100k_14d=t.new_14d * per_100k,
        days_without_case=days.fill_null(never[1].reference) if never else days,
        share_found_under_observation_14d=_ratio(t.new_observed_14d, t.new_14d),
        risk_arrivals_per_100k_14d=t.risk_arrivals_14d * per_100k,
        inflow_vs_baseline=_ratio(t.inflow, t.inflow_baseline),
        outflow_vs_baseline=_ratio(t.outflow, t.outflow_baseline),
    )


def _ratio(a: ibis.NumericValue, b: ibis.NumericValue) -> ibis.FloatingValue:
    return ibis.ifelse(b > 0, a.cast("float64") / b.cast("float64"), ibis.null("float64"))


def _score(t: ibis.Table, ip: IndexPolicy) -> ibis.Table:
    """Scores, sub-indices and the index, as :func:`recompute` defines them."""
    used = ip.indicators()
    scores = {
        f"score_{n}": _score_expr(t[n], used[n][1]) if n in used else ibis.null("float64") for n in INDICATORS
    }
    t = t.mutate(**scores)
    subs = {
        name: _weighted([(t[f"score_{k}"], ind.weight) for k, ind in sub.indicators.items()])
        for name, sub in (("control", ip.control), ("flow", ip.flow))
    }
    t = t.mutate(**subs)
    return t.mutate(index=_weighted([(t.control, ip.control.weight), (t.flow, ip.flow.weight)]))


def _score_expr(value: ibis.NumericValue, ind: Indicator) -> ibis.FloatingValue:
    share = ibis.ifelse(
        value >= ind.reference, 1.0, value / ind.reference
    )  # null stays null (LEAST skips it)
    return 100 * share if ind.direction == "higher_is_better" else 100 * (1 - share)


def _weighted(parts: list[tuple[ibis.NumericValue, float]]) -> ibis.FloatingValue:
    """Weighted mean of the non-null values; null when every value is null."""
    num = sum((v * w).fill_null(0) for v, w in parts)
    den = sum(ibis.ifelse(v.isnull(), 0.0, w) for v, w in parts)
    return ibis.ifelse(den > 0, num / den, ibis.null("float64"))


def return_to_work(
    engine: Engine,
    policy: IndexPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> pa.Table:
    """Return-to-work index of every county and city on every day from ``start`` to ``end``.

    Reads ``enterprises`` and ``electricity``. Returns :data:`RETURN_TO_WORK_SCHEMA`: ``firms`` (with use in
    the baseline), ``firms_back`` and its percentage, ``kwh`` against ``baseline_kwh`` as a percentage, and
    ``index`` = firms weight × firms_back_pct + electricity weight × electricity_pct.
    """
    ip = index_policy(policy)
    areas = list(counties) if counties is not None else evidence.zhejiang()
    power = evidence.table(engine, "electricity").select("enterprise_code", "day", "kwh")
    firms = evidence.table(engine, "enterprises").select("enterprise_code", "county_code")
    base_start, base_end = baseline_period(engine, ip.baseline, power.day)
    n_days = (base_end - base_start).days + 1
    base = (
        power.filter(power.day.between(base_start, base_end))
        .group_by("enterprise_code")
        .agg(base=lambda t: t.kwh.sum() / n_days)
    )
    base = base.filter(base.base > 0).join(firms, "enterprise_code")
    used = power.filter(power.day.between(start, end)).join(base, "enterprise_code")
    used = used.mutate(back=(used.kwh >= ip.return_to_work.firm_back_min_share * used.base).cast("int64"))
    parts = [_return_level(used, base, areas, level, start, end, ip) for level in LEVELS]
    out = ibis.union(*parts).select(*RETURN_TO_WORK_SCHEMA.names).order_by(["area_level", "area_code", "day"])
    return engine.to_arrow(out).cast(RETURN_TO_WORK_SCHEMA)


def _return_level(
    used: ibis.Table,
    base: ibis.Table,
    counties: list[str],
    level: str,
    start: dt.date,
    end: dt.date,
    ip: IndexPolicy,
) -> ibis.Table:
    """Firms, firms back, electricity and the index per area of ``level`` per day."""
    totals = base.group_by(evidence.unit_of(base.county_code, level).name("area_code")).agg(
        firms=base.count(), baseline_kwh=base.base.sum()
    )
    daily = used.group_by([evidence.unit_of(used.county_code, level).name("area_code"), "day"]).agg(
        firms_back=used.back.sum(), kwh=used.kwh.sum()
    )
    g = evidence.grid(_areas(counties, level), start, end, column="area_code")
    g = evidence.attach(evidence.attach(g, totals, ["area_code"]), daily, ["area_code", "day"])
    g = g.mutate(
        area_level=ibis.literal(level),
        firms=g.firms.fill_null(0),
        firms_back=g.firms_back.fill_null(0),
        kwh=g.kwh.fill_null(0.0),
        baseline_kwh=g.baseline_kwh.fill_null(0.0),
    )
    g = g.mutate(
        firms_back_pct=100 * _ratio(g.firms_back, g.firms),
        electricity_pct=100 * _ratio(g.kwh, g.baseline_kwh),
    )
    rtw = ip.return_to_work
    return g.mutate(index=rtw.firms_weight * g.firms_back_pct + rtw.electricity_weight * g.electricity_pct)
