"""Scan → stay → tracing: passages become venue stays in the lake within a flush, and tracing finds the
close contact from them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
import spec_tables

from shuzhi.engine import connect
from shuzhi.lake import Lake
from shuzhi.model import TABLES
from shuzhi.realtime.live import Realtime, registry
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import load_policy
from shuzhi.realtime.stays import StayWriter
from shuzhi.tracing import load_policy as contact_policy
from shuzhi.tracing import trace

VENUES = """
| venue_code | name         | category   | county_code | capacity | lon    | lat   | as_of      |
| R60        | Noodle house | restaurant | 330106      | 60       | 120.10 | 30.20 | 2022-01-01 |
"""
CASE = """
| person_key | status    | onset_date | diagnosed_at        | county_code |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 | 330106      |
"""


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def passage(code: str, person: int | None, at: str, direction: str = "in", valid: bool = True):
    return SimpleNamespace(
        checkpoint_code=code, person_key=person, passed_at=utc(at), direction=direction, valid=valid
    )


def write(lake: Lake, name: str, text: str) -> None:
    rows = spec_tables.table(text, TABLES[name].schema)
    day = TABLES[name].partition_days(rows)[0].as_py()
    lake.write_part(name, day, "part-fixture.parquet", rows)


def test_scans_become_stays_in_the_lake_and_tracing_finds_the_close_contact(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake", durable=False)
    write(lake, "venues", VENUES)
    write(lake, "diagnoses", CASE)
    hub = Realtime(Occupancy(load_policy("2022-9th"), registry(lake.root)), stays=StayWriter(lake))
    # 12:00-13:00 and 12:45-14:00 in China (UTC+8): 15 minutes at the same small restaurant
    hub.passages([passage("R60", 1, "2022-03-04 04:00:00"), passage("R60", 2, "2022-03-04 04:45:00")])
    hub.passages([passage("R60", None, "2022-03-04 04:50:00")])  # someone whose code names nobody
    hub.passages([passage("R60", 1, "2022-03-04 05:00:00", "out")])
    hub.passages([passage("R60", 2, "2022-03-04 06:00:00", "out")])
    assert hub.stays.flush() == 2
    assert hub.stays.flush() == 0

    stays = lake.read("venue_stays").sort_by("person_key")
    assert stays.to_pylist() == [
        {"person_key": 1, "venue_code": "R60", "time_in": dt.datetime(2022, 3, 4, 12, 0),
         "time_out": dt.datetime(2022, 3, 4, 13, 0)},
        {"person_key": 2, "venue_code": "R60", "time_in": dt.datetime(2022, 3, 4, 12, 45),
         "time_out": dt.datetime(2022, 3, 4, 14, 0)},
    ]  # fmt: skip
    [part] = hub.stays.parts
    assert part.parent.name == "day=2022-03-04" and part.name.startswith("part-live-")

    result = trace(connect(lake=lake.root), contact_policy("2022-9th"))
    close = result.close.to_pylist()
    assert [(r["case_key"], r["contact_key"], r["place"], r["overlap_seconds"]) for r in close] == [
        (1, 2, "R60", 900)
    ]


def test_a_failed_write_keeps_the_stays_for_the_next_flush(tmp_path: Path) -> None:
    blocker = tmp_path / "lake"
    blocker.write_text("a file where the lake should be")
    writer = StayWriter(Lake(blocker, durable=False))
    venue = VenueInfo("R60", "Noodle house", "restaurant", "330106", 60)
    hub = Realtime(Occupancy(load_policy("2022-9th"), [venue]), stays=writer)
    hub.passages([passage("R60", 5, "2022-03-04 04:00:00"), passage("R60", 5, "2022-03-04 04:30:00", "out")])
    with pytest.raises(OSError):
        writer.flush()
    assert writer.pending == 1
    blocker.unlink()
    assert writer.flush() == 1
    assert Lake(blocker).read("venue_stays").num_rows == 1
