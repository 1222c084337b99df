"""Each county's residents, risk level, recent close contacts and active cases, on every engine."""

from __future__ import annotations

import datetime as dt

from risk.spec import arrow, assert_rows, register

from shuzhi.risk.area import AREA_RISK_SCHEMA
from shuzhi.risk.policy import area_risk_policy
from shuzhi.supplies import supplies_policy
from shuzhi.supplies.needs import county_needs
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

DAY = dt.date(2020, 2, 10)
RESIDENTS = """
| person_key | county_code | repeat |
| 100        | 330102      | 5      |
| 200        | 330106      | 3      |
"""
# 100 and 101 listed within the week (101 twice: counted once); 102 eight days before: not recent;
# 200 is a companion, not a close contact
CONTACTS = """
| case_key | contact_key | degree | classification | rule | setting | first_contact_at | evidence |
| 9        | 100         | 1      | close          | r    | s       | 2020-02-09 10:00 | e        |
| 9        | 101         | 1      | close          | r    | s       | 2020-02-04 10:00 | e        |
| 8        | 101         | 1      | close          | r    | s       | 2020-02-05 10:00 | e        |
| 9        | 102         | 1      | close          | r    | s       | 2020-02-02 10:00 | e        |
| 9        | 200         | 1      | companion      | r    | s       | 2020-02-09 10:00 | e        |
"""
# 330102: one case 13 days back (active), one 14 days back (not); the suspected case is no case in 2020
DIAGNOSES = """
| person_key | county_code | status    | diagnosed_at     |
| 9          | 330102      | confirmed | 2020-01-28 10:00 |
| 8          | 330102      | confirmed | 2020-01-27 10:00 |
| 7          | 330106      | suspected | 2020-02-09 10:00 |
"""
AREA_RISK = """
| county_code | day        | level  | reason | cumulative | new_14d | clusters_14d | days_since_last |
| 330102      | 2020-02-10 | medium | r      | 2          | 1       | 0            | 13              |
"""


def test_a_county_s_needs_come_from_its_residents_risk_contacts_and_cases(engine):
    register(engine, residents=RESIDENTS, diagnoses=DIAGNOSES)
    engine.register("contacts", arrow(CONTACTS, CONTACTS_SCHEMA))
    engine.register("area_risk", arrow(AREA_RISK, AREA_RISK_SCHEMA))
    got = engine.to_arrow(
        county_needs(engine, supplies_policy("2020-5th"), area_risk_policy("2020-5th"), DAY)
    )
    assert got.num_rows == 2
    assert_rows(
        got,
        """
        | county_code | level  | residents | recent_close_contacts | active_cases |
        | 330102      | medium | 5         | 2                     | 1            |
        | 330106      | low    | 3         | 0                     | 0            |
        """,
        keys=("county_code",),
    )
