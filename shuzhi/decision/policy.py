"""The ``epi`` policy section: how the epidemic curve becomes a reproduction number and a projection.

Which diagnoses count as cases, and which cases were imported, is the edition's ``area_risk`` section's
business (``case_statuses``, ``imported``): the curves, the risk levels and the index count the same cases.

The serial interval of the circulating variant, the estimation window, the prior, the fewest cases an estimate
may rest on and the projection horizon are the analysts' published choices, versioned with the edition like
every other rule; :class:`EpiPolicy` validates them (a malformed file fails naming the key).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from shuzhi.policy import Strict, load_section

SECTION = "epi"


class SerialInterval(Strict):
    """Days from a case's symptom onset to that of the person they infected: a gamma distribution."""

    mean_days: float = Field(gt=0)
    sd_days: float = Field(gt=0)
    max_days: int = Field(ge=2, le=60)  # longer intervals are cut off (their weight is negligible)


class Prior(Strict):
    """The gamma prior of R (Cori et al.: mean 5, SD 5 — vague, so the data decide)."""

    mean: float = Field(gt=0)
    sd: float = Field(gt=0)


class Projection(Strict):
    """The next days by the renewal equation: ``days`` ahead; R constant at its last estimate
    (``r_trend_days: 0``), or following the log-linear trend of its last ``r_trend_days`` estimates."""

    days: int = Field(ge=0, le=28)
    r_trend_days: int = Field(ge=0, le=28)

    @field_validator("r_trend_days")
    @classmethod
    def _a_trend_needs_two_days(cls, value: int) -> int:
        if value == 1:
            raise ValueError("0 (R constant) or at least 2 days to fit a trend")
        return value


class EpiPolicy(Strict):
    """The whole ``epi`` section of one edition."""

    edition: str
    source: str = Field(min_length=1)
    serial_interval: SerialInterval
    window_days: int = Field(gt=0, le=28)
    prior: Prior
    min_cases_in_window: int = Field(ge=1)
    credible_interval: float = Field(gt=0, lt=1)
    projection: Projection


def epi_policy(edition: str | Path) -> EpiPolicy:
    """The ``epi`` section of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, EpiPolicy)
