"""Proximity records land from the ``proximity.encounters`` feed: two persons a row, both pseudonymised at the
door, and the tracer reads what landed."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc

from shuzhi.engine import connect
from shuzhi.privacy import Pseudonymiser
from shuzhi.tracing import load_policy, trace

from .builders import COUNTY, DIAGNOSES_HEADER, PROXIMITY_HEADER, Feeds, Landing, make_ids

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


def test_the_real_office_sensor_data_traces_the_same_through_the_feed(tmp_path) -> None:
    """SocioPatterns' office encounters written as a department would send them (each badge given an ID
    number), ingested and traced from the lake: the same close contacts as traced from the data directly."""
    from shuzhi.tracing.sociopatterns import (
        demo,
        index_persons,
        path,
        proximity_records,
        read_tij,
        with_minutes,
    )

    records = proximity_records(read_tij(path("office")))
    badges = sorted(set(records["person_key_a"].to_pylist()) | set(records["person_key_b"].to_pylist()))
    landing = Landing(tmp_path)
    feeds = Feeds(landing.feeds_dir, ids=make_ids(len(badges), seed=3))
    id_of = dict(zip(badges, feeds.ids, strict=True))
    rows = [
        [id_of[a], id_of[b], at.strftime("%Y-%m-%d %H:%M:%S"), str(seconds)]
        for a, b, at, seconds in zip(*(records[c].to_pylist() for c in records.column_names), strict=True)
    ]
    feeds.csv(NEAR, PROXIMITY_HEADER, rows)
    persons = index_persons("office")
    last = max(records["start_at"].to_pylist()) + dt.timedelta(days=1)
    diagnosed = [[id_of[p], "确诊", f"{last:%Y-%m-%d}", f"{last:%Y-%m-%d %H:%M:%S}", COUNTY] for p in persons]
    feeds.csv(f"health/diagnoses_{last:%Y%m%d}.csv", DIAGNOSES_HEADER, diagnosed, encoding="gbk")
    report = landing.run(today=last.date())
    assert report.totals.rows_quarantined == 0 and landing.table("proximity").num_rows == records.num_rows

    policy = with_minutes(load_policy("2022-9th"), 15)
    direct = demo(connect(), "office", persons, policy).close_contacts_per_case()
    span = (last - min(records["start_at"].to_pylist())).days + 2  # the demo's window: the whole recording
    widened = policy.model_copy(
        update={"window": policy.window.model_copy(update={"days_before_onset": span})}
    )
    close = trace(connect(lake=landing.lake_dir), widened).close
    badge_of = {Pseudonymiser.from_file(landing.key_file).key(i): b for b, i in id_of.items()}
    through_feed = {p: 0 for p in persons}
    for case in close["case_key"].to_pylist():
        through_feed[badge_of[case]] += 1
    assert through_feed == direct and sum(direct.values()) > 20
