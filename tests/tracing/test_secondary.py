"""Spec: contacts of contacts (次密接) — household, team and meals of a close contact after first exposure."""

from __future__ import annotations

from tracing.spec import assert_rows, evidence_of, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""

VENUES = """
| venue_code | category   | capacity | lon    | lat   |
| R1         | restaurant | 40       | 120.10 | 30.20 |
| R2         | restaurant | 40       | 120.20 | 30.20 |
"""

# Person 2 shares a meal with the case on 03-04 at noon (first exposure), lives with 5, works with 6 and eats
# with 7 (03-04 evening, after exposure) and 8 (03-03, before exposure). 9 eats with 2 after 2's isolation
# (the case's isolation + 24 h = 03-07 10:00). The case lives with 3.
RESIDENTS = """
| person_key | household_id |
| 1          | H1           |
| 3          | H1           |
| 2          | H2           |
| 5          | H2           |
| 4          | H3           |
"""

EMPLOYMENTS = """
| person_key | enterprise_code    | team |
| 2          | 91330100MA2AAAAA1X | A    |
| 6          | 91330100MA2AAAAA1X | A    |
| 1          | 91330100MA2AAAAA1X | B    |
"""

STAYS = """
| person_key | venue_code | time_in             | time_out            |
| 1          | R1         | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 |
| 2          | R1         | 2022-03-04 12:00:00 | 2022-03-04 13:00:00 |
| 2          | R2         | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
| 7          | R2         | 2022-03-04 18:00:00 | 2022-03-04 19:00:00 |
| 2          | R2         | 2022-03-03 18:00:00 | 2022-03-03 19:00:00 |
| 8          | R2         | 2022-03-03 18:00:00 | 2022-03-03 19:00:00 |
| 2          | R2         | 2022-03-07 18:00:00 | 2022-03-07 19:00:00 |
| 9          | R2         | 2022-03-07 18:00:00 | 2022-03-07 19:00:00 |
"""


def _given_the_town(given) -> None:
    given("diagnoses", CASE)
    given("venues", VENUES)
    given("venue_stays", STAYS)
    given("residents", RESIDENTS)
    given("employments", EMPLOYMENTS)


def test_contacts_of_a_close_contact_from_first_exposure_to_isolation(given, engine):
    _given_the_town(given)
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.contacts,
        """
        | contact_key | degree | via_key | classification | rule             | first_contact_at    |
        | 3           | 1      |         | close          | household        | 2022-03-01 00:00:00 |
        | 2           | 1      |         | close          | shared_table     | 2022-03-04 12:00:00 |
        | 2           | 1      |         | close          | small_restaurant | 2022-03-04 12:00:00 |
        | 5           | 2      | 2       | secondary      | household        | 2022-03-04 12:00:00 |
        | 6           | 2      | 2       | secondary      | shared_workspace | 2022-03-04 12:00:00 |
        | 7           | 2      | 2       | secondary      | shared_table     | 2022-03-04 18:00:00 |
        """,
    )
    assert evidence_of(result, 7).startswith("via close contact 2: meal at R2")
    # known from the case's diagnosis, or from the contact itself where it went on after it (2's household
    # until 2's isolation: the case's diagnosis + 24 h)
    assert_rows(
        result.contacts,
        """
        | contact_key | rule             | last_contact_at     | traced_at           |
        | 3           | household        | 2022-03-06 10:00:00 | 2022-03-06 10:00:00 |
        | 2           | shared_table     | 2022-03-04 13:00:00 | 2022-03-06 10:00:00 |
        | 2           | small_restaurant | 2022-03-04 13:00:00 | 2022-03-06 10:00:00 |
        | 5           | household        | 2022-03-07 10:00:00 | 2022-03-07 10:00:00 |
        | 6           | shared_workspace | 2022-03-07 10:00:00 | 2022-03-07 10:00:00 |
        | 7           | shared_table     | 2022-03-04 19:00:00 | 2022-03-06 10:00:00 |
        """,
    )


def test_the_case_and_its_close_contacts_are_not_their_own_secondary_contacts(given, engine):
    """3 lives with the case and joins team A with 2, 6 and the case: close contacts, not listed at degree 2.

    Sharing team A with the case, 2 is exposed from the start of the window: the 03-03 meal with 8 now counts.
    """
    _given_the_town(given)
    given(
        "employments",
        EMPLOYMENTS
        + """
        | 3          | 91330100MA2AAAAA1X | A    |
        | 1          | 91330100MA2AAAAA1X | A    |
        """,
    )
    contacts = trace_with(engine, "2022-9th").contacts.to_pylist()
    degree_two = {r["contact_key"] for r in contacts if r["degree"] == 2}
    assert degree_two == {5, 7, 8}
    assert {(r["contact_key"], r["rule"]) for r in contacts if r["degree"] == 1} == {
        (3, "household"),
        (3, "shared_workspace"),
        (2, "shared_table"),
        (2, "small_restaurant"),
        (2, "shared_workspace"),
        (6, "shared_workspace"),
    }


def test_contacts_of_contacts_are_not_identified_after_november_2022_nor_in_2020(given, engine):
    _given_the_town(given)
    for edition in ("2022-11th", "2020-5th"):
        result = trace_with(engine, edition)
        assert result.secondary.num_rows == 0
        assert {r["contact_key"] for r in result.close.to_pylist()} == {2, 3}
