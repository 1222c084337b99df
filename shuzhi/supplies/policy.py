"""The ``supplies`` policy section: what each county needs, and which counties are served first.

Each item's need per county over the horizon adds up what the policy counts: residents by the county's risk
level (masks a day), close contacts listed recently (tests each), active cases (a bed each). When stock
falls short, counties are served by risk level in the policy's ``priority`` order, and counties of one level
get the same share of their need.

Tests per close contact may be ``scheduled_tests``: as many as the edition's health-code rule for close
contacts schedules (``tests.days`` in ``codes.yaml``), so the testing schedule has one home and a changed day
changes the plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from shuzhi.codes.policy import CodePolicy, ContactsWhen, load_policy
from shuzhi.policy import PolicyError, Strict, load_section, section_path
from shuzhi.risk.policy import Level

SECTION = "supplies"
SCHEDULED_TESTS = "scheduled_tests"  # per close contact: the tests the codes' close-contact rule schedules


class Item(Strict):
    """One item's need per county over the horizon; every term is optional (0: not counted)."""

    unit: str = Field(min_length=1)
    per_resident_per_day: dict[Level, float] = Field(default_factory=dict)  # by the county's risk level
    # close contacts listed in the last horizon: a number each, or SCHEDULED_TESTS
    per_recent_close_contact: Annotated[float, Field(ge=0)] | Literal["scheduled_tests"] = 0
    per_active_case: float = Field(default=0, ge=0)  # cases diagnosed within active_case_days


class SuppliesPolicy(Strict):
    """The whole ``supplies`` section of one edition."""

    edition: str
    source: str = Field(min_length=1)
    horizon_days: int = Field(gt=0, le=60)
    active_case_days: int = Field(gt=0, le=60)
    priority: list[Level] = Field(min_length=3, max_length=3)  # levels served first to last
    items: dict[str, Item] = Field(min_length=1)


def supplies_policy(edition: str | Path) -> SuppliesPolicy:
    """The ``supplies`` section of a shipped edition (by name) or of an edition folder (by path), every
    :data:`SCHEDULED_TESTS` replaced by its number."""
    policy = load_section(edition, SECTION, SuppliesPolicy)
    scheduled = [
        name for name, item in policy.items.items() if item.per_recent_close_contact == SCHEDULED_TESTS
    ]
    if not scheduled:
        return policy
    count = close_contact_tests(load_policy(edition))
    if count is None:
        path = section_path(edition, SECTION)
        raise PolicyError(
            f"{path}: key 'items.{scheduled[0]}.per_recent_close_contact': {SCHEDULED_TESTS!r}, but no rule "
            "of codes.yaml for close contacts schedules tests"
        )
    items = {
        name: item.model_copy(update={"per_recent_close_contact": float(count)})
        if name in scheduled
        else item
        for name, item in policy.items.items()
    }
    return policy.model_copy(update={"items": items})


def close_contact_tests(codes: CodePolicy) -> int | None:
    """How many tests the first code rule for close contacts of cases schedules; None without one."""
    for rule in codes.rules:
        when = rule.when
        if isinstance(when, ContactsWhen) and "close" in when.classifications and 1 in when.degrees:
            return len(rule.tests.days) if rule.tests else None
    return None
