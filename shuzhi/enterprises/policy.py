"""The ``applications`` policy section: the measures required, each class's rules, what may be approved."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shuzhi.policy import Strict, load_section
from shuzhi.risk.policy import Level

SECTION = "applications"


class HighRule(Strict):
    county_levels: list[Level] = Field(default_factory=list)
    red_staff_share_above: float = Field(ge=0, le=1)


class MediumRule(Strict):
    county_levels: list[Level] = Field(default_factory=list)
    red_staff_at_least: int = Field(ge=1)
    yellow_staff_share_above: float = Field(ge=0, le=1)
    missing_measures_at_least: int = Field(ge=1)


class ApplicationsPolicy(Strict):
    edition: str
    source: str = Field(min_length=1)
    required_measures: list[str] = Field(min_length=1)
    high: HighRule
    medium: MediumRule
    approvable: list[Level] = Field(min_length=1)


def applications_policy(edition: str | Path) -> ApplicationsPolicy:
    """The ``applications`` section of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, ApplicationsPolicy)
