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
    tracer = _Tracer(engine, policy)
    first = tracer.contacts(case_exposures(index), [r.name for r in policy.rules])
    found = [first]
    if policy.secondary is not None:
        found.append(_contacts_of_contacts(tracer, index, first, as_of))
    return TraceResult(policy.edition, index, rows.traced(pa.concat_tables(found), index), tracer.skipped)


@dataclass
class _Tracer:
    """One trace's engine, policy, and the rules it had to skip."""

    engine: Engine
    policy: ContactPolicy
    skipped: dict[str, str] = field(default_factory=dict)

    def contacts(
        self, exposures: Exposures, names: list[str], close_pairs: ibis.Table | None = None
    ) -> pa.Table:
        """Contacts rows of one degree: the named rules applied to the exposures (see ``contacts.finish``)."""
        if exposures.empty:
            return rows.empty()
        found = [
            *self._memberships(exposures, names),
            *self._presence(exposures, names),
            *self._vehicles(exposures, names),
            *self._proximity(exposures, names),
        ]
        if not found:
            return rows.empty()
        union = functools.reduce(lambda a, b: a.union(b), found)
        finished = rows.finish(union, self.policy, exposures.degree, close_pairs)
        return rows.to_arrow(self.engine.to_arrow(finished))

    def _available(self, rule_name: str, tables: Iterable[str]) -> bool:
        missing = [t for t in tables if not self.engine.has_table(t)]
        if missing:
            self.skipped[rule_name] = f"no {', '.join(missing)} table"
        return not missing

    def _memberships(self, exposures: Exposures, names: list[str]) -> list[ibis.Table]:
        found = []
        for attribute, (table, groups) in GROUPS.items():
            rule: MembershipRule | None = getattr(self.policy, attribute)
            if rule and rule.name in names and self._available(rule.name, [table]):
                found.append(membership_matches(rule, exposures.table, groups(self.engine)))
        return found

    def _presence(self, exposures: Exposures, names: list[str]) -> list[ibis.Table]:
        """Venue rules and same time-and-place: one stays join for all of them."""
        policy = self.policy
        venue_rules: list[VenueRule] = [r for r in policy.venues if r.name in names]
        companion = policy.companions if policy.companions and policy.companions.name in names else None
        wanted = [r.name for r in venue_rules] + ([companion.name] if companion else [])
        if not wanted or not all([self._available(n, ["venue_stays", "venues"]) for n in wanted]):
            return []
        lookback = companion.lookback_days if companion else None
        traced = ibis.memtable(self.engine.to_arrow(source_stays(self.engine, exposures, lookback)))
        venues = self.engine.table("venues")
        lefts = [venue_left(rule, traced, venues) for rule in venue_rules]
        if companion:
            lefts.append(companion_left(companion, traced, venues))
        # the traced stays at the rules' venues are few: fetched, they are a side any engine can broadcast
        left = ibis.memtable(self.engine.to_arrow(functools.reduce(lambda a, b: a.union(b), lefts)))
        right = stays_between(self.engine, *exposures.bounds(lookback))
        return [rows.matches(with_detail(overlapping(left, right)))]

    def _vehicles(self, exposures: Exposures, names: list[str]) -> list[ibis.Table]:
        chosen = [r for r in self.policy.vehicles if r.name in names]
        if not chosen or not all([self._available(r.name, ["trips"]) for r in chosen]):
            return []
        return [vehicle_matches(self.engine, chosen, exposures)]

    def _proximity(self, exposures: Exposures, names: list[str]) -> list[ibis.Table]:
        rule = self.policy.proximity
        if rule is None or rule.name not in names or not self._available(rule.name, [PROXIMITY]):
            return []
        return [proximity_matches(self.engine, rule, exposures)]


def _contacts_of_contacts(
    tracer: _Tracer, index: pa.Table, first: pa.Table, as_of: dt.datetime | None
) -> pa.Table:
    exposures = _close_contact_exposures(tracer.engine, tracer.policy, index, first, as_of)
    known = ibis.memtable(first)
    close = known.filter(known.classification == rows.CLOSE)
    close_pairs = close.select(k_case=close.case_key, k_contact=close.contact_key).distinct()
    return tracer.contacts(exposures, tracer.policy.secondary.via_rules, close_pairs)


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
