"""Spec: same time-and-place (时空伴随) — the same 800 m grid cell for ≥ 10 minutes in 14 days (yellow)."""

from __future__ import annotations

from shuzhi.tracing.companions import cells
from tracing.spec import assert_rows, trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""

# At latitude 30.25°, 800 m is 0.00719° of latitude and 0.00831° of longitude. M1, M2 share a cell; M3 is
# about 1.6 km east, in another cell.
VENUES = """
| venue_code | category | capacity | lon      | lat      |
| M1         | mall     | 5000     | 120.1535 | 30.2535  |
| M2         | scenic   | 9000     | 120.1555 | 30.2545  |
| M3         | mall     | 5000     | 120.1700 | 30.2535  |
| G1         | gym      | 20       | 120.1536 | 30.2536  |
"""


def test_same_cell_for_ten_minutes_within_fourteen_days(given, engine):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | M1         | 2022-02-25 15:00:00 | 2022-02-25 17:00:00 |
        | 2          | M2         | 2022-02-25 16:50:00 | 2022-02-25 18:00:00 |
        | 3          | M2         | 2022-02-25 16:50:01 | 2022-02-25 18:00:00 |
        | 4          | M3         | 2022-02-25 15:00:00 | 2022-02-25 17:00:00 |
        | 1          | M1         | 2022-02-19 15:00:00 | 2022-02-19 17:00:00 |
        | 5          | M1         | 2022-02-19 15:00:00 | 2022-02-19 17:00:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | classification | rule            | setting         | overlap_seconds |
        | 2           | companion      | same_time_place | same_time_place | 600             |
        """,
    )


def test_a_close_contact_is_not_also_a_companion_of_the_same_case(given, engine):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given(
        "venue_stays",
        """
        | person_key | venue_code | time_in             | time_out            |
        | 1          | G1         | 2022-03-04 15:00:00 | 2022-03-04 17:00:00 |
        | 2          | G1         | 2022-03-04 15:20:00 | 2022-03-04 17:00:00 |
        | 3          | M1         | 2022-03-04 15:00:00 | 2022-03-04 17:00:00 |
        """,
    )
    assert_rows(
        trace_with(engine, "2022-9th").contacts,
        """
        | contact_key | classification | rule                 |
        | 2           | close          | small_enclosed_venue |
        | 3           | companion      | same_time_place      |
        """,
    )


def test_grid_cells_are_800_metres_square(engine):
    import ibis
    import pyarrow as pa

    venues = ibis.memtable(
        pa.table(
            {"venue_code": ["a", "b", "c"], "lon": [120.0, 120.0, 120.0083], "lat": [30.0, 30.0071, 30.0]}
        )
    )
    got = engine.to_arrow(cells(venues, 800).order_by("venue_code")).to_pylist()
    a, b, c = ((r["cell_x"], r["cell_y"]) for r in got)
    assert b[1] == a[1] + 1  # 790 m north of the middle of a row: the next row
    assert c == (a[0] + 1, a[1])  # 800 m east: the next column of the same row
