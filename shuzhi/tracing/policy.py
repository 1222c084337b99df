"""The ``contact`` section of a policy edition: which contacts count, and how close is close.

This module owns the pydantic model of ``<edition>/contact.yaml``. Every number a tracing rule uses (days
of the infectious window, minutes of overlap, venue sizes, rows on a plane, metres of a grid cell) lives
in that file; the tracing code reads them from here and hard-wires none. A malformed file fails with
:class:`shuzhi.policy.PolicyError` naming the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shuzhi.model import DIAGNOSIS_STATUSES, TRIP_MODES, VENUE_CATEGORIES
from shuzhi.policy import Strict, load_section

SECTION = "contact"
Classification = Literal["close", "companion"]
RULE_NAME = r"^[a-z][a-z0-9_]*$"


class Rule(Strict):
    """What every rule declares: its name (carried by each contact it finds), setting and classification."""

    name: str = Field(pattern=RULE_NAME)
    setting: str = Field(min_length=1)
    classification: Classification = "close"
    description: str = ""


class MembershipRule(Rule):
    """Everyone sharing a group with the source person during the window (household, enclosed workspace)."""


class VenueRule(Rule):
    """Presence at the same venue at the same time, for venues of these categories and at most this size;
    optionally only for people who checked in, and out, at most so many minutes apart (a party)."""

    categories: list[str] = Field(min_length=1)
    max_capacity: int | None = Field(default=None, gt=0)
    min_overlap_minutes: float = Field(ge=0)
    max_arrival_gap_minutes: float | None = Field(default=None, ge=0)
    max_departure_gap_minutes: float | None = Field(default=None, ge=0)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(VENUE_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown venue categories {unknown}; known: {', '.join(VENUE_CATEGORIES)}")
        return value


class VehicleRule(Rule):
    """Travel on the same vehicle (same mode, trip number and departure day), narrowed by where people sat.

    ``match``: ``rows`` — both rows known and at most ``rows_apart`` apart; ``carriage`` — the same
    carriage (or ship cabin); ``compartment`` — the same carriage and compartment, the compartment being the
    berth number of the seat label divided by ``berths_per_compartment``; ``vehicle`` — anyone aboard at the
    same time; ``crew`` — the crew (``carriage_class`` crew) serving the passenger's row: rows at most
    ``rows_apart`` outside the rows they served (their ``carriage``, "1-20"), any row where that is not given.
    ``rows_unknown_only`` restricts a rule to pairs where a row is missing (the fallback of a row rule).
    """

    mode: Literal[TRIP_MODES]  # type: ignore[valid-type]
    match: Literal["rows", "carriage", "compartment", "vehicle", "crew"]
    rows_apart: int | None = Field(default=None, ge=0)
    berths_per_compartment: int | None = Field(default=None, gt=0)
    carriage_classes: list[str] | None = None
    rows_unknown_only: bool = False
    min_overlap_minutes: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _parameters_of_match(self) -> VehicleRule:
        needed = {"rows": "rows_apart", "crew": "rows_apart", "compartment": "berths_per_compartment"}.get(
            self.match
        )
        if needed and getattr(self, needed) is None:
            raise ValueError(f"key '{needed}' is required when match is {self.match!r}")
        return self


class ProximityRule(Rule):
    """Proximity records (Bluetooth-style): close when the time together in one day adds up to a bound."""

    min_cumulative_minutes_per_day: float = Field(gt=0)


class CompanionRule(Rule):
    """Same time-and-place (时空伴随): the same grid cell for a minimum time within a look-back period."""

    classification: Classification = "companion"
    cell_metres: float = Field(gt=0)
    min_overlap_minutes: float = Field(ge=0)
    lookback_days: int = Field(gt=0)


class IndexCases(Strict):
    """Which diagnoses make a person an index case."""

    statuses: list[Literal[DIAGNOSIS_STATUSES]] = Field(min_length=1)  # type: ignore[valid-type]


class Window(Strict):
    """The infectious window: from N days before onset (or first positive sample) until isolation."""

    days_before_onset: int = Field(ge=0)
    days_before_first_positive_sample: int = Field(ge=0)


class Secondary(Strict):
    """Contacts of contacts (次密接): the named rules applied to each close contact from first exposure on."""

    via_rules: list[str] = Field(min_length=1)
    contact_isolation_delay_hours: float = Field(ge=0)


class ContactPolicy(Strict):
    """The whole ``contact`` section of one edition."""

    edition: str
    source: str = Field(min_length=1)
    index_cases: IndexCases
    window: Window
    household: MembershipRule | None = None
    workspace: MembershipRule | None = None
    venues: list[VenueRule] = []
    vehicles: list[VehicleRule] = []
    proximity: ProximityRule | None = None
    companions: CompanionRule | None = None
    secondary: Secondary | None = None

    @property
    def rules(self) -> list[Rule]:
        """Every rule of the edition, in file order."""
        singles = [self.household, self.workspace]
        return [r for r in [*singles, *self.venues, *self.vehicles, self.proximity, self.companions] if r]

    def rule(self, name: str) -> Rule:
        return {r.name: r for r in self.rules}[name]

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> ContactPolicy:
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique; repeated: {duplicates}")
        if self.secondary:
            spreading = {r.name for r in [self.household, self.workspace, *self.venues] if r}
            unknown = sorted(set(self.secondary.via_rules) - spreading)
            if unknown:
                raise ValueError(
                    f"key 'secondary.via_rules': {unknown} are not household, workspace or venue rules "
                    f"of this edition ({', '.join(sorted(spreading))})"
                )
        return self


def load_policy(edition: str | Path) -> ContactPolicy:
    """The contact policy of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, ContactPolicy)
