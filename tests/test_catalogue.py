"""The catalogue's measures as spec tables on every engine: the time from a case to its close contacts under
observation (the first observation order on or after the diagnosis day counts, an earlier one does not, a
contact never ordered is left out, and a contact of two cases counts for each); the share of scheduled tests
taken (on the follow-up worklist)."""

from __future__ import annotations

import pytest
import spec_tables
from engines import ENGINE_PARAMS, make_engine

from shuzhi.catalogue.catalogue import measures
from shuzhi.engine import Engine
from shuzhi.followup import FOLLOWUP
from shuzhi.model import DIAGNOSES, HOME_OBSERVATIONS
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

TABLES = {
    "diagnoses": """
    | person_key | status    | onset_date | diagnosed_at     |
    | 1          | confirmed | 2022-03-01 | 2022-03-03 10:00 |
    | 1          | confirmed | 2022-03-01 | 2022-03-05 10:00 |
    | 2          | confirmed | 2022-03-04 | 2022-03-06 22:00 |
    """,
    "contacts": """
    | case_key | contact_key | degree | classification | rule         | setting   | evidence |
    | 1        | 11          | 1      | close          | household    | household | h        |
    | 1        | 12          | 1      | close          | shared_table | meal      | m        |
    | 1        | 13          | 1      | close          | shared_table | meal      | m        |
    | 1        | 14          | 1      | companion      | same_cell    | cell      | c        |
    | 2        | 12          | 1      | close          | shared_table | meal      | m        |
    """,
    "home_observations": """
    | person_key | county_code | start_date | end_date   | reason        |
    | 11         | 330102      | 2022-03-01 | 2022-03-14 | arrival       |
    | 11         | 330102      | 2022-03-04 | 2022-03-17 | close_contact |
    | 12         | 330102      | 2022-03-03 | 2022-03-16 | close_contact |
    | 12         | 330102      | 2022-03-09 | 2022-03-22 | close_contact |
    | 14         | 330102      | 2022-03-03 | 2022-03-16 | close_contact |
    """,
}
SCHEMAS = {
    "diagnoses": DIAGNOSES.schema,
    "contacts": CONTACTS_SCHEMA,
    "home_observations": HOME_OBSERVATIONS.schema,
}


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request) -> Engine:
    return make_engine(request)


def _measure(engine: Engine) -> float | None:
    return {m.name: m for m in measures(engine)}["case to contacts under observation"].value


def test_days_from_a_case_to_its_close_contacts_under_observation(engine: Engine) -> None:
    spec_tables.register(engine, TABLES, SCHEMAS.get)
    # case 1 (diagnosed 03-03): contact 11 ordered 03-04 (1 day; the order of 03-01 came before), 12 on 03-03
    # (0), 13 never (left out), 14 is a companion; case 2 (03-06): contact 12 ordered 03-09 (3 days)
    assert _measure(engine) == 1.0


def test_without_the_tables_it_says_which_are_missing(engine: Engine) -> None:
    spec_tables.register(engine, {"contacts": TABLES["contacts"]}, SCHEMAS.get)
    measure = {m.name: m for m in measures(engine)}["case to contacts under observation"]
    assert measure.value is None and measure.how.endswith("no diagnoses, home_observations")


def test_the_share_of_scheduled_tests_taken_is_read_off_the_worklist(engine: Engine) -> None:
    worklist = """
    | person_key | taken_days | missed_days | status      |
    | 1          | [1, 3]     | [2]         | missed      |
    | 2          | []         | []          | due         |
    | 3          | [1, 2, 3]  | [5]         | missed      |
    | 4          |            |             | on_schedule |
    """
    spec_tables.register(engine, {"followup": worklist}, {"followup": FOLLOWUP}.get)
    measure = {m.name: m for m in measures(engine)}["scheduled tests taken"]
    assert (measure.value, measure.unit) == (71.4, "%")  # 5 of 7


def test_the_share_of_daily_health_checks_made_yesterday_is_read_off_the_worklist(engine: Engine) -> None:
    worklist = """
    | person_key | observation_day | checks_per_day | silent_days | status      |
    | 1          | 4               | 2              | [2]         | on_schedule |
    | 2          | 4               | 2              | [1, 3]      | silent      |
    | 3          | 1               | 2              | []          | due         |
    | 4          | 9               |                | []          | on_schedule |
    | 5          | 2               | 2              |             | on_schedule |
    """
    spec_tables.register(engine, {"followup": worklist}, {"followup": FOLLOWUP}.get)
    measure = {m.name: m for m in measures(engine)}["daily health checks made"]
    # 3 is on day 1 (no day before), 4's rule asks for no checks: 1 and 5 of 1, 2 and 5 checked yesterday
    assert (measure.value, measure.unit) == (66.7, "%")
