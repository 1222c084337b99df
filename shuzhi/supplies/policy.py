"""The ``supplies`` policy section: what each county needs, and which counties are served first.

Each item's need per county over the horizon adds up what the policy counts: residents by the county's risk
level (masks a day), close contacts listed recently (tests each), active cases (a bed each). When stock
falls short, counties are served by risk level in the policy's ``priority`` order, and counties of one level
get the same share of their need.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shuzhi.policy import Strict, load_section
from shuzhi.risk.policy import Level

SECTION = "supplies"


class Item(Strict):
    """One item's need per county over the horizon; every term is optional (0: not counted)."""

    unit: str = Field(min_length=1)
    per_resident_per_day: dict[Level, float] = Field(default_factory=dict)  # by the county's risk level
    per_recent_close_contact: float = Field(default=0, ge=0)  # close contacts listed in the last horizon
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
    """The ``supplies`` section of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, SuppliesPolicy)
