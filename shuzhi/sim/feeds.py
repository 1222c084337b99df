"""Department feed writers: canonical rows written back in each department's own format (docs/feeds.md).

This module owns the formats. Every feed of docs/feeds.md is one declarative ``Feed`` (file name, dialect and
one ``Field`` per column saying which canonical column it carries and how it is rendered); shared vectorised
functions do the rest, the same for every feed:

* ``normalise``: the canonical rows as the feed can carry them (times at the feed's precision, natural keys
  unique, time pairs in order, values derived from the ID recomputed) — exactly what ingestion must land;
* ``render``: the raw value of every field (text, or typed columns for Parquet); faults are injected here
  (``dirt``);
* ``lines``: raw values encoded for the dialect (CSV quoting, JSON literals) and joined into lines;
* ``write_text`` / ``write_parquet``: the bytes on disk (encoding, BOM, single lines in UTF-8, a cut last
  line).

No per-row Python runs over a table: dates are formatted by numpy digit arithmetic, enumerations mapped with
``index_in``/``take``, lines joined and encoded by Arrow kernels, a GBK file encoded in one call per chunk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shuzhi import model, regions

BEIJING_OFFSET_S = 8 * 3600
CHUNK_ROWS = 1 << 20  # rows encoded and written at a time


class Kind(StrEnum):
    """How a field is rendered (and which faults can touch it)."""

    ID = "id"  # GB 11643 ID number
    TEXT = "text"  # free text: quoted in CSV when it holds a delimiter, quote or newline
    CODE = "code"  # an identifier without delimiters: household, credit code, venue code in its registry
    VENUE = "venue"  # a venue code that must be in the venue registry (scans)
    REGION = "region"  # six-digit GB/T 2260 code
    DATE = "date"
    TIME = "time"
    ENUM = "enum"  # canonical value → the department's word
    NUMBER = "number"
    LIST = "list"  # JSON array of strings, optionally mapped
    EPOCH_MS = "epoch_ms"  # Parquet int64: UTC epoch milliseconds of a Beijing local time
    INT_REGION = "int_region"  # Parquet int32 region code


@dataclass(frozen=True)
class Field:
    """One field of a feed: its name in the feed, the canonical column it carries and how it is rendered."""

    name: str
    column: str
    kind: Kind
    pattern: str = ""  # DATE/TIME: strftime-like pattern of %Y %m %d %H %M %S and literals
    values: Mapping[str, str] | None = None  # ENUM/LIST: canonical value → feed value
    required: bool = True  # an empty value is no row of the feed (ingestion: malformed)

    @property
    def has_seconds(self) -> bool:
        return "%S" in self.pattern


@dataclass(frozen=True)
class Dialect:
    """How a file is laid out: csv, jsonl or parquet; text encoding, delimiter, byte-order mark."""

    format: str
    encoding: str = "utf-8"
    delimiter: str = ","
    bom: bool = False

    @property
    def text(self) -> bool:
        return self.format != "parquet"

    @property
    def csv(self) -> bool:
        return self.format == "csv"


COMMUNITY = Dialect("csv", "utf-8", ";", bom=True)
HEALTH = Dialect("csv", "gbk")
PLAIN = Dialect("csv")
JSONL = Dialect("jsonl")
PARQUET = Dialect("parquet")


@dataclass(frozen=True, eq=False)  # compared (and hashed) by identity: one object per feed
class Feed:
    """One department feed: where its files go, their dialect and fields, and its start/end pair if any."""

    name: str
    table: str  # canonical table (model.TABLES)
    path: str  # relative path; "{day}" becomes YYYYMMDD for daily feeds
    dialect: Dialect
    fields: tuple[Field, ...]
    order: tuple[str, str] | None = None  # (start field, end field): end must not precede start

    @property
    def daily(self) -> bool:
        return "{day}" in self.path

    def file(self, day: dt.date | None = None) -> str:
        return self.path.format(day=day.strftime("%Y%m%d")) if self.daily and day else self.path

    def of_kind(self, *kinds: Kind) -> tuple[Field, ...]:
        return _of_kind(self, kinds)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def id_field(self) -> Field | None:
        found = self.of_kind(Kind.ID)
        return found[0] if found else None

    @property
    def schema(self) -> pa.Schema:
        """The canonical schema the simulator hands over (raw ``id_number``)."""
        return model.with_raw_ids(model.TABLES[self.table])

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key in raw-ID column names."""
        return tuple(model.raw_id_column(c) for c in model.TABLES[self.table].key)

    @property
    def header(self) -> str:
        return self.dialect.delimiter.join(f.name for f in self.fields)


@cache
def _of_kind(feed: Feed, kinds: tuple[Kind, ...]) -> tuple[Field, ...]:
    return tuple(f for f in feed.fields if f.kind in kinds)


DAY = "%Y-%m-%d"
HEALTH_TIME = "%Y-%m-%d %H:%M:%S"
SCAN_TIME = "%Y/%m/%d %H:%M"
ISO_TIME = "%Y-%m-%dT%H:%M:%S+08:00"

OBSERVATION_REASONS = {
    "close_contact": "密接",
    "secondary_contact": "次密接",
    "arrival": "入境",
    "other": "其他",
}
TEST_METHODS = {"pcr": "核酸", "antigen": "抗原"}
TEST_RESULTS = {"positive": "阳性", "negative": "阴性"}
DIAGNOSES = {"confirmed": "确诊", "suspected": "疑似", "asymptomatic": "无症状"}
SYMPTOMS = {"fever": "发热", "cough": "咳嗽", "fatigue": "乏力", "sore_throat": "咽痛", "diarrhoea": "腹泻"}
MODES = {m: m.upper() for m in model.TRIP_MODES}

F, K = Field, Kind
FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            "community.residents", "residents", "community/residents.csv", COMMUNITY,
            (F("户号", "household_id", K.CODE), F("身份证号", "id_number", K.ID),
             F("所属区县", "county_code", K.REGION), F("登记日期", "registered_on", K.DATE, DAY)),
        ),
        Feed(
            "community.observations", "home_observations", "community/observations.csv", COMMUNITY,
            (F("身份证号", "id_number", K.ID), F("所属区县", "county_code", K.REGION),
             F("开始日期", "start_date", K.DATE, DAY), F("结束日期", "end_date", K.DATE, DAY, required=False),
             F("原因", "reason", K.ENUM, values=OBSERVATION_REASONS)),
            order=("开始日期", "结束日期"),
        ),
        Feed(
            "enterprise.registry", "enterprises", "enterprise/registry.csv", PLAIN,
            (F("credit_code", "enterprise_code", K.CODE), F("name", "name", K.TEXT),
             F("county", "county_code", K.REGION), F("industry", "industry", K.TEXT),
             F("staff", "registered_staff", K.NUMBER), F("as_of", "as_of", K.DATE, DAY)),
        ),
        Feed(
            "enterprise.staff", "employments", "enterprise/staff.csv", PLAIN,
            (F("credit_code", "enterprise_code", K.CODE), F("id_number", "id_number", K.ID),
             F("team", "team", K.TEXT), F("as_of", "as_of", K.DATE, DAY)),
        ),
        Feed(
            "enterprise.electricity", "electricity", "enterprise/electricity_{day}.csv", PLAIN,
            (F("credit_code", "enterprise_code", K.CODE), F("date", "day", K.DATE, DAY),
             F("kwh", "kwh", K.NUMBER)),
        ),
        Feed(
            "venue.registry", "venues", "venue/registry.csv", PLAIN,
            (F("code", "venue_code", K.CODE), F("name", "name", K.TEXT), F("category", "category", K.TEXT),
             F("county", "county_code", K.REGION), F("capacity", "capacity", K.NUMBER),
             F("lng", "lon", K.NUMBER), F("lat", "lat", K.NUMBER), F("as_of", "as_of", K.DATE, DAY)),
        ),
        Feed(
            "venue.scans", "venue_stays", "venue/scans_{day}.csv", PLAIN,
            (F("venue_code", "venue_code", K.VENUE), F("id_number", "id_number", K.ID),
             F("check_in", "time_in", K.TIME, SCAN_TIME), F("check_out", "time_out", K.TIME, SCAN_TIME)),
            order=("check_in", "check_out"),
        ),
        Feed(
            "health.tests", "tests", "health/tests_{day}.csv", HEALTH,
            (F("身份证号", "id_number", K.ID), F("采样时间", "sampled_at", K.TIME, HEALTH_TIME),
             F("报告时间", "reported_at", K.TIME, HEALTH_TIME),
             F("检测方法", "method", K.ENUM, values=TEST_METHODS),
             F("检测结果", "result", K.ENUM, values=TEST_RESULTS), F("检测机构", "lab", K.TEXT)),
            order=("采样时间", "报告时间"),
        ),
        Feed(
            "health.diagnoses", "diagnoses", "health/diagnoses_{day}.csv", HEALTH,
            (F("身份证号", "id_number", K.ID), F("诊断类型", "status", K.ENUM, values=DIAGNOSES),
             F("发病日期", "onset_date", K.DATE, DAY, required=False),
             F("诊断时间", "diagnosed_at", K.TIME, HEALTH_TIME),
             F("报告地区", "county_code", K.REGION)),
        ),
        Feed(
            "health.vaccinations", "vaccinations", "health/vaccinations_{day}.csv", HEALTH,
            (F("身份证号", "id_number", K.ID), F("接种日期", "vaccinated_on", K.DATE, DAY),
             F("疫苗名称", "product", K.TEXT), F("剂次", "dose", K.NUMBER)),
        ),
        Feed(
            "health.fever", "fever_visits", "health/fever_{day}.csv", HEALTH,
            (F("身份证号", "id_number", K.ID), F("就诊时间", "visited_at", K.TIME, HEALTH_TIME),
             F("医院", "hospital", K.TEXT), F("所在地区", "county_code", K.REGION),
             F("体温", "temperature", K.NUMBER)),
        ),
        Feed(
            "transport.trips", "trips", "transport/trips_{day}.jsonl", JSONL,
            (F("id_no", "id_number", K.ID), F("mode", "mode", K.ENUM, values=MODES),
             F("trip_no", "trip_no", K.TEXT), F("dep", "dep_time", K.TIME, ISO_TIME),
             F("arr", "arr_time", K.TIME, ISO_TIME), F("from_code", "origin_region", K.REGION),
             F("to_code", "destination_region", K.REGION), F("from_stop", "origin_stop", K.TEXT),
             F("to_stop", "destination_stop", K.TEXT), F("carriage", "carriage", K.TEXT, required=False),
             F("class", "carriage_class", K.TEXT, required=False),
             F("row", "seat_row", K.NUMBER, required=False), F("seat", "seat", K.TEXT, required=False)),
            order=("dep", "arr"),
        ),
        Feed(
            "telecom.itinerary", "telecom_stays", "telecom/itinerary_{day}.parquet", PARQUET,
            (F("cert_no", "id_number", K.ID), F("city_adcode", "city_code", K.INT_REGION),
             F("first_seen_ms", "first_seen", K.EPOCH_MS), F("last_seen_ms", "last_seen", K.EPOCH_MS)),
            order=("first_seen_ms", "last_seen_ms"),
        ),
        Feed(
            "declaration.declarations", "declarations", "declaration/declarations_{day}.jsonl", JSONL,
            (F("zjhm", "id_number", K.ID), F("sbsj", "declared_at", K.TIME, HEALTH_TIME),
             F("xzqh", "county_code", K.REGION), F("tw", "temperature", K.NUMBER),
             F("zz", "symptoms", K.LIST, values=SYMPTOMS), F("tjdq", "visited_regions", K.LIST)),
        ),
        Feed(
            "proximity.encounters", "proximity", "proximity/encounters_{day}.csv", PLAIN,
            (F("id_number_a", "id_number_a", K.ID), F("id_number_b", "id_number_b", K.ID),
             F("start", "start_at", K.TIME, HEALTH_TIME), F("seconds", "duration_seconds", K.NUMBER)),
        ),
    )
}  # fmt: skip
del F, K

REGISTRIES = ("community.residents", "enterprise.registry", "enterprise.staff", "venue.registry")
ACCUMULATED = ("community.observations",)  # written once, at the end, from every day's rows
OPTIONAL = ("proximity.encounters",)  # only where the world has them (an exposure-notification app)
DAILY = tuple(name for name, feed in FEEDS.items() if feed.daily)
FEED_OF_TABLE = {feed.table: feed for feed in FEEDS.values()}


# ------------------------------------------------------------------------------------------------------------
# normalise: what the feed can carry, exactly what must land


def column(table: pa.Table, name: str) -> pa.Array:
    """One column as a single contiguous array."""
    chunked = table[name]
    return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()


def normalise(feed: Feed, table: pa.Table, seen: set | None = None) -> tuple[pa.Table, dict[str, int]]:
    """The rows of ``table`` as ``feed`` carries them, and the count of rows no feed row could carry.

    Times are cut to the feed's precision, control characters (newlines) in text become spaces, empty text
    becomes null (CSV writes both as nothing; ingestion reads an empty value as none), null lists become empty
    ones and values the feed derives from the ID (sex, birth year) are recomputed from it. Rows ingestion
    would have to reject are dropped and counted: a required field empty (``missing``), a region code that
    GB/T 2260 does not know (``unknown_region``), a start/end pair out of order (``time_order``), a line of a
    GBK file whose GBK bytes happen to be valid UTF-8 (``ambiguous_encoding``: it would be read as UTF-8), a
    natural key met before in this table or, for keys without a day (``seen``), in an earlier file
    (``duplicate``).
    """
    table = _at_precision(feed, _conform(feed, table))
    dropped: dict[str, int] = {}
    table, dropped["missing"] = _drop(table, _missing(feed, table))
    table, dropped["unknown_region"] = _drop(table, _unknown_regions(feed, table))
    if feed.order:
        table, dropped["time_order"] = _drop(table, _out_of_order(feed, table))
    if feed.dialect.encoding != "utf-8":
        table, dropped["ambiguous_encoding"] = _drop(table, _reads_as_utf8(feed, table))
    table, dropped["duplicate"] = _drop(table, _repeated_keys(table, feed.key, seen))
    return table, {reason: n for reason, n in dropped.items() if n}


def _conform(feed: Feed, table: pa.Table) -> pa.Table:
    schema = feed.schema
    if not len(table.schema):
        return schema.empty_table()
    table = table.select(schema.names).cast(schema, safe=False).combine_chunks()
    return derive_from_id(table) if "birth_year" in schema.names else table


def derive_from_id(table: pa.Table) -> pa.Table:
    """Sex (odd sequence digit: M) and birth year, as ingestion derives them from the ID number."""
    ids = column(table, "id_number")
    odd = pc.equal(pc.bit_wise_and(pc.cast(pc.utf8_slice_codeunits(ids, 16, 17), pa.int8()), 1), 1)
    sex = pc.if_else(odd, "M", "F")
    year = pc.cast(pc.utf8_slice_codeunits(ids, 6, 10), pa.int16())
    table = table.set_column(table.schema.get_field_index("sex"), "sex", sex)
    return table.set_column(table.schema.get_field_index("birth_year"), "birth_year", year)


def _at_precision(feed: Feed, table: pa.Table) -> pa.Table:
    for f in feed.fields:
        values = column(table, f.column)
        carried = _carried(feed, f, values)
        if carried is not values:
            table = table.set_column(table.schema.get_field_index(f.column), f.column, carried)
    return table


def _carried(feed: Feed, f: Field, values: pa.Array) -> pa.Array:
    """The values as the feed carries them: minutes, no null lists, no control characters, CSV "" null."""
    if f.kind is Kind.TIME and not f.has_seconds:
        return pc.floor_temporal(values, unit="minute")
    if f.kind is Kind.LIST:
        return pc.fill_null(values, pa.scalar([], values.type))
    if not (feed.dialect.text and pa.types.is_string(values.type)):
        return values
    if f.kind in (Kind.TEXT, Kind.CODE):
        unprintable = pc.invert(pc.fill_null(pc.utf8_is_printable(values), True))
        if pc.any(unprintable).as_py():
            spaced = pc.replace_substring_regex(pc.filter(values, unprintable), "[\x00-\x1f\x7f]", " ")
            values = pc.replace_with_mask(values, unprintable, spaced)
    empty = pc.fill_null(pc.equal(pc.binary_length(values), 0), False)
    if pc.any(empty).as_py():
        values = pc.if_else(empty, pa.scalar(None, pa.string()), values)
    return values


def _missing(feed: Feed, table: pa.Table) -> np.ndarray:
    missing = np.zeros(table.num_rows, dtype=bool)
    for f in feed.fields:
        if f.required:
            missing |= pc.is_null(column(table, f.column)).to_numpy(zero_copy_only=False)
    return missing


def _unknown_regions(feed: Feed, table: pa.Table) -> np.ndarray:
    """Rows with a region code (or a listed one) that GB/T 2260 does not know."""
    known = _known_regions()
    unknown = np.zeros(table.num_rows, dtype=bool)
    for f in feed.fields:
        values = column(table, f.column)
        if f.kind in (Kind.REGION, Kind.INT_REGION):
            unknown |= ~pc.fill_null(pc.is_in(values, value_set=known), True).to_numpy(zero_copy_only=False)
        elif f.kind is Kind.LIST and f.values is None:
            outside = ~pc.fill_null(pc.is_in(pc.list_flatten(values), value_set=known), True).to_numpy(
                zero_copy_only=False
            )
            unknown[pc.list_parent_indices(values).to_numpy(zero_copy_only=False)[outside]] = True
    return unknown


@cache
def _known_regions() -> pa.Array:
    return pa.array(sorted(regions.divisions()), pa.string())


def _reads_as_utf8(feed: Feed, table: pa.Table) -> np.ndarray:
    """Rows whose every non-ASCII text, in the feed's encoding, is also valid UTF-8 (checked per value)."""
    ambiguous = np.zeros(table.num_rows, dtype=bool)
    clear = np.zeros(table.num_rows, dtype=bool)  # a field that cannot pass for UTF-8
    for f in feed.of_kind(Kind.TEXT, Kind.ENUM):
        values = column(table, f.column)
        words = map_values(values, f.values) if f.kind is Kind.ENUM and f.values else values
        encoded = words.dictionary_encode()
        distinct = [v or "" for v in encoded.dictionary.to_pylist()]
        foreign = np.array([not v.isascii() for v in distinct], dtype=bool)
        passes = np.array([_decodes(v.encode(feed.dialect.encoding)) for v in distinct], dtype=bool)
        index = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        if len(distinct):
            ambiguous |= (foreign & passes)[index]
            clear |= (foreign & ~passes)[index]
    return ambiguous & ~clear


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _out_of_order(feed: Feed, table: pa.Table) -> np.ndarray:
    start, end = (column(table, feed.field(name).column) for name in feed.order or ())
    return pc.fill_null(pc.less(end, start), False).to_numpy(zero_copy_only=False)


def _repeated_keys(table: pa.Table, key: tuple[str, ...], seen: set | None) -> np.ndarray:
    """True for every row whose natural key occurred in an earlier row (or in ``seen``, which is updated)."""
    n = table.num_rows
    repeated = np.zeros(n, dtype=bool)
    if seen is not None:
        keys = list(zip(*(column(table, c).to_pylist() for c in key), strict=True))
        for i, k in enumerate(keys):
            repeated[i] = k in seen
            seen.add(k)
        return repeated
    hashes = _key_hashes(table, key)
    ordered = np.sort(hashes)
    shared = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(shared):
        return repeated
    candidates = pc.is_in(pa.array(hashes), value_set=pa.array(shared))
    candidates = np.flatnonzero(candidates.to_numpy(zero_copy_only=False))
    rows = table.select(list(key)).take(candidates).append_column("_row", pa.array(candidates))
    first = rows.group_by(list(key), use_threads=False).aggregate([("_row", "min")])
    repeated[candidates] = True
    repeated[column(first, "_row_min").to_numpy()] = False
    return repeated


def _key_hashes(table: pa.Table, key: tuple[str, ...]) -> np.ndarray:
    """A 64-bit hash of each row's key (equal keys, equal hashes; collisions are checked exactly after)."""
    h = np.zeros(table.num_rows, dtype=np.uint64)
    for name in key:
        h = (h ^ _as_integers(column(table, name), name)) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return h


def _as_integers(values: pa.Array, name: str) -> np.ndarray:
    """Integers equal exactly when the values are equal (within this column)."""
    if name == "id_number":  # the first 17 digits determine the check character
        try:
            values = pc.cast(pc.utf8_slice_codeunits(values, 0, 17), pa.int64())
        except pa.ArrowInvalid:
            values = values.dictionary_encode().indices
    elif pa.types.is_string(values.type):
        values = values.dictionary_encode().indices
    elif pa.types.is_date(values.type):
        values = pc.cast(values, pa.int32())
    elif not pa.types.is_integer(values.type):
        values = pc.cast(values, pa.int64())
    return pc.fill_null(pc.cast(values, pa.int64()), -1).to_numpy().astype(np.uint64)


def _drop(table: pa.Table, mask: np.ndarray) -> tuple[pa.Table, int]:
    dropped = int(mask.sum())
    return (table.filter(pa.array(~mask)) if dropped else table), dropped


# ------------------------------------------------------------------------------------------------------------
# render: the raw value of every field


def render(feed: Feed, table: pa.Table) -> pa.Table:
    """The raw value of each field: strings for text feeds, typed columns for Parquet (faults go in here)."""
    return pa.table({f.name: _RENDERERS[f.kind](column(table, f.column), f) for f in feed.fields})


def format_times(values: pa.Array, pattern: str) -> pa.Array:
    """Dates or local timestamps formatted by ``pattern`` (%Y %m %d %H %M %S and literals), nulls kept.

    The pattern splits into a calendar part (up to the first clock field) and a clock part; the first is
    formatted once per distinct day spanned, the second once per second of a day (cached), and every row
    gathers its two pieces: no per-row Python and no per-row string formatting.
    """
    seconds = _epoch_seconds(values)
    days = seconds // 86400
    first, last = (int(days.min()), int(days.max())) if len(days) else (0, 0)
    pieces = tuple(p for p in re.split(r"(%[YmdHMS])", pattern) if p)
    cut = next((i for i, p in enumerate(pieces) if p in ("%H", "%M", "%S")), len(pieces))
    if any(p in ("%Y", "%m", "%d") for p in pieces[cut:]):
        raise ValueError(f"pattern {pattern!r}: calendar fields must precede clock fields")
    span = np.arange(first, last + 1)
    segments = [
        (_format_table(pieces[:cut], span, np.zeros(len(span), np.int64)), days - first),
        (_clock_table(pieces[cut:]), seconds - days * 86400),
    ]
    segments = [(table, index) for table, index in segments if table.shape[1]]
    row = np.dtype([(f"f{i}", f"V{table.shape[1]}") for i, (table, _) in enumerate(segments)])
    text = np.empty(len(seconds), dtype=row)
    for i, (table, index) in enumerate(segments):
        text[f"f{i}"] = table.view(f"V{table.shape[1]}").ravel()[index]
    formatted = fixed_width_strings(text.view(np.uint8).reshape(len(seconds), row.itemsize))
    if not values.null_count:
        return formatted
    return pc.if_else(pc.is_valid(values), formatted, pa.scalar(None, pa.string()))


@cache
def _clock_table(pieces: tuple[str, ...]) -> np.ndarray:
    """``_format_table`` of clock pieces for every second of a day."""
    return _format_table(pieces, np.zeros(86400, np.int64), np.arange(86400))


def _format_table(pieces: tuple[str, ...], days: np.ndarray, clock: np.ndarray) -> np.ndarray:
    """The UTF-8 bytes of ``pieces`` for each (day since epoch, second of day): an (n, width) uint8 array."""
    span = days.astype("datetime64[D]")
    months = span.astype("datetime64[M]")
    parts = {
        "%Y": months.astype("datetime64[Y]").astype(np.int64) + 1970,
        "%m": months.astype(np.int64) % 12 + 1,
        "%d": (span - months.astype("datetime64[D]")).astype(np.int64) + 1,
        "%H": clock // 3600,
        "%M": clock // 60 % 60,
        "%S": clock % 60,
    }
    columns = []
    for piece in pieces:
        if piece == "%Y":
            columns += [_TWO_DIGITS[parts[piece] // 100], _TWO_DIGITS[parts[piece] % 100]]
        elif piece in parts:
            columns.append(_TWO_DIGITS[parts[piece]])
        else:
            columns.append(np.tile(np.frombuffer(piece.encode(), dtype=np.uint8), (len(days), 1)))
    return np.ascontiguousarray(np.hstack(columns)) if columns else np.zeros((len(days), 0), np.uint8)


_TWO_DIGITS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).reshape(100, 2)


def _epoch_seconds(values: pa.Array) -> np.ndarray:
    """Seconds since 1970 (dates at midnight); nulls take a valid value, keeping the span of days short."""
    if pa.types.is_date(values.type):
        seconds = pc.multiply(pc.cast(pc.cast(values, pa.int32()), pa.int64()), 86400)
    else:
        seconds = pc.cast(pc.cast(values, pa.timestamp("s")), pa.int64())
    if seconds.null_count:
        valid = pc.drop_null(seconds)
        seconds = pc.fill_null(seconds, valid[0] if len(valid) else 0)
    return seconds.to_numpy()


def fixed_width_strings(text: np.ndarray) -> pa.Array:
    """An (n, width) uint8 array of UTF-8 bytes as an Arrow string array, without copying row by row."""
    n, width = text.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64 if n * width >= 2**31 else np.int32)
    kind = pa.large_string() if offsets.dtype == np.int64 else pa.string()
    return pa.Array.from_buffers(
        kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(text))]
    )


def map_values(values: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    """Canonical values → the department's words; an unknown value is a bug of the simulator and raises."""
    keys, words = pa.array(list(mapping)), pa.array(list(mapping.values()))
    index = pc.index_in(values, value_set=keys)
    if index.null_count != values.null_count:
        unknown = pc.filter(values, pc.and_(pc.is_valid(values), pc.is_null(index))).unique().to_pylist()
        raise ValueError(f"values {unknown[:5]} have no word in the feed (known: {list(mapping)})")
    return pc.take(words, index)


def _json_list(values: pa.Array, field: Field) -> pa.Array:
    items = values.values
    if field.values:
        items = map_values(items, field.values)
    quoted = pc.binary_join_element_wise('"', _json_escape(items), '"', "")
    joined = pc.binary_join(pa.ListArray.from_arrays(values.offsets, quoted), ",")
    return pc.binary_join_element_wise("[", joined, "]", "")


def _epoch_ms(values: pa.Array, field: Field) -> pa.Array:
    seconds = pc.cast(pc.cast(values, pa.timestamp("s")), pa.int64())
    return pc.multiply(pc.subtract(seconds, BEIJING_OFFSET_S), 1000)


_RENDERERS = {
    Kind.ID: lambda v, f: v,
    Kind.TEXT: lambda v, f: v,
    Kind.CODE: lambda v, f: v,
    Kind.VENUE: lambda v, f: v,
    Kind.REGION: lambda v, f: v,
    Kind.DATE: lambda v, f: format_times(v, f.pattern),
    Kind.TIME: lambda v, f: format_times(v, f.pattern),
    Kind.ENUM: lambda v, f: map_values(v, f.values or {}),
    Kind.NUMBER: lambda v, f: pc.cast(v, pa.string()),
    Kind.LIST: _json_list,
    Kind.EPOCH_MS: _epoch_ms,
    Kind.INT_REGION: lambda v, f: pc.cast(v, pa.int32()),
}


# ------------------------------------------------------------------------------------------------------------
# lines: raw values encoded for the dialect and joined


def encode(feed: Feed, raw: pa.Table) -> list[pa.Array]:
    """Each field's raw values as they appear in a line: CSV-quoted where needed, or JSON literals."""
    if feed.dialect.csv:
        return [
            _csv_quote(column(raw, f.name), feed.dialect.delimiter)
            if f.kind is Kind.TEXT
            else column(raw, f.name)
            for f in feed.fields
        ]
    return [
        column(raw, f.name) if f.kind in (Kind.NUMBER, Kind.LIST) else _json_string(column(raw, f.name))
        for f in feed.fields
    ]


def join(feed: Feed, cells: list[pa.Array]) -> pa.Array:
    """Encoded cells joined into lines (without newline)."""
    if feed.dialect.csv:
        return pc.binary_join_element_wise(
            *cells, feed.dialect.delimiter, null_handling="replace", null_replacement=""
        )
    pieces: list[pa.Array | str] = []
    for i, (f, cell) in enumerate(zip(feed.fields, cells, strict=True)):
        pieces += [("{" if i == 0 else ",") + f'"{f.name}":', cell]
    return pc.binary_join_element_wise(*pieces, "}", "", null_handling="replace", null_replacement="null")


def lines(feed: Feed, raw: pa.Table) -> pa.Array:
    """The data lines of a text feed for the raw values ``raw``."""
    return join(feed, encode(feed, raw))


def _csv_quote(values: pa.Array, delimiter: str) -> pa.Array:
    """Quote (doubling quotes) the values holding the delimiter or a quote (control characters are gone)."""
    needs = pc.fill_null(
        pc.or_(pc.match_substring(values, delimiter), pc.match_substring(values, '"')), False
    )
    if not pc.any(needs).as_py():
        return values
    quoted = pc.replace_substring(pc.filter(values, needs), '"', '""')
    return pc.replace_with_mask(values, needs, pc.binary_join_element_wise('"', quoted, '"', ""))


def _json_escape(values: pa.Array) -> pa.Array:
    for char, escaped in (("\\", "\\\\"), ('"', '\\"')):
        if pc.any(pc.match_substring(values, char)).as_py():
            values = pc.replace_substring(values, char, escaped)
    return values


def _json_string(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', _json_escape(values), '"', "")


# ------------------------------------------------------------------------------------------------------------
# write: bytes on disk


@dataclass(frozen=True)
class Written:
    """What a written file holds: data lines (or Parquet rows) and the SHA-256 of its bytes."""

    rows: int
    sha256: str


def write_text(
    path: Path, feed: Feed, rows: pa.Array, utf8_rows: np.ndarray | None = None, truncated: bool = False
) -> Written:
    """Write a text file: header (and BOM), one line per element of ``rows`` in the feed's encoding.

    ``utf8_rows`` are positions of lines written in UTF-8 in a file of another encoding (mixed encoding);
    ``truncated`` leaves the last line without its newline.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    dialect, digest = feed.dialect, hashlib.sha256()
    utf8 = np.sort(np.asarray(utf8_rows if utf8_rows is not None else [], dtype=np.int64))
    with path.open("wb") as out:
        if dialect.csv:
            _emit(
                out, digest, (("\ufeff" if dialect.bom else "") + feed.header + "\n").encode(dialect.encoding)
            )
        for start in range(0, len(rows), CHUNK_ROWS):
            data, offsets = _lines_bytes(rows.slice(start, CHUNK_ROWS))
            if truncated and start + CHUNK_ROWS >= len(rows):
                data = data[:-1]
            inside = utf8[(utf8 >= start) & (utf8 < start + CHUNK_ROWS)] - start
            _emit(out, digest, _encode(data, offsets, inside, dialect.encoding))
    return Written(len(rows), digest.hexdigest())


def _emit(out: BinaryIO, digest: hashlib._Hash, data: bytes | memoryview) -> None:
    out.write(data)
    digest.update(data)


def _lines_bytes(chunk: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The UTF-8 bytes of the lines, each followed by a newline, and each line's start offset."""
    joined = pc.binary_join_element_wise(chunk, "", "\n")
    width = np.int64 if pa.types.is_large_string(joined.type) else np.int32
    offsets = np.frombuffer(joined.buffers()[1], dtype=width)[joined.offset : joined.offset + len(joined) + 1]
    data = joined.buffers()[2]
    if data is None or not len(chunk):
        return memoryview(b""), np.zeros(1, dtype=np.int64)
    return memoryview(data)[offsets[0] : offsets[-1]], offsets.astype(np.int64) - offsets[0]


def _encode(
    data: memoryview, offsets: np.ndarray, utf8_lines: np.ndarray, encoding: str
) -> bytes | memoryview:
    if encoding == "utf-8":
        return data
    parts, at = [], 0
    for line in utf8_lines:
        start, end = int(offsets[line]), int(offsets[line + 1])
        parts += [str(data[at:start], "utf-8").encode(encoding), bytes(data[start:end])]
        at = end
    parts.append(str(data[at:], "utf-8").encode(encoding))
    return b"".join(parts)


def write_parquet(path: Path, table: pa.Table) -> Written:
    """Write a Parquet file and hash its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return Written(table.num_rows, digest.hexdigest())
