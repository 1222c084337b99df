"""Runs against the lake: mixed encodings land, re-ingesting adds nothing, a crash then a re-run gives the
same lake as an uninterrupted run, and no raw ID number reaches the lake or the logs."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import stat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shuzhi import model
from shuzhi.ingest import SimulatedCrash
from shuzhi.ingest.adapters import FEEDS
from shuzhi.lake import Lake
from shuzhi.privacy import Pseudonymiser

from .builders import GOOD_COUNTS, TESTS_HEADER, TODAY, Feeds, Landing, good_feeds, lab_test_rows, with_check

TESTS = "health/tests_20200120.csv"


def test_mixed_encodings_land(feeds: Feeds, landing: Landing) -> None:
    """A GBK file with some lines written in UTF-8: every line lands with the right text."""
    rows = lab_test_rows(feeds.ids[:6])
    rows[2][5] = "浙江省人民医院"
    lines = [",".join(TESTS_HEADER).encode("gbk")] + [
        ",".join(r).encode("utf-8" if i in (2, 4) else "gbk") for i, r in enumerate(rows)
    ]
    feeds.lines_bytes(TESTS, lines)
    report = landing.run()
    tests = landing.table("tests").to_pylist()
    assert len(tests) == 6
    assert sorted({t["lab"] for t in tests}) == sorted({"杭州市第一人民医院", "浙江省人民医院"})
    assert {t["result"] for t in tests} == {"negative"}
    assert report.feeds["health.tests"].tolerated == {"mixed_encoding": 2}
    assert landing.quarantine() == []


def test_undecodable_line_is_quarantined(feeds: Feeds, landing: Landing) -> None:
    rows = lab_test_rows(feeds.ids[:3])
    lines = [",".join(TESTS_HEADER).encode("gbk")] + [",".join(r).encode("gbk") for r in rows]
    lines[2] = lines[2].replace("核酸".encode("gbk"), b"\xff\xfe")
    feeds.lines_bytes(TESTS, lines)
    landing.run()
    [q] = landing.quarantine()
    assert (q["line"], q["reason"]) == (3, "malformed")
    assert landing.table("tests").num_rows == 2


def lake_content(lake_dir) -> dict[str, list[dict]]:  # noqa: ANN001
    """Every table's rows, sorted, with the partition day: what a reader of the lake sees."""
    lake = Lake(lake_dir)
    content = {}
    for name in model.TABLES:
        rows = []
        for part in lake.parts(name):
            day = part.parent.name
            rows += [{"_day": day, **r} for r in pq.read_table(part).to_pylist()]
        content[name] = sorted(rows, key=repr)
    return content


def test_reingest_adds_nothing(feeds: Feeds, landing: Landing) -> None:
    (feeds.root / TESTS).write_bytes((feeds.root / TESTS).read_bytes() + b"bad,line\n")
    first = landing.run()
    before = lake_content(landing.lake_dir)
    assert first.totals.rows_quarantined == 1
    second = landing.run()
    assert second.totals.files == len(FEEDS) and second.totals.files_skipped == len(FEEDS)
    assert second.totals.rows_read == second.totals.rows_landed == second.totals.rows_quarantined == 0
    assert all("already ingested" in f.note for f in second.files)
    assert lake_content(landing.lake_dir) == before
    assert len(list((landing.lake_dir / "_reports").glob("*.json"))) == 2


@pytest.mark.parametrize("crash_after", [1, 3, 7, 12, 15])
def test_crash_then_rerun_equals_uninterrupted(tmp_path, crash_after: int) -> None:  # noqa: ANN001
    reference = Landing(tmp_path / "reference")
    crashed = Landing(tmp_path / "crashed")
    for land in (reference, crashed):
        f = good_feeds(land.feeds_dir)
        _dirty(f)
        land.key_file = tmp_path / "pseudonym.key"  # same key, same pseudonyms
    reference.run()
    with pytest.raises(SimulatedCrash):
        crashed.run(crash_after_parts=crash_after)
    crashed.run()
    assert lake_content(crashed.lake_dir) == lake_content(reference.lake_dir)
    assert set(crashed.lake.ledger()) == set(reference.lake.ledger())


def test_crash_hook_from_environment(feeds: Feeds, landing: Landing, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUZHI_INGEST_CRASH_AFTER_PARTS", "2")
    with pytest.raises(SimulatedCrash):
        landing.run()
    monkeypatch.delenv("SHUZHI_INGEST_CRASH_AFTER_PARTS")
    assert (
        len(landing.lake.ledger()) == 1
    )  # residents committed (1 part + its ledger entry), observations not
    report = landing.run()
    assert report.totals.files_skipped == 1
    assert landing.table("home_observations").num_rows == 2


def _dirty(f: Feeds) -> None:
    """Faults in several files so that quarantine parts and duplicates across files are part of the lake."""
    scans = (f.root / "venue/scans_20200120.csv").read_text().split("\n")
    (f.root / "venue/scans_20200120.csv").write_text("\n".join([*scans[:-1], scans[2], "x,y", ""]))
    (f.root / "venue/scans_20200121.csv").write_text(
        "\n".join([scans[0], scans[3], scans[4].replace(" 08:", " 07:"), ""])
    )
    path = f.root / TESTS
    path.write_bytes(path.read_bytes() + "a,b\n".encode("gbk"))


def test_no_raw_id_in_the_lake_or_logs(
    feeds: Feeds, landing: Landing, caplog: pytest.LogCaptureFixture
) -> None:
    """Every ID number of the input, valid or not, is absent from every Parquet file and every log line."""
    scans = feeds.root / "venue/scans_20200120.csv"
    lines = scans.read_text().split("\n")
    bad = [with_check(feeds.ids[30]), feeds.ids[31][:-1] + "Z", feeds.ids[32]]
    lines[-1:] = [
        f"V999999999999,{bad[0]},2020/01/20 08:00,2020/01/20 09:00",
        f"V999999999999,{bad[1]},2020/01/20 08:00,2020/01/20 09:00",
        f"{bad[2]},extra,field,added,here",
        f"V330102000001,{feeds.ids[33]},2020/01/20 0",  # truncated
    ]
    scans.write_text("\n".join(lines))
    with caplog.at_level(logging.DEBUG):
        landing.run()
    assert len(landing.quarantine()) == 4
    raw_ids = set(feeds.ids) | set(bad)
    needles = [i.encode() for i in raw_ids] + [i[:12].encode() for i in raw_ids]
    for path in landing.lake_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            text = data
            if path.suffix == ".parquet":  # look inside the (compressed) columns too
                text = repr(pq.read_table(path).to_pylist()).encode()
            for needle in needles:
                assert needle not in data and needle not in text, (path, needle)
    for record in caplog.records:
        for raw in raw_ids:
            assert raw not in record.getMessage()
    masked = [q["raw"] for q in landing.quarantine()]
    assert all(re.search(r"\d{6}\*+[0-9A-Z]", m) for m in masked)


def test_pseudonyms_match_the_reference(feeds: Feeds, landing: Landing) -> None:
    landing.run()
    key = bytes.fromhex(landing.key_file.read_text())
    p = Pseudonymiser(key)
    residents = landing.table("residents")
    expected = {p.key(i) for i in feeds.ids[:10]}
    assert set(residents.column("person_key").to_pylist()) == expected
    assert p.keys(pa.array(feeds.ids[:10])).to_pylist() == [p.key(i) for i in feeds.ids[:10]]
    sexes = {p.key(i): ("M" if int(i[16]) % 2 else "F", int(i[6:10])) for i in feeds.ids[:10]}
    for row in residents.to_pylist():
        assert (row["sex"], row["birth_year"]) == sexes[row["person_key"]]


def test_key_file_created_private_and_reused(tmp_path) -> None:  # noqa: ANN001
    lake = tmp_path / "data" / "lake"
    good_feeds(tmp_path / "feeds")
    from shuzhi.ingest import ingest

    ingest(tmp_path / "feeds", lake)
    key_file = tmp_path / "data" / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_bytes()
    ingest(tmp_path / "feeds", lake)
    assert key_file.read_bytes() == key


def test_secrets_dir_and_progress(feeds: Feeds, tmp_path) -> None:  # noqa: ANN001
    from shuzhi.ingest import ingest

    calls = []
    ingest(feeds.root, tmp_path / "lake", secrets_dir=tmp_path / "s", progress=lambda *a: calls.append(a))
    assert (tmp_path / "s" / "pseudonym.key").exists()
    assert ("venue.scans", 1, 1) in calls and ("community.residents", 0, 1) in calls


def test_report_json_and_table(feeds: Feeds, landing: Landing) -> None:
    import json

    from rich.console import Console

    (feeds.root / "venue" / "notes.txt").write_text("hello")
    report = landing.run()
    data = json.loads(report.to_json())
    assert data["totals"]["rows_landed"] == sum(GOOD_COUNTS.values())
    assert data["feeds"]["venue.scans"]["rows_read"] == 10
    assert data["unrecognised"] == ["venue/notes.txt"]
    saved = list((landing.lake_dir / "_reports").glob("ingest-*.json"))
    assert len(saved) == 1 and json.loads(saved[0].read_text())["totals"] == data["totals"]
    console = Console(record=True, width=160)
    console.print(report.rich_table())
    assert "venue.scans" in console.export_text()


def test_engine_reads_the_lake(feeds: Feeds, landing: Landing) -> None:
    from shuzhi.engine import connect

    landing.run()
    engine = connect(lake=landing.lake_dir)
    stays = engine.table("venue_stays")
    assert stays.count().execute() == 10
    assert "day" in stays.columns
    assert engine.table("electricity").count().execute() == 2


def test_redo_on_another_day_removes_the_interrupted_attempts_parts(tmp_path) -> None:  # noqa: ANN001
    """The quarantine part of an interrupted attempt lies in the day it was made; the redo writes its own
    quarantine part in its own day and removes the stale one: the file's rejects are in the lake once."""
    import datetime as dt

    land = Landing(tmp_path)
    f = good_feeds(land.feeds_dir)
    _dirty(f)
    with pytest.raises(SimulatedCrash):
        # 6 registry parts and the residents' home regions (the other files name the same persons, recorded
        # once a day); then the scans: stays, quarantine
        land.run(crash_after_parts=9, today=dt.date(2020, 2, 1))
    stale = {p.parent.name for p in land.lake.parts("quarantine")}
    assert stale == {"day=2020-02-01"}
    land.run(today=dt.date(2020, 2, 2))
    quarantine = land.table("quarantine").to_pylist()
    assert sorted((q["file"], q["line"]) for q in quarantine) == sorted(
        set((q["file"], q["line"]) for q in quarantine)
    )
    assert {q["ingested_on"] for q in quarantine} == {dt.date(2020, 2, 2)}
    assert not list(land.lake_dir.glob("_ledger/*.pending"))


def test_missing_feed_directory(tmp_path) -> None:  # noqa: ANN001
    from shuzhi.ingest import ingest

    with pytest.raises(FileNotFoundError):
        ingest(tmp_path / "nowhere", tmp_path / "lake")


def test_pseudonymiser_remembers_and_agrees(feeds: Feeds) -> None:
    p = Pseudonymiser(b"0123456789abcdef0123456789abcdef")
    ids = pa.array([*feeds.ids[:20], None, "not an id", feeds.ids[0].lower(), feeds.ids[21][:-1] + "X"])
    first = p.keys(ids).to_pylist()
    remembered = len(p._memo.codes)
    again = p.keys(pa.array(list(reversed(ids.to_pylist())))).to_pylist()
    assert first == [None if i is None else p.key(i) for i in ids.to_pylist()]
    assert again == list(reversed(first))
    assert remembered == len(p._memo.codes) == 21  # well-formed IDs only


def test_each_person_s_home_region_is_recorded_once_a_day(feeds: Feeds, landing: Landing) -> None:
    """Every feed names the same ten persons: one row each today, not one per file; a later day's file
    records them again for that day (the retention limit counts from the last day a person was named)."""
    landing.run()
    first = landing.table("person_regions")
    assert first.num_rows == len(set(first["person_key"].to_pylist())) == 10
    later = [row.replace("2020-01-20", "2020-01-21") for row in map(",".join, lab_test_rows(feeds.ids[:3]))]
    feeds.csv("health/tests_20200121.csv", TESTS_HEADER, later, encoding="gbk")
    tomorrow = TODAY + dt.timedelta(days=1)
    landing.run(today=tomorrow)
    assert landing.table("tests").num_rows == 13
    regions = landing.table("person_regions")
    assert pc.sum(pc.equal(regions["seen_on"], tomorrow)).as_py() == 3


def test_a_second_run_the_same_day_records_only_persons_not_yet_recorded(tmp_path) -> None:  # noqa: ANN001
    """Today's partition may hold a person twice (two worker processes); a later run reads it once."""
    from shuzhi.ingest.run import _KeySet

    keys = _KeySet(np.array([5, 7], np.int64))
    assert keys.add_new(np.array([7, 9, 11], np.int64)).tolist() == [False, True, True]
    assert keys.add_new(np.array([11, 13], np.int64)).tolist() == [False, True]
    land = Landing(tmp_path)
    feeds = good_feeds(land.feeds_dir)
    land.run()
    twice = land.table("person_regions")
    land.lake.write_part("person_regions", TODAY, "part-another-worker.parquet", twice)
    feeds.csv("health/tests_20200121.csv", TESTS_HEADER, lab_test_rows(feeds.ids[10:12]), encoding="gbk")
    land.run()
    assert land.table("person_regions").num_rows == 2 * 10 + 2
