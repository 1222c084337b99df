"""Spec: vehicle rules — aircraft rows ±3 and crew, train carriage, soft-sleeper compartment, coach, bus,
ship."""

from __future__ import annotations

import shutil

import yaml

from shuzhi.policy import edition_dir
from tracing.spec import assert_rows, evidence_of, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""

TRIP = "| {p} | {mode} | {no} | 2022-03-03 {dep} | 2022-03-03 {arr} | {carriage} | {cls} | {row} | {seat} |"
HEADER = (
    "| person_key | mode | trip_no | dep_time | arr_time | carriage | carriage_class | seat_row | seat |\n"
)


def trips(mode: str, no: str, *rows: tuple, dep: str = "08:00:00", arr: str = "10:00:00") -> str:
    """A trips text table: one (person, carriage, class, row, seat) tuple per passenger."""
    lines = [
        TRIP.format(p=p, mode=mode, no=no, dep=dep, arr=arr, carriage=c, cls=k, row=r, seat=s)
        for p, c, k, r, s in rows
    ]
    return HEADER + "\n".join(lines)


def test_aircraft_same_row_and_three_rows_in_front_and_behind(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips(
            "flight",
            "MU5137",
            (1, "", "economy", 10, "10C"),
            (2, "", "economy", 10, "10D"),
            (3, "", "economy", 7, "7A"),
            (4, "", "economy", 13, "13F"),
            (5, "", "economy", 6, "6A"),
            (6, "", "economy", 14, "14A"),
            (7, "", "economy", "", ""),
        ),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | classification | rule          | setting | place             | overlap_seconds |
        | 2           | close          | aircraft_rows | flight  | MU5137 2022-03-03 | 7200            |
        | 3           | close          | aircraft_rows | flight  | MU5137 2022-03-03 | 7200            |
        | 4           | close          | aircraft_rows | flight  | MU5137 2022-03-03 | 7200            |
        """,
    )


def test_aircraft_crew_serving_the_cases_rows_or_the_whole_cabin_where_not_given(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips(
            "flight",
            "MU5137",
            (1, "", "economy", 10, "10C"),
            (2, "1-12", "crew", "", "F1"),  # served the case's row
            (3, "21-40", "crew", "", "F3"),  # the rear of the cabin
            (4, "", "crew", "", "PS"),  # no section given: the whole cabin
            (5, "13-20", "crew", "", "F2"),  # 3 rows behind the case's
            (6, "14-20", "crew", "", "F4"),  # 4 rows behind
            (7, "", "economy", 30, "30A"),  # a passenger far behind: no crew rule makes them a contact
        ),
    )
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.contacts,
        """
        | contact_key | classification | rule          | setting | place             |
        | 2           | close          | aircraft_crew | flight  | MU5137 2022-03-03 |
        | 4           | close          | aircraft_crew | flight  | MU5137 2022-03-03 |
        | 5           | close          | aircraft_crew | flight  | MU5137 2022-03-03 |
        """,
    )
    assert "case seat 10C, contact crew, section 1-12" in evidence_of(result, 2)
    assert "contact crew, the whole vehicle" in evidence_of(result, 4)


def test_a_crew_member_as_the_case_the_passengers_of_the_rows_they_served(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips(
            "flight",
            "MU5137",
            (1, "1-5", "crew", "", "F1"),
            (2, "", "economy", 3, "3A"),
            (3, "", "economy", 8, "8C"),  # 3 rows behind the section
            (4, "", "economy", 9, "9C"),
            (5, "", "economy", "", ""),  # row unknown: not known to be served
            (6, "6-12", "crew", "", "F2"),  # crew with crew: not this rule
        ),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | rule          |
        | 2           | aircraft_crew |
        | 3           | aircraft_crew |
        """,
    )


def test_sealed_train_whole_hard_seat_carriage_and_overlapping_legs_only(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips("train", "G7502", (1, "05", "hard_seat", "", "05F"), (2, "05", "hard_seat", "", "17A"))
        + "\n"
        + trips("train", "G7502", (3, "06", "hard_seat", "", "05F"))
        + "\n"
        + trips("train", "G7502", (4, "05", "hard_seat", "", "01A"), dep="10:00:00", arr="11:00:00")
        + "\n"
        + trips("train", "G7502", (5, "05", "hard_seat", "", "02A"), dep="09:00:00", arr="11:00:00"),
    )
    result = trace_with(engine, "2022-9th")
    assert_rows(
        result.contacts,
        """
        | contact_key | rule           | first_contact_at    | last_contact_at     | overlap_seconds |
        | 2           | train_carriage | 2022-03-03 08:00:00 | 2022-03-03 10:00:00 | 7200            |
        | 5           | train_carriage | 2022-03-03 09:00:00 | 2022-03-03 10:00:00 | 3600            |
        """,
    )
    assert "case carriage 05 seat 05F, contact carriage 05 seat 17A" in evidence_of(result, 2)


def test_soft_sleeper_same_compartment_from_the_berth_number(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips(
            "train",
            "Z42",
            (1, "09", "soft_sleeper", "", "03下"),
            (2, "09", "soft_sleeper", "", "01下"),
            (3, "09", "soft_sleeper", "", "04上"),
            (4, "09", "soft_sleeper", "", "05下"),
            (5, "10", "soft_sleeper", "", "02上"),
        ),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | rule              | setting |
        | 2           | train_compartment | train   |
        | 3           | train_compartment | train   |
        """,
    )


def test_sealed_coach_everyone_aboard(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips("coach", "K-0451", (1, "", "", 2, "2A"), (2, "", "", 12, "12D"), (3, "", "", "", "")),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | rule  | setting |
        | 2           | coach | coach   |
        | 3           | coach | coach   |
        """,
    )


def test_bus_three_rows_and_everyone_aboard_when_rows_are_unknown(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips("bus", "B1-0023", (1, "", "", 5, ""), (2, "", "", 8, ""), (3, "", "", 9, ""))
        + "\n"
        + trips("bus", "B1-0023", (4, "", "", "", ""))
        + "\n"
        + trips("bus", "B1-0023", (5, "", "", "", ""), dep="09:55:00", arr="10:30:00"),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | classification | rule             | overlap_seconds |
        | 2           | close          | bus_rows         | 7200            |
        | 4           | close          | bus_same_vehicle | 7200            |
        | 5           | close          | bus_same_vehicle | 300             |
        """,
    )


def test_a_policy_may_make_riders_of_unknown_rows_companions_after_ten_minutes(given, engine, tmp_path):
    given("diagnoses", CASE)
    given(
        "trips",
        trips("bus", "B1-0023", (1, "", "", "", ""), (2, "", "", "", ""))
        + "\n"
        + trips("bus", "B1-0023", (3, "", "", "", ""), dep="09:55:00", arr="10:30:00"),
    )
    folder = tmp_path / "edition"
    shutil.copytree(edition_dir("2022-9th"), folder)
    data = yaml.safe_load((folder / "contact.yaml").read_text(encoding="utf-8"))
    rule = next(r for r in data["vehicles"] if r["name"] == "bus_same_vehicle")
    rule.update(classification="companion", min_overlap_minutes=10)
    (folder / "contact.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert_rows(
        trace_with(engine, folder).contacts,
        """
        | contact_key | classification | rule             |
        | 2           | companion      | bus_same_vehicle |
        """,
    )


def test_ship_same_cabin_and_not_another_day(given, engine):
    given("diagnoses", CASE)
    given(
        "trips",
        trips("ship", "ZS-12", (1, "C204", "", "", "2"), (2, "C204", "", "", "4"), (3, "C206", "", "", "1"))
        + "\n"
        + trips("ship", "ZS-12", (4, "C204", "", "", "2")).replace("2022-03-03", "2022-03-04"),
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | rule       | setting | place            |
        | 2           | ship_cabin | ship    | ZS-12 2022-03-03 |
        """,
    )
