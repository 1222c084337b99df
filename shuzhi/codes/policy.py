"""The ``codes`` section of a policy edition: which evidence sets which colour, for how long, and what clears
it.

This module owns the pydantic model of ``<edition>/codes.yaml``. A rule is a condition on one evidence source
(``when``), a sequence of colour phases counted in days from the evidence (``phases``: red 14 days, then
yellow 7 days; ``days: null`` for a phase that lasts until released), the clearing mechanisms that end it
early (``cleared_by``: normal daily check-in, negative tests) and the reason shown to the resident. A
phase may name the measure the person is under meanwhile (``measure``: centralised isolation, home
monitoring...) and a rule the tests and the daily health checks those measures prescribe (``tests``,
``checks``); they drive the follow-up worklist (:mod:`shuzhi.followup`), not the colour. Every number, list
and text a colour depends on lives in that file; the code hard-wires none. A malformed file fails with
:class:`shuzhi.policy.PolicyError` naming the file and the key.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from shuzhi.model import DIAGNOSIS_STATUSES
from shuzhi.policy import Strict, load_section

SECTION = "codes"
RULE_ID = r"^[a-z][a-z0-9_]*$"
REASON_FIELDS = frozenset({"label", "date", "place"})
CHECKIN_FIELDS = frozenset({"days", "date"})
TESTS_FIELDS = frozenset({"count", "min_gap_hours", "within_days"})
DATE_FIELDS = frozenset({"date"})
ARRIVAL_VIA = ("telecom", "trips", "declarations")
CONTACT_CLASSIFICATIONS = ("close", "secondary", "companion")
RISK_LEVELS = ("low", "medium", "high")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a text template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class Text(Strict):
    """A text in Chinese and English; may hold ``{placeholders}`` filled per person."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def check(self, allowed: frozenset[str]) -> Text:
        """This text, if its placeholders are all ``allowed``; else a ValueError naming the language."""
        for lang in ("zh", "en"):
            unknown = placeholders(getattr(self, lang)) - allowed
            if unknown:
                known = ", ".join(sorted(allowed)) or "none"
                raise ValueError(f"{lang}: unknown placeholders {sorted(unknown)}; allowed: {known}")
        return self


class Phase(Strict):
    """A colour held for ``days`` days (null: until released or, for orders with an end date, until it).

    The first phase also covers the day of the evidence itself: red for 14 days from a contact on 23 January
    is red from 23 January to 6 February; a following yellow phase of 7 days runs from 7 to 13 February.
    """

    colour: str
    days: int | None = Field(default=None, ge=1)
    measure: str | None = None  # where the person is managed meanwhile (a key of ``labels.measures``)


class TestSchedule(Strict):
    """The nucleic-acid tests a management measure prescribes: on ``days`` counted from the evidence day
    (day 0, as the phases), by one of ``methods``."""

    days: list[int] = Field(min_length=1)
    methods: list[str] = Field(min_length=1)

    @field_validator("days")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if any(day < 1 for day in value) or value != sorted(set(value)):
            raise ValueError("days after the evidence day (1 or more), ascending, each once")
        return value


class HealthChecks(Strict):
    """The temperature and symptom checks a management measure asks for each day (twice a day in the
    protocols: morning and evening); every declaration that day counts as one."""

    per_day: int = Field(ge=1, le=24)


class DiagnosesWhen(Strict):
    """Confirmed, suspected or asymptomatic cases (``diagnoses``), from the time of diagnosis."""

    source: Literal["diagnoses"]
    statuses: list[str] = Field(min_length=1)

    @field_validator("statuses")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _subset(value, DIAGNOSIS_STATUSES, "diagnosis statuses")


class ContactsWhen(Strict):
    """Contacts found by tracing (``contacts``), from the last contact."""

    source: Literal["contacts"]
    classifications: list[str] = Field(min_length=1)
    degrees: list[int] = Field(min_length=1)

    @field_validator("classifications")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _subset(value, CONTACT_CLASSIFICATIONS, "contact classifications")

    @field_validator("degrees")
    @classmethod
    def _degrees(cls, value: list[int]) -> list[int]:
        if not set(value) <= {1, 2}:
            raise ValueError("degrees are 1 (contact of a case) or 2 (contact of a contact)")
        return value


class ArrivalsWhen(Strict):
    """A stay in a region at one of ``levels`` that day: telecom stays, trips, declared visited regions."""

    source: Literal["arrivals"]
    levels: list[str] = Field(min_length=1)
    via: list[str] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[str]) -> list[str]:
        return _subset(value, RISK_LEVELS, "risk levels")

    @field_validator("via")
    @classmethod
    def _via(cls, value: list[str]) -> list[str]:
        return _subset(value, ARRIVAL_VIA, "arrival sources")


class SymptomsWhen(Strict):
    """A declaration with fever or a listed symptom (thresholds under ``declaration``)."""

    source: Literal["symptoms"]


class FeverVisitsWhen(Strict):
    """A fever-clinic visit."""

    source: Literal["fever_visits"]


class HomeObservationsWhen(Strict):
    """A home-observation order, from its start date; an open-ended phase ends on the order's end date."""

    source: Literal["home_observations"]


When = Annotated[
    DiagnosesWhen | ContactsWhen | ArrivalsWhen | SymptomsWhen | FeverVisitsWhen | HomeObservationsWhen,
    Field(discriminator="source"),
]


def _subset(value: list[str], known: tuple[str, ...], what: str) -> list[str]:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {', '.join(known)}")
    return value


class Rule(Strict):
    """Evidence matching ``when`` sets the colours of ``phases`` until they lapse or ``cleared_by`` clears."""

    id: str = Field(pattern=RULE_ID)
    when: When
    phases: list[Phase] = Field(min_length=1)
    cleared_by: list[Literal["checkin", "negative_tests"]] = []
    tests: TestSchedule | None = None  # tests due while under the phases' measures (follow-up)
    checks: HealthChecks | None = None  # daily health checks while under them (follow-up)
    reason: Text
    release: Text | None = None  # what turns an open-ended phase green (shown as turns_green)
    description: str = ""

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: Text) -> Text:
        return value.check(REASON_FIELDS)

    @property
    def span_days(self) -> int | None:
        """Days from the evidence to the last day of the last phase; None when open-ended."""
        if self.phases[-1].days is None:
            return None
        return sum(p.days for p in self.phases)

    def offsets(self) -> list[tuple[int, int | None]]:
        """Each phase's first and last day counted from the evidence day (day 0 is in the first phase)."""
        bounds, end = [], 0
        for i, phase in enumerate(self.phases):
            first = 0 if i == 0 else end + 1
            end = None if phase.days is None else end + phase.days
            bounds.append((first, end))
        return bounds

    def measured_days(self) -> int | None:
        """The last day (from the evidence day) of the last phase with a measure; None if none has one or it
        is open-ended."""
        measured = [end for phase, (_, end) in zip(self.phases, self.offsets(), strict=True) if phase.measure]
        return measured[-1] if measured else None


class Default(Strict):
    """The colour of everyone no rule applies to, and the reason shown for it."""

    id: str = Field(pattern=RULE_ID)
    colour: str
    reason: Text


class Declaration(Strict):
    """What makes a declaration abnormal: a temperature at or above ``fever_celsius`` or a listed symptom."""

    fever_celsius: float = Field(gt=30, lt=45)
    symptoms: list[str] = Field(min_length=1)


class Arrivals(Strict):
    """How itinerary regions meet risk areas."""

    match_digits: Literal[2, 4, 6]  # compare GB/T 2260 codes by province (2), city (4) or county (6)
    min_stay_hours: float = Field(ge=0)  # telecom: a stay counts from this long in a day
    exclude_home: bool  # stays in the resident's own region (at match_digits) are not arrivals


class Checkin(Strict):
    """Consecutive days of normal daily check-in (a normal declaration) that clear a colour, per colour."""

    from_offset_days: int = Field(ge=0)  # counting starts this many days after the evidence
    days: dict[str, int]
    turns_green: Text

    @field_validator("days")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for colour, days in value.items():
            if days < 1:
                raise ValueError(f"days.{colour}: must be at least 1")
        return value

    @field_validator("turns_green")
    @classmethod
    def _text(cls, value: Text) -> Text:
        return value.check(CHECKIN_FIELDS)


class NegativeTests(Strict):
    """``count`` negative tests, each ``min_gap_hours`` after the one before, all within ``within_days``."""

    count: int = Field(ge=1)
    min_gap_hours: float = Field(ge=0)
    within_days: float = Field(gt=0)
    methods: list[str] = Field(min_length=1)
    colours: list[str] = Field(min_length=1)
    turns_green: Text

    @field_validator("turns_green")
    @classmethod
    def _text(cls, value: Text) -> Text:
        return value.check(TESTS_FIELDS)

    def describe(self) -> dict[str, str]:
        """The numbers of the rule as they read in text ("3", not "3.0")."""
        return {k: f"{getattr(self, k):g}" for k in TESTS_FIELDS}


class Clearing(Strict):
    checkin: Checkin | None = None
    negative_tests: NegativeTests | None = None


class Labels(Strict):
    """Words for the codes found in evidence (diagnosis status, contact setting, risk level, symptom)."""

    statuses: dict[str, Text] = {}
    settings: dict[str, Text] = {}
    levels: dict[str, Text] = {}
    symptoms: dict[str, Text] = {}
    measures: dict[str, Text] = {}  # centralised isolation, home isolation, home health monitoring...


class Texts(Strict):
    green_from: Text  # the date a colour lapses to green
    separator: Text  # between the ways a colour turns green ("; or ")

    @field_validator("green_from")
    @classmethod
    def _text(cls, value: Text) -> Text:
        return value.check(DATE_FIELDS)


class Followup(Strict):
    """How the follow-up judges field teams' visits."""

    # 失联 (lost to follow-up): this many visits in a row that did not reach the person (unavailable,
    # uncooperative), with no health declaration of theirs since
    lost_after_failed_visits: int = Field(ge=1)


class CodePolicy(Strict):
    """The ``codes`` section of one edition."""

    edition: str
    source: str = ""
    colours: list[str] = Field(min_length=2)  # most severe first
    default: Default
    declaration: Declaration
    arrivals: Arrivals
    clearing: Clearing
    labels: Labels
    texts: Texts
    rules: list[Rule] = Field(min_length=1)
    followup: Followup | None = None  # none: visits are recorded, nobody is judged lost

    @model_validator(mode="after")
    def _consistent(self) -> CodePolicy:
        _check_colour(self.default.colour, self.colours, "default.colour")
        ids = [self.default.id]
        for i, rule in enumerate(self.rules):
            if rule.id in ids:
                raise ValueError(f"rules.{i}.id: duplicate rule id {rule.id!r}")
            ids.append(rule.id)
            _check_open_end(rule, f"rules.{i}")
            for j, phase in enumerate(rule.phases):
                _check_colour(phase.colour, self.colours, f"rules.{i}.phases.{j}.colour")
                _check_measure(phase.measure, self.labels.measures, f"rules.{i}.phases.{j}.measure")
            _check_measured(rule, f"rules.{i}")
            for mechanism in rule.cleared_by:
                if getattr(self.clearing, mechanism) is None:
                    raise ValueError(f"rules.{i}.cleared_by: {mechanism!r} is not configured under clearing")
        if self.clearing.checkin is not None:
            for colour in self.clearing.checkin.days:
                _check_colour(colour, self.colours, f"clearing.checkin.days.{colour}")
        if self.clearing.negative_tests is not None:
            for colour in self.clearing.negative_tests.colours:
                _check_colour(colour, self.colours, "clearing.negative_tests.colours")
        return self

    def severity(self, colour: str) -> int:
        """0 for the most severe colour."""
        return self.colours.index(colour)


def _check_open_end(rule: Rule, key: str) -> None:
    for i, phase in enumerate(rule.phases[:-1]):
        if phase.days is None:
            raise ValueError(f"{key}.phases.{i}.days: only the last phase may be open-ended (null)")
    if rule.phases[-1].days is None and rule.release is None:
        raise ValueError(f"{key}.release: an open-ended last phase needs a text saying what releases it")


def _check_measure(measure: str | None, known: dict[str, Text], key: str) -> None:
    if measure is not None and measure not in known:
        raise ValueError(f"{key}: unknown measure {measure!r}; labels.measures: {', '.join(known) or 'none'}")


def _check_measured(rule: Rule, key: str) -> None:
    """Tests and checks need measured phases of a number of days; tests fall on their days."""
    last = rule.measured_days()
    for what in ("tests", "checks"):
        if getattr(rule, what) is not None and last is None:
            raise ValueError(f"{key}.{what}: {what} need phases with a measure and a number of days")
    late = [day for day in rule.tests.days if day > last] if rule.tests else []
    if late:
        raise ValueError(f"{key}.tests.days: {late} after the last measured day ({last})")


def _check_colour(colour: str, colours: list[str], key: str) -> None:
    if colour not in colours:
        raise ValueError(f"{key}: unknown colour {colour!r}; colours: {', '.join(colours)}")


def load_policy(edition: str | Path) -> CodePolicy:
    """The ``codes`` section of a shipped edition (by name) or of a folder (by path)."""
    return load_section(edition, SECTION, CodePolicy)
