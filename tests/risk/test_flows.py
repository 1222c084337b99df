"""High-risk flows: arrivals from medium/high-risk areas in the lookback, and origin–destination flows."""

from __future__ import annotations

import datetime as dt

from risk.spec import arrow, assert_rows, register
from shuzhi.risk.flows import RISK_AREAS_SCHEMA, flows, od_matrix, risk_arrivals

DAY = dt.date(2020, 2, 10)
RISK = arrow(
    """
    | region_code | day        | level  |
    | 420100      | 2020-02-10 | high   |
    | 330302      | 2020-02-10 | medium |
    | 330102      | 2020-02-10 | low    |
    """,
    RISK_AREAS_SCHEMA,
)
RESIDENTS = """
| person_key | county_code |
| 1  | 330106 |
| 2  | 330106 |
| 3  | 330106 |
| 4  | 330106 |
| 5  | 330106 |
| 6  | 330106 |
| 7  | 330106 |
| 9  | 330303 |
| 10 | 330106 |
"""
# 1: from inside high-risk Wuhan (420102 lies in the city-level area 420100); 2: the same, 14 days before the
# list (outside the lookback); 10: 13 days before (inside); 3: from a low area; 4: from medium Lucheng;
# 8: the same, not a registered resident; 9: from Lucheng, but lives in Wenzhou (own city: no arrival)
TRIPS = """
| person_key | mode  | trip_no | dep_time         | arr_time         | origin_region | destination_region |
| 1          | train | G1      | 2020-02-01 08:00 | 2020-02-01 14:00 | 420102        | 330106             |
| 2          | train | G1      | 2020-01-27 08:00 | 2020-01-27 14:00 | 420102        | 330106             |
| 10         | train | G1      | 2020-01-28 08:00 | 2020-01-28 14:00 | 420102        | 330106             |
| 3          | bus   | B7      | 2020-02-05 08:00 | 2020-02-05 09:00 | 330102        | 330106             |
| 4          | coach | K2      | 2020-02-05 08:00 | 2020-02-05 12:00 | 330302        | 330106             |
| 8          | coach | K2      | 2020-02-05 08:00 | 2020-02-05 12:00 | 330302        | 330106             |
| 9          | bus   | B9      | 2020-02-05 08:00 | 2020-02-05 09:00 | 330302        | 330303             |
"""
# 5: six hours in Wenzhou (a city containing a medium area); 6: two hours there (not an itinerary stay);
# 7: Hangzhou, then Wuhan (a high-risk city) — also a telecom move
TELECOM = """
| person_key | city_code | first_seen       | last_seen        |
| 5          | 330300    | 2020-02-06 08:00 | 2020-02-06 14:00 |
| 6          | 330300    | 2020-02-06 08:00 | 2020-02-06 10:00 |
| 7          | 330100    | 2020-02-08 08:00 | 2020-02-08 20:00 |
| 7          | 420100    | 2020-02-09 08:00 | 2020-02-09 20:00 |
"""
EXPECTED = """
| day        | person_key | county_code | region_code | level  | source  | visited_on |
| 2020-02-10 | 1          | 330106      | 420100      | high   | trip    | 2020-02-01 |
| 2020-02-10 | 4          | 330106      | 330302      | medium | trip    | 2020-02-05 |
| 2020-02-10 | 5          | 330106      | 330300      | medium | telecom | 2020-02-06 |
| 2020-02-10 | 7          | 330106      | 420100      | high   | telecom | 2020-02-09 |
| 2020-02-10 | 8          |             | 330302      | medium | trip    | 2020-02-05 |
| 2020-02-10 | 10         | 330106      | 420100      | high   | trip    | 2020-01-28 |
"""
KEYS = ("day", "person_key", "source")


def test_arrivals_from_medium_and_high_risk_areas(engine):
    register(engine, residents=RESIDENTS, trips=TRIPS, telecom_stays=TELECOM)
    result = risk_arrivals(engine, "2020-5th", DAY, DAY, risk=RISK)
    assert_rows(result, EXPECTED, keys=KEYS)
    assert result.num_rows == 6


def test_lookback_and_itinerary_hours_are_policy_data(engine, edition):
    register(engine, residents=RESIDENTS, trips=TRIPS, telecom_stays=TELECOM)
    folder = edition("2020-5th", "area_risk", {"flows.lookback_days": 7, "flows.telecom_min_hours": 1})
    result = risk_arrivals(engine, folder, DAY, DAY, risk=RISK)
    assert sorted(result["person_key"].to_pylist()) == [4, 5, 6, 7, 8]


def test_default_risk_list_is_the_counties_area_risk(engine):
    register(
        engine,
        residents=RESIDENTS,
        trips=TRIPS,
        diagnoses="| person_key | county_code | status | diagnosed_at |\n"
        "| 99 | 330302 | confirmed | 2020-02-04 |",
    )
    result = flows(engine, "2020-5th", DAY, DAY).arrivals
    assert_rows(
        result,
        "| day | person_key | region_code | level | source |\n| 2020-02-10 | 4 | 330302 | medium | trip |",
        keys=KEYS,
    )
    assert sorted(result["person_key"].to_pylist()) == [4, 8]


def test_origin_destination_between_cities(engine):
    register(engine, residents=RESIDENTS, trips=TRIPS, telecom_stays=TELECOM)
    result = od_matrix(engine, "2020-5th", dt.date(2020, 1, 20), DAY)
    assert_rows(
        result,
        """
        | day        | origin_code | destination_code | source  | movements | persons |
        | 2020-01-27 | 420100      | 330100           | trip    | 1         | 1       |
        | 2020-01-28 | 420100      | 330100           | trip    | 1         | 1       |
        | 2020-02-01 | 420100      | 330100           | trip    | 1         | 1       |
        | 2020-02-05 | 330300      | 330100           | trip    | 2         | 2       |
        | 2020-02-09 | 330100      | 420100           | telecom | 1         | 1       |
        """,
        keys=("day", "origin_code", "destination_code", "source"),
    )
    assert result.num_rows == 5


def test_origin_destination_between_counties_uses_trips(engine):
    register(engine, trips=TRIPS, telecom_stays=TELECOM)
    result = od_matrix(engine, "2020-5th", dt.date(2020, 2, 5), dt.date(2020, 2, 5), unit="county")
    assert_rows(
        result,
        """
        | day        | origin_code | destination_code | source | movements | persons |
        | 2020-02-05 | 330102      | 330106           | trip   | 1         | 1       |
        | 2020-02-05 | 330302      | 330106           | trip   | 2         | 2       |
        | 2020-02-05 | 330302      | 330303           | trip   | 1         | 1       |
        """,
        keys=("day", "origin_code", "destination_code", "source"),
    )
    assert result.num_rows == 3
