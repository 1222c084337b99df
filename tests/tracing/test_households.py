"""Spec: membership rules — the household, the shared enclosed workspace (same team, same enterprise)."""

from __future__ import annotations

from tracing.spec import assert_rows, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""


def test_household_members_are_close_contacts_for_the_whole_window(given, engine):
    given("diagnoses", CASE)
    given(
        "residents",
        """
        | person_key | household_id |
        | 1          | H1           |
        | 2          | H1           |
        | 3          | H1           |
        | 4          | H2           |
        | 5          |              |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | degree | classification | rule      | place | first_contact_at | last_contact_at     |
        | 2           | 1      | close          | household | H1    | 2022-03-01       | 2022-03-06 10:00:00 |
        | 3           | 1      | close          | household | H1    | 2022-03-01       | 2022-03-06 10:00:00 |
        """,
    )


def test_team_members_of_the_same_enterprise_share_the_workspace(given, engine):
    given("diagnoses", CASE)
    given(
        "employments",
        """
        | person_key | enterprise_code    | team      |
        | 1          | 91330100MA2AAAAA1X | workshop2 |
        | 2          | 91330100MA2AAAAA1X | workshop2 |
        | 3          | 91330100MA2AAAAA1X | office    |
        | 4          | 91330100MA2BBBBB2Y | workshop2 |
        | 5          | 91330100MA2AAAAA1X |           |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | classification | rule             | setting   | place                        |
        | 2           | close          | shared_workspace | workplace | 91330100MA2AAAAA1X/workshop2 |
        """,
    )
