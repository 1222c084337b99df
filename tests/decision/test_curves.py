"""Epidemic curves from the lake's diagnoses, per county, city and province, on every engine."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
from risk.spec import assert_rows, register

from shuzhi.decision import daily_cases, epi_policy, epidemic
from shuzhi.risk.policy import area_risk_policy

# 1: diagnosed twice, counted once, on the first day; 5: suspected, not a case under the 2020 rule;
# 4: back from Wuhan a week before diagnosis, so imported (outside the province within 14 days)
DIAGNOSES = """
| person_key | county_code | status    | diagnosed_at     |
| 1          | 330102      | confirmed | 2020-02-01 09:00 |
| 1          | 330102      | confirmed | 2020-02-03 09:00 |
| 2          | 330102      | confirmed | 2020-02-01 18:00 |
| 3          | 330106      | confirmed | 2020-02-02 10:00 |
| 4          | 330302      | confirmed | 2020-02-02 11:00 |
| 5          | 330302      | suspected | 2020-02-02 11:00 |
"""
TRIPS = """
| person_key | mode  | trip_no | dep_time         | arr_time         | origin_region | destination_region |
| 4          | train | G1      | 2020-01-25 08:00 | 2020-01-25 14:00 | 420102        | 330302             |
"""
EXPECTED = """
| area_level | area_code | day        | cases | local_cases |
| county     | 330102    | 2020-02-01 | 2     | 2           |
| county     | 330106    | 2020-02-02 | 1     | 1           |
| county     | 330302    | 2020-02-02 | 1     | 0           |
| city       | 330100    | 2020-02-01 | 2     | 2           |
| city       | 330100    | 2020-02-02 | 1     | 1           |
| city       | 330300    | 2020-02-02 | 1     | 0           |
| province   | 330000    | 2020-02-01 | 2     | 2           |
| province   | 330000    | 2020-02-02 | 2     | 1           |
"""
KEYS = ("area_level", "area_code", "day")


def test_new_cases_per_day_per_area_local_and_imported(engine):
    register(engine, diagnoses=DIAGNOSES, trips=TRIPS)
    got = engine.to_arrow(daily_cases(engine, area_risk_policy("2020-5th")))
    assert got.num_rows == 8
    assert_rows(got, EXPECTED, keys=KEYS)


def test_the_curves_cover_every_day_and_say_why_there_is_no_r_yet(engine):
    register(engine, diagnoses=DIAGNOSES, trips=TRIPS)
    start, end = dt.date(2020, 2, 1), dt.date(2020, 2, 3)
    curves = epidemic(engine, epi_policy("2020-5th"), area_risk_policy("2020-5th"), start, end)
    province = curves.filter(pc.equal(curves["area_level"], "province"))
    assert_rows(
        province,
        """
        | area_level | area_code | day        | projected | cases | local_cases | cumulative | edition  |
        | province   | 330000    | 2020-02-01 | false     | 2     | 2           | 2          | 2020-5th |
        | province   | 330000    | 2020-02-02 | false     | 2     | 1           | 4          | 2020-5th |
        | province   | 330000    | 2020-02-03 | false     | 0     | 0           | 4          | 2020-5th |
        """,
        keys=KEYS,
    )
    assert province.num_rows == 3  # no estimate, so no projection
    assert pc.all(pc.is_null(province["rt_mean"])).as_py()
    assert set(province["reason"].to_pylist()) == {"no estimate: fewer than 7 days of data"}
    assert curves.num_rows == 3 * 6  # province, two cities, three counties
