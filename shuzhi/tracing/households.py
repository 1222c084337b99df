"""Membership rules: the household (residents.household_id) and the enclosed workspace (employments.team).

Everyone who shares the traced person's household, or their team within the same enterprise or school, shares
their air for the whole window: the match runs from the start to the end of the exposure window.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

from shuzhi.engine import Engine
from shuzhi.tracing.contacts import matches, seconds
from shuzhi.tracing.policy import MembershipRule


def households(engine: Engine) -> ibis.Table:
    """person_key, group_key: who lives in which household."""
    r = engine.table("residents")
    return r.filter(r.household_id.notnull()).select("person_key", group_key=r.household_id)


def workspaces(engine: Engine) -> ibis.Table:
    """person_key, group_key ('enterprise/team'): who shares which enclosed workspace."""
    e = engine.table("employments")
    e = e.filter(e.team.notnull() & e.enterprise_code.notnull())
    return e.select("person_key", group_key=e.enterprise_code + "/" + e.team)


GROUPS: dict[str, tuple[str, Callable[[Engine], ibis.Table]]] = {
    "household": ("residents", households),
    "workspace": ("employments", workspaces),
}


def membership_matches(rule: MembershipRule, exposures: ibis.Table, groups: ibis.Table) -> ibis.Table:
    """Matches of everyone in the traced people's groups, over the whole exposure window.

    A person may be listed in a group more than once (registries are snapshots): the few groups of the traced
    people are made distinct, not the whole registry.
    """
    mine = exposures.inner_join(groups, exposures.source_key == groups.person_key).distinct()
    theirs = groups.semi_join(mine, groups.group_key == mine.group_key).distinct()
    others = theirs.select(contact_key=theirs.person_key, other_group=theirs.group_key)
    together = mine.inner_join(
        others, [mine.group_key == others.other_group, others.contact_key != mine.source_key]
    )
    return matches(
        together,
        rule=ibis.literal(rule.name),
        place=together.group_key,
        detail=ibis.literal("the whole window"),
        first_contact_at=together.start,
        last_contact_at=together.end,
        overlap_seconds=seconds(together.end) - seconds(together.start),
    )
