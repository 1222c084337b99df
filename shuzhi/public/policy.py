"""The ``publication`` policy section: what the public may see, and how small counts are protected.

Small counts identify people: a county that reports "1 new case" next to a neighbour's notice names a family.
Counts from 1 up to ``small_counts.suppress_at_or_below`` are withheld, and every other count is rounded to a
multiple of ``small_counts.round_to`` (OpenSAFELY's output rule: withhold ≤ 7, round to 5), so neither a cell
nor the difference of two published totals gives a small number away. Case itineraries are published as 2020
notices published them: the trip and carriage, never the person or the seat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from shuzhi.model import TRIP_MODES
from shuzhi.policy import Strict, load_section

SECTION = "publication"


class SmallCounts(Strict):
    suppress_at_or_below: int = Field(ge=0)
    round_to: int = Field(ge=1)


class Itineraries(Strict):
    """Which trips of index cases in their infectious window are published, and with which detail."""

    modes: list[Literal[TRIP_MODES]] = Field(min_length=1)  # type: ignore[valid-type]
    carriage: bool  # publish the carriage (train) or cabin (ship)


class PublicationPolicy(Strict):
    """The whole ``publication`` section of one edition."""

    edition: str
    source: str = Field(min_length=1)
    small_counts: SmallCounts
    itineraries: Itineraries
    publisher: str = Field(min_length=1)  # who signs the notices


def publication_policy(edition: str | Path) -> PublicationPolicy:
    """The ``publication`` section of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, PublicationPolicy)
