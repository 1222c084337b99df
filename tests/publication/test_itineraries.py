"""Published case itineraries on every engine: trips in the window, no person, no seat, one row per trip."""

from __future__ import annotations

from risk.spec import assert_rows, register

from shuzhi.public import publication_policy, published_itineraries
from shuzhi.tracing import load_policy

# Cases 1 and 2 share train G7 carriage 05 (one row, the later notice); case 1's flight is before the window
# (onset 02-05, 2 days before under the 5th edition); case 2's bus is not a published mode; 9 is no case.
DIAGNOSES = """
| person_key | status    | onset_date | diagnosed_at     |
| 1          | confirmed | 2020-02-05 | 2020-02-06 10:00 |
| 2          | confirmed | 2020-02-05 | 2020-02-08 10:00 |
"""
TRIPS = """
| person_key | mode | trip_no | dep_time | arr_time | origin_stop | destination_stop | carriage | seat |
| 1 | train | G7 | 2020-02-04 08:00 | 2020-02-04 12:00 | HZ | SH | 05 | 12A |
| 2 | train | G7 | 2020-02-04 08:00 | 2020-02-04 12:00 | HZ | SH | 05 | 13C |
| 1 | flight | MU1 | 2020-02-01 08:00 | 2020-02-01 10:00 | WUH | HGH |  | 21C |
| 2 | bus | 8-3 | 2020-02-06 08:00 | 2020-02-06 08:30 | A | B |  |  |
| 9 | train | G9 | 2020-02-04 08:00 | 2020-02-04 12:00 | HZ | SH | 01 | 1A |
"""
POLICIES = (load_policy("2020-5th"), publication_policy("2020-5th"))


def test_each_trip_of_a_case_in_its_window_once_without_person_or_seat(engine):
    register(engine, diagnoses=DIAGNOSES, trips=TRIPS)
    got = engine.to_arrow(
        published_itineraries(engine, load_policy("2020-5th"), publication_policy("2020-5th"))
    )
    assert got.num_rows == 1
    assert_rows(
        got,
        """
        | day        | mode  | trip_no | carriage | origin_stop | destination_stop | notice_day | verified |
        | 2020-02-04 | train | G7      | 05       | HZ          | SH               | 2020-02-08 | true     |
        """,
        keys=("trip_no", "day"),
    )
    assert "person_key" not in got.column_names and "seat" not in got.column_names


def test_the_carriage_is_published_only_where_the_policy_says(engine, edition):
    register(engine, diagnoses=DIAGNOSES, trips=TRIPS)
    rules = publication_policy(edition("2020-5th", "publication", {"itineraries.carriage": False}))
    got = engine.to_arrow(published_itineraries(engine, load_policy("2020-5th"), rules))
    assert got["carriage"].to_pylist() == [None]
