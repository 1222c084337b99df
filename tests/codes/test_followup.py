"""Spec tests of the follow-up worklist: who is under which measure, and their scheduled tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.codes import load_policy
from shuzhi.federation.exchange import RECEIVED_SCHEMAS
from shuzhi.followup import STATUSES, followup

from .spec import expect, register
from .test_policy import _edition_copy, _set

RESIDENTS = "\n".join(["person_key | county_code", *[f"{p} | 330102" for p in range(1, 8)]])
JULY_5 = dt.date(2022, 7, 5)

# 1: close contact, last contact 1 July: tested days 1 and 3 (by PCR; day 2 only by antigen);
# 2: contact of a close contact, 4 July: day 1 is today; 3: close contact who tested positive;
# 4: close contact long ago (released); 5: a case who was also a close contact (followed as a case);
# 6: close contact of 3 July, tested on days 1 and 2; 7: close contact of 2 July who declared a fever
CONTACTS = """
case_key | contact_key | degree | classification | setting   | last_contact_at
9        | 1           | 1      | close          | household | 2022-07-01 08:00
1        | 2           | 2      | secondary      | household | 2022-07-04 20:00
9        | 3           | 1      | close          | meal      | 2022-07-02 12:00
9        | 4           | 1      | close          | meal      | 2022-06-20 12:00
9        | 5           | 1      | close          | meal      | 2022-07-02 12:00
9        | 6           | 1      | close          | workplace | 2022-07-03 09:00
9        | 7           | 1      | close          | meal      | 2022-07-02 12:00
"""
DECLARATIONS = """
person_key | declared_at      | temperature | symptoms
7          | 2022-07-01 08:00 | 38.5        | []
7          | 2022-07-03 08:00 | 36.5        | []
7          | 2022-07-04 08:00 | 36.6        | [cough]
6          | 2022-07-04 08:00 | 36.4        | []
"""
TESTS = """
person_key | sampled_at       | method  | result
1          | 2022-07-02 09:00 | pcr     | negative
1          | 2022-07-03 09:00 | antigen | negative
1          | 2022-07-04 09:00 | pcr     | negative
3          | 2022-07-03 10:00 | pcr     | positive
6          | 2022-07-04 08:00 | pcr     | negative
6          | 2022-07-05 08:00 | pcr     | negative
6          | 2022-07-06 08:00 | pcr     | positive
"""
DIAGNOSES = """
person_key | status    | diagnosed_at     | county_code
5          | confirmed | 2022-07-04 10:00 | 330102
"""


def test_the_ninth_editions_measures_and_test_days(engine):
    register(
        engine,
        residents=RESIDENTS,
        contacts=CONTACTS,
        tests=TESTS,
        diagnoses=DIAGNOSES,
        declarations=DECLARATIONS,
    )
    worklist = followup(engine, "2022-9th", JULY_5)
    expect(
        worklist,
        """
        person_key | rule              | measure               | since      | observation_day | measure_until
        3          | close_contact     | centralised_isolation | 2022-07-02 | 3               | 2022-07-12
        1          | close_contact     | centralised_isolation | 2022-07-01 | 4               | 2022-07-11
        2          | secondary_contact | home_isolation        | 2022-07-04 | 1               | 2022-07-11
        6          | close_contact     | centralised_isolation | 2022-07-03 | 2               | 2022-07-13
        7          | close_contact     | centralised_isolation | 2022-07-02 | 3               | 2022-07-12
        """,
    )
    expect(
        worklist,
        """
        person_key | taken_days | missed_days | next_test_on | status
        3          | [1]        | [2]         | 2022-07-05   | positive
        7          | []         | [1, 2]      | 2022-07-05   | symptomatic
        1          | [1, 3]     | [2]         | 2022-07-06   | missed
        2          | []         | []          | 2022-07-05   | due
        6          | [1, 2]     | []          | 2022-07-06   | on_schedule
        """,
    )
    expect(
        worklist,
        """
        person_key | positive_at      | symptoms_at
        3          | 2022-07-03 10:00 |
        7          |                  | 2022-07-04 08:00
        1          |                  |
        2          |                  |
        6          |                  |
        """,
    )
    assert worklist["status"].to_pylist() == list(STATUSES)  # most urgent first
    # 7's fever came before the evidence day (the contact), the cough after it
    [seven] = worklist.filter(pc.equal(worklist["person_key"], 7))["reason"].to_pylist()
    assert seven.endswith("; fever or symptoms declared 2022-07-04 08:00: refer for diagnosis")
    assert "2022-07-04 08:00 申报发热或症状，转诊 / " in seven
    reason = worklist.filter(pc.equal(worklist["person_key"], 1))["reason"][0].as_py()
    assert reason == (
        "集中隔离医学观察 第4天（共10天，自2022-07-01）；核酸检测日 1、2、3、5、7、10；已检 1、3；漏检 2；"
        "下次 2022-07-06 / centralised isolation, day 4 of 10 (since 2022-07-01); "
        "tests on days 1, 2, 3, 5, 7, 10; taken 1, 3; missed 2; next 2022-07-06"
    )


def test_medical_observation_without_tests_in_2020(engine):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting | last_contact_at
        9        | 1           | 1      | close          | meal    | 2020-01-23 19:30
        9        | 2           | 1      | close          | meal    | 2020-01-23 19:30
        """,
        tests="""
        person_key | sampled_at       | method | result
        2          | 2020-01-30 10:00 | pcr    | positive
        """,
    )
    expect(
        followup(engine, "2020-5th", dt.date(2020, 2, 6)),
        """
        person_key | measure             | observation_day | measure_until | positive_at      | status
        2          | medical_observation | 14              | 2020-02-06    | 2020-01-30 10:00 | positive
        1          | medical_observation | 14              | 2020-02-06    |                  | on_schedule
        """,
    )
    assert followup(engine, "2020-5th", dt.date(2020, 2, 7)).num_rows == 0  # the yellow week has no measure
    reasons = followup(engine, "2020-5th", dt.date(2020, 2, 6))["reason"].to_pylist()
    assert reasons == [
        "医学观察 第14天（共14天，自2020-01-23）；2020-01-30 10:00 采样阳性，转诊"
        " / medical observation, day 14 of 14 (since 2020-01-23); positive sample 2020-01-30 10:00: refer for"
        " diagnosis",
        "医学观察 第14天（共14天，自2020-01-23） / medical observation, day 14 of 14 (since 2020-01-23)",
    ]


def test_changing_the_test_days_changes_the_worklist(engine, tmp_path):
    register(engine, residents=RESIDENTS, contacts=CONTACTS, tests=TESTS, diagnoses=DIAGNOSES)
    fewer = _edition_copy(tmp_path, "2022-9th", _set("rules.1.tests.days", [1, 3, 7]))
    expect(
        followup(engine, fewer, JULY_5).filter(pc.is_in(pc.field("person_key"), pa.array([1, 2]))),
        """
        person_key | taken_days | missed_days | next_test_on | status
        1          | [1, 3]     | []          | 2022-07-08   | on_schedule
        2          | []         | []          | 2022-07-05   | due
        """,
    )
    pcr_or_antigen = _edition_copy(
        tmp_path / "b", "2022-9th", _set("rules.1.tests.methods", ["pcr", "antigen"])
    )
    [row] = followup(engine, pcr_or_antigen, JULY_5).filter(pc.equal(pc.field("person_key"), 1)).to_pylist()
    assert (row["taken_days"], row["missed_days"], row["status"]) == ([1, 2, 3], [], "on_schedule")


def test_no_one_under_a_measure_is_an_empty_worklist(engine):
    register(engine, residents=RESIDENTS)
    assert followup(engine, load_policy("2022-9th"), JULY_5).num_rows == 0


def test_november_2022_five_days_in_isolation_then_three_at_home(engine):
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at
        9        | 1           | 1      | close          | household | 2022-11-20 08:00
        1        | 2           | 2      | secondary      | household | 2022-11-21 08:00
        """,
        tests="""
        person_key | sampled_at       | method | result
        1          | 2022-11-26 09:00 | pcr    | negative
        """,
    )
    on = {day: followup(engine, "2022-11th", dt.date(2022, 11, day)) for day in (25, 26, 28, 29)}
    rows = [
        (d, r["measure"], r["observation_day"], r["taken_days"], r["next_test_on"])
        for d in on
        for r in on[d].to_pylist()
    ]
    assert rows == [
        (25, "centralised_isolation", 5, [], dt.date(2022, 11, 25)),
        (26, "home_isolation", 6, [6], dt.date(2022, 11, 28)),
        (28, "home_isolation", 8, [6], dt.date(2022, 11, 28)),
    ]  # no one on the 29th; contacts of contacts have no rule (the edition no longer identifies them)


def test_a_contact_another_region_handed_over_is_followed_here(engine):
    register(engine, residents=RESIDENTS)
    schema = RECEIVED_SCHEMAS["received_contacts"]
    contact = {"case_key": 8, "contact_key": 4, "degree": 1, "classification": "close", "rule": "household"}
    contact |= {"setting": "household", "last_contact_at": dt.datetime(2022, 7, 3, 18), "evidence": "Nanjing"}
    handed_over = pa.Table.from_pylist([{**contact, "from_region": "320100"}], schema)
    engine.register("received_contacts", handed_over)
    [row] = followup(engine, "2022-9th", JULY_5).to_pylist()
    assert (row["person_key"], row["rule"], row["observation_day"], row["status"]) == (
        4,
        "close_contact",
        2,
        "missed",
    )
