"""Area risk spec tests: every branch of the February 2020 county rule and the 9th edition's downgrades."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc

from risk.spec import assert_rows, register
from shuzhi.regions import zhejiang_counties
from shuzhi.risk.area import area_risk, compound_risk

FEB_1, FEB_2 = dt.date(2020, 2, 1), dt.date(2020, 2, 2)

# 330102: 51 cases, two in household h1 → > 50 with a cluster → high
# 330103: 51 cases, no setting shared → > 50 without a cluster → medium
# 330104: 50 cases, two in household h2 → ≤ 50 → medium even with a cluster
# 330105: one case 13 days before Feb 1 → still new on Feb 1, no longer on Feb 2
# 330106: one case in December → low, but counted in cumulative
# 330108: 51 cases, two in household h3 diagnosed 13 days apart → cluster on Feb 1, not on Feb 2
# 330109: 51 cases, two in the same team → high; a suspected case never counts under the 2020 rule
DIAGNOSES = """
| person_key | county_code | status    | diagnosed_at     | repeat |
|------------|-------------|-----------|------------------|--------|
| 1000       | 330102      | confirmed | 2020-02-01 09:00 | 51     |
| 2000       | 330103      | confirmed | 2020-01-25       | 51     |
| 3000       | 330104      | confirmed | 2020-01-30       | 50     |
| 4000       | 330105      | confirmed | 2020-01-19 23:00 |        |
| 5000       | 330106      | confirmed | 2019-12-01       |        |
| 6000       | 330108      | confirmed | 2020-01-19       |        |
| 6001       | 330108      | confirmed | 2020-02-01       | 50     |
| 7000       | 330109      | confirmed | 2020-01-31       | 51     |
| 7100       | 330109      | suspected | 2020-01-31       |        |
"""
RESIDENTS = """
| person_key | household_id | county_code |
|------------|--------------|-------------|
| 1000       | h1           | 330102      |
| 1001       | h1           | 330102      |
| 3000       | h2           | 330104      |
| 3001       | h2           | 330104      |
| 6000       | h3           | 330108      |
| 6001       | h3           | 330108      |
"""
EMPLOYMENTS = """
| person_key | enterprise_code    | team      |
|------------|--------------------|-----------|
| 7000       | 91330100MA0000001X | workshop1 |
| 7001       | 91330100MA0000001X | workshop1 |
| 7002       | 91330100MA0000001X | workshop2 |
"""


def test_feb_2020_county_rule_every_branch(engine):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, employments=EMPLOYMENTS)
    result = area_risk(engine, "2020-5th", FEB_1, FEB_2)
    assert_rows(
        result,
        """
        | county_code | day        | level  | cumulative | new_14d | clusters_14d | days_since_last |
        |-------------|------------|--------|------------|---------|--------------|-----------------|
        | 330102      | 2020-02-01 | high   | 51         | 51      | 1            | 0               |
        | 330103      | 2020-02-01 | medium | 51         | 51      | 0            | 7               |
        | 330104      | 2020-02-01 | medium | 50         | 50      | 1            | 2               |
        | 330105      | 2020-02-01 | medium | 1          | 1       | 0            | 13              |
        | 330105      | 2020-02-02 | low    | 1          | 0       | 0            | 14              |
        | 330106      | 2020-02-01 | low    | 1          | 0       | 0            | 62              |
        | 330108      | 2020-02-01 | high   | 51         | 51      | 1            | 0               |
        | 330108      | 2020-02-02 | medium | 51         | 50      | 0            | 1               |
        | 330109      | 2020-02-01 | high   | 51         | 51      | 1            | 1               |
        | 330110      | 2020-02-01 | low    | 0          | 0       | 0            |                 |
        """,
    )


def test_reasons_say_why(engine):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, employments=EMPLOYMENTS)
    result = area_risk(engine, "2020-5th", FEB_2, FEB_2)
    assert_rows(
        result,
        """
        | county_code | reason |
        | 330102 | 51 new case(s) in 14 days, 51 cumulative > 50, 1 cluster(s) in 14 days (high needs 1) |
        | 330103 | 51 new case(s) in 14 days, 51 cumulative > 50, 0 cluster(s) in 14 days (high needs 1) |
        | 330104 | 50 new case(s) in 14 days, 50 cumulative ≤ 50 |
        | 330105 | no new case in 14 days (last 14 days ago), 1 cumulative |
        | 330110 | no case |
        """,
        keys=("county_code",),
    )


def test_every_county_every_day(engine):
    register(engine, diagnoses=DIAGNOSES)
    result = area_risk(engine, "2020-5th", FEB_1, dt.date(2020, 2, 5))
    assert result.num_rows == 90 * 5
    assert set(result["county_code"].to_pylist()) == {r.code for r in zhejiang_counties()}
    assert set(result["level"].to_pylist()) <= {"low", "medium", "high"}


def test_changing_the_cap_in_the_policy_file_changes_the_level(engine, edition):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, employments=EMPLOYMENTS)
    folder = edition("2020-5th", "area_risk", {"county.max_cumulative_medium": 51})
    result = area_risk(engine, folder, FEB_1, FEB_1)
    assert_rows(result, "| county_code | day | level |\n| 330102 | 2020-02-01 | medium |")


def test_changing_the_cluster_size_in_the_policy_file_changes_the_level(engine, edition):
    register(engine, diagnoses=DIAGNOSES, residents=RESIDENTS, employments=EMPLOYMENTS)
    folder = edition("2020-5th", "area_risk", {"cluster.min_cases": 3})
    result = area_risk(engine, folder, FEB_1, FEB_1)
    assert_rows(result, "| county_code | day | level | clusters_14d |\n| 330102 | 2020-02-01 | medium | 0 |")


# 9th edition: 330102 one case on 06-01; 330103 cases on 06-01 and again on 06-09 (back to high);
# 330104 an asymptomatic infection (counts under the 9th edition).
NINTH = """
| person_key | county_code | status       | diagnosed_at |
|------------|-------------|--------------|--------------|
| 1          | 330102      | confirmed    | 2022-06-01   |
| 2          | 330103      | confirmed    | 2022-06-01   |
| 3          | 330103      | confirmed    | 2022-06-09   |
| 4          | 330104      | asymptomatic | 2022-06-01   |
"""
NINTH_RESIDENTS = """
| person_key | household_id | county_code |
|------------|--------------|-------------|
| 1          | C1-101       | 330102      |
| 2          | C7-301       | 330103      |
| 3          | C7-302       | 330103      |
"""


def test_ninth_edition_downgrades_after_7_then_3_days(engine):
    register(engine, diagnoses=NINTH, residents=NINTH_RESIDENTS)
    result = area_risk(engine, "2022-9th", dt.date(2022, 6, 1), dt.date(2022, 6, 20))
    assert_rows(
        result,
        """
        | county_code | day        | level  | days_since_last |
        |-------------|------------|--------|-----------------|
        | 330102      | 2022-06-01 | high   | 0               |
        | 330102      | 2022-06-07 | high   | 6               |
        | 330102      | 2022-06-08 | medium | 7               |
        | 330102      | 2022-06-10 | medium | 9               |
        | 330102      | 2022-06-11 | low    | 10              |
        | 330103      | 2022-06-08 | medium | 7               |
        | 330103      | 2022-06-09 | high   | 0               |
        | 330103      | 2022-06-15 | high   | 6               |
        | 330103      | 2022-06-16 | medium | 7               |
        | 330103      | 2022-06-19 | low    | 10              |
        | 330104      | 2022-06-01 | high   | 0               |
        | 330105      | 2022-06-01 | low    |                 |
        """,
    )
    assert_rows(
        result,
        """
        | county_code | day        | reason                                                            |
        | 330102      | 2022-06-08 | compounds at risk — high: 0, medium: 1; last case 7 days ago      |
        | 330102      | 2022-06-11 | no compound at risk; last case 10 days ago                        |
        """,
    )


def test_november_2022_has_two_levels_and_lifts_a_high_area_after_5_days(engine):
    register(engine, diagnoses=NINTH, residents=NINTH_RESIDENTS)
    result = area_risk(engine, "2022-11th", dt.date(2022, 6, 1), dt.date(2022, 6, 20))
    assert_rows(
        result,
        """
        | county_code | day        | level | days_since_last |
        | 330102      | 2022-06-05 | high  | 4               |
        | 330102      | 2022-06-06 | low   | 5               |
        | 330103      | 2022-06-06 | low   | 5               |
        | 330103      | 2022-06-09 | high  | 0               |
        | 330103      | 2022-06-13 | high  | 4               |
        | 330103      | 2022-06-14 | low   | 5               |
        """,
    )
    assert "medium" not in set(result["level"].to_pylist())


def test_ninth_edition_downgrade_days_are_policy_data(engine, edition):
    register(engine, diagnoses=NINTH, residents=NINTH_RESIDENTS)
    folder = edition("2022-9th", "area_risk", {"compound.downgrades.0.days_without_case": 5})
    result = area_risk(engine, folder, dt.date(2022, 6, 1), dt.date(2022, 6, 20))
    assert_rows(
        result,
        """
        | county_code | day        | level  |
        | 330102      | 2022-06-05 | high   |
        | 330102      | 2022-06-06 | medium |
        | 330102      | 2022-06-08 | medium |
        | 330102      | 2022-06-09 | low    |
        """,
    )


def test_compounds_are_households_or_a_prefix_of_their_id(engine, edition):
    register(engine, diagnoses=NINTH, residents=NINTH_RESIDENTS)
    day = dt.date(2022, 6, 9)
    households = compound_risk(
        engine, edition("2022-9th", "area_risk", {"compound.household_id_prefix": None}), day, day
    )
    assert households.filter(pc.field("county_code") == "330103")["compound"].to_pylist() == [
        "330103:C7-301",
        "330103:C7-302",
    ]
    folder = edition("2022-9th", "area_risk", {"compound.household_id_prefix": 2})
    compounds = compound_risk(engine, folder, day, day)
    assert_rows(
        compounds,
        """
        | county_code | compound            | level  | last_case_day | days_since_last |
        | 330102      | 330102:C1           | medium | 2022-06-01    | 8               |
        | 330103      | 330103:C7           | high   | 2022-06-09    | 0               |
        | 330104      | 330104:unregistered | medium | 2022-06-01    | 8               |
        """,
        keys=("county_code", "compound"),
    )
