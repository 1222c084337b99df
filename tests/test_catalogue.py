"""The catalogue's measures as spec tables on every engine: the time from a case to its close contacts under
observation (the first observation order on or after the diagnosis day counts, an earlier one does not, a
contact never ordered is left out, and a contact of two cases counts for each); the share of scheduled tests
taken (on the follow-up worklist)."""

from __future__ import annotations

import pyarrow as pa
import pytest
import spec_tables
from engines import ENGINE_PARAMS, make_engine

from shuzhi.catalogue.catalogue import measures
from shuzhi.engine import Engine
from shuzhi.followup import FOLLOWUP
from shuzhi.model import DECLARATIONS, DIAGNOSES, HOME_OBSERVATIONS
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

TABLES = {
    "diagnoses": """
    | person_key | status    | onset_date | diagnosed_at     |
    | 1          | confirmed | 2022-03-01 | 2022-03-03 10:00 |
    | 1          | confirmed | 2022-03-01 | 2022-03-05 10:00 |
    | 2          | confirmed | 2022-03-04 | 2022-03-06 22:00 |
    """,
    "contacts": """
    | case_key | contact_key | classification | last_contact_at  | traced_at        |
    | 1        | 11          | close          | 2022-03-03 08:00 | 2022-03-03 10:00 |
    | 1        | 12          | close          | 2022-03-01 12:00 | 2022-03-03 10:00 |
    | 1        | 13          | close          | 2022-03-02 10:00 | 2022-03-03 10:00 |
    | 1        | 14          | companion      | 2022-02-20 10:00 | 2022-03-03 10:00 |
    | 2        | 12          | close          | 2022-03-06 20:00 |                  |
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
    "contacts": pa.schema([f.with_nullable(True) for f in CONTACTS_SCHEMA]),  # what the measures read
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


def test_hours_from_the_last_contact_to_tracing(engine: Engine) -> None:
    spec_tables.register(engine, TABLES, SCHEMAS.get)
    measure = {m.name: m for m in measures(engine)}["contact to tracing"]
    # close contacts of case 1: 2, 46 and 24 hours (the companion, and a row without traced_at, left out)
    assert (measure.value, measure.unit) == (24.0, "hours")


def test_hours_from_tracing_to_the_first_health_check_after_it(engine: Engine) -> None:
    declarations = """
    | person_key | declared_at      | temperature |
    | 11         | 2022-03-03 08:00 | 36.5        |
    | 11         | 2022-03-03 20:00 | 36.6        |
    | 12         | 2022-03-04 10:00 | 36.4        |
    | 12         | 2022-03-06 09:00 | 36.4        |
    | 14         | 2022-03-03 11:00 | 36.5        |
    """
    tables = {"contacts": TABLES["contacts"], "declarations": declarations}
    spec_tables.register(engine, tables, {**SCHEMAS, "declarations": DECLARATIONS.schema}.get)
    measure = {m.name: m for m in measures(engine)}["tracing to first check"]
    # traced 03-03 10:00: 11 first declared after it at 20:00 (10 h; the morning one came before), 12 the next
    # day at 10:00 (24 h; traced again as case 2's contact later, the earliest tracing counts); 13 never
    # declared (left out); 14 is a companion
    assert (measure.value, measure.unit) == (17.0, "hours")


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
    | person_key | day        | traced_on  | observation_day | checks_per_day | silent_days | status      |
    | 1          | 2022-07-05 | 2022-07-01 | 4               | 2              | [2]         | on_schedule |
    | 2          | 2022-07-05 | 2022-07-01 | 4               | 2              | [1, 3]      | silent      |
    | 3          | 2022-07-05 | 2022-07-04 | 1               | 2              | []          | due         |
    | 4          | 2022-07-05 | 2022-06-26 | 9               |                | []          | on_schedule |
    | 5          | 2022-07-05 | 2022-07-03 | 2               | 2              |             | on_schedule |
    | 6          | 2022-07-05 | 2022-07-04 | 6               | 2              | []          | on_schedule |
    """
    spec_tables.register(engine, {"followup": worklist}, {"followup": FOLLOWUP}.get)
    measure = {m.name: m for m in measures(engine)}["daily health checks made"]
    # 3 is on day 1 (no day before), 4's rule asks for no checks, 6 was traced only yesterday: of 1, 2 and
    # 5, 1 and 5 checked yesterday
    assert (measure.value, measure.unit) == (66.7, "%")
