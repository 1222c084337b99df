"""Spec: the infectious window — days before onset by edition (2 vs 4), before sampling, until isolation.

The meetings are at a small gym; the assertions look at its rule, small_enclosed_venue."""

from __future__ import annotations

import datetime as dt

from shuzhi.tracing import load_policy
from shuzhi.tracing.policy import IndexCases
from tracing.spec import assert_rows, of_rule, trace_with

GYM = "small_enclosed_venue"
VENUES = """
| venue_code | category | capacity | lon    | lat   |
| G1         | gym      | 20       | 120.10 | 30.20 |
"""

# Meetings at the gym 3 days, 1 day and after the case's isolation; onset 2022-03-05.
STAYS = """
| person_key | venue_code | time_in             | time_out            |
| 1          | G1         | 2022-03-02 18:00:00 | 2022-03-02 19:00:00 |
| 2          | G1         | 2022-03-02 18:00:00 | 2022-03-02 19:00:00 |
| 1          | G1         | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
| 3          | G1         | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
| 1          | G1         | 2022-03-06 09:30:00 | 2022-03-06 11:00:00 |
| 4          | G1         | 2022-03-06 09:30:00 | 2022-03-06 11:00:00 |
| 5          | G1         | 2022-03-06 09:50:00 | 2022-03-06 11:00:00 |
"""

CONFIRMED = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""


def test_9th_edition_looks_back_4_days_before_onset(given, engine):
    given("diagnoses", CONFIRMED)
    given("venues", VENUES)
    given("venue_stays", STAYS)
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.cases,
        """
        | case_key | status    | window_start        | window_end          |
        | 1        | confirmed | 2022-03-01 00:00:00 | 2022-03-06 10:00:00 |
        """,
        name="cases",
    )
    assert_rows(
        of_rule(result, GYM),
        """
        | contact_key | first_contact_at    | last_contact_at     | overlap_seconds |
        | 2           | 2022-03-02 18:00:00 | 2022-03-02 19:00:00 | 3600            |
        | 3           | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 | 3600            |
        | 4           | 2022-03-06 09:30:00 | 2022-03-06 10:00:00 | 1800            |
        """,
    )


def test_5th_edition_looks_back_2_days_before_onset(given, engine):
    given("diagnoses", CONFIRMED)
    given("venues", VENUES)
    given("venue_stays", STAYS)
    assert_rows(
        of_rule(trace_with(engine, "2020-5th"), GYM),
        """
        | contact_key | first_contact_at    |
        | 3           | 2022-03-04 18:00:00 |
        | 4           | 2022-03-06 09:30:00 |
        """,
    )


def test_isolation_ends_the_window(given, engine):
    """Person 5 arrived 09:50: 10 minutes before the case's isolation at 10:00 is below the 15-minute rule."""
    given("diagnoses", CONFIRMED)
    given("venues", VENUES)
    given("venue_stays", STAYS)
    close = {r["contact_key"] for r in of_rule(trace_with(engine, "2022-9th"), GYM).to_pylist()}
    assert 4 in close and 5 not in close


def test_asymptomatic_window_counts_from_the_first_positive_sample(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status       | onset_date | diagnosed_at        |
        | 1          | asymptomatic |            | 2022-03-06 10:00:00 |
        """,
    )
    given(
        "tests",
        """
        | person_key | sampled_at          | reported_at         | method | result   |
        | 1          | 2022-03-01 08:00:00 | 2022-03-01 20:00:00 | pcr    | negative |
        | 1          | 2022-03-05 08:00:00 | 2022-03-05 20:00:00 | pcr    | positive |
        | 1          | 2022-03-06 08:00:00 | 2022-03-06 09:00:00 | pcr    | positive |
        """,
    )
    given("venues", VENUES)
    given("venue_stays", STAYS)
    result = trace_with(engine, "2022-9th")
    assert result.cases["window_start"].to_pylist() == [dt.datetime(2022, 3, 1)]
    assert result.cases["first_positive_at"].to_pylist() == [dt.datetime(2022, 3, 5, 8)]
    assert {r["contact_key"] for r in result.close.to_pylist()} == {2, 3, 4}
    only_two_days = trace_with(engine, "2020-5th")
    assert only_two_days.cases["window_start"].to_pylist() == [dt.datetime(2022, 3, 3)]
    assert {r["contact_key"] for r in only_two_days.close.to_pylist()} == {3, 4}


def test_a_sample_before_onset_opens_the_window_earlier(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status    | onset_date | diagnosed_at        |
        | 1          | confirmed | 2022-03-07 | 2022-03-06 10:00:00 |
        """,
    )
    given(
        "tests",
        """
        | person_key | sampled_at          | result   |
        | 1          | 2022-03-05 08:00:00 | positive |
        """,
    )
    result = trace_with(engine, "2022-9th")
    assert result.cases["window_start"].to_pylist() == [dt.datetime(2022, 3, 1)]


def test_suspected_cases_are_index_cases_only_if_the_policy_says_so(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status    | onset_date | diagnosed_at        |
        | 1          | suspected | 2022-03-05 | 2022-03-06 10:00:00 |
        """,
    )
    given("venues", VENUES)
    given("venue_stays", STAYS)
    policy = trace_with(engine, "2022-9th")
    assert policy.cases.num_rows == 0 and policy.contacts.num_rows == 0
    with_suspected = load_policy("2022-9th").model_copy(
        update={"index_cases": IndexCases(statuses=["confirmed", "suspected"])}
    )
    assert of_rule(trace_with(engine, with_suspected), GYM).num_rows == 3


def test_as_of_sees_only_diagnoses_and_contacts_up_to_then(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status    | onset_date | diagnosed_at        |
        | 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
        | 9          | confirmed | 2022-03-08 | 2022-03-09 10:00:00 |
        """,
    )
    given("venues", VENUES)
    given("venue_stays", STAYS)
    assert trace_with(engine, "2022-9th", as_of=dt.datetime(2022, 3, 6, 9, 59)).cases.num_rows == 0
    result = trace_with(engine, "2022-9th", as_of=dt.datetime(2022, 3, 8))
    assert result.cases["case_key"].to_pylist() == [1]
    assert {r["contact_key"] for r in result.close.to_pylist()} == {2, 3, 4}
    assert trace_with(engine, "2022-9th", cases=[9]).cases["case_key"].to_pylist() == [9]
