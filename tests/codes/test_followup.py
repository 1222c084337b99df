"""Spec tests of the follow-up worklist: who is under which measure, and their scheduled tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.codes import load_policy
from shuzhi.federation.exchange import RECEIVED_SCHEMAS
from shuzhi.followup import STATUSES, followup

from .spec import expect, register
from .test_policy import DELETE, _edition_copy, _set

RESIDENTS = "\n".join(["person_key | county_code", *[f"{p} | 330102" for p in range(1, 8)], "8 | 330105"])
JULY_5 = dt.date(2022, 7, 5)

# 1: close contact, last contact 1 July: tested days 1 and 3 (by PCR; day 2 only by antigen);
# 2: contact of a close contact, 4 July: day 1 is today; 3: close contact who tested positive;
# 4: close contact long ago (released); 5: a case who was also a close contact (followed as a case);
# 6: close contact of 3 July, tested on days 1 and 2; 7: close contact of 2 July who declared a fever;
# 8: close contact of 2 July, never tested, who declared twice on day 1 and not since (the edition asks
# for two health checks a day: 1 made one on day 2, 6 both on day 1)
CONTACTS = """
case_key | contact_key | degree | classification | setting   | last_contact_at
9        | 1           | 1      | close          | household | 2022-07-01 08:00
1        | 2           | 2      | secondary      | household | 2022-07-04 20:00
9        | 3           | 1      | close          | meal      | 2022-07-02 12:00
9        | 4           | 1      | close          | meal      | 2022-06-20 12:00
9        | 5           | 1      | close          | meal      | 2022-07-02 12:00
9        | 6           | 1      | close          | workplace | 2022-07-03 09:00
9        | 7           | 1      | close          | meal      | 2022-07-02 12:00
9        | 8           | 1      | close          | meal      | 2022-07-02 12:00
"""
DECLARATIONS = """
person_key | declared_at      | temperature | symptoms
7          | 2022-07-01 08:00 | 38.5        | []
7          | 2022-07-03 08:00 | 36.5        | []
7          | 2022-07-04 08:00 | 36.6        | [cough]
6          | 2022-07-04 08:00 | 36.4        | []
6          | 2022-07-04 20:00 | 36.5        | []
1          | 2022-07-02 08:00 | 36.5        | []
1          | 2022-07-02 20:00 | 36.6        | []
1          | 2022-07-03 08:00 | 36.5        | []
1          | 2022-07-04 08:00 | 36.4        | []
1          | 2022-07-04 20:00 | 36.5        | []
8          | 2022-07-03 08:00 | 36.5        | []
8          | 2022-07-03 20:00 | 36.7        | []
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


def _register_july(engine, tests: bool = True) -> None:
    """The July 2022 tables above (without the tests: an empty table)."""
    july = {"contacts": CONTACTS, "diagnoses": DIAGNOSES, "declarations": DECLARATIONS}
    register(engine, residents=RESIDENTS, **july, **({"tests": TESTS} if tests else {}))


def test_the_ninth_editions_measures_and_test_days(engine):
    _register_july(engine)
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
        8          | close_contact     | centralised_isolation | 2022-07-02 | 3               | 2022-07-12
        """,
    )
    expect(
        worklist,
        """
        person_key | county_code
        3          | 330102
        1          | 330102
        2          | 330102
        6          | 330102
        7          | 330102
        8          | 330105
        """,
    )  # where each is registered: which county's team follows them up
    expect(
        worklist,
        """
        person_key | taken_days | missed_days | next_test_on | silent_days | status
        3          | [1]        | [2]         | 2022-07-05   | [1, 2]      | positive
        7          | []         | [1, 2]      | 2022-07-05   | [1, 2]      | symptomatic
        8          | []         | [1, 2]      | 2022-07-05   | [2]         | silent
        1          | [1, 3]     | [2]         | 2022-07-06   | [2]         | missed
        2          | []         | []          | 2022-07-05   | []          | due
        6          | [1, 2]     | []          | 2022-07-06   | []          | on_schedule
        """,
    )
    expect(
        worklist,
        """
        person_key | positive_at      | symptoms_at      | checks_per_day | last_check_at
        3          | 2022-07-03 10:00 |                  | 2              |
        7          |                  | 2022-07-04 08:00 | 2              | 2022-07-04 08:00
        8          |                  |                  | 2              | 2022-07-03 20:00
        1          |                  |                  | 2              | 2022-07-04 20:00
        2          |                  |                  | 2              |
        6          |                  |                  | 2              | 2022-07-04 20:00
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
        "下次 2022-07-06；每日体温与症状监测2次；漏报 2；最近申报 2022-07-04 20:00"
        " / centralised isolation, day 4 of 10 (since 2022-07-01); "
        "tests on days 1, 2, 3, 5, 7, 10; taken 1, 3; missed 2; next 2022-07-06; 2 health checks a day; "
        "checks missed on days 2; last check 2022-07-04 20:00"
    )
    [eight] = worklist.filter(pc.equal(worklist["person_key"], 8))["reason"].to_pylist()
    assert eight.endswith("; checks missed on days 2; last check 2022-07-03 20:00")
    [two] = worklist.filter(pc.equal(worklist["person_key"], 2))["reason"].to_pylist()
    assert two.endswith("; next 2022-07-05; 2 health checks a day")  # day 1 is today: none missed yet


def _twice_a_day(person: int, first: dt.date, days: int, skip: set[str]) -> str:
    """A declarations table: ``person`` declares at 08:00 and 20:00 for ``days`` days, but at the times in
    ``skip``."""
    times = [f"{first + dt.timedelta(days=d)} {hour}" for d in range(days) for hour in ("08:00", "20:00")]
    rows = [f"{person} | {at} | 36.5 | []" for at in times if at not in skip]
    return "\n".join(["person_key | declared_at | temperature | symptoms", *rows])


def test_medical_observation_without_tests_in_2020(engine):
    # 1 declares twice a day from day 1 (24 January) to day 13 but on the evening of day 12; 2 never declares
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
        declarations=_twice_a_day(1, dt.date(2020, 1, 24), 13, skip={"2020-02-04 20:00"}),
    )
    expect(
        followup(engine, "2020-5th", dt.date(2020, 2, 6)),
        """
        person_key | measure             | observation_day | measure_until | positive_at      | status
        2          | medical_observation | 14              | 2020-02-06    | 2020-01-30 10:00 | positive
        1          | medical_observation | 14              | 2020-02-06    |                  | on_schedule
        """,
    )
    silent = followup(engine, "2020-5th", dt.date(2020, 2, 6))["silent_days"].to_pylist()
    assert silent == [list(range(1, 14)), [12]]
    on_day_13 = followup(engine, "2020-5th", dt.date(2020, 2, 5)).to_pylist()
    assert [(r["person_key"], r["status"]) for r in on_day_13] == [(2, "positive"), (1, "silent")]
    assert followup(engine, "2020-5th", dt.date(2020, 2, 7)).num_rows == 0  # the yellow week has no measure
    reasons = followup(engine, "2020-5th", dt.date(2020, 2, 6))["reason"].to_pylist()
    assert reasons == [
        "医学观察 第14天（共14天，自2020-01-23）；每日体温与症状监测2次；"
        "漏报 1、2、3、4、5、6、7、8、9、10、11、12、13；最近申报 无；2020-01-30 10:00 采样阳性，转诊"
        " / medical observation, day 14 of 14 (since 2020-01-23); 2 health checks a day; checks missed on"
        " days 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13; last check none; positive sample 2020-01-30 10:00:"
        " refer for diagnosis",
        "医学观察 第14天（共14天，自2020-01-23）；每日体温与症状监测2次；漏报 12；最近申报 2020-02-05 20:00"
        " / medical observation, day 14 of 14 (since 2020-01-23); 2 health checks a day; checks missed on"
        " days 12; last check 2020-02-05 20:00",
    ]


def test_changing_the_test_days_changes_the_worklist(engine, tmp_path):
    _register_july(engine)
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
    assert (row["person_key"], row["rule"], row["observation_day"], row["missed_days"], row["status"]) == (
        4,
        "close_contact",
        2,
        [1],
        "silent",  # no declaration on day 1 either
    )


def test_changing_the_daily_checks_changes_the_worklist(engine, tmp_path):
    _register_july(engine, tests=False)
    once = _edition_copy(tmp_path, "2022-9th", _set("rules.1.checks.per_day", 1))
    expect(
        followup(engine, once, JULY_5).filter(pc.is_in(pc.field("person_key"), pa.array([1, 6, 8]))),
        """
        person_key | checks_per_day | silent_days | status
        8          | 1              | [2]         | silent
        1          | 1              | []          | missed
        6          | 1              | []          | missed
        """,
    )
    unchecked = _edition_copy(tmp_path / "b", "2022-9th", _set("rules.1.checks", DELETE))
    rows = followup(engine, unchecked, JULY_5).filter(pc.equal(pc.field("person_key"), 8)).to_pylist()
    assert [(r["checks_per_day"], r["silent_days"], r["status"]) for r in rows] == [(None, [], "missed")]


def test_a_contact_traced_late_is_held_only_to_the_days_after_tracing_found_them(engine):
    # 1 and 2 met the case on 1 July; tracing found 1 on the 3rd (day 2) and 2 on the 6th; both silent
    register(
        engine,
        residents=RESIDENTS,
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at  | traced_at
        9        | 1           | 1      | close          | household | 2022-07-01 08:00 | 2022-07-03 15:00
        9        | 2           | 1      | close          | household | 2022-07-01 08:00 | 2022-07-06 11:00
        """,
    )
    expect(
        followup(engine, "2022-9th", JULY_5),
        """
        person_key | since      | traced_on  | observation_day | missed_days | silent_days | status
        1          | 2022-07-01 | 2022-07-03 | 4               | [3]         | [3]         | silent
        """,
    )  # day 3's test (the 4th) was not taken: missed
    assert followup(engine, "2022-9th", JULY_5)["next_test_on"].to_pylist() == [dt.date(2022, 7, 6)]
    [one] = followup(engine, "2022-9th", dt.date(2022, 7, 3)).to_pylist()
    assert (one["missed_days"], one["silent_days"], one["next_test_on"]) == ([], [], dt.date(2022, 7, 4))
    assert one["reason"].startswith("集中隔离医学观察 第2天（共10天，自2022-07-01，追踪于2022-07-03）；")
    assert "centralised isolation, day 2 of 10 (since 2022-07-01, traced on 2022-07-03); " in one["reason"]
    on_the_7th = followup(engine, "2022-9th", dt.date(2022, 7, 7))
    assert on_the_7th["person_key"].to_pylist() == [1, 2]
    assert on_the_7th["missed_days"].to_pylist() == [[3, 5], []]
