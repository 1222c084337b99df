"""The one index and the return-to-work index: values from their sub-indicators, weights as policy data."""

from __future__ import annotations

import datetime as dt

import pytest

from risk.spec import arrow, assert_rows, register
from shuzhi.risk.flows import RISK_AREAS_SCHEMA
from shuzhi.risk.index import index, recompute, return_to_work
from shuzhi.risk.policy import index_policy

DAY = dt.date(2020, 2, 10)
COUNTIES = ["330102", "330106"]
KEYS = ("area_code", "day")
AREA = ("area_code",)  # one day

# 20,000 residents in 330102, 10,000 in 330106. Two cases in 330102 (person 1 already under home observation);
# person 3 arrived from medium-risk Lucheng on 02-08. One trip a day from 330106 to 330102 in the baseline
# week (02-01 .. 02-07, the first seven days of trips), two on 02-10.
INPUTS = {
    "residents": """
        | person_key | county_code | repeat |
        | 1          | 330102      | 20000  |
        | 100001     | 330106      | 10000  |
    """,
    "diagnoses": """
        | person_key | county_code | status    | diagnosed_at |
        | 1          | 330102      | confirmed | 2020-02-08   |
        | 2          | 330102      | confirmed | 2020-02-09   |
    """,
    "home_observations": """
        | person_key | county_code | start_date | end_date   |
        | 1          | 330102      | 2020-02-01 | 2020-02-14 |
    """,
    "trips": """
        | person_key | mode | trip_no | dep_time | arr_time | origin_region | destination_region |
        | 100001 | bus | B1 | 2020-02-01 08:00 | 2020-02-01 09:00 | 330106 | 330102 |
        | 100002 | bus | B2 | 2020-02-02 08:00 | 2020-02-02 09:00 | 330106 | 330102 |
        | 100003 | bus | B3 | 2020-02-03 08:00 | 2020-02-03 09:00 | 330106 | 330102 |
        | 100004 | bus | B4 | 2020-02-04 08:00 | 2020-02-04 09:00 | 330106 | 330102 |
        | 100005 | bus | B5 | 2020-02-05 08:00 | 2020-02-05 09:00 | 330106 | 330102 |
        | 100006 | bus | B6 | 2020-02-06 08:00 | 2020-02-06 09:00 | 330106 | 330102 |
        | 100007 | bus | B7 | 2020-02-07 08:00 | 2020-02-07 09:00 | 330106 | 330102 |
        | 3 | bus | K1 | 2020-02-08 08:00 | 2020-02-08 12:00 | 330302 | 330102 |
        | 100100 | bus | B9 | 2020-02-10 08:00 | 2020-02-10 09:00 | 330106 | 330102 |
        | 100101 | bus | B9 | 2020-02-10 08:00 | 2020-02-10 09:00 | 330106 | 330102 |
    """,
}
RISK = arrow("| region_code | day | level |\n| 330302 | 2020-02-10 | medium |", RISK_AREAS_SCHEMA)


def _inputs(engine) -> None:
    register(engine, **INPUTS)


def test_index_values_by_hand(engine):
    _inputs(engine)
    result = index(engine, "2020-5th", "2020-5th", DAY, DAY, counties=COUNTIES, risk=RISK)
    # 330102: 2 new per 20,000 = 10 per 100k (reference 10: score 0); 1 day without a case (1/28 of 100);
    # half of the new cases found under observation (50); 5 risk arrivals per 100k (reference 500: 99);
    # inflow twice the baseline (100); no outflow in the baseline: that indicator drops out.
    assert_rows(
        result,
        """
        | area_code | population | new_14d | new_observed_14d | risk_arrivals_14d | inflow | inflow_baseline |
        | 330102    | 20000      | 2       | 1                | 1                 | 2      | 1.0             |
        """,
        keys=AREA,
    )
    control = (0.4 * 0 + 0.2 * 100 / 28 + 0.2 * 50 + 0.2 * 99) / 1.0
    total = (control + 100) / 2
    assert_rows(
        result,
        f"""
        | area_code | score_days_without_case | score_outflow_vs_baseline | control   | flow  | index   |
        | 330102    | {100 / 28}              |                           | {control} | 100.0 | {total} |
        """,
        keys=AREA,
    )


def test_city_from_its_counties_and_missing_sub_index_drops_out(engine):
    _inputs(engine)
    result = index(engine, "2020-5th", "2020-5th", DAY, DAY, counties=COUNTIES, risk=RISK)
    # Hangzhou: trips between its own counties are not inflow; no baseline inflow from outside → no flow value
    assert_rows(
        result,
        """
        | area_code | area_level | day        | population | new_14d | inflow | inflow_vs_baseline | flow |
        | 330100    | city       | 2020-02-10 | 30000      | 2       | 0      |                    |      |
        """,
        keys=KEYS,
    )
    city = next(r for r in result.to_pylist() if r["area_code"] == "330100")
    assert city["index"] == pytest.approx(city["control"])


def test_index_recomputes_from_its_sub_indicators(engine):
    _inputs(engine)
    result = index(engine, "2020-5th", "2020-5th", dt.date(2020, 2, 7), DAY, counties=COUNTIES, risk=RISK)
    policy = index_policy("2020-5th")
    assert result.num_rows == (len(COUNTIES) + 1) * 4
    for row in result.to_pylist():
        again = recompute(row, policy)
        for name in ("control", "flow", "index"):
            assert row[name] == pytest.approx(again[name]), (row["area_code"], row["day"], name)


def test_weights_are_policy_data(engine, edition):
    _inputs(engine)
    folder = edition("2020-5th", "index", {"control.weight": 1.0, "flow.weight": 0.0})
    result = index(engine, folder, "2020-5th", DAY, DAY, counties=COUNTIES, risk=RISK)
    row = next(r for r in result.to_pylist() if r["area_code"] == "330102")
    assert row["index"] == pytest.approx(row["control"])


# Zhejiang, 2020-02-19: 57.60% of firms back at work, 45.28% of the December 2019 electricity use → 51.44.
# 125 firms use 80 kWh a day in the baseline week; on 02-19, 71 use 63 kWh and one 55 kWh (all ≥ 30% of 80:
# back), 53 nothing: 72/125 = 57.60%, 4,528/10,000 kWh = 45.28%.
ENTERPRISES = """
| enterprise_code | county_code | repeat |
| F{i}            | 330102      | 125    |
"""
ELECTRICITY = (
    "| enterprise_code | day | kwh | repeat |\n"
    + "".join(f"| F{{i}} | 2019-12-0{d} | 80 | 125 |\n" for d in range(1, 8))
    + """
| F{i} | 2020-02-19 | 63 | 71 |
| F71  | 2020-02-19 | 55 |    |
"""
)


def test_return_to_work_reproduces_zhejiang_51_44(engine):
    register(engine, enterprises=ENTERPRISES, electricity=ELECTRICITY)
    day = dt.date(2020, 2, 19)
    result = return_to_work(engine, "2020-5th", day, day, counties=COUNTIES)
    assert_rows(
        result,
        """
        | area_code | firms | firms_back | firms_back_pct | kwh    | baseline_kwh | electricity_pct | index |
        | 330102    | 125   | 72         | 57.60          | 4528.0 | 10000.0      | 45.28           | 51.44 |
        | 330100    | 125   | 72         | 57.60          | 4528.0 | 10000.0      | 45.28           | 51.44 |
        | 330106    | 0     | 0          |                | 0.0    | 0.0          |                 |       |
        """,
        keys=AREA,
    )


def test_return_to_work_threshold_and_baseline_are_policy_data(engine, edition):
    register(engine, enterprises=ENTERPRISES, electricity=ELECTRICITY)
    day = dt.date(2020, 2, 19)
    folder = edition("2020-5th", "index", {"return_to_work.firm_back_min_share": 0.75})
    result = return_to_work(engine, folder, day, day, counties=COUNTIES)
    assert_rows(result, "| area_code | day | firms_back |\n| 330102 | 2020-02-19 | 71 |", keys=KEYS)
    folder = edition("2020-5th", "index", {"baseline.start": "2019-12-01", "baseline.end": "2019-12-14"})
    result = return_to_work(engine, folder, day, day, counties=COUNTIES)
    assert_rows(result, "| area_code | day | baseline_kwh |\n| 330102 | 2020-02-19 | 5000.0 |", keys=KEYS)
