"""Spec: venue rules — minimum overlap, category and size of small venues, parties arriving together."""

from __future__ import annotations

from tracing.spec import assert_rows, evidence_of, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""

VENUES = """
| venue_code | category   | capacity | lon    | lat   |
| R60        | restaurant | 60       | 120.10 | 30.20 |
| R61        | restaurant | 61       | 120.20 | 30.20 |
| G20        | gym        | 20       | 120.30 | 30.20 |
| MALL       | mall       | 5000     | 120.40 | 30.20 |
| SUP        | supermarket| 30       | 120.50 | 30.20 |
"""


def test_overlap_just_above_and_below_the_minimum(given, engine):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | R60        | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 |
        | 2          | R60        | 2022-03-04 12:45:00 | 2022-03-04 14:00:00 |
        | 3          | R60        | 2022-03-04 12:45:01 | 2022-03-04 14:00:00 |
        | 4          | R60        | 2022-03-04 11:00:00 | 2022-03-04 12:15:00 |
        | 5          | R60        | 2022-03-04 13:00:00 | 2022-03-04 14:00:00 |
        """,
    )
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.close,
        """
        | contact_key | rule             | place | first_contact_at | last_contact_at  | overlap_seconds|
        | 2           | small_restaurant | R60   | 2022-03-04 12:45 | 2022-03-04 13:00 | 900            |
        | 4           | small_restaurant | R60   | 2022-03-04 12:00 | 2022-03-04 12:15 | 900            |
        """,
    )
    assert evidence_of(result, 2) == (
        "meal at R60 (restaurant, capacity 60): 2022-03-04 12:45 to 2022-03-04 13:00, 15 min"
    )


def test_venue_size_and_category_decide_close_contact_or_companion(given, engine):
    """Strangers arriving 20 minutes after the case: only the venue's size and category decide."""
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | R60        | 2022-03-02 12:00:00 | 2022-03-02 13:00:00 |
        | 1          | R61        | 2022-03-03 12:00:00 | 2022-03-03 13:00:00 |
        | 1          | G20        | 2022-03-03 18:00:00 | 2022-03-03 19:00:00 |
        | 1          | MALL       | 2022-03-04 15:00:00 | 2022-03-04 17:00:00 |
        | 1          | SUP        | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
        | 2          | R60        | 2022-03-02 12:20:00 | 2022-03-02 13:20:00 |
        | 3          | R61        | 2022-03-03 12:20:00 | 2022-03-03 13:20:00 |
        | 4          | G20        | 2022-03-03 18:20:00 | 2022-03-03 19:20:00 |
        | 5          | MALL       | 2022-03-04 15:20:00 | 2022-03-04 17:20:00 |
        | 6          | SUP        | 2022-03-04 18:20:00 | 2022-03-04 19:20:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | case_key | contact_key | classification | rule                 |
        | 1        | 2           | close          | small_restaurant     |
        | 1        | 3           | companion      | same_time_place      |
        | 1        | 4           | close          | small_enclosed_venue |
        | 1        | 5           | companion      | same_time_place      |
        | 1        | 6           | companion      | same_time_place      |
        """,
    )


def test_a_party_checks_in_and_out_together_whatever_the_size_of_the_venue(given, engine):
    """Arrivals at most 15, departures at most 30 minutes apart: one table or group (not in supermarkets)."""
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | MALL       | 2022-03-04 15:00:00 | 2022-03-04 17:00:00 |
        | 2          | MALL       | 2022-03-04 15:15:00 | 2022-03-04 17:30:00 |
        | 3          | MALL       | 2022-03-04 15:15:01 | 2022-03-04 17:00:00 |
        | 4          | MALL       | 2022-03-04 14:50:00 | 2022-03-04 17:30:01 |
        | 1          | R61        | 2022-03-03 12:00:00 | 2022-03-03 13:00:00 |
        | 5          | R61        | 2022-03-03 11:50:00 | 2022-03-03 12:40:00 |
        | 1          | SUP        | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
        | 6          | SUP        | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
        """,
    )
    result = trace_with(engine, "2022-9th")
    got = {(r["contact_key"], r["classification"], r["rule"]) for r in result.contacts.to_pylist()}
    assert got == {
        (2, "close", "arrived_together"),
        (3, "companion", "same_time_place"),
        (4, "companion", "same_time_place"),
        (5, "close", "shared_table"),
        (6, "companion", "same_time_place"),
    }


def test_a_case_met_at_a_venue_is_still_listed_and_nobody_is_their_own_contact(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status       | onset_date | diagnosed_at        |
        | 1          | confirmed    | 2022-03-05 | 2022-03-06 10:00:00 |
        | 2          | asymptomatic |            | 2022-03-06 11:00:00 |
        """,
    )
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | G20        | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
        | 2          | G20        | 2022-03-04 18:20:00 | 2022-03-04 19:00:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | case_key | contact_key | classification | rule                 | overlap_seconds |
        | 1        | 2           | close          | small_enclosed_venue | 2400            |
        | 2        | 1           | close          | small_enclosed_venue | 2400            |
        """,
    )


def test_one_row_per_rule_with_the_earliest_contact(given, engine):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | R60        | 2022-03-02 12:00:00 | 2022-03-02 13:00:00 |
        | 1          | R60        | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 |
        | 2          | R60        | 2022-03-02 12:30:00 | 2022-03-02 13:30:00 |
        | 2          | R60        | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | rule             | first_contact_at    | last_contact_at     | overlap_seconds |
        | 2           | small_restaurant | 2022-03-02 12:30:00 | 2022-03-02 13:00:00 | 1800            |
        | 2           | shared_table     | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 | 3600            |
        """,
    )


def test_long_stays_are_found_by_their_own_bucket(given, engine):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | G20        | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
        | 2          | G20        | 2022-03-04 06:00:00 | 2022-03-04 18:20:00 |
        | 3          | G20        | 2022-03-03 06:00:00 | 2022-03-05 06:00:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").close,
        """
        | contact_key | rule                 | overlap_seconds |
        | 2           | small_enclosed_venue | 1200            |
        | 3           | small_enclosed_venue | 3600            |
        """,
    )
