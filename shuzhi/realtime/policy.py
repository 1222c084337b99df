"""The ``crowd`` policy section: crowd limits by venue category and area risk, the early warning and stays.

Every number of the crowd rules lives in ``<edition>/crowd.yaml`` and is validated here (a malformed file
fails through :func:`shuzhi.policy.load_section` naming the key):

* ``limits`` — the share of a venue's capacity allowed inside, by venue category (``default`` for the rest)
  and by the risk level of the venue's county (``low``, ``medium``, ``high``); 0 closes the category;
* ``warning`` — the forecast behind the early warning (bin length, horizon, Holt's smoothing constants)
  and the hysteresis that keeps alerts from flapping;
* ``stays`` — how long an open stay lasts without an exit scan, by category;
* ``counters`` — how long a venue's people counters stay authoritative for its headcount after their
  latest reading.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from shuzhi.model import VENUE_CATEGORIES
from shuzhi.policy import DEFAULT_EDITION, Strict, load_section

SECTION = "crowd"
Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
DEFAULT = "default"


class Shares(Strict):
    """Share of capacity allowed inside at each risk level of the venue's county."""

    low: float = Field(ge=0, le=1)
    medium: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)

    def at(self, level: str) -> float:
        return getattr(self, level if level in LEVELS else "low")


class EarlyWarning(Strict):
    """The short-term forecast of arrivals and departures behind the early warning, and its hysteresis."""

    bin_seconds: int = Field(ge=1, le=3600, description="arrivals and departures are counted per bin")
    horizon_minutes: float = Field(gt=0, le=240, description="warn when the forecast crosses within this")
    alpha: float = Field(gt=0, le=1, description="Holt's level smoothing constant")
    beta: float = Field(ge=0, le=1, description="Holt's trend smoothing constant")
    damping: float = Field(gt=0, le=1, description="trend damping per bin (1: Holt's linear trend)")
    clear_share: float = Field(gt=0, lt=1, description="an alert clears below this share of the limit")
    hold_seconds: int = Field(ge=0, description="an alert stays at least this long before it clears")

    @property
    def horizon_bins(self) -> int:
        return max(1, math.ceil(self.horizon_minutes * 60 / self.bin_seconds))


class Stays(Strict):
    """Minutes after which a stay without an exit scan is closed, by venue category."""

    timeout_minutes: dict[str, float]

    @model_validator(mode="after")
    def _known(self) -> Stays:
        _check_categories(self.timeout_minutes)
        if any(m <= 0 for m in self.timeout_minutes.values()):
            raise ValueError("stay timeouts must be positive")
        return self

    def timeout_seconds(self, category: str) -> float:
        return 60.0 * self.timeout_minutes.get(category, self.timeout_minutes[DEFAULT])

    @property
    def longest(self) -> dt.timedelta:
        """The longest timeout: a stay open at a restart began at most this long before it."""
        return dt.timedelta(minutes=max(self.timeout_minutes.values()))


class Counters(Strict):
    stale_minutes: float = Field(gt=0, description="counters count a venue's headcount while this fresh")


class CrowdPolicy(Strict):
    """The crowd section of a policy edition."""

    version: str = Field(min_length=1, description="the version of these rules, carried by every alert")
    description: str
    source: str
    limits: dict[str, Shares]
    warning: EarlyWarning
    stays: Stays
    counters: Counters

    @model_validator(mode="after")
    def _known(self) -> CrowdPolicy:
        _check_categories(self.limits)
        return self

    def share(self, category: str, level: str) -> float:
        """The share of capacity allowed for ``category`` in a county of risk ``level``."""
        return self.limits.get(category, self.limits[DEFAULT]).at(level)

    def rule(self, category: str, level: str) -> str:
        """The rule that sets a limit, as alerts and the API name it."""
        which = category if category in self.limits else DEFAULT
        share = self.share(category, level)
        return f"crowd {self.version}: {which} at {level} risk ≤ {share:.0%} of capacity"


def _check_categories(by_category: dict[str, object]) -> None:
    if DEFAULT not in by_category:
        raise ValueError(f"needs a '{DEFAULT}' entry")
    unknown = sorted(set(by_category) - set(VENUE_CATEGORIES) - {DEFAULT})
    if unknown:
        raise ValueError(f"unknown venue categories {unknown}; known: {', '.join(VENUE_CATEGORIES)}")


def load_policy(edition: str | Path = DEFAULT_EDITION) -> CrowdPolicy:
    """The crowd section of a shipped edition (by name) or of a folder."""
    return load_section(edition, SECTION, CrowdPolicy)
