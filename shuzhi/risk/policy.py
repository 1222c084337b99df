"""Policy models of the ``area_risk`` and ``index`` sections: every number of the risk rules is data.

``area_risk.yaml`` holds the area risk rule of an edition (the February 2020 county rule or the 9th edition's
compound rule with its downgrade days), the cluster definition, Zhejiang's five-colour county rules, how
imported cases and risk-area arrivals are recognised, and the assumption the 2020 replay needs. ``index.yaml``
holds the composite index (control and flow sub-indices of named, weighted sub-indicators) and the
return-to-work index. A malformed file fails through :func:`shuzhi.policy.load_section` with an error naming
the key.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from shuzhi.policy import Strict, load_section

Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
Colour = Literal["green", "blue", "yellow", "orange", "red"]
CaseStatus = Literal["confirmed", "suspected", "asymptomatic"]
Setting = Literal["household", "team"]
IndicatorName = Literal[
    "new_cases_per_100k_14d",
    "days_without_case",
    "share_found_under_observation_14d",
    "risk_arrivals_per_100k_14d",
    "inflow_vs_baseline",
    "outflow_vs_baseline",
]
Direction = Literal["higher_is_better", "lower_is_better"]


def level_rank(level: str) -> int:
    """0 for low, 1 for medium, 2 for high."""
    return LEVELS.index(level)  # type: ignore[arg-type]


class _Strict(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)  # keys by alias or name


class Cluster(_Strict):
    """A cluster: at least ``min_cases`` cases within ``window_days`` days in one small setting."""

    min_cases: int = Field(ge=2)
    window_days: int = Field(ge=1)
    settings: list[Setting] = Field(min_length=1)


class CountyRule(_Strict):
    """The February 2020 county rule: low / medium / high from new cases, cumulative cases and clusters."""

    window_days: int = Field(ge=1, description="a case is 'new' when diagnosed within this many days")
    max_cumulative_medium: int = Field(ge=0, description="at most this many cumulative cases: medium at most")
    min_clusters_high: int = Field(ge=1, description="clusters within the cluster window that make it high")


class Downgrade(_Strict):
    """One step of the downgrade state machine: ``from`` becomes ``to`` after days without a new case."""

    from_level: Level = Field(alias="from")
    to: Level
    days_without_case: int = Field(ge=1)


class CompoundRule(_Strict):
    """The 9th edition: risk drawn at compound level; a case sets its compound to ``on_new_case``."""

    household_id_prefix: int | None = Field(
        default=None,
        ge=1,
        description="compound = county + first N characters of household_id; null: household",
    )
    on_new_case: Level
    downgrades: list[Downgrade] = Field(min_length=1)

    @model_validator(mode="after")
    def _chain(self) -> CompoundRule:
        current = self.on_new_case
        for i, step in enumerate(self.downgrades):
            if step.from_level != current:
                raise ValueError(
                    f"downgrades[{i}].from must be {current!r} (the level the chain has reached)"
                )
            if level_rank(step.to) >= level_rank(step.from_level):
                raise ValueError(f"downgrades[{i}].to must be lower than {step.from_level!r}")
            current = step.to
        if current != "low":
            raise ValueError("downgrades must end at 'low'")
        return self

    def thresholds(self) -> list[tuple[int, Level]]:
        """(days since the last case from which a level holds, level): [(0, high), (7, medium), (10, low)]."""
        out: list[tuple[int, Level]] = [(0, self.on_new_case)]
        for step in self.downgrades:
            out.append((out[-1][0] + step.days_without_case, step.to))
        return out


class ColourRule(_Strict):
    """A five-colour rule: its colour applies when all stated conditions hold (unstated ones are ignored)."""

    colour: Colour
    min_cumulative: int | None = Field(default=None, ge=1)
    min_local_share: float | None = Field(default=None, ge=0, le=1)
    min_clusters_14d: int | None = Field(default=None, ge=1)
    max_days_since_last: int | None = Field(default=None, ge=0)

    @property
    def unconditional(self) -> bool:
        return all(v is None for k, v in self.model_dump().items() if k != "colour")


class FiveColour(_Strict):
    """Zhejiang's county map: ordered rules, the first that holds gives the colour; the last is a default."""

    source: str
    rules: list[ColourRule] = Field(min_length=2)

    @model_validator(mode="after")
    def _ordered(self) -> FiveColour:
        colours = [r.colour for r in self.rules]
        if len(set(colours)) != len(colours):
            raise ValueError("rules: each colour may appear once")
        if not self.rules[-1].unconditional:
            raise ValueError(f"rules[{len(self.rules) - 1}] (the default) must have no conditions")
        return self


class Imported(_Strict):
    """A case is imported when a trip or telecom stay outside its ``outside`` unit falls in the lookback."""

    lookback_days: int = Field(ge=1)
    outside: Literal["province", "city", "county"]


class Flows(_Strict):
    """Arrivals from risk areas: stays in areas at ``risk_levels`` within ``lookback_days``."""

    lookback_days: int = Field(ge=1)
    telecom_min_hours: float = Field(ge=0)
    risk_levels: list[Level] = Field(min_length=1)


class ReplayAssumption(_Strict):
    """Cumulative counts carry no setting: a city with more than the medium cap stands for 'a cluster' when it
    had at least ``cluster_proxy_min_new_14d`` new cases in the window."""

    cluster_proxy_min_new_14d: int = Field(ge=1)


class AreaRiskPolicy(_Strict):
    """The ``area_risk`` section of an edition."""

    description: str
    unit: Literal["county", "compound"]
    case_statuses: list[CaseStatus] = Field(min_length=1)
    cluster: Cluster
    county: CountyRule | None = None
    compound: CompoundRule | None = None
    five_colour: FiveColour
    imported: Imported
    flows: Flows
    replay: ReplayAssumption | None = None

    @model_validator(mode="after")
    def _unit_has_rule(self) -> AreaRiskPolicy:
        if getattr(self, self.unit) is None:
            raise ValueError(f"unit is {self.unit!r} but the key '{self.unit}' (its rule) is missing")
        return self


class Indicator(_Strict):
    """A sub-indicator's weight in its sub-index and its normalisation to 0–100."""

    weight: float = Field(ge=0, le=1)
    direction: Direction
    reference: float = Field(
        gt=0, description="the value at which the score reaches 100 (or 0 if lower is better)"
    )


def _weights_sum_to_one(weights: dict[str, float], what: str) -> None:
    total = sum(weights.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(f"{what} weights must sum to 1, not {total:g} ({', '.join(weights)})")


class SubIndex(_Strict):
    weight: float = Field(ge=0, le=1)
    indicators: dict[IndicatorName, Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _sum(self) -> SubIndex:
        _weights_sum_to_one({k: v.weight for k, v in self.indicators.items()}, "indicator")
        return self


class Baseline(_Strict):
    """The reference period: ``start``–``end``, or when both are null the first ``days`` days with data."""

    start: dt.date | None = None
    end: dt.date | None = None
    days: int = Field(default=7, ge=1)

    @model_validator(mode="after")
    def _period(self) -> Baseline:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must both be set or both be null")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class ReturnToWork(_Strict):
    """Zhejiang's grid index: share of firms back (use >= a share of baseline) and share of electricity."""

    firm_back_min_share: float = Field(gt=0, le=1)
    firms_weight: float = Field(ge=0, le=1)
    electricity_weight: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> ReturnToWork:
        _weights_sum_to_one(
            {"firms": self.firms_weight, "electricity": self.electricity_weight}, "return_to_work"
        )
        return self


class IndexPolicy(_Strict):
    """The ``index`` section of an edition."""

    description: str
    baseline: Baseline
    control: SubIndex
    flow: SubIndex
    return_to_work: ReturnToWork

    @model_validator(mode="after")
    def _sum(self) -> IndexPolicy:
        _weights_sum_to_one({"control": self.control.weight, "flow": self.flow.weight}, "sub-index")
        both = set(self.control.indicators) & set(self.flow.indicators)
        if both:
            raise ValueError(f"indicators {sorted(both)} appear in both control and flow")
        return self

    def indicators(self) -> dict[str, tuple[str, Indicator]]:
        """Every sub-indicator by name with the sub-index it belongs to."""
        return {
            **{k: ("control", v) for k, v in self.control.indicators.items()},
            **{k: ("flow", v) for k, v in self.flow.indicators.items()},
        }


PolicyArg = str | Path


def area_risk_policy(policy: AreaRiskPolicy | PolicyArg) -> AreaRiskPolicy:
    """The ``area_risk`` section: given as a model, or loaded from an edition name or folder."""
    return policy if isinstance(policy, AreaRiskPolicy) else load_section(policy, "area_risk", AreaRiskPolicy)


def index_policy(policy: IndexPolicy | PolicyArg) -> IndexPolicy:
    """The ``index`` section: given as a model, or loaded from an edition name or folder."""
    return policy if isinstance(policy, IndexPolicy) else load_section(policy, "index", IndexPolicy)
