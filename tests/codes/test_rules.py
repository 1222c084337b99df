"""Spec tests of the health-code rules, one per rule: inputs and expected colours as text tables."""

from __future__ import annotations

import pytest

from .spec import colours_on, expect, register

RESIDENTS = """
person_key | county_code
1          | 330102
2          | 330102
3          | 330106
"""


def test_case_is_red_until_released(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        diagnoses="""
        person_key | status       | diagnosed_at     | county_code
        1          | confirmed    | 2020-01-25 10:00 | 330102
        2          | asymptomatic | 2020-01-26 09:00 | 330102
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-01-24", "2020-01-25", "2020-06-30"]),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2020-01-24 | green  | default_green |
        2          | 2020-01-24 | green  | default_green |
        3          | 2020-01-24 | green  | default_green |
        1          | 2020-01-25 | red    | case          |
        2          | 2020-01-25 | green  | default_green |
        3          | 2020-01-25 | green  | default_green |
        1          | 2020-06-30 | red    | case          |
        2          | 2020-06-30 | red    | case          |
        3          | 2020-06-30 | green  | default_green |
        """,
    )


CLOSE_CONTACT = """
case_key | contact_key | degree | classification | rule        | setting | place | last_contact_at
9        | 1           | 1      | close          | shared_meal | meal    | 餐馆A | 2020-01-23 19:30
"""


def test_close_contact_red_14_days_then_yellow_7_hangzhou(engine, hangzhou):
    register(engine, residents=RESIDENTS, contacts=CLOSE_CONTACT)
    days = ["2020-01-22", "2020-01-23", "2020-02-06", "2020-02-07", "2020-02-13", "2020-02-14"]
    expect(
        colours_on(engine, hangzhou, days).filter(_person(1)),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2020-01-22 | green  | default_green |
        1          | 2020-01-23 | red    | close_contact | 2020-02-06
        1          | 2020-02-06 | red    | close_contact | 2020-02-06
        1          | 2020-02-07 | yellow | close_contact | 2020-02-13
        1          | 2020-02-13 | yellow | close_contact | 2020-02-13
        1          | 2020-02-14 | green  | default_green |
        """,
    )


def test_close_contact_red_7_days_then_yellow_3_ninth_edition(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at
        9        | 1           | 1      | close          | household | 2022-07-01 08:00
        """,
    )
    expect(
        colours_on(
            engine, ninth, ["2022-07-01", "2022-07-08", "2022-07-09", "2022-07-11", "2022-07-12"]
        ).filter(_person(1)),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2022-07-01 | red    | close_contact | 2022-07-08
        1          | 2022-07-08 | red    | close_contact | 2022-07-08
        1          | 2022-07-09 | yellow | close_contact | 2022-07-11
        1          | 2022-07-11 | yellow | close_contact | 2022-07-11
        1          | 2022-07-12 | green  | default_green |
        """,
    )


def test_close_contact_red_14_days_then_yellow_7_eighth_edition(engine):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at
        9        | 1           | 1      | close          | household | 2021-08-01 08:00
        9        | 2           | 2      | secondary      | household | 2021-08-02 08:00
        """,
    )
    days = ["2021-08-01", "2021-08-09", "2021-08-10", "2021-08-15", "2021-08-16", "2021-08-22", "2021-08-23"]
    expect(
        colours_on(engine, "2021-8th", days).filter(_person(1, 2)),
        """
        person_key | day        | colour | rule              | valid_until
        1          | 2021-08-01 | red    | close_contact     | 2021-08-15
        1          | 2021-08-09 | red    | close_contact     | 2021-08-15
        1          | 2021-08-10 | red    | close_contact     | 2021-08-15
        1          | 2021-08-15 | red    | close_contact     | 2021-08-15
        1          | 2021-08-16 | yellow | close_contact     | 2021-08-22
        1          | 2021-08-22 | yellow | close_contact     | 2021-08-22
        1          | 2021-08-23 | green  | default_green     |
        2          | 2021-08-01 | green  | default_green     |
        2          | 2021-08-09 | red    | secondary_contact | 2021-08-09
        2          | 2021-08-10 | green  | default_green     |
        2          | 2021-08-15 | green  | default_green     |
        2          | 2021-08-16 | green  | default_green     |
        2          | 2021-08-22 | green  | default_green     |
        2          | 2021-08-23 | green  | default_green     |
        """,
    )  # 14 days of centralised isolation and 7 of home monitoring; contacts of contacts 7 days


def test_a_contact_is_coloured_from_the_day_tracing_found_them_counted_from_the_contact(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at  | traced_at
        9        | 1           | 1      | close          | household | 2022-07-01 08:00 | 2022-07-05 16:00
        9        | 2           | 1      | close          | household | 2022-07-01 08:00 | 2022-07-12 09:00
        """,
    )
    days = ["2022-07-01", "2022-07-04", "2022-07-05", "2022-07-08", "2022-07-09", "2022-07-12"]
    expect(
        colours_on(engine, ninth, days).filter(_person(1, 2)),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2022-07-01 | green  | default_green |
        1          | 2022-07-04 | green  | default_green |
        1          | 2022-07-05 | red    | close_contact | 2022-07-08
        1          | 2022-07-08 | red    | close_contact | 2022-07-08
        1          | 2022-07-09 | yellow | close_contact | 2022-07-11
        1          | 2022-07-12 | green  | default_green |
        2          | 2022-07-01 | green  | default_green |
        2          | 2022-07-04 | green  | default_green |
        2          | 2022-07-05 | green  | default_green |
        2          | 2022-07-08 | green  | default_green |
        2          | 2022-07-09 | green  | default_green |
        2          | 2022-07-12 | green  | default_green |
        """,
    )  # person 2 was found after their isolation and monitoring had lapsed


def test_close_contact_red_5_plus_3_days_november_2022(engine):
    register(engine, residents=RESIDENTS, contacts=CLOSE_CONTACT.replace("2020-01-23", "2022-11-20"))
    days = ["2022-11-20", "2022-11-25", "2022-11-26", "2022-11-28", "2022-11-29"]
    expect(
        colours_on(engine, "2022-11th", days).filter(_person(1)),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2022-11-20 | red    | close_contact | 2022-11-25
        1          | 2022-11-25 | red    | close_contact | 2022-11-25
        1          | 2022-11-26 | red    | close_contact | 2022-11-28
        1          | 2022-11-28 | red    | close_contact | 2022-11-28
        1          | 2022-11-29 | green  | default_green |
        """,
    )


SECONDARY = """
case_key | contact_key | degree | via_key | classification | setting   | last_contact_at
9        | 2           | 2      | 1       | secondary      | household | 2022-07-01 20:00
"""


@pytest.mark.parametrize(
    ("edition", "expected"),
    [
        (
            "2020-5th",
            """
            day        | colour | rule              | valid_until
            2022-07-08 | red    | secondary_contact | 2022-07-15
            2022-07-15 | red    | secondary_contact | 2022-07-15
            2022-07-16 | yellow | secondary_contact | 2022-07-22
            2022-07-23 | green  | default_green     |
            """,
        ),
        (
            "2022-9th",
            """
            day        | colour | rule              | valid_until
            2022-07-08 | red    | secondary_contact | 2022-07-08
            2022-07-15 | green  | default_green     |
            2022-07-16 | green  | default_green     |
            2022-07-23 | green  | default_green     |
            """,
        ),
    ],
)
def test_contact_of_a_contact_per_edition(engine, edition, expected):
    register(engine, residents=RESIDENTS, contacts=SECONDARY)
    days = ["2022-07-08", "2022-07-15", "2022-07-16", "2022-07-23"]
    expect(colours_on(engine, edition, days).filter(_person(2)), expected)


AREA_RISK = """
county_code | day        | level
420106      | 2020-01-20 | high
320102      | 2020-01-20 | medium
330106      | 2020-01-20 | medium
110101      | 2020-01-20 | low
"""


def test_arrival_from_high_risk_area_by_telecom_itinerary(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        area_risk=AREA_RISK,
        telecom_stays="""
        person_key | city_code | first_seen       | last_seen
        1          | 420100    | 2020-01-20 08:00 | 2020-01-20 20:00
        2          | 420100    | 2020-01-20 08:00 | 2020-01-20 10:00
        3          | 110100    | 2020-01-20 08:00 | 2020-01-20 20:00
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-01-21", "2020-02-03", "2020-02-04"]),
        """
        person_key | day        | colour | rule              | valid_until
        1          | 2020-01-21 | red    | high_risk_arrival | 2020-02-03
        2          | 2020-01-21 | green  | default_green     |
        3          | 2020-01-21 | green  | default_green     |
        1          | 2020-02-03 | red    | high_risk_arrival | 2020-02-03
        2          | 2020-02-03 | green  | default_green     |
        3          | 2020-02-03 | green  | default_green     |
        1          | 2020-02-04 | green  | default_green     |
        2          | 2020-02-04 | green  | default_green     |
        3          | 2020-02-04 | green  | default_green     |
        """,
    )


def test_arrival_from_medium_risk_area_by_trip_and_declaration(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        area_risk=AREA_RISK,
        trips="""
        person_key | mode  | trip_no | dep_time         | origin_region | destination_region
        1          | train | G7601   | 2020-01-20 09:00 | 320102        | 330100
        """,
        declarations="""
        person_key | declared_at      | temperature | symptoms | visited_regions
        2          | 2020-01-20 12:00 | 36.5        | []       | 320100
        3          | 2020-01-20 12:00 | 36.5        | []       | 330100
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-01-21"]),
        """
        person_key | colour | rule                | valid_until
        1          | yellow | medium_risk_arrival | 2020-02-03
        2          | yellow | medium_risk_arrival | 2020-02-03
        3          | green  | default_green       |
        """,
    )


def test_risk_is_that_of_the_day_of_the_stay(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        area_risk="""
        county_code | day        | level
        420106      | 2022-07-03 | high
        """,
        telecom_stays="""
        person_key | city_code | first_seen       | last_seen
        1          | 420100    | 2022-07-02 08:00 | 2022-07-02 20:00
        2          | 420100    | 2022-07-03 08:00 | 2022-07-03 20:00
        """,
    )
    expect(
        colours_on(engine, ninth, ["2022-07-04"]),
        """
        person_key | colour | rule
        1          | green  | default_green
        2          | red    | high_risk_arrival
        3          | green  | default_green
        """,
    )


@pytest.mark.parametrize(
    ("temperature", "symptoms", "colour"),
    [
        ("37.8", "[]", "yellow"),
        ("36.6", "cough", "yellow"),
        ("36.6", "[]", "green"),
        ("36.6", "itch", "green"),
    ],
)
def test_fever_or_respiratory_symptoms_declared_is_yellow(engine, hangzhou, temperature, symptoms, colour):
    register(
        engine,
        residents=RESIDENTS,
        declarations=f"""
        person_key | declared_at      | temperature    | symptoms
        1          | 2020-02-01 08:00 | {temperature}  | {symptoms}
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-02-01"]).filter(_person(1)),
        f"""
        person_key | colour
        1          | {colour}
        """,
    )


def test_fever_clinic_visit_is_yellow(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        fever_visits="""
        person_key | visited_at       | hospital       | temperature
        3          | 2022-07-01 21:00 | 浙大一院发热门诊 | 38.1
        """,
    )
    expect(
        colours_on(engine, ninth, ["2022-06-30", "2022-07-01", "2022-07-08", "2022-07-09"]).filter(
            _person(3)
        ),
        """
        person_key | day        | colour | rule          | valid_until
        3          | 2022-06-30 | green  | default_green |
        3          | 2022-07-01 | yellow | fever_clinic  | 2022-07-08
        3          | 2022-07-08 | yellow | fever_clinic  | 2022-07-08
        3          | 2022-07-09 | green  | default_green |
        """,
    )


def test_home_observation_is_yellow_until_the_order_ends(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        home_observations="""
        person_key | county_code | start_date | end_date   | reason
        2          | 330102      | 2020-02-01 | 2020-02-10 | 湖北返杭
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-01-31", "2020-02-01", "2020-02-10", "2020-02-11"]).filter(
            _person(2)
        ),
        """
        person_key | day        | colour | rule             | valid_until
        2          | 2020-01-31 | green  | default_green    |
        2          | 2020-02-01 | yellow | home_observation | 2020-02-10
        2          | 2020-02-10 | yellow | home_observation | 2020-02-10
        2          | 2020-02-11 | green  | default_green    |
        """,
    )


def test_same_time_and_place_companion_is_yellow_for_7_days(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting         | place       | last_contact_at
        9        | 1           | 1      | companion      | same_time_place | cell 12:345 | 2022-07-01 15:00
        """,
    )
    expect(
        colours_on(engine, ninth, ["2022-07-01", "2022-07-08", "2022-07-09"]).filter(_person(1)),
        """
        person_key | day        | colour | rule          | valid_until
        1          | 2022-07-01 | yellow | companion     | 2022-07-08
        1          | 2022-07-08 | yellow | companion     | 2022-07-08
        1          | 2022-07-09 | green  | default_green |
        """,
    )


COMPANION = """
case_key | contact_key | degree | classification | setting         | last_contact_at
9        | 1           | 1      | companion      | same_time_place | 2022-07-01 15:00
9        | 2           | 1      | companion      | same_time_place | 2022-07-01 15:00
9        | 3           | 1      | companion      | same_time_place | 2022-07-01 15:00
"""


def test_two_negative_tests_at_least_24_hours_apart_clear_yellow(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts=COMPANION,
        tests="""
        person_key | sampled_at       | reported_at      | method  | result
        1          | 2022-07-02 09:00 | 2022-07-02 20:00 | pcr     | negative
        1          | 2022-07-03 10:00 | 2022-07-03 22:00 | pcr     | negative
        2          | 2022-07-02 08:00 | 2022-07-02 20:00 | pcr     | negative
        2          | 2022-07-02 18:00 | 2022-07-03 06:00 | pcr     | negative
        3          | 2022-07-02 09:00 | 2022-07-02 20:00 | antigen | negative
        3          | 2022-07-03 10:00 | 2022-07-03 12:00 | antigen | negative
        """,
    )
    expect(
        colours_on(engine, ninth, ["2022-07-02", "2022-07-03"]),
        """
        person_key | day        | colour | rule
        1          | 2022-07-02 | yellow | companion
        2          | 2022-07-02 | yellow | companion
        3          | 2022-07-02 | yellow | companion
        1          | 2022-07-03 | green  | default_green
        2          | 2022-07-03 | yellow | companion
        3          | 2022-07-03 | yellow | companion
        """,
    )


def test_negative_tests_must_fall_within_3_days_and_after_the_evidence(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts=COMPANION,
        tests="""
        person_key | sampled_at       | reported_at      | method | result
        1          | 2022-07-02 09:00 | 2022-07-02 20:00 | pcr    | negative
        1          | 2022-07-05 10:00 | 2022-07-05 22:00 | pcr    | negative
        2          | 2022-06-30 09:00 | 2022-06-30 20:00 | pcr    | negative
        2          | 2022-07-01 16:00 | 2022-07-02 06:00 | pcr    | negative
        3          | 2022-07-02 09:00 | 2022-07-02 20:00 | pcr    | negative
        3          | 2022-07-03 10:00 | 2022-07-03 22:00 | pcr    | positive
        """,
    )
    expect(
        colours_on(engine, ninth, ["2022-07-06"]),
        """
        person_key | colour | rule
        1          | yellow | companion
        2          | yellow | companion
        3          | yellow | companion
        """,
    )


def test_negative_tests_do_not_clear_red(engine, ninth):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at
        9        | 1           | 1      | close          | household | 2022-07-01 08:00
        """,
        tests="""
        person_key | sampled_at       | reported_at      | method | result
        1          | 2022-07-02 09:00 | 2022-07-02 20:00 | pcr    | negative
        1          | 2022-07-03 10:00 | 2022-07-03 22:00 | pcr    | negative
        """,
    )
    expect(colours_on(engine, ninth, ["2022-07-04"]).filter(_person(1)), "colour | rule\nred | close_contact")


def _checkins(person: int, first_day: int, last_day: int, month: str = "2020-01") -> str:
    """Normal daily check-ins of ``person`` at 08:00 from day ``first_day`` to ``last_day`` of ``month``."""
    rows = [f"{person} | {month}-{day:02d} 08:00 | 36.5 | []" for day in range(first_day, last_day + 1)]
    return "\n".join(rows)


def _declarations(*blocks: str) -> str:
    return "person_key | declared_at | temperature | symptoms\n" + "\n".join(blocks)


def test_14_days_of_normal_checkin_clear_red_but_13_do_not(engine, hangzhou):
    contacts = """
    case_key | contact_key | degree | classification | setting   | last_contact_at
    9        | 1           | 1      | close          | household | 2020-01-23 19:30
    9        | 2           | 1      | close          | household | 2020-01-23 19:30
    """
    register(
        engine,
        residents=RESIDENTS,
        contacts=contacts,
        declarations=_declarations(
            _checkins(1, 24, 31),
            _checkins(1, 1, 6, month="2020-02"),  # 14 days: 24 January to 6 February
            _checkins(2, 24, 31),
            _checkins(2, 1, 5, month="2020-02"),  # 13 days: 24 January to 5 February
        ),
    )
    expect(
        colours_on(engine, hangzhou, ["2020-02-05", "2020-02-06", "2020-02-07"]).filter(_person(1, 2)),
        """
        person_key | day        | colour | rule
        1          | 2020-02-05 | red    | close_contact
        2          | 2020-02-05 | red    | close_contact
        1          | 2020-02-06 | green  | default_green
        2          | 2020-02-06 | red    | close_contact
        1          | 2020-02-07 | green  | default_green
        2          | 2020-02-07 | yellow | close_contact
        """,
    )


def test_an_abnormal_day_breaks_the_checkin_streak(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        declarations=_declarations(
            "3 | 2020-01-25 08:00 | 37.9 | fever",  # yellow: symptoms; 7 days of normal check-in clear it
            _checkins(3, 26, 28),
            "3 | 2020-01-29 08:00 | 36.5 | []",
            "3 | 2020-01-29 20:00 | 36.6 | cough",  # spoils the day, and is new evidence
            _checkins(3, 30, 31),
            _checkins(3, 1, 5, month="2020-02"),
        ),
    )
    expect(
        colours_on(engine, hangzhou, ["2020-02-01", "2020-02-04", "2020-02-05"]).filter(_person(3)),
        """
        person_key | day        | colour | rule
        3          | 2020-02-01 | yellow | symptoms
        3          | 2020-02-04 | yellow | symptoms
        3          | 2020-02-05 | green  | default_green
        """,
    )


def test_the_most_severe_colour_wins_then_the_first_rule(engine, hangzhou):
    register(
        engine,
        residents=RESIDENTS,
        diagnoses="""
        person_key | status    | diagnosed_at
        1          | confirmed | 2020-01-25 10:00
        """,
        contacts="""
        case_key | contact_key | degree | via_key | classification | setting   | last_contact_at
        9        | 1           | 1      |         | close          | household | 2020-01-24 19:30
        9        | 2           | 2      | 1       | secondary      | household | 2020-01-24 19:30
        8        | 2           | 1      |         | close          | meal      | 2020-01-22 12:00
        """,
        declarations="""
        person_key | declared_at      | temperature | symptoms
        3          | 2020-01-25 08:00 | 38.2        | cough
        """,
        fever_visits="""
        person_key | visited_at       | hospital
        3          | 2020-01-25 10:00 | 浙大一院
        """,
        home_observations="""
        person_key | start_date | end_date
        2          | 2020-01-20 | 2020-02-20
        """,
    )
    expect(
        colours_on(engine, hangzhou, ["2020-01-25"]),
        """
        person_key | colour | rule          | valid_until
        1          | red    | case          |
        2          | red    | close_contact | 2020-02-05
        3          | yellow | symptoms      | 2020-02-08
        """,
    )


def test_everyone_gets_a_rule_and_a_reason(engine, ninth):
    register(
        engine,
        residents="\n".join(["person_key | county_code"] + [f"{k} | 330102" for k in range(1, 21)]),
        diagnoses="person_key | status | diagnosed_at\n4 | suspected | 2022-07-01 10:00",
        contacts=COMPANION,
    )
    got = colours_on(engine, ninth, ["2022-07-02"])
    assert got.num_rows == 20
    assert sorted(got.column("person_key").to_pylist()) == list(range(1, 21))
    for row in got.to_pylist():
        assert row["rule"] and row["reason"] and " / " in row["reason"], row
        assert (row["colour"] == "green") == (row["rule"] == "default_green"), row
        assert (row["colour"] == "green") == (row["evidence"] is None), row


def test_reason_evidence_and_turns_green_explain_the_code(engine, hangzhou):
    register(engine, residents=RESIDENTS, contacts=CLOSE_CONTACT)
    got = colours_on(engine, hangzhou, ["2020-01-24", "2020-02-08"]).filter(_person(1)).to_pylist()
    red, yellow = got if got[0]["colour"] == "red" else got[::-1]
    assert (
        red["reason"]
        == "密切接触者（与病例同桌就餐 2020-01-23） / close contact of a case (shared table, 2020-01-23)"
    )
    assert red["evidence"].startswith("contacts: case 9, shared_meal, ")
    assert red["turns_green"] == (
        "2020-02-14起转绿；或自2020-01-24起连续14天正常打卡"
        " / green from 2020-02-14; or 14 days of normal check-in from 2020-01-24"
    )
    assert yellow["turns_green"].endswith(
        "green from 2020-02-14; or 7 days of normal check-in from 2020-01-24"
    )


def test_turns_green_names_the_negative_tests_for_yellow(engine, ninth):
    register(engine, residents=RESIDENTS, contacts=COMPANION)
    row = colours_on(engine, ninth, ["2022-07-02"]).filter(_person(1)).to_pylist()[0]
    assert row["turns_green"].endswith(
        "green from 2022-07-09; or 2 negative tests ≥ 24 h apart within 3 days"
    )
    assert row["reason"].startswith("时空伴随者") and row["reason"].endswith("2022-07-01)")


def _person(*keys: int):
    import pyarrow.compute as pc

    return pc.field("person_key").isin(list(keys))
