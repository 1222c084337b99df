"""Code history: colour changes per person and persons per colour per day, consistent with daily codes."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest

from shuzhi.codes import code_history
from shuzhi.policy import editions

from .spec import colours_on, expect, register

INPUTS = {
    "residents": "person_key | county_code\n1 | 330102\n2 | 330102\n3 | 330106\n4 | 330106",
    "diagnoses": "person_key | status | diagnosed_at\n2 | confirmed | 2020-01-20 10:00",
    "contacts": """
        case_key | contact_key | degree | via_key | classification | setting   | last_contact_at
        2        | 1           | 1      |         | close          | household | 2020-01-23 19:30
        2        | 4           | 2      | 1       | secondary      | meal      | 2020-01-30 12:00
    """,
    "declarations": """
        person_key | declared_at      | temperature | symptoms
        4          | 2020-01-26 08:00 | 38.0        | fever
    """,
}


def test_changes_and_daily_counts(engine, hangzhou):
    register(engine, **{k: v for k, v in INPUTS.items() if k != "declarations"})
    history = code_history(engine, hangzhou, dt.date(2020, 1, 22), dt.date(2020, 2, 14))
    expect(
        history.changes.filter(pc.field("person_key") != 4),
        """
        person_key | day        | colour | rule
        1          | 2020-01-23 | red    | close_contact
        1          | 2020-02-07 | yellow | close_contact
        1          | 2020-02-14 | green  | default_green
        2          | 2020-01-22 | red    | case
        """,
    )
    daily = {(r["day"].isoformat(), r["colour"]): r["persons"] for r in history.daily.to_pylist()}
    assert len(daily) == 24 * 3
    assert [daily["2020-01-22", c] for c in ("red", "yellow", "green")] == [1, 0, 3]
    assert [daily["2020-01-23", c] for c in ("red", "yellow", "green")] == [2, 0, 2]
    assert [daily["2020-02-07", c] for c in ("red", "yellow", "green")] == [2, 1, 1]
    assert [daily["2020-02-14", c] for c in ("red", "yellow", "green")] == [1, 1, 2]


@pytest.mark.parametrize("edition", editions())
def test_history_agrees_with_the_codes_of_each_day(engine, edition):
    register(engine, **INPUTS)
    start, end = dt.date(2020, 1, 19), dt.date(2020, 2, 24)
    history = code_history(engine, edition, start, end)
    sampled = [start + dt.timedelta(days=i) for i in range(0, (end - start).days + 1, 3)]
    for row in colours_on(engine, edition, sampled).to_pylist():
        assert _colour_from_changes(history.changes, row["person_key"], row["day"]) == row["colour"], row
    counts = {(r["day"], r["colour"]): r["persons"] for r in history.daily.to_pylist()}
    for day in sampled:
        colours = [_colour_from_changes(history.changes, person, day) for person in (1, 2, 3, 4)]
        assert [counts[day, c] for c in ("red", "yellow", "green")] == [
            colours.count(c) for c in ("red", "yellow", "green")
        ]


def _colour_from_changes(changes, person: int, day: dt.date) -> str:
    """The colour of ``person`` on ``day`` according to the change rows: the last change up to that day."""
    rows = [r for r in changes.to_pylist() if r["person_key"] == person and r["day"] <= day]
    return max(rows, key=lambda r: r["day"])["colour"] if rows else "green"


def test_a_period_that_ends_before_it_starts_is_an_error(engine, hangzhou):
    register(engine, residents=INPUTS["residents"])
    with pytest.raises(ValueError, match="before it starts"):
        code_history(engine, hangzhou, dt.date(2020, 2, 1), dt.date(2020, 1, 1))


def test_history_shows_a_contact_red_from_the_day_tracing_found_them(engine, hangzhou):
    register(
        engine,
        residents=INPUTS["residents"],
        contacts="""
        case_key | contact_key | degree | classification | setting   | last_contact_at  | traced_at
        2        | 1           | 1      | close          | household | 2020-01-23 19:30 | 2020-01-27 10:00
        """,
    )
    history = code_history(engine, hangzhou, dt.date(2020, 1, 22), dt.date(2020, 2, 14))
    expect(
        history.changes,
        """
        person_key | day        | colour | rule
        1          | 2020-01-27 | red    | close_contact
        1          | 2020-02-07 | yellow | close_contact
        1          | 2020-02-14 | green  | default_green
        """,
    )  # the days still count from the contact on the 23rd: red to 6 February, yellow to the 13th
