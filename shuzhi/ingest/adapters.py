"""One declared adapter per department feed of docs/feeds.md: file, format, fields and checks — no code.

An adapter says where a feed's files are (``health/tests_YYYYMMDD.csv``), how they are written (format,
encoding, delimiter), which source field becomes which canonical column of ``shuzhi.model`` with which kind of
value (ID number, region code, date or time in a given pattern, enumerated code, ...) and which pairs of times
must be in order. The shared machinery reads them: ``parse`` turns a file into text columns, ``fields``
converts and checks each kind of value, ``validate`` applies the checks in the contract's order.

``FEEDS`` lists the adapters in processing order: registries first (scans need the venue registry), then
events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from shuzhi import model


class Kind(StrEnum):
    """What a field holds; each kind has one converter and its checks in ``shuzhi.ingest.fields``."""

    TEXT = "text"  # free text
    ID = "id"  # GB 11643 ID number → person_key
    REGION = "region"  # GB/T 2260 six-digit code (text or integer)
    VENUE = "venue"  # a venue code of the venue registry
    DATE = "date"  # a date in ``pattern``
    DATETIME = "datetime"  # local time in ``pattern``
    ISO_DATETIME = "iso_datetime"  # ISO 8601 with a UTC offset, converted to Beijing time
    EPOCH_MS = "epoch_ms"  # UTC epoch milliseconds, converted to Beijing time
    INT = "int"
    FLOAT = "float"
    ENUM = "enum"  # a code of ``values`` (source → canonical)
    REGIONS = "regions"  # a list of region codes
    ENUMS = "enums"  # a list of codes of ``values``


LIST_KINDS = frozenset({Kind.REGIONS, Kind.ENUMS})


@dataclass(frozen=True)
class Field:
    """A source field and the canonical column it becomes."""

    source: str
    target: str  # canonical column (``person_key`` for the ID number)
    kind: Kind
    required: bool = True
    pattern: str | None = None  # DATE / DATETIME: e.g. "YYYY-MM-DD hh:mm:ss"
    values: Mapping[str, str] | None = None  # ENUM / ENUMS: source code → canonical value
    minimum: float | None = None  # INT / FLOAT: smaller is a bad_value
    maximum: float | None = None


@dataclass(frozen=True)
class Csv:
    delimiter: str = ","
    encoding: str = "utf-8"  # "gbk": lines that are valid UTF-8 are read as UTF-8, the others as GBK
    bom: bool = False  # the department writes a UTF-8 byte-order mark (a BOM is skipped in any CSV file)
    name: str = "csv"


@dataclass(frozen=True)
class JsonLines:
    name: str = "jsonl"


@dataclass(frozen=True)
class Parquet:
    name: str = "parquet"


Format = Csv | JsonLines | Parquet


@dataclass(frozen=True)
class Feed:
    """One department feed: its files, format and the mapping of its fields onto a canonical table."""

    name: str  # department.feed
    file: str  # path in the feed directory; YYYYMMDD stands for the day the file is named after
    format: Format
    table: model.Table
    fields: tuple[Field, ...]
    time_order: tuple[tuple[str, str], ...] = ()  # (earlier, later) canonical columns
    pair: tuple[str, str] | None = None  # two person columns that must name two different persons
    derived: tuple[str, ...] = ()  # columns derived from the ID number: "sex", "birth_year"
    registry: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.escape(self.file).replace("YYYYMMDD", r"\d{8}")
        object.__setattr__(self, "regex", re.compile(f"^{pattern}$"))

    def matches(self, relative_path: str) -> bool:
        return self.regex.match(relative_path) is not None

    @property
    def id_field(self) -> Field | None:
        """The (first) ID number field: the person a duplicate is named by."""
        return next((f for f in self.fields if f.kind is Kind.ID), None)


def _enum(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


def _identity(values: tuple[str, ...]) -> Mapping[str, str]:
    return _enum({v: v for v in values})


# ---- dialects and field helpers ------------------------------------------------------------------------
COMMUNITY_CSV = Csv(delimiter=";", encoding="utf-8", bom=True)
PLAIN_CSV = Csv(delimiter=",", encoding="utf-8")
HEALTH_CSV = Csv(delimiter=",", encoding="gbk")

DATE = "YYYY-MM-DD"
HEALTH_TIME = "YYYY-MM-DD hh:mm:ss"
SCAN_TIME = "YYYY/MM/DD hh:mm"


def _id(source: str, target: str = "person_key") -> Field:
    return Field(source, target, Kind.ID)


def _text(source: str, target: str, required: bool = True) -> Field:
    return Field(source, target, Kind.TEXT, required)


def _region(source: str, target: str = "county_code") -> Field:
    return Field(source, target, Kind.REGION)


def _date(source: str, target: str, required: bool = True) -> Field:
    return Field(source, target, Kind.DATE, required, pattern=DATE)


def _time(source: str, target: str, pattern: str) -> Field:
    return Field(source, target, Kind.DATETIME, pattern=pattern)


def _count(source: str, target: str, minimum: float = 0) -> Field:
    return Field(source, target, Kind.INT, minimum=minimum)


def _number(source: str, target: str, minimum: float | None = None, maximum: float | None = None) -> Field:
    return Field(source, target, Kind.FLOAT, minimum=minimum, maximum=maximum)


def _temperature(source: str) -> Field:
    return _number(source, "temperature", 30.0, 45.0)


OBSERVATION_REASONS = _enum(
    {"密接": "close_contact", "次密接": "secondary_contact", "入境": "arrival", "其他": "other"}
)
TEST_METHODS = _enum({"核酸": "pcr", "抗原": "antigen"})
TEST_RESULTS = _enum({"阳性": "positive", "阴性": "negative"})
DIAGNOSES = _enum({"确诊": "confirmed", "疑似": "suspected", "无症状": "asymptomatic"})
TRIP_MODES = _enum({mode.upper(): mode for mode in model.TRIP_MODES})
SYMPTOMS = _enum(
    {"发热": "fever", "咳嗽": "cough", "乏力": "fatigue", "咽痛": "sore_throat", "腹泻": "diarrhoea"}
)

# ---- the feeds ---------------------------------------------------------------------------------------
RESIDENTS = Feed(
    "community.residents",
    "community/residents.csv",
    COMMUNITY_CSV,
    model.RESIDENTS,
    (_text("户号", "household_id"), _id("身份证号"), _region("所属区县"), _date("登记日期", "registered_on")),
    derived=("sex", "birth_year"),
    registry=True,
)
OBSERVATIONS = Feed(
    "community.observations",
    "community/observations.csv",
    COMMUNITY_CSV,
    model.HOME_OBSERVATIONS,
    (
        _id("身份证号"),
        _region("所属区县"),
        _date("开始日期", "start_date"),
        _date("结束日期", "end_date", required=False),
        Field("原因", "reason", Kind.ENUM, values=OBSERVATION_REASONS),
    ),
    time_order=(("start_date", "end_date"),),
    registry=True,
)
ENTERPRISE_REGISTRY = Feed(
    "enterprise.registry",
    "enterprise/registry.csv",
    PLAIN_CSV,
    model.ENTERPRISES,
    (
        _text("credit_code", "enterprise_code"),
        _text("name", "name"),
        _region("county"),
        _text("industry", "industry"),
        _count("staff", "registered_staff"),
        _date("as_of", "as_of"),
    ),
    registry=True,
)
ENTERPRISE_STAFF = Feed(
    "enterprise.staff",
    "enterprise/staff.csv",
    PLAIN_CSV,
    model.EMPLOYMENTS,
    (
        _text("credit_code", "enterprise_code"),
        _id("id_number"),
        _text("team", "team"),
        _date("as_of", "as_of"),
    ),
    registry=True,
)
VENUE_REGISTRY = Feed(
    "venue.registry",
    "venue/registry.csv",
    PLAIN_CSV,
    model.VENUES,
    (
        _text("code", "venue_code"),
        _text("name", "name"),
        Field("category", "category", Kind.ENUM, values=_identity(model.VENUE_CATEGORIES)),
        _region("county"),
        _count("capacity", "capacity"),
        _number("lng", "lon", -180.0, 180.0),
        _number("lat", "lat", -90.0, 90.0),
        _date("as_of", "as_of"),
    ),
    registry=True,
)
VENUE_SCANS = Feed(
    "venue.scans",
    "venue/scans_YYYYMMDD.csv",
    PLAIN_CSV,
    model.VENUE_STAYS,
    (
        Field("venue_code", "venue_code", Kind.VENUE),
        _id("id_number"),
        _time("check_in", "time_in", SCAN_TIME),
        _time("check_out", "time_out", SCAN_TIME),
    ),
    time_order=(("time_in", "time_out"),),
)
TESTS = Feed(
    "health.tests",
    "health/tests_YYYYMMDD.csv",
    HEALTH_CSV,
    model.TESTS,
    (
        _id("身份证号"),
        _time("采样时间", "sampled_at", HEALTH_TIME),
        _time("报告时间", "reported_at", HEALTH_TIME),
        Field("检测方法", "method", Kind.ENUM, values=TEST_METHODS),
        Field("检测结果", "result", Kind.ENUM, values=TEST_RESULTS),
        _text("检测机构", "lab"),
    ),
    time_order=(("sampled_at", "reported_at"),),
)
DIAGNOSES_FEED = Feed(
    "health.diagnoses",
    "health/diagnoses_YYYYMMDD.csv",
    HEALTH_CSV,
    model.DIAGNOSES,
    (
        _id("身份证号"),
        Field("诊断类型", "status", Kind.ENUM, values=DIAGNOSES),
        _date("发病日期", "onset_date", required=False),
        _time("诊断时间", "diagnosed_at", HEALTH_TIME),
        _region("报告地区"),
    ),
)
VACCINATIONS = Feed(
    "health.vaccinations",
    "health/vaccinations_YYYYMMDD.csv",
    HEALTH_CSV,
    model.VACCINATIONS,
    (
        _id("身份证号"),
        _date("接种日期", "vaccinated_on"),
        _text("疫苗名称", "product"),
        _count("剂次", "dose", 1),
    ),
)
FEVER = Feed(
    "health.fever",
    "health/fever_YYYYMMDD.csv",
    HEALTH_CSV,
    model.FEVER_VISITS,
    (
        _id("身份证号"),
        _time("就诊时间", "visited_at", HEALTH_TIME),
        _text("医院", "hospital"),
        _region("所在地区"),
        _temperature("体温"),
    ),
)
TRIPS = Feed(
    "transport.trips",
    "transport/trips_YYYYMMDD.jsonl",
    JsonLines(),
    model.TRIPS,
    (
        _id("id_no"),
        Field("mode", "mode", Kind.ENUM, values=TRIP_MODES),
        _text("trip_no", "trip_no"),
        Field("dep", "dep_time", Kind.ISO_DATETIME),
        Field("arr", "arr_time", Kind.ISO_DATETIME),
        _region("from_code", "origin_region"),
        _region("to_code", "destination_region"),
        _text("from_stop", "origin_stop"),
        _text("to_stop", "destination_stop"),
        _text("carriage", "carriage", required=False),
        _text("class", "carriage_class", required=False),
        Field("row", "seat_row", Kind.INT, required=False, minimum=0),
        _text("seat", "seat", required=False),
    ),
    time_order=(("dep_time", "arr_time"),),
)
TELECOM = Feed(
    "telecom.itinerary",
    "telecom/itinerary_YYYYMMDD.parquet",
    Parquet(),
    model.TELECOM_STAYS,
    (
        _id("cert_no"),
        _region("city_adcode", "city_code"),
        Field("first_seen_ms", "first_seen", Kind.EPOCH_MS),
        Field("last_seen_ms", "last_seen", Kind.EPOCH_MS),
    ),
    time_order=(("first_seen", "last_seen"),),
)
DECLARATIONS = Feed(
    "declaration.declarations",
    "declaration/declarations_YYYYMMDD.jsonl",
    JsonLines(),
    model.DECLARATIONS,
    (
        _id("zjhm"),
        _time("sbsj", "declared_at", HEALTH_TIME),
        _region("xzqh"),
        _temperature("tw"),
        Field("zz", "symptoms", Kind.ENUMS, values=SYMPTOMS),
        Field("tjdq", "visited_regions", Kind.REGIONS),
    ),
)
ELECTRICITY = Feed(
    "enterprise.electricity",
    "enterprise/electricity_YYYYMMDD.csv",
    PLAIN_CSV,
    model.ELECTRICITY,
    (_text("credit_code", "enterprise_code"), _date("date", "day"), _number("kwh", "kwh", 0.0)),
)

PROXIMITY = Feed(
    "proximity.encounters",
    "proximity/encounters_YYYYMMDD.csv",
    PLAIN_CSV,
    model.PROXIMITY,
    (
        _id("id_number_a", "person_key_a"),
        _id("id_number_b", "person_key_b"),
        _time("start", "start_at", HEALTH_TIME),
        _count("seconds", "duration_seconds", 1),
    ),
    pair=("person_key_a", "person_key_b"),
)

FEEDS: tuple[Feed, ...] = (
    RESIDENTS,
    OBSERVATIONS,
    ENTERPRISE_REGISTRY,
    ENTERPRISE_STAFF,
    VENUE_REGISTRY,
    VENUE_SCANS,
    TESTS,
    DIAGNOSES_FEED,
    VACCINATIONS,
    FEVER,
    TRIPS,
    TELECOM,
    DECLARATIONS,
    ELECTRICITY,
    PROXIMITY,
)
BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}


def feed_for(relative_path: str) -> Feed | None:
    """The feed a file belongs to, from its path relative to the feed directory (``/`` separated)."""
    return next((f for f in FEEDS if f.matches(relative_path)), None)
