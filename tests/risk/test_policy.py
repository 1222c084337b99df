"""The area_risk and index sections: shipped editions load; a malformed file fails naming the key."""

from __future__ import annotations

import pytest

from risk.spec import DELETE
from shuzhi.policy import PolicyError, editions
from shuzhi.risk.policy import area_risk_policy, index_policy


@pytest.mark.parametrize("name", editions())
def test_shipped_editions_load(name):
    area, idx = area_risk_policy(name), index_policy(name)
    assert getattr(area, area.unit) is not None
    assert area.five_colour.rules[-1].colour == "green"
    assert idx.control.weight + idx.flow.weight == pytest.approx(1)


def test_ninth_edition_downgrade_chain_compiles_to_day_thresholds():
    assert area_risk_policy("2022-9th").compound.thresholds() == [(0, "high"), (7, "medium"), (10, "low")]


@pytest.mark.parametrize(
    ("section", "changes", "key"),
    [
        ("area_risk", {"county.max_cumulative_medium": "fifty"}, "county.max_cumulative_medium"),
        ("area_risk", {"county.window_days": 0}, "county.window_days"),
        ("area_risk", {"cluster": DELETE}, "cluster"),
        ("area_risk", {"cluster.min_cases": 1}, "cluster.min_cases"),
        ("area_risk", {"cluster.settings": ["venue"]}, "cluster.settings.0"),
        ("area_risk", {"county": DELETE}, "'county'"),
        ("area_risk", {"five_colour.rules.0.colour": "purple"}, "five_colour.rules.0.colour"),
        ("area_risk", {"five_colour.rules.4.max_days_since_last": 3}, "rules[4]"),
        ("area_risk", {"replay.cluster_proxy_min_new_14d": -1}, "replay.cluster_proxy_min_new_14d"),
        ("area_risk", {"surprise": 1}, "surprise"),
        ("index", {"control.weight": 0.7}, "sub-index weights"),
        ("index", {"control.indicators.new_cases_per_100k_14d.weight": 0.9}, "control"),
        (
            "index",
            {"flow.indicators.outflow_vs_baseline.direction": "up"},
            "flow.indicators.outflow_vs_baseline",
        ),
        (
            "index",
            {"flow.indicators.made_up": {"weight": 0, "direction": "higher_is_better", "reference": 1}},
            "flow.indicators.made_up",
        ),
        ("index", {"baseline.start": "2019-12-01"}, "baseline"),
        ("index", {"return_to_work.firm_back_min_share": 0}, "return_to_work.firm_back_min_share"),
    ],
)
def test_malformed_policy_names_the_key(edition, section, changes, key):
    folder = edition("2020-5th", section, changes)
    load = area_risk_policy if section == "area_risk" else index_policy
    with pytest.raises(PolicyError) as error:
        load(folder)
    assert key in str(error.value)
    assert f"{section}.yaml" in str(error.value)


def test_downgrade_chain_must_be_a_chain(edition):
    folder = edition("2022-9th", "area_risk", {"compound.downgrades.1.from": "high"})
    with pytest.raises(PolicyError, match=r"key 'compound': .*downgrades\[1\]\.from must be 'medium'"):
        area_risk_policy(folder)
