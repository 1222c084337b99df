"""Every reason class of docs/feeds.md: the bad row is quarantined with file, line, field and detail; its
neighbours land."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shuzhi.ingest.adapters import feed_for

from .builders import GOOD_COUNTS, VENUES, Feeds, with_check


def replace_line(path: Path, line: int, make: Callable[[str], str], encoding: str = "utf-8") -> None:
    """Replace physical line ``line`` (1-based) of a text file by ``make(old_line)``."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data[3 if bom else 0 :].decode(encoding)
    lines = text.split("\n")
    lines[line - 1] = make(lines[line - 1])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode(encoding))


def set_field(index: int, value: str, sep: str = ",") -> Callable[[str], str]:
    def make(line: str) -> str:
        fields = line.split(sep)
        fields[index] = value
        return sep.join(fields)

    return make


def set_json(key: str, value) -> Callable[[str], str]:  # noqa: ANN001 - any JSON value
    def make(line: str) -> str:
        record = json.loads(line)
        record[key] = value
        return json.dumps(record, ensure_ascii=False)

    return make


@dataclass
class Case:
    name: str
    file: str
    line: int
    change: Callable[[str], str]
    reason: str
    field: str | None
    encoding: str = "utf-8"


SCANS = "venue/scans_20200120.csv"
TESTS = "health/tests_20200120.csv"
TRIPS = "transport/trips_20200120.jsonl"
RESIDENTS = "community/residents.csv"
DECL = "declaration/declarations_20200120.jsonl"
NEAR = "proximity/encounters_20200120.csv"

CASES = [
    Case("field dropped", SCANS, 3, lambda s: s.rsplit(",", 1)[0], "malformed", None),
    Case("field added", SCANS, 4, lambda s: s + ",extra", "malformed", None),
    Case("number is text", "venue/registry.csv", 3, set_field(4, "many"), "malformed", "capacity"),
    Case("missing value", RESIDENTS, 5, set_field(0, "", ";"), "malformed", "户号"),
    Case("broken JSON", TRIPS, 2, lambda s: s[:25], "malformed", None),
    Case("JSON number is text", TRIPS, 3, set_json("row", "twelve"), "malformed", "row"),
    Case("JSON unexpected key", TRIPS, 4, set_json("bogus", 1), "malformed", "bogus"),
    Case("JSON list is text", DECL, 2, set_json("zz", "发热"), "malformed", "zz"),
    Case("impossible date", RESIDENTS, 2, set_field(3, "2020-02-30", ";"), "bad_date", "登记日期"),
    Case("hour 25", SCANS, 5, set_field(2, "2020/01/20 25:10"), "bad_date", "check_in"),
    Case("month 13", TESTS, 6, set_field(1, "2020-13-20 08:00:00"), "bad_date", "采样时间", "gbk"),
    Case("not a time", TRIPS, 5, set_json("dep", "yesterday"), "bad_date", "dep"),
    Case(
        "check digit",
        SCANS,
        6,
        lambda s: set_field(1, with_check(s.split(",")[1]))(s),
        "id_check_digit",
        "id_number",
    ),
    Case("id format", TESTS, 2, set_field(0, "33010219900101123"), "id_format", "身份证号", "gbk"),
    Case("id birth date", SCANS, 7, set_field(1, "330102203001011237"), "id_birth_date", "id_number"),
    Case("id region", SCANS, 8, set_field(1, "990102199001011232"), "id_region", "id_number"),
    Case(
        "unknown county",
        "health/fever_20200120.csv",
        2,
        set_field(3, "339999"),
        "unknown_region",
        "所在地区",
        "gbk",
    ),
    Case("unknown visited region", DECL, 3, set_json("tjdq", ["420100", "999999"]), "unknown_region", "tjdq"),
    Case("unknown venue", SCANS, 9, set_field(0, "V999999999999"), "unknown_venue", "venue_code"),
    Case("check out before in", SCANS, 10, set_field(3, "2020/01/20 07:00"), "time_order", "check_out"),
    Case(
        "arrival before departure",
        TRIPS,
        2,
        set_json("arr", "2020-01-20T06:00:00+08:00"),
        "time_order",
        "arr",
    ),
    Case(
        "end before start",
        "community/observations.csv",
        2,
        set_field(3, "2020-01-01", ";"),
        "time_order",
        "结束日期",
    ),
    Case("unknown result", TESTS, 3, set_field(4, "未知"), "bad_value", "检测结果", "gbk"),
    Case("negative capacity", "venue/registry.csv", 2, set_field(4, "-5"), "bad_value", "capacity"),
    Case("unknown mode", TRIPS, 3, set_json("mode", "ROCKET"), "bad_value", "mode"),
    Case("unknown symptom", DECL, 4, set_json("zz", ["头痛"]), "bad_value", "zz"),
    Case("dose zero", "health/vaccinations_20200120.csv", 2, set_field(3, "0"), "bad_value", "剂次", "gbk"),
    Case("unknown category", "venue/registry.csv", 4, set_field(2, "casino"), "bad_value", "category"),
    Case(
        "second ID's check digit",
        NEAR,
        3,
        lambda s: set_field(1, with_check(s.split(",")[1]))(s),
        "id_check_digit",
        "id_number_b",
    ),
    Case(
        "one person near themself",
        NEAR,
        2,
        lambda s: set_field(1, s.split(",")[0])(s),
        "bad_value",
        "id_number_b",
    ),
    Case("no time in range", NEAR, 4, set_field(3, "0"), "bad_value", "seconds"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reason(case: Case, feeds: Feeds, landing) -> None:
    replace_line(feeds.root / case.file, case.line, case.change, case.encoding)
    report = landing.run()
    quarantined = landing.quarantine(case.file)
    assert [(q["file"], q["line"], q["reason"], q["field"]) for q in quarantined] == [
        (case.file, case.line, case.reason, case.field)
    ]
    assert quarantined[0]["detail"]
    assert quarantined[0]["feed"] == feed_for(case.file).name
    table = feed_for(case.file).table.name
    expected = dict(GOOD_COUNTS)
    expected[table] -= 1
    if case.file == "venue/registry.csv":  # a venue fewer: its scans are unknown venues now
        expected["venue_stays"] = sum(1 for i in range(10) if VENUES[i % 3] != VENUES[case.line - 2])
    assert {t: landing.table(t).num_rows for t in expected} == expected
    summary = report.feeds[feed_for(case.file).name]
    assert summary.quarantined.get(case.reason) == 1
    assert summary.rows_read == summary.rows_landed + summary.rows_quarantined


def test_truncated_last_line(feeds: Feeds, landing) -> None:
    path = feeds.root / SCANS
    path.write_bytes(path.read_bytes()[:-12])  # cut inside the last row, no final line break
    landing.run()
    [q] = landing.quarantine()
    assert (q["line"], q["reason"], q["field"]) == (11, "truncated", None)
    assert landing.table("venue_stays").num_rows == 9


def test_truncated_gbk_and_jsonl(feeds: Feeds, landing) -> None:
    for rel in (TESTS, TRIPS):
        path = feeds.root / rel
        path.write_bytes(path.read_bytes()[:-5])
    landing.run()
    got = sorted((q["file"], q["line"], q["reason"]) for q in landing.quarantine())
    assert got == [(TESTS, 11, "truncated"), (TRIPS, 5, "truncated")]


def test_parquet_without_a_column(feeds: Feeds, landing) -> None:
    path = feeds.root / "telecom/itinerary_20200120.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["city_adcode"]), path)
    landing.run()
    rows = landing.quarantine()
    assert [(q["line"], q["reason"], q["field"]) for q in rows] == [
        (i, "malformed", "city_adcode") for i in range(1, 7)
    ]
    assert landing.table("telecom_stays").num_rows == 0


def test_parquet_rows_checked(feeds: Feeds, landing) -> None:
    path = feeds.root / "telecom/itinerary_20200120.parquet"
    table = pq.read_table(path).to_pydict()
    table["city_adcode"][1] = 339999
    table["cert_no"][2] = with_check(table["cert_no"][2])
    table["last_seen_ms"][3] = table["first_seen_ms"][3] - 1000
    pq.write_table(pa.table(table, schema=pq.read_schema(path)), path)
    landing.run()
    got = [(q["line"], q["reason"], q["field"]) for q in landing.quarantine()]
    assert got == [
        (2, "unknown_region", "city_adcode"),
        (3, "id_check_digit", "cert_no"),
        (4, "time_order", "last_seen_ms"),
    ]
    assert landing.table("telecom_stays").num_rows == 3


def test_unreadable_parquet(feeds: Feeds, landing) -> None:
    (feeds.root / "telecom/itinerary_20200120.parquet").write_bytes(b"PAR1 not really")
    report = landing.run()
    [q] = landing.quarantine()
    assert (q["line"], q["reason"]) == (0, "malformed")
    assert report.feeds["telecom.itinerary"].rows_read == 1


def test_header_without_a_field(feeds: Feeds, landing) -> None:
    replace_line(feeds.root / SCANS, 1, lambda s: s.replace("check_out", "leave"))
    landing.run()
    rows = landing.quarantine()
    assert {(q["reason"], q["field"]) for q in rows} == {("malformed", "check_out")}
    assert sorted(q["line"] for q in rows) == list(range(2, 12))


def test_empty_line(feeds: Feeds, landing) -> None:
    replace_line(feeds.root / SCANS, 4, lambda s: "")
    replace_line(feeds.root / TRIPS, 2, lambda s: "")
    landing.run()
    got = sorted((q["file"], q["line"], q["reason"], q["detail"]) for q in landing.quarantine())
    assert got == [(TRIPS, 2, "malformed", "empty line"), (SCANS, 4, "malformed", "empty line")]


def test_first_failing_check_wins(feeds: Feeds, landing) -> None:
    """A row with several faults gets the reason of the earliest check in the contract's order."""
    path = feeds.root / SCANS
    replace_line(
        path, 2, lambda s: f"V999999999999,{with_check(s.split(',')[1])},2020/01/20 08:00,2020/01/20 09:00"
    )
    replace_line(path, 3, lambda s: f"V999999999999,{s.split(',')[1]},2020/02/30 08:00,2020/01/20 07:00")
    replace_line(path, 4, lambda s: f"V999999999999,{s.split(',')[1]},2020/01/20 08:00,2020/01/20 07:00")
    landing.run()
    got = [(q["line"], q["reason"]) for q in landing.quarantine()]
    assert got == [(2, "id_check_digit"), (3, "bad_date"), (4, "unknown_venue")]


def test_duplicate_wins_over_bad_value(feeds: Feeds, landing) -> None:
    path = feeds.root / TESTS
    text = path.read_bytes().decode("gbk").split("\n")
    copy = text[2].replace("阴性", "未知")
    path.write_bytes("\n".join([*text[:-1], copy, ""]).encode("gbk"))
    landing.run()
    [q] = landing.quarantine()
    assert (q["line"], q["reason"]) == (12, "duplicate")
    assert "line 3" in q["detail"]


def test_duplicates_in_file_later_file_and_lake(feeds: Feeds, landing) -> None:
    scans = (feeds.root / SCANS).read_text().split("\n")
    (feeds.root / SCANS).write_text("\n".join([*scans[:-1], scans[3], ""]))  # line 12 repeats line 4
    later = feeds.root / "venue/scans_20200121.csv"
    later.write_text("\n".join([scans[0], scans[5], scans[6].replace(" 08:", " 07:"), ""]))  # line 2 repeats
    landing.run()
    got = sorted((q["file"], q["line"], q["reason"]) for q in landing.quarantine())
    assert got == [(SCANS, 12, "duplicate"), ("venue/scans_20200121.csv", 2, "duplicate")]
    # a new file in a later run repeating a landed row
    (feeds.root / "venue/scans_20200122.csv").write_text("\n".join([scans[0], scans[7], ""]))
    report = landing.run()
    assert report.feeds["venue.scans"].quarantined == {"duplicate": 1}
    assert landing.table("venue_stays").num_rows == 11


def test_late_rows_land_in_their_own_day(feeds: Feeds, landing) -> None:
    later = feeds.root / "venue/scans_20200121.csv"
    later.write_text(
        "venue_code,id_number,check_in,check_out\n"
        f"{VENUES[0]},{feeds.ids[20]},2020/01/20 23:00,2020/01/20 23:30\n"
        f"{VENUES[0]},{feeds.ids[21]},2020/01/21 08:00,2020/01/21 08:30\n"
    )
    landing.run()
    days = sorted(p.parent.name for p in landing.lake.parts("venue_stays"))
    assert days == ["day=2020-01-20", "day=2020-01-21", "day=2020-01-21"] or days == [
        "day=2020-01-20",
        "day=2020-01-20",
        "day=2020-01-21",
    ]
    assert landing.table("venue_stays").num_rows == 12


def test_parquet_with_dictionary_encoded_text(feeds: Feeds, landing) -> None:
    path = feeds.root / "telecom/itinerary_20200120.parquet"
    table = pq.read_table(path)
    encoded = table.set_column(0, "cert_no", table.column("cert_no").dictionary_encode())
    pq.write_table(encoded, path)
    landing.run()
    assert landing.quarantine() == []
    assert landing.table("telecom_stays").num_rows == 6
