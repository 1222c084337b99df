"""A tiny set of analytic results shaped exactly like ``shuzhi.pipeline``'s, for the dashboard and page tests.

Every table is built on the pipeline modules' own schemas (``AREA_RISK_SCHEMA``, ``FIVE_COLOUR_SCHEMA``,
``INDEX_SCHEMA``, ``CODES``, ``CHANGES``, ``DAILY``, ``CONTACTS_SCHEMA``; the epidemic curves by the
pipeline's own ``series_table``) for Zhejiang's real 90 counties and 11 cities, written into the lake one
part per day as the pipeline writes them; the transmission graph is made by ``TraceResult.graph()`` itself.
Levels move with the day (county *i* on day *d* is ``LEVELS[(i + d) % 3]``), so a day slider must recolour
every county. The replay document has the shape of ``shuzhi.risk.replay``'s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import regions
from shuzhi.codes import CHANGES, CODES, DAILY
from shuzhi.decision import epi_policy, series_table
from shuzhi.engine import connect
from shuzhi.followup import followup
from shuzhi.lake import Lake
from shuzhi.model import TABLES
from shuzhi.pipeline import GRAPH_FILE, RESULT_PART
from shuzhi.public import ITINERARY_SCHEMA, OPEN_STATISTICS_SCHEMA
from shuzhi.risk.area import AREA_RISK_SCHEMA, COMPOUND_RISK_SCHEMA
from shuzhi.risk.five_colour import FIVE_COLOUR_SCHEMA
from shuzhi.risk.flows import ARRIVALS_SCHEMA, OD_SCHEMA
from shuzhi.risk.index import INDEX_SCHEMA, INDICATORS
from shuzhi.risk.policy import LEVELS
from shuzhi.risk.replay import STEM as REPLAY_STEM
from shuzhi.settings import DataDir
from shuzhi.tracing.contacts import CONTACTS_SCHEMA
from shuzhi.tracing.trace import CASES_SCHEMA, TraceResult

DAYS = [dt.date(2020, 2, 1) + dt.timedelta(days=i) for i in range(5)]
LAST = DAYS[-1]
FIVE = ("green", "blue", "yellow", "orange", "red")
RESIDENT_KEY = 4_611_686_018_427_387_904  # red: a close contact (tests/api uses the same key)
GREEN_KEY = 1_000_001
YELLOW_KEY = 1_000_002
CASE_KEY = -7_000_000_000_000_000_001  # beyond JavaScript's exact integers on purpose
OTHER_CASE_KEY = 7_000_000_000_000_000_002
SECONDARY_KEY = 2_000_001
COMPANION_KEYS = (3_000_001, 3_000_002)
RESIDENT_REASON = "密切接触者（与病例同住 2020-02-03） / close contact of a case (same household, 2020-02-03)"
RESIDENT_TURNS_GREEN = "2020-02-17起转绿 / green from 2020-02-17"


@dataclass(frozen=True)
class Fixture:
    """What was written, for the tests' expectations."""

    counties: list[str]
    days: list[dt.date]

    def level(self, county: str, day: dt.date) -> str:
        return level_of(self.counties.index(county), DAYS.index(day))


def level_of(county_index: int, day_index: int) -> str:
    return LEVELS[(county_index + day_index) % len(LEVELS)]


DAY_COLUMNS = {
    "contacts": "first_contact_at",
    "received_contacts": "first_contact_at",
    "received_cases": "diagnosed_at",
    "enterprises": "as_of",
    "employments": "as_of",
}  # else "day"


def write_results(data: DataDir) -> Fixture:
    """Write every derived table and JSON output the views read into ``data``."""
    counties = [r.code for r in regions.zhejiang_counties()]
    lake = Lake(data.lake)
    for name, table in tables(counties).items():
        days = pc.cast(table[DAY_COLUMNS.get(name, "day")], pa.date32())
        for day in pc.unique(days).to_pylist():  # one part per day that has rows, as the pipeline writes
            lake.write_part(name, day, RESULT_PART, table.filter(pc.equal(days, pa.scalar(day, pa.date32()))))
    lake.sync()
    data.outputs.mkdir(parents=True, exist_ok=True)
    graph = TraceResult("2020-5th", cases(), contacts()).graph(companions=False)
    _write_json(data.outputs / GRAPH_FILE, graph)
    _write_json(data.outputs / f"{REPLAY_STEM}.json", replay())
    return Fixture(counties, DAYS)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, default=str), encoding="utf-8")


def tables(counties: list[str]) -> dict[str, pa.Table]:
    return {
        "area_risk": _rows(AREA_RISK_SCHEMA, counties, _area_risk),
        "five_colour": _rows(FIVE_COLOUR_SCHEMA, counties, _five_colour),
        "index": index(counties),
        "codes": codes(),
        "code_changes": code_changes(),
        "code_counts": code_counts(),
        "contacts": contacts(),
        "followup": followup_worklist(),
        "received_cases": received_cases(),
        "received_contacts": received_contacts(),
        "epi": epi(),
        "open_statistics": open_statistics(counties),
        "compound_risk": compound_risk(),
        "regional_statistics": regional_statistics(counties),
        "published_itineraries": published_itineraries(),
        "risk_arrivals": risk_arrivals(),
        "enterprises": enterprises(),
        "employments": employments(),
        "od_flows": od_flows(),
    }


def _rows(schema: pa.Schema, counties: list[str], row: Callable[[int, str, int], dict[str, Any]]) -> pa.Table:
    rows = [row(i, code, d) for d in range(len(DAYS)) for i, code in enumerate(counties)]
    return pa.Table.from_pylist(rows, schema=schema)


def _area_risk(i: int, code: str, d: int) -> dict[str, Any]:
    level = level_of(i, d)
    new = LEVELS.index(level) * 3
    return {
        "county_code": code,
        "day": DAYS[d],
        "level": level,
        "reason": f"{level}: {new} new in 14 days (fixture)",
        "cumulative": new + i,
        "new_14d": new,
        "clusters_14d": int(level == "high"),
        "days_since_last": None if new == 0 else d,
    }


def _five_colour(i: int, code: str, d: int) -> dict[str, Any]:
    colour = FIVE[(i + 2 * d) % len(FIVE)]
    return {
        "county_code": code,
        "day": DAYS[d],
        "colour": colour,
        "reason": f"{colour} (fixture)",
        "cumulative": i,
        "cumulative_local": i // 2,
        "local_share": 0.5 if i else None,
        "clusters_14d": 0,
        "days_since_last": None,
    }


def index(counties: list[str]) -> pa.Table:
    cities = sorted({code[:4] + "00" for code in counties})
    areas = [(code, "county") for code in counties] + [(code, "city") for code in cities]
    rows = []
    for d, day in enumerate(DAYS):
        for i, (code, level) in enumerate(areas):
            score = float((i * 7 + d * 13) % 101)
            row: dict[str, Any] = {"area_code": code, "area_level": level, "day": day, "population": 1000 + i}
            row.update({name: score / 100 for name in INDICATORS})
            row.update({f"score_{name}": score for name in INDICATORS})
            row.update(control=score, flow=100 - score, index=50.0)
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


EPI_CASES = [2, 3, 5, 4, 8, 9, 12, 15, 14, 20, 18, 16, 13, 11, 9, 8, 6, 5, 4, 3]  # Hangzhou, to LAST
EPI_DAYS = [LAST - dt.timedelta(days=len(EPI_CASES) - 1 - i) for i in range(len(EPI_CASES))]


def epi() -> pa.Table:
    """The province's and Hangzhou's curves (all the province's cases are Hangzhou's; 3 imported)."""
    counts = pa.Table.from_pylist(
        [
            {"area_level": level, "area_code": code, "day": day, "cases": n, "local_cases": n - (i < 3)}
            for level, code in (("province", "330000"), ("city", "330100"))
            for i, (day, n) in enumerate(zip(EPI_DAYS, EPI_CASES, strict=True))
        ]
    )
    return series_table(counts, epi_policy("2020-5th"), EPI_DAYS[0], LAST)


def open_statistics(counties: list[str]) -> pa.Table:
    """County i: withheld when i % 3 == 1 (a small count), else 0 or 10; cities and the province 15."""
    rows = []
    for d, day in enumerate(DAYS):
        for i, code in enumerate(counties):
            count = None if i % 3 == 1 else 10 * (i % 3 // 2)
            rows.append(_open_row("county", code, day, level_of(i, d), count))
        for code in sorted({c[:4] + "00" for c in counties}) + ["330000"]:
            rows.append(_open_row("province" if code == "330000" else "city", code, day, None, 15))
    return pa.Table.from_pylist(rows, schema=OPEN_STATISTICS_SCHEMA)


RISK_AREAS = [  # (county, compound, level, last case day) on the last day: two high, one medium
    ("330106", "330106:330106000012", "high", LAST),
    ("330302", "330302:330302000004", "high", LAST - dt.timedelta(days=3)),
    ("330102", "330102:330102000001", "medium", LAST - dt.timedelta(days=8)),
]


def compound_risk() -> pa.Table:
    """The compounds at risk on the last day (the 9th edition's chain: high to day 7, medium to day 10)."""
    rows = [
        {"county_code": county, "compound": compound, "day": LAST, "level": level, "last_case_day": last,
         "days_since_last": (LAST - last).days,
         "reason": f"last case {(LAST - last).days} day(s) ago (high until day 7, medium until day 10)"}
        for county, compound, level, last in RISK_AREAS
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=COMPOUND_RISK_SCHEMA)


NATIONAL_VIEW = {"330000": 15, "320000": 7}  # the cumulative count each province sent; Jiangsu withholds new


def regional_statistics(counties: list[str]) -> pa.Table:
    """What a national node holds: Zhejiang's open statistics, and a Jiangsu province row per day."""
    zhejiang = open_statistics(counties)
    zhejiang = zhejiang.append_column("from_region", pa.array(["330000"] * zhejiang.num_rows))
    jiangsu = [{**_open_row("province", "320000", day, None, 7), "new_cases": None} for day in DAYS]
    jiangsu = pa.Table.from_pylist([{**r, "from_region": "320000"} for r in jiangsu], schema=zhejiang.schema)
    return pa.concat_tables([zhejiang, jiangsu])


def _open_row(
    area_level: str, code: str, day: dt.date, level: str | None, count: int | None
) -> dict[str, Any]:
    counts = {"new_cases": count, "new_local_cases": count, "new_14d": count, "cumulative": count}
    return {
        "area_level": area_level,
        "area_code": code,
        "day": day,
        "level": level,
        "edition": "2020-5th",
        **counts,
    }


SAME_TRIP = ("G7", DAYS[1], "05")  # a published trip: number, day, carriage


def published_itineraries() -> pa.Table:
    number, day, carriage = SAME_TRIP
    at = dt.datetime.combine(day, dt.time(8))
    row = {
        "day": day,
        "mode": "train",
        "trip_no": number,
        "carriage": carriage,
        "dep_time": at,
        "arr_time": at + dt.timedelta(hours=4),
        "origin_region": "330100",
        "destination_region": "310100",
        "origin_stop": "杭州东",
        "destination_stop": "上海虹桥",
        "notice_day": LAST,
        "publisher": "浙江省卫生健康委员会",
        "verified": True,
        "edition": "2020-5th",
    }
    return pa.Table.from_pylist([row], schema=ITINERARY_SCHEMA)


ENTERPRISE_CODE = "91330100MA2XXXXX1A"  # the enterprise account's firm, in Shangcheng (330102)
STAFF = [RESIDENT_KEY, YELLOW_KEY, *range(5_000_000, 5_000_059)]  # 61: one red, one yellow, 59 without a code


def enterprises() -> pa.Table:
    row = {
        "enterprise_code": ENTERPRISE_CODE,
        "name": "杭州示例制造有限公司",
        "county_code": "330102",
        "industry": "manufacturing",
        "registered_staff": len(STAFF),
        "as_of": DAYS[0],
    }
    return pa.Table.from_pylist([row], schema=TABLES["enterprises"].schema)


def employments() -> pa.Table:
    rows = [
        {"person_key": k, "enterprise_code": ENTERPRISE_CODE, "team": "workshop-1", "as_of": DAYS[0]}
        for k in STAFF
    ]
    return pa.Table.from_pylist(rows, schema=TABLES["employments"].schema)


def risk_arrivals() -> pa.Table:
    """On the last day: three Shangcheng residents back from a medium area (one twice), one from a high one,
    and one traveller without a residence registration."""
    rows = [
        (GREEN_KEY, "330102", "330300", "medium", "trip"),
        (GREEN_KEY, "330102", "330300", "medium", "telecom"),
        (YELLOW_KEY, "330102", "330300", "medium", "trip"),
        (RESIDENT_KEY, "330102", "420100", "high", "trip"),
        (SECONDARY_KEY, None, "330300", "medium", "telecom"),
    ]
    return pa.Table.from_pylist(
        [
            {
                "day": LAST,
                "person_key": k,
                "county_code": c,
                "region_code": r,
                "level": lv,
                "source": src,
                "visited_on": DAYS[2],
            }
            for k, c, r, lv, src in rows
        ],
        schema=ARRIVALS_SCHEMA,
    )


OD = [
    ("330100", "330300", "trip", 30, 28),
    ("330100", "330300", "telecom", 12, 12),
    ("330300", "330100", "trip", 25, 25),
]


def od_flows() -> pa.Table:
    rows = [
        {"day": day, "origin_code": o, "destination_code": d, "source": src, "movements": m, "persons": n}
        for day in DAYS
        for o, d, src, m, n in OD
    ]
    return pa.Table.from_pylist(rows, schema=OD_SCHEMA)


def codes() -> pa.Table:
    rows = [
        _code(RESIDENT_KEY, "red", "close_contact", RESIDENT_REASON, RESIDENT_TURNS_GREEN),
        _code(
            GREEN_KEY, "green", "default_green", "无红码或黄码规则适用 / no red or yellow rule applies", None
        ),
        _code(
            YELLOW_KEY, "yellow", "symptoms", "发热 / fever", "连续7天正常打卡 / 7 days of normal check-in"
        ),
    ]
    return pa.Table.from_pylist(rows, schema=CODES)


def _code(key: int, colour: str, rule: str, reason: str, turns_green: str | None) -> dict[str, Any]:
    return {
        "person_key": key,
        "day": LAST,
        "colour": colour,
        "rule": rule,
        "reason": reason,
        "evidence": f"contacts: case {CASE_KEY}, household" if colour == "red" else None,
        "valid_until": LAST + dt.timedelta(days=1),
        "turns_green": turns_green,
    }


def code_changes() -> pa.Table:
    rows = [
        {"person_key": RESIDENT_KEY, "day": DAYS[1], "colour": "yellow", "rule": "symptoms"},
        {"person_key": RESIDENT_KEY, "day": DAYS[3], "colour": "red", "rule": "close_contact"},
        {"person_key": YELLOW_KEY, "day": DAYS[2], "colour": "yellow", "rule": "symptoms"},
    ]
    return pa.Table.from_pylist(rows, schema=CHANGES)


def code_counts() -> pa.Table:
    rows = [
        {"day": day, "colour": colour, "persons": count}
        for d, day in enumerate(DAYS)
        for colour, count in (("green", 1000 - 10 * d), ("yellow", 5 + 5 * d), ("red", 2 + 5 * d))
    ]
    return pa.Table.from_pylist(rows, schema=DAILY)


def cases() -> pa.Table:
    at = dt.datetime(2020, 2, 3, 9, 30)
    rows = [
        {
            "case_key": key,
            "status": status,
            "onset_date": at.date(),
            "first_positive_at": at,
            "diagnosed_at": at,
            "window_start": at - dt.timedelta(days=2),
            "window_end": at,
        }
        for key, status in ((CASE_KEY, "confirmed"), (OTHER_CASE_KEY, "asymptomatic"))
    ]
    return pa.Table.from_pylist(rows, schema=CASES_SCHEMA)


def contacts() -> pa.Table:
    rows = [
        _contact(CASE_KEY, RESIDENT_KEY, "close", "household_shared", "household"),
        _contact(CASE_KEY, GREEN_KEY + 10, "close", "workplace_shared", "workplace"),
        _contact(CASE_KEY, SECONDARY_KEY, "secondary", "household_shared", "household", via=RESIDENT_KEY),
        *(
            _contact(CASE_KEY, key, "companion", "same_time_place", "same_time_place")
            for key in COMPANION_KEYS
        ),
        # found a day after the meal: not held to its day 1 (followed up from day 2)
        _contact(OTHER_CASE_KEY, GREEN_KEY + 11, "close", "meal_shared", "meal", traced=TRACED_LATE),
    ]
    return pa.Table.from_pylist(rows, schema=CONTACTS_SCHEMA)


TRACED_LATE = dt.datetime(2020, 2, 4, 10, 0)


def _contact(
    case: int,
    contact: int,
    classification: str,
    rule: str,
    setting: str,
    via: int | None = None,
    traced: dt.datetime | None = None,
) -> dict[str, Any]:
    start = dt.datetime(2020, 2, 3, 8, 0)
    return {
        "case_key": case,
        "contact_key": contact,
        "degree": 2 if via else 1,
        "via_key": via,
        "classification": classification,
        "rule": rule,
        "setting": setting,
        "place": f"{setting}-1",
        "first_contact_at": start,
        "last_contact_at": start + dt.timedelta(hours=1),
        "overlap_seconds": 3600,
        "evidence": f"{setting}-1, 2020-02-03 08:00-09:00 (fixture)",
        "traced_at": traced or dt.datetime(2020, 2, 3, 9, 30),  # the case's diagnosis
    }


FOLLOWUP_EDITION = "2022-9th"  # tests on days 1, 2, 3..., two health checks a day
CHECKED_KEYS = (RESIDENT_KEY, GREEN_KEY + 10)  # declared twice on day 1; the other two contacts did not
# where they are registered; the fourth contact (GREEN_KEY + 11) is not
FOLLOWUP_COUNTIES = {RESIDENT_KEY: "330102", GREEN_KEY + 10: "330102", SECONDARY_KEY: "330105"}


def followup_worklist() -> pa.Table:
    """The worklist of the last day, by ``shuzhi.followup`` itself from the fixture's contacts, a test (the
    resident's, on day 1), declarations and where they are registered."""
    engine = connect()
    engine.register("contacts", contacts())
    homes = [{"person_key": key, "county_code": code} for key, code in FOLLOWUP_COUNTIES.items()]
    engine.register("residents", pa.Table.from_pylist(homes, schema=TABLES["residents"].schema))
    test = {"person_key": RESIDENT_KEY, "sampled_at": dt.datetime(2020, 2, 4, 9), "method": "pcr"}
    engine.register(
        "tests", pa.Table.from_pylist([{**test, "result": "negative"}], schema=TABLES["tests"].schema)
    )
    declared = [
        {"person_key": key, "declared_at": dt.datetime(2020, 2, 4, hour), "temperature": 36.5, "symptoms": []}
        for key in CHECKED_KEYS
        for hour in (8, 20)
    ]
    engine.register("declarations", pa.Table.from_pylist(declared, schema=TABLES["declarations"].schema))
    return followup(engine, FOLLOWUP_EDITION, LAST, allow_missing=True)


HANDED_OVER_BY = "320100"  # Nanjing traced two of this region's people, and one of them fell ill
HANDED_OVER_KEYS = (GREEN_KEY + 20, GREEN_KEY + 21)


FROM_REGION = pa.field("from_region", pa.string())


def received_cases() -> pa.Table:
    row = {
        "person_key": HANDED_OVER_KEYS[0],
        "status": "confirmed",
        "onset_date": dt.date(2020, 2, 4),
        "diagnosed_at": dt.datetime(2020, 2, 5, 10, 0),
        "county_code": "320102",
        "from_region": HANDED_OVER_BY,
    }
    return pa.Table.from_pylist([row], schema=TABLES["diagnoses"].schema.append(FROM_REGION))


def received_contacts() -> pa.Table:
    rows = []
    for key, classification in zip(HANDED_OVER_KEYS, ("close", "secondary"), strict=True):
        row = _contact(CASE_KEY + 100, key, classification, "meal_shared", "meal")
        evidence = f"reported by {HANDED_OVER_BY}: {row['evidence']}"
        rows.append({**row, "evidence": evidence, "from_region": HANDED_OVER_BY})
    return pa.Table.from_pylist(rows, schema=CONTACTS_SCHEMA.append(FROM_REGION))


def replay() -> dict[str, Any]:
    """A 20-day replay of Zhejiang's 11 cities and Wuhan, levels moving by day."""
    codes = [r.code for r in regions.divisions().values() if r.level == "city" and r.code.startswith("33")]
    codes.append("420100")
    names = {code: regions.divisions()[code].name for code in codes}
    cities = {code: [(i + d) % len(LEVELS) for d in range(20)] for i, code in enumerate(codes)}
    return {
        "days": ["2020-01-20", "2020-02-08"],
        "levels": list(LEVELS),
        "rule": "fixture rule",
        "assumption": "fixture assumption",
        "names": names,
        "cities": cities,
        "skipped": [{"code": "420000xx", "name": "待明确地区", "confirmed": 3}],
    }
