"""Proximity records land from the ``proximity.encounters`` feed: two persons a row, both pseudonymised at the
door, and the tracer reads what landed."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc

from shuzhi.engine import connect
from shuzhi.privacy import Pseudonymiser
from shuzhi.tracing import load_policy, trace

from .builders import COUNTY, DIAGNOSES_HEADER, PROXIMITY_HEADER, Feeds, Landing

NEAR = "proximity/encounters_20200120.csv"


def test_both_persons_are_pseudonymised_and_both_home_regions_kept(feeds: Feeds, landing: Landing) -> None:
    landing.run()
    keys = Pseudonymiser.from_file(landing.key_file)
    landed = landing.table("proximity").sort_by("start_at")
    people = feeds.ids[:5]
    assert landed["person_key_a"].to_pylist() == [keys.key(p) for p in people[:4]]
    assert landed["person_key_b"].to_pylist() == [keys.key(p) for p in people[1:5]]
    assert landed["duration_seconds"].to_pylist() == [600, 120, 180, 240]
    regions = landing.table("person_regions")
    named = set(
        regions.filter(pc.is_in(regions["person_key"], landed["person_key_b"]))["person_key"].to_pylist()
    )
    assert named == set(landed["person_key_b"].to_pylist())  # the second person's home region too
    assert "id_number" not in " ".join(landed.column_names)  # no ID number goes past the door


def test_a_mirrored_report_is_a_row_but_one_encounter_for_tracing(tmp_path) -> None:
    """Both phones report the encounter: two rows (a different natural key), one encounter of 10 minutes."""
    landing = Landing(tmp_path)
    feeds = Feeds(landing.feeds_dir)
    case, contact = feeds.ids[:2]
    feeds.csv(
        "health/diagnoses_20200121.csv",
        DIAGNOSES_HEADER,
        [[case, "确诊", "2020-01-21", "2020-01-21 10:00:00", COUNTY]],
        encoding="gbk",
    )
    rows = [[case, contact, "2020-01-20 12:00:00", "600"], [contact, case, "2020-01-20 12:00:00", "540"]]
    rows.append([case, contact, "2020-01-20 18:00:00", "360"])
    feeds.csv(NEAR, PROXIMITY_HEADER, rows)
    landing.run(today=dt.date(2020, 1, 22))
    assert landing.table("proximity").num_rows == 3
    result = trace(connect(lake=landing.lake_dir), load_policy("2022-9th"))
    [row] = result.close.to_pylist()
    assert row["rule"] == "proximity" and row["overlap_seconds"] == 600 + 360  # not 600 + 540 + 360
    assert row["contact_key"] == Pseudonymiser.from_file(landing.key_file).key(contact)


def test_a_record_sent_again_is_a_duplicate(feeds: Feeds, landing: Landing) -> None:
    landing.run()
    again = (feeds.root / NEAR).read_text().splitlines()[1]
    late = "proximity/encounters_20200121.csv"
    feeds.csv(late, PROXIMITY_HEADER, [again, f"{feeds.ids[7]},{feeds.ids[8]},2020-01-21 09:00:00,30"])
    landing.run()
    assert landing.table("proximity").num_rows == 5
    assert [(q["line"], q["reason"], q["field"]) for q in landing.quarantine(late)] == [
        (2, "duplicate", "id_number_a")
    ]
