"""Open statistics per county, city and the province, on every engine: the rule applied after the sums."""

from __future__ import annotations

import pyarrow.compute as pc
from risk.spec import arrow, assert_rows, register

from shuzhi.public import open_statistics, publication_policy
from shuzhi.risk.area import AREA_RISK_SCHEMA
from shuzhi.risk.policy import area_risk_policy

# Two Hangzhou counties and one Wenzhou county on one day: 330102 had 9 new cases (8 local), 330106 had 3,
# 330302 none; the area-risk rows carry levels and 14-day and cumulative counts.
DIAGNOSES = """
| person_key | county_code | status    | diagnosed_at     | repeat |
| 100        | 330102      | confirmed | 2020-02-01 09:00 | 9      |
| 200        | 330106      | confirmed | 2020-02-01 10:00 | 3      |
"""
TRIPS = """
| person_key | mode  | trip_no | dep_time         | arr_time         | origin_region | destination_region |
| 100        | train | G1      | 2020-01-25 08:00 | 2020-01-25 14:00 | 420102        | 330102             |
"""
AREA_RISK = """
| county_code | day        | level  | reason | cumulative | new_14d | clusters_14d | days_since_last |
| 330102      | 2020-02-01 | medium | r      | 40         | 12      | 0            | 0               |
| 330106      | 2020-02-01 | medium | r      | 3          | 3       | 0            | 0               |
| 330302      | 2020-02-01 | low    | r      | 0          | 0       | 0            |                 |
"""
EXPECTED = """
| area_level | area_code | level  | new_cases | new_local_cases | new_14d | cumulative |
| county     | 330102    | medium | 10        | 10              | 10      | 40         |
| county     | 330106    | medium |           |                 |         |            |
| county     | 330302    | low    | 0         | 0               | 0       | 0          |
| city       | 330100    |        | 10        | 10              | 15      | 45         |
| city       | 330300    |        | 0         | 0               | 0       | 0          |
| province   | 330000    |        | 10        | 10              | 15      | 45         |
"""


def test_counts_are_withheld_or_rounded_after_the_sums(engine):
    register(engine, diagnoses=DIAGNOSES, trips=TRIPS)
    engine.register("area_risk", arrow(AREA_RISK, AREA_RISK_SCHEMA))
    rules = publication_policy("2020-5th")
    got = engine.to_arrow(open_statistics(engine, area_risk_policy("2020-5th"), rules))
    assert got.num_rows == 6
    assert_rows(got, EXPECTED, keys=("area_level", "area_code"))
    assert set(got["edition"].to_pylist()) == {"2020-5th"}
    assert pc.all(pc.equal(got["day"], got["day"][0])).as_py()
