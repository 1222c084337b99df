"""Zhejiang's five-colour county map (五色图): red, orange, yellow, blue, green per county per day.

Zhejiang rated each county daily from cumulative confirmed cases, the share of local cases, clusters and days
without a new case. Its thresholds were not published; the edition's ``five_colour`` rules are shuzhi's
documented approximation. Rules are tried in order and the first whose every condition holds gives the colour;
the last rule has no condition (the default). The reason lists the conditions that held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.risk import evidence
from shuzhi.risk.area import text
from shuzhi.risk.policy import AreaRiskPolicy, ColourRule, PolicyArg, area_risk_policy

FIVE_COLOUR_SCHEMA = pa.schema(
    [
        ("county_code", pa.string()),
        ("day", pa.date32()),
        ("colour", pa.string()),  # red | orange | yellow | blue | green
        ("reason", pa.string()),
        ("cumulative", pa.int64()),
        ("cumulative_local", pa.int64()),
        ("local_share", pa.float64()),  # null: no case
        ("clusters_14d", pa.int64()),
        ("days_since_last", pa.int64()),  # null: no case
    ]
)


def five_colour(
    engine: Engine,
    policy: AreaRiskPolicy | PolicyArg,
    start: dt.date,
    end: dt.date,
    counties: Sequence[str] | None = None,
) -> pa.Table:
    """Five-colour rating of every county (default: Zhejiang's 90) on every day from ``start`` to ``end``.

    Reads the same evidence as :func:`shuzhi.risk.area.area_risk` (a case is local unless a trip or telecom
    stay outside its province falls in the edition's ``imported`` lookback). Returns
    :data:`FIVE_COLOUR_SCHEMA`: ``county_code, day, colour, reason, cumulative, cumulative_local, local_share,
    clusters_14d, days_since_last``, sorted by county and day.
    """
    p = area_risk_policy(policy)
    ind = evidence.indicators(engine, p, start, end, counties)
    ind = ind.mutate(
        local_share=ibis.ifelse(
            ind.cumulative > 0, ind.cumulative_local / ind.cumulative, ibis.null("float64")
        )
    )
    rules = p.five_colour.rules
    colour = ibis.cases(*[(_holds(ind, r), r.colour) for r in rules[:-1]], else_=rules[-1].colour)
    reason = ibis.cases(
        *[(_holds(ind, r), _explain(ind, r)) for r in rules[:-1]],
        else_=text(f"{rules[-1].colour}: no rule above holds (", _quiet(ind), ")"),
    )
    out = ind.mutate(colour=colour, reason=reason).select(*FIVE_COLOUR_SCHEMA.names)
    return engine.to_arrow(out.order_by(["county_code", "day"])).cast(FIVE_COLOUR_SCHEMA)


def _conditions(t: ibis.Table, rule: ColourRule) -> list[tuple[ibis.BooleanValue, ibis.StringValue]]:
    """Each condition the rule states, with the words that explain it."""
    out = []
    if rule.min_cumulative is not None:
        out.append(
            (t.cumulative >= rule.min_cumulative, text(t.cumulative, f" cumulative ≥ {rule.min_cumulative}"))
        )
    if rule.min_local_share is not None:
        out.append(
            (
                t.local_share >= rule.min_local_share,
                text("local share ", t.local_share.round(2), f" ≥ {rule.min_local_share}"),
            )
        )
    if rule.min_clusters_14d is not None:
        out.append(
            (
                t.clusters_14d >= rule.min_clusters_14d,
                text(t.clusters_14d, f" cluster(s) ≥ {rule.min_clusters_14d}"),
            )
        )
    if rule.max_days_since_last is not None:
        out.append(
            (
                t.days_since_last <= rule.max_days_since_last,
                text("last case ", t.days_since_last, f" day(s) ago ≤ {rule.max_days_since_last}"),
            )
        )
    return out


def _holds(t: ibis.Table, rule: ColourRule) -> ibis.BooleanValue:
    out = ibis.literal(True)
    for condition, _ in _conditions(t, rule):
        out = out & condition.fill_null(False)
    return out


def _explain(t: ibis.Table, rule: ColourRule) -> ibis.StringValue:
    out = ibis.literal(f"{rule.colour}: ")
    for i, (_, words) in enumerate(_conditions(t, rule)):
        out = out + (", " if i else "") + words
    return out


def _quiet(t: ibis.Table) -> ibis.StringValue:
    return ibis.cases(
        (t.cumulative == 0, ibis.literal("no case")),
        else_=text(t.cumulative, " cumulative, last case ", t.days_since_last, " day(s) ago"),
    )
