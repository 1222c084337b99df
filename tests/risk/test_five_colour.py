"""Zhejiang's five colours: each colour from the documented approximation, and its thresholds as data."""

from __future__ import annotations

import datetime as dt

from risk.spec import assert_rows, register
from shuzhi.risk.five_colour import five_colour

DAY = dt.date(2020, 2, 10)

# 330102 red: 50 local cases, a household cluster, a case today
# 330103 orange: 20 cases, a cluster, last case 5 days ago (too long ago for red)
# 330104 yellow: 3 local cases, the last 6 days ago
# 330105 blue: 2 cases this week, both imported (a trip from Hubei in the 14 days before diagnosis)
# 330106 green: 5 cases, the last 7 days ago
# 330108 green: no case
DIAGNOSES = """
| person_key | county_code | status    | diagnosed_at | repeat |
|------------|-------------|-----------|--------------|--------|
| 100        | 330102      | confirmed | 2020-02-10   | 50     |
| 200        | 330103      | confirmed | 2020-02-05   | 20     |
| 300        | 330104      | confirmed | 2020-02-04   | 3      |
| 400        | 330105      | confirmed | 2020-02-08   | 2      |
| 500        | 330106      | confirmed | 2020-02-03   | 5      |
"""
RESIDENTS = """
| person_key | household_id | county_code |
|------------|--------------|-------------|
| 100        | a            | 330102      |
| 101        | a            | 330102      |
| 200        | b            | 330103      |
| 201        | b            | 330103      |
"""
TRIPS = """
| person_key | mode  | trip_no | dep_time         | arr_time         | origin_region | destination_region |
|------------|-------|---------|------------------|------------------|---------------|--------------------|
| 400        | train | G58     | 2020-01-30 08:00 | 2020-01-30 14:00 | 420102        | 330105             |
| 401        | train | G58     | 2020-01-30 08:00 | 2020-01-30 14:00 | 420102        | 330105             |
"""


def test_each_colour(engine):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, trips=TRIPS)
    result = five_colour(engine, "2020-5th", DAY, DAY)
    assert_rows(
        result,
        """
    | county_code | colour | cumulative | cumulative_local | local_share | clusters_14d | days_since_last |
        | 330102 | red    | 50 | 50 | 1.0 | 1 | 0 |
        | 330103 | orange | 20 | 20 | 1.0 | 1 | 5 |
        | 330104 | yellow | 3  | 3  | 1.0 | 0 | 6 |
        | 330105 | blue   | 2  | 0  | 0.0 | 0 | 2 |
        | 330106 | green  | 5  | 5  | 1.0 | 0 | 7 |
        | 330108 | green  | 0  | 0  |     | 0 |   |
        """,
        keys=("county_code",),
    )
    assert_rows(
        result,
        """
        | county_code | reason |
    | 330102 | red: 50 cumulative ≥ 50, local share 1.0 ≥ 0.5, 1 cluster(s) ≥ 1, last case 0 day(s) ago ≤ 2 |
        | 330105 | blue: last case 2 day(s) ago ≤ 6 |
        | 330108 | green: no rule above holds (no case) |
        """,
        keys=("county_code",),
    )


def test_thresholds_are_policy_data(engine, edition):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, trips=TRIPS)
    folder = edition(
        "2020-5th", "area_risk", {"five_colour.rules.0.min_cumulative": 51, "imported.outside": "city"}
    )
    result = five_colour(engine, folder, DAY, DAY)
    assert_rows(result, "| county_code | colour |\n| 330102 | orange |", keys=("county_code",))
