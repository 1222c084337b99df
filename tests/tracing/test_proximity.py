"""Spec: proximity records — close when the time in range in one day adds up to the policy's minutes."""

from __future__ import annotations

from tracing.spec import assert_rows, evidence_of, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""


def test_short_encounters_add_up_within_a_day_and_either_side_may_be_the_case(given, engine):
    """Person 6's encounter was reported by both phones: one encounter of 10 minutes, not 18."""
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
        """,
    )
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.contacts,
        """
        | contact_key | rule      | setting   | place      | first_contact_at    | last_contact_at     |
        | 2           | proximity | proximity | 2022-03-04 | 2022-03-04 09:00:00 | 2022-03-04 15:05:00 |
        """,
    )
    assert evidence_of(result, 2).endswith(
        "(3 records in range that day): 2022-03-04 09:00 to 2022-03-04 15:05, 15 min"
    )
