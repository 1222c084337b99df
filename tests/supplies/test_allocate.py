"""Needs, shares by risk priority and the shipments: by hand, and as properties of every plan."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk.spec import DELETE, edited

from shuzhi.policy import PolicyError
from shuzhi.supplies import plan, supplies_policy
from shuzhi.supplies.allocate import Need, needs, shares, ship

POLICY = supplies_policy("2020-5th")
COUNTIES = [  # Hangzhou: a high and a low county; Wenzhou: a medium one
    {
        "county_code": "330102",
        "level": "high",
        "residents": 1000,
        "recent_close_contacts": 40,
        "active_cases": 12,
    },
    {
        "county_code": "330106",
        "level": "low",
        "residents": 2000,
        "recent_close_contacts": 0,
        "active_cases": 0,
    },
    {
        "county_code": "330302",
        "level": "medium",
        "residents": 500,
        "recent_close_contacts": 10,
        "active_cases": 3,
    },
]


def test_needs_add_up_the_policy_s_terms_and_say_so():
    masks = needs(POLICY.items["masks"], COUNTIES, POLICY)
    assert [n.quantity for n in masks] == [7000, 1400, 1750]  # 7 days × 1 / 0.1 / 0.5 a resident
    assert masks[0].reason == "7 d × 1 × 1,000 residents (high) = 7,000 masks"
    tests = needs(POLICY.items["test_kits"], COUNTIES, POLICY)
    assert [n.quantity for n in tests] == [80, 0, 20] and tests[1].reason.startswith("2 × 0 close contacts")
    assert [n.quantity for n in needs(POLICY.items["beds"], COUNTIES, POLICY)] == [12, 0, 3]


def test_short_stock_serves_high_risk_first_then_equal_shares_within_a_level():
    wanted = [
        Need("330102", "high", 10, ""),
        Need("330302", "medium", 30, ""),
        Need("330303", "medium", 10, ""),
    ]
    assert shares(wanted, 50, POLICY.priority) == {"330102": 10, "330302": 30, "330303": 10}
    assert shares(wanted, 30, POLICY.priority) == {"330102": 10, "330302": 15, "330303": 5}
    assert shares(wanted, 6, POLICY.priority) == {"330102": 6, "330302": 0, "330303": 0}


def test_shipments_stay_in_the_city_when_the_city_holds_enough():
    moves = ship({"330102": 8, "330302": 5}, {"330100": 10, "330300": 10})
    assert {(m.holder, m.county_code, m.quantity) for m in moves} == {
        ("330100", "330102", 8),
        ("330300", "330302", 5),
    }
    assert not any(m.across_cities for m in moves)


CITIES = ["330100", "330200", "330300"]
COUNTY_CODES = ["330102", "330106", "330203", "330302", "330303"]


@settings(max_examples=60, deadline=None)
@given(
    need=st.lists(st.integers(0, 500), min_size=5, max_size=5),
    levels=st.lists(st.sampled_from(["low", "medium", "high"]), min_size=5, max_size=5),
    held=st.lists(st.integers(0, 800), min_size=3, max_size=3),
)
def test_every_plan_is_fair_feasible_and_moves_the_fewest_units(need, levels, held):
    wanted = [Need(c, lv, q, "") for c, lv, q in zip(COUNTY_CODES, levels, need, strict=True)]
    stock = dict(zip(CITIES, held, strict=True))
    given_ = shares(wanted, sum(held), POLICY.priority)
    assert sum(given_.values()) == min(sum(held), sum(need))
    assert all(0 <= given_[n.county_code] <= n.quantity for n in wanted)
    rank = {level: i for i, level in enumerate(POLICY.priority)}
    for n in wanted:  # nobody of a later level is served while an earlier level is short
        if given_[n.county_code] > 0:
            assert all(given_[m.county_code] == m.quantity for m in wanted if rank[m.level] < rank[n.level])
    left = sum(held)
    for level in POLICY.priority:  # within a level: the same share of need, give or take a unit
        group = [n for n in wanted if n.level == level]
        wanted_here = sum(n.quantity for n in group)
        share = min(1, left / wanted_here) if wanted_here else 0
        assert all(abs(given_[n.county_code] - n.quantity * share) < 1 for n in group)
        left -= min(left, wanted_here)
    moves = ship(given_, stock)
    received, sent = defaultdict(int), defaultdict(int)
    for m in moves:
        received[m.county_code] += m.quantity
        sent[m.holder] += m.quantity
    assert all(received[c] == q for c, q in given_.items())
    assert all(sent[h] <= q for h, q in stock.items())
    demand = defaultdict(int)
    for c, q in given_.items():
        demand[c[:4] + "00"] += q
    fewest = sum(max(0, demand[city] - stock[city]) for city in CITIES)  # what no plan can keep at home
    assert sum(m.quantity for m in moves if m.across_cities) == fewest


def test_a_plan_without_stock_allocates_nothing_and_says_what_is_short():
    beds = plan("beds", COUNTIES, {}, POLICY)
    assert beds.short == 15 and beds.shipments == [] and sum(beds.allocated.values()) == 0


def test_the_priority_comes_from_the_policy(edition):
    lowest_first = supplies_policy(edition("2020-5th", "supplies", {"priority": ["low", "medium", "high"]}))
    wanted = [Need("330102", "high", 10, ""), Need("330106", "low", 10, "")]
    assert shares(wanted, 10, lowest_first.priority) == {"330102": 0, "330106": 10}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("priority", ["high", "low"], "key 'priority'"),
        ("items.masks.per_resident_per_day.severe", 2, "key 'items.masks.per_resident_per_day.severe"),
        ("horizon_days", 0, "key 'horizon_days'"),
    ],
)
def test_a_malformed_section_names_the_key(edition, key, value, message):
    from shuzhi.policy import PolicyError

    with pytest.raises(PolicyError, match=message.replace(".", r"\.")):
        supplies_policy(edition("2020-5th", "supplies", {key: value}))


def test_test_kits_per_close_contact_follow_the_codes_testing_schedule(tmp_path):
    """``scheduled_tests``: the 9th edition's close contacts are tested 6 times (codes.yaml); fewer days there
    mean fewer kits here, and no schedule to follow is an error naming the key."""
    assert supplies_policy("2022-9th").items["test_kits"].per_recent_close_contact == 6
    fewer = edited(tmp_path / "fewer", "2022-9th", "codes", {"rules.1.tests.days": [1, 3, 7]})
    policy = supplies_policy(fewer)
    [need, *_] = needs(policy.items["test_kits"], COUNTIES, policy)
    assert need.reason == "3 × 40 close contacts = 120 tests"
    untested = edited(tmp_path / "untested", "2022-9th", "codes", {"rules.1.tests": DELETE})
    with pytest.raises(PolicyError, match=r"items\.test_kits\.per_recent_close_contact"):
        supplies_policy(untested)
