"""Hand-built feed files for the ingest tests, written exactly as docs/feeds.md describes each department's
format.

``good_feeds(root)`` writes one small, clean file for each of the 15 feeds and returns what it wrote, so a
test can add a fault to one line and check what happens to it and to its neighbours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi import idcard
from shuzhi.ingest import Report, ingest
from shuzhi.lake import Lake

TODAY = __import__("datetime").date(2020, 2, 1)
COUNTY = "330102"  # 上城区, Hangzhou
OTHER_COUNTY = "330106"  # 西湖区
CITY = 330100


def make_ids(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct valid ID numbers (Zhejiang counties, born 1950-2010)."""
    rng = np.random.default_rng(seed)
    region = rng.choice([330102, 330106, 330108, 110101, 310101], size=n)
    birth = np.datetime64("1950-01-01") + rng.integers(0, 60 * 365, size=n).astype("timedelta64[D]")
    sequence = np.arange(n) % 1000
    out = list(dict.fromkeys(idcard.compose(region, birth, sequence)))
    assert len(out) == n
    return out


def with_check(id_number: str, char: str | None = None) -> str:
    """The ID with a wrong check character."""
    wrong = char or next(c for c in idcard.CHECK_CHARS if c != id_number[17])
    return id_number[:17] + wrong


@dataclass
class Feeds:
    """A feed directory being written, and the IDs in it."""

    root: Path
    ids: list[str] = field(default_factory=lambda: make_ids(40))

    def path(self, relative: str) -> Path:
        p = self.root / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def csv(
        self,
        relative: str,
        header: list[str],
        rows: list[list[str]] | list[str],
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        bom: bool = False,
        end: str = "\n",
    ) -> Path:
        """Rows are lists of fields, or ready-made lines (to write faults)."""
        lines = [delimiter.join(header)] + [r if isinstance(r, str) else delimiter.join(r) for r in rows]
        text = "\n".join(lines) + end
        data = text.encode(encoding)
        if bom:
            data = b"\xef\xbb\xbf" + data
        p = self.path(relative)
        p.write_bytes(data)
        return p

    def lines_bytes(self, relative: str, lines: list[bytes], end: bytes = b"\n") -> Path:
        p = self.path(relative)
        p.write_bytes(b"\n".join(lines) + end)
        return p

    def jsonl(self, relative: str, records: list[dict | str], end: str = "\n") -> Path:
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        p = self.path(relative)
        p.write_text("\n".join(lines) + end, encoding="utf-8")
        return p

    def parquet(self, relative: str, table: pa.Table) -> Path:
        p = self.path(relative)
        pq.write_table(table, p)
        return p


# ---- one clean file per feed -----------------------------------------------------------------------------
RESIDENTS_HEADER = ["户号", "身份证号", "所属区县", "登记日期"]
OBSERVATIONS_HEADER = ["身份证号", "所属区县", "开始日期", "结束日期", "原因"]
ENTERPRISE_HEADER = ["credit_code", "name", "county", "industry", "staff", "as_of"]
STAFF_HEADER = ["credit_code", "id_number", "team", "as_of"]
ELECTRICITY_HEADER = ["credit_code", "date", "kwh"]
VENUE_HEADER = ["code", "name", "category", "county", "capacity", "lng", "lat", "as_of"]
SCANS_HEADER = ["venue_code", "id_number", "check_in", "check_out"]
TESTS_HEADER = ["身份证号", "采样时间", "报告时间", "检测方法", "检测结果", "检测机构"]
DIAGNOSES_HEADER = ["身份证号", "诊断类型", "发病日期", "诊断时间", "报告地区"]
VACCINATIONS_HEADER = ["身份证号", "接种日期", "疫苗名称", "剂次"]
FEVER_HEADER = ["身份证号", "就诊时间", "医院", "所在地区", "体温"]
PROXIMITY_HEADER = ["id_number_a", "id_number_b", "start", "seconds"]
CREDIT = ["91330100MA27XXXX1A", "91330100MA27YYYY2B"]
VENUES = ["V330102000001", "V330102000002", "V330106000003"]


def residents_rows(ids: list[str]) -> list[list[str]]:
    return [[f"H{i // 3:05d}", pid, COUNTY, "2019-12-01"] for i, pid in enumerate(ids)]


def scan_rows(ids: list[str], day: str = "2020/01/20") -> list[list[str]]:
    return [
        [VENUES[i % len(VENUES)], pid, f"{day} 08:{i % 60:02d}", f"{day} 09:{i % 60:02d}"]
        for i, pid in enumerate(ids)
    ]


def lab_test_rows(ids: list[str]) -> list[list[str]]:
    return [
        [pid, f"2020-01-20 08:{i % 60:02d}:00", "2020-01-20 20:00:00", "核酸", "阴性", "杭州市第一人民医院"]
        for i, pid in enumerate(ids)
    ]


def encounter_rows(ids: list[str]) -> list[list[str]]:
    """Each person near the next for a few minutes (first one for 10 minutes)."""
    return [
        [a, b, f"2020-01-20 12:{i % 60:02d}:00", str(600 if i == 0 else 60 * (i + 1))]
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]


def trip(pid: str, i: int) -> dict:
    return {
        "id_no": pid,
        "mode": "TRAIN",
        "trip_no": "G7311",
        "dep": f"2020-01-20T08:{i % 60:02d}:00+08:00",
        "arr": "2020-01-20T10:30:00+08:00",
        "from_code": "330100",
        "to_code": "310000",
        "from_stop": "杭州东",
        "to_stop": "上海虹桥",
        "carriage": "05",
        "class": "second",
        "row": None,
        "seat": f"{i:02d}A",
    }


def declaration(pid: str, i: int) -> dict:
    return {
        "zjhm": pid,
        "sbsj": f"2020-01-20 07:{i % 60:02d}:00",
        "xzqh": COUNTY,
        "tw": 36.5,
        "zz": ["咳嗽"] if i % 5 == 0 else [],
        "tjdq": ["420100"] if i % 7 == 0 else [],
    }


def telecom(ids: list[str]) -> pa.Table:
    base = 1579478400000  # 2020-01-20 00:00 UTC
    n = len(ids)
    return pa.table(
        {
            "cert_no": pa.array(ids, pa.string()),
            "city_adcode": pa.array([CITY] * n, pa.int32()),
            "first_seen_ms": pa.array([base + i * 60_000 for i in range(n)], pa.int64()),
            "last_seen_ms": pa.array([base + 5 * 3600_000 + i * 60_000 for i in range(n)], pa.int64()),
        }
    )


def good_feeds(root: Path) -> Feeds:
    """One clean file for every feed; 10 residents, scans/tests/trips/... by the same persons."""
    f = Feeds(root)
    people = f.ids[:10]
    f.csv("community/residents.csv", RESIDENTS_HEADER, residents_rows(people), delimiter=";", bom=True)
    f.csv(
        "community/observations.csv",
        OBSERVATIONS_HEADER,
        [
            [people[0], COUNTY, "2020-01-20", "2020-02-03", "密接"],
            [people[1], COUNTY, "2020-01-21", "", "入境"],
        ],
        delimiter=";",
        bom=True,
    )
    f.csv(
        "enterprise/registry.csv",
        ENTERPRISE_HEADER,
        [
            [CREDIT[0], "杭州甲公司", COUNTY, "manufacturing", "120", "2020-01-01"],
            [CREDIT[1], "乙公司", OTHER_COUNTY, "retail", "8", "2020-01-01"],
        ],
    )
    f.csv(
        "enterprise/staff.csv",
        STAFF_HEADER,
        [[CREDIT[i % 2], pid, f"T{i % 3}", "2020-01-01"] for i, pid in enumerate(people)],
    )
    f.csv(
        "venue/registry.csv",
        VENUE_HEADER,
        [
            [VENUES[0], "银泰百货", "mall", COUNTY, "5000", "120.17", "30.25", "2020-01-01"],
            [VENUES[1], "知味观", "restaurant", COUNTY, "200", "120.16", "30.26", "2020-01-01"],
            [VENUES[2], "西湖", "scenic", OTHER_COUNTY, "100000", "120.14", "30.24", "2020-01-01"],
        ],
    )
    f.csv("venue/scans_20200120.csv", SCANS_HEADER, scan_rows(people))
    f.csv("health/tests_20200120.csv", TESTS_HEADER, lab_test_rows(people), encoding="gbk")
    f.csv(
        "health/diagnoses_20200120.csv",
        DIAGNOSES_HEADER,
        [
            [people[0], "确诊", "2020-01-18", "2020-01-20 10:00:00", COUNTY],
            [people[2], "无症状", "", "2020-01-20 11:00:00", COUNTY],
        ],
        encoding="gbk",
    )
    f.csv(
        "health/vaccinations_20200120.csv",
        VACCINATIONS_HEADER,
        [[pid, "2020-01-20", "科兴克尔来福", str(1 + i % 2)] for i, pid in enumerate(people[:4])],
        encoding="gbk",
    )
    f.csv(
        "health/fever_20200120.csv",
        FEVER_HEADER,
        [[people[3], "2020-01-20 09:30:00", "浙大一院", COUNTY, "38.2"]],
        encoding="gbk",
    )
    f.jsonl("transport/trips_20200120.jsonl", [trip(pid, i) for i, pid in enumerate(people[:5])])
    f.parquet("telecom/itinerary_20200120.parquet", telecom(people[:6]))
    f.jsonl("declaration/declarations_20200120.jsonl", [declaration(pid, i) for i, pid in enumerate(people)])
    f.csv(
        "enterprise/electricity_20200120.csv",
        ELECTRICITY_HEADER,
        [[CREDIT[0], "2020-01-20", "1234.5"], [CREDIT[1], "2020-01-20", "88"]],
    )
    f.csv("proximity/encounters_20200120.csv", PROXIMITY_HEADER, encounter_rows(people[:5]))
    return f


GOOD_COUNTS = {
    "residents": 10,
    "home_observations": 2,
    "enterprises": 2,
    "employments": 10,
    "venues": 3,
    "venue_stays": 10,
    "tests": 10,
    "diagnoses": 2,
    "vaccinations": 4,
    "fever_visits": 1,
    "trips": 5,
    "telecom_stays": 6,
    "declarations": 10,
    "electricity": 2,
    "proximity": 4,
}


class Landing:
    """A feed directory, a lake and a key file; ``run()`` ingests and keeps the report."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.feeds_dir = root / "feeds"
        self.lake_dir = root / "data" / "lake"
        self.key_file = root / "secrets" / "pseudonym.key"
        self.report: Report | None = None

    def run(self, feeds_dir: Path | None = None, lake_dir: Path | None = None, **kwargs) -> Report:  # noqa: ANN003
        kwargs.setdefault("today", TODAY)
        self.report = ingest(
            feeds_dir or self.feeds_dir, lake_dir or self.lake_dir, key_file=self.key_file, **kwargs
        )
        return self.report

    @property
    def lake(self) -> Lake:
        return Lake(self.lake_dir)

    def table(self, name: str) -> pa.Table:
        return self.lake.read(name)

    def quarantine(self, file: str | None = None) -> list[dict]:
        rows = self.table("quarantine").to_pylist()
        return [r for r in rows if file is None or r["file"] == file]
