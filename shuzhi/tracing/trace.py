"""Tracing: from index cases to close contacts, contacts of contacts and companions, by the policy in force.

:func:`trace` runs in passes through the engine layer, each an Ibis expression, materialising only small
tables between them (the index cases, the traced people's own stays, the close contacts):

1. index cases and their windows (:mod:`shuzhi.tracing.cases`);
2. degree 1 — every rule of the policy from each case: household and workspace, venue rules and same
   time-and-place in one stays join, vehicles, proximity records;
3. degree 2 — the policy's ``secondary.via_rules`` from each close contact, from their first exposure to their
   isolation (the case's isolation plus the policy's delay to trace and isolate a contact, or their own
   diagnosis if earlier); people already close contacts of the same case, and the case, are left out.

A rule whose table is missing is skipped and reported in :attr:`TraceResult.skipped`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.engine import Engine
from shuzhi.tracing import contacts as rows
from shuzhi.tracing.cases import EXPOSURE_SCHEMA, Exposures, case_exposures, index_cases
from shuzhi.tracing.companions import companion_left
from shuzhi.tracing.households import GROUPS, membership_matches
from shuzhi.tracing.policy import ContactPolicy, MembershipRule, VenueRule
from shuzhi.tracing.proximity import TABLE as PROXIMITY
from shuzhi.tracing.proximity import proximity_matches
from shuzhi.tracing.stays import overlapping, source_stays, stays_between, with_detail
from shuzhi.tracing.vehicles import vehicle_matches
from shuzhi.tracing.venues import venue_left

CASES_SCHEMA = pa.schema(
    [
        ("case_key", pa.int64()),
        ("status", pa.string()),
        ("onset_date", pa.date32()),
        ("first_positive_at", pa.timestamp("s")),
        ("diagnosed_at", pa.timestamp("s")),
        ("window_start", pa.timestamp("s")),
        ("window_end", pa.timestamp("s")),
    ]
)


@dataclass(frozen=True)
class TraceResult:
    """What a trace found: the index cases with their windows, and the contacts of every classification."""

    edition: str
    cases: pa.Table
    contacts: pa.Table
    skipped: dict[str, str] = field(default_factory=dict)

    def of(self, classification: str) -> pa.Table:
        return self.contacts.filter(pc.equal(self.contacts["classification"], classification))

    @property
    def close(self) -> pa.Table:
        return self.of(rows.CLOSE)

    @property
    def secondary(self) -> pa.Table:
        return self.of(rows.SECONDARY)

    @property
    def companions(self) -> pa.Table:
        """Same time-and-place and other companion rules (yellow, not red)."""
        return self.of(rows.COMPANION)

    def graph(self, companions: bool = False) -> dict:
        """The transmission graph (ECharts-friendly JSON object), see :mod:`shuzhi.tracing.graph`."""
        from shuzhi.tracing.graph import transmission_graph

        return transmission_graph(self, companions)


def trace(
    engine: Engine,
    policy: ContactPolicy,
    cases: Iterable[int] | None = None,
    as_of: dt.datetime | None = None,
) -> TraceResult:
    """Trace the contacts of the index cases (all, or the person keys in ``cases``) as of ``as_of``."""
    index = engine.to_arrow(index_cases(engine, policy, cases, as_of)).select(CASES_SCHEMA.names)
    index = index.cast(CASES_SCHEMA)
    skipped: dict[str, str] = {}
    exposures = case_exposures(index)
    first = _contacts(engine, policy, exposures, [r.name for r in policy.rules], skipped)
    found = [first]
    if policy.secondary is not None:
        second = _contacts_of_contacts(engine, policy, index, first, as_of, skipped)
        found.append(second)
    return TraceResult(policy.edition, index, pa.concat_tables(found), skipped)


def _contacts(
    engine: Engine,
    policy: ContactPolicy,
    exposures: Exposures,
    names: list[str],
    skipped: dict[str, str],
    close_pairs: ibis.Table | None = None,
) -> pa.Table:
    """Contacts rows of one degree: the named rules applied to the exposures (see ``contacts.finish``)."""
    if exposures.empty:
        return rows.empty()
    found = [
        *_memberships(engine, policy, exposures, names, skipped),
        *_presence(engine, policy, exposures, names, skipped),
        *_vehicles(engine, policy, exposures, names, skipped),
        *_proximity(engine, policy, exposures, names, skipped),
    ]
    if not found:
        return rows.empty()
    union = functools.reduce(lambda a, b: a.union(b), found)
    return rows.to_arrow(engine.to_arrow(rows.finish(union, policy, exposures.degree, close_pairs)))


def _available(engine: Engine, rule_name: str, tables: Iterable[str], skipped: dict[str, str]) -> bool:
    missing = [t for t in tables if not engine.has_table(t)]
    if missing:
        skipped[rule_name] = f"no {', '.join(missing)} table"
    return not missing


def _memberships(engine, policy, exposures, names, skipped) -> list[ibis.Table]:
    found = []
    for attribute, (table, groups) in GROUPS.items():
        rule: MembershipRule | None = getattr(policy, attribute)
        if rule and rule.name in names and _available(engine, rule.name, [table], skipped):
            found.append(membership_matches(rule, exposures.table, groups(engine)))
    return found


def _presence(engine, policy, exposures, names, skipped) -> list[ibis.Table]:
    """Venue rules and same time-and-place: one stays join for all of them."""
    venue_rules: list[VenueRule] = [r for r in policy.venues if r.name in names]
    companion = policy.companions if policy.companions and policy.companions.name in names else None
    wanted = [r.name for r in venue_rules] + ([companion.name] if companion else [])
    if not wanted or not all([_available(engine, n, ["venue_stays", "venues"], skipped) for n in wanted]):
        return []
    lookback = companion.lookback_days if companion else None
    traced = ibis.memtable(engine.to_arrow(source_stays(engine, exposures, lookback)))
    venues = engine.table("venues")
    lefts = [venue_left(rule, traced, venues) for rule in venue_rules]
    if companion:
        lefts.append(companion_left(companion, traced, venues))
    left = functools.reduce(lambda a, b: a.union(b), lefts)
    right = stays_between(engine, *exposures.bounds(lookback))
    return [rows.matches(with_detail(overlapping(left, right)))]


def _vehicles(engine, policy, exposures, names, skipped) -> list[ibis.Table]:
    chosen = [r for r in policy.vehicles if r.name in names]
    if not chosen or not all([_available(engine, r.name, ["trips"], skipped) for r in chosen]):
        return []
    return [vehicle_matches(engine, chosen, exposures)]


def _proximity(engine, policy, exposures, names, skipped) -> list[ibis.Table]:
    rule = policy.proximity
    if rule is None or rule.name not in names or not _available(engine, rule.name, [PROXIMITY], skipped):
        return []
    return [proximity_matches(engine, rule, exposures)]


def _contacts_of_contacts(
    engine: Engine,
    policy: ContactPolicy,
    index: pa.Table,
    first: pa.Table,
    as_of: dt.datetime | None,
    skipped: dict[str, str],
) -> pa.Table:
    exposures = _close_contact_exposures(engine, policy, index, first, as_of)
    known = ibis.memtable(first)
    close = known.filter(known.classification == rows.CLOSE)
    close_pairs = close.select(k_case=close.case_key, k_contact=close.contact_key).distinct()
    return _contacts(engine, policy, exposures, policy.secondary.via_rules, skipped, close_pairs)


def _close_contact_exposures(
    engine: Engine, policy: ContactPolicy, index: pa.Table, first: pa.Table, as_of: dt.datetime | None
) -> Exposures:
    """Each close contact from their first exposure to their isolation."""
    t, cases = ibis.memtable(first), ibis.memtable(index)
    close = t.filter((t.classification == rows.CLOSE) & (t.contact_key != t.case_key))
    close = close.group_by(["case_key", "contact_key"]).aggregate(start=close.first_contact_at.min())
    case = cases.select(c_key="case_key", c_isolated="diagnosed_at")
    own = cases.select(o_key="case_key", o_isolated="diagnosed_at")
    joined = close.inner_join(case, close.case_key == case.c_key).left_join(
        own, close.contact_key == own.o_key
    )
    delay = ibis.interval(seconds=rows.minutes(policy.secondary.contact_isolation_delay_hours * 60))
    end = ibis.least(joined.c_isolated + delay, ibis.coalesce(joined.o_isolated, joined.c_isolated + delay))
    if as_of is not None:
        end = ibis.least(end, ibis.literal(as_of))
    exposures = joined.select(
        case_key=joined.case_key,
        via_key=joined.contact_key,
        source_key=joined.contact_key,
        start=joined.start,
        end=end.cast("timestamp(0)"),
    )
    data = engine.to_arrow(exposures.filter(exposures.start < exposures.end)).cast(EXPOSURE_SCHEMA)
    return Exposures(data, degree=2)
