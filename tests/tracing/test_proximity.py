"""Spec: proximity records — close when the time in range in one day adds up to the policy's minutes."""

from __future__ import annotations

from tracing.spec import assert_rows, evidence_of, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""


def test_short_encounters_add_up_within_a_day_and_either_side_may_be_the_case(given, engine):
    """Persons 6, 7 and 8 were logged by both phones: time in range counts once — 10 minutes, not 18, for
    6 (the same start); 14 minutes, not 20, for 7 (clocks 4 minutes apart); 15 minutes for 8."""
    given("diagnoses", CASE)
    given(
        "proximity",
        """
        | person_key_a | person_key_b | start_at            | duration_seconds |
        | 1            | 2            | 2022-03-04 09:00:00 | 300              |
        | 2            | 1            | 2022-03-04 11:00:00 | 300              |
        | 1            | 2            | 2022-03-04 15:00:00 | 300              |
        | 1            | 3            | 2022-03-03 09:00:00 | 600              |
        | 3            | 1            | 2022-03-04 09:00:00 | 600              |
        | 1            | 4            | 2022-03-04 09:00:00 | 899              |
        | 1            | 5            | 2022-03-06 09:50:00 | 600              |
        | 5            | 1            | 2022-03-06 10:00:01 | 600              |
        | 1            | 6            | 2022-03-04 09:00:00 | 600              |
        | 6            | 1            | 2022-03-04 09:00:00 | 500              |
        | 1            | 7            | 2022-03-04 09:00:00 | 600              |
        | 7            | 1            | 2022-03-04 09:04:00 | 600              |
        | 1            | 8            | 2022-03-04 10:00:00 | 600              |
        | 8            | 1            | 2022-03-04 10:05:00 | 600              |
        """,
    )
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.contacts,
        """
        | contact_key | rule      | setting   | place      | first_contact_at    | last_contact_at     |
        | 2           | proximity | proximity | 2022-03-04 | 2022-03-04 09:00:00 | 2022-03-04 15:05:00 |
        | 8           | proximity | proximity | 2022-03-04 | 2022-03-04 10:00:00 | 2022-03-04 10:15:00 |
        """,
    )
    assert evidence_of(result, 8).endswith(
        "(2 records in range that day): 2022-03-04 10:00 to 2022-03-04 10:15, 15 min"
    )
    assert evidence_of(result, 2).endswith(
        "(3 records in range that day): 2022-03-04 09:00 to 2022-03-04 15:05, 15 min"
    )
