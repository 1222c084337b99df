"""Vectorised conversion and checking of one field's values, one converter per ``adapters.Kind``.

A converter takes the raw column of a field (text from CSV and JSON, native types from Parquet) and returns
the canonical typed column plus the problems it found, each a reason class, a row mask and a way to explain
the failing rows. Nothing here loops over rows in Python: dates and times are parsed with numpy over their
fixed-width bytes, numbers with Arrow casts behind a regular-expression guard, codes with hash lookups, ID
numbers over the distinct values only. Explanations are built for the (few) failing rows only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import idcard
from shuzhi.ingest import dedup
from shuzhi.ingest import reasons as R
from shuzhi.ingest.adapters import Field, Kind

BEIJING_OFFSET_S = 8 * 3600
EARLIEST = dt.datetime(2000, 1, 1)  # telecom epochs outside these bounds are bad dates
LATEST = dt.datetime(2100, 1, 1)
_INT = r"^[+-]?[0-9]+$"
_FLOAT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"

Explain = Callable[[np.ndarray], list[str]]


@dataclass
class Problem:
    """Rows of one field that fail one check."""

    reason: str
    field: str
    mask: np.ndarray  # bool, one per row
    explain: Explain  # details for the given row indices


@dataclass
class Converted:
    values: pa.Array
    problems: list[Problem] = field(default_factory=list)
    distinct: pa.DictionaryArray | None = None  # ID numbers: the values dictionary-encoded
    distinct_valid: np.ndarray | None = None  # ID numbers: which distinct values are valid


@dataclass(frozen=True)
class Lookups:
    """Reference data the checks need."""

    regions: pa.Array  # known GB/T 2260 codes
    provinces: frozenset[str]
    today: dt.date
    venues: Callable[[], pa.Array]  # registered venue codes (loaded on first need)


@dataclass(frozen=True)
class Source:
    """The input of a converter: a field's declaration, its raw column and where it goes."""

    spec: Field
    column: pa.Array
    target: pa.DataType  # the canonical column's type
    lookups: Lookups
    missing: np.ndarray  # null or empty text

    @property
    def name(self) -> str:
        return self.spec.source

    def text(self) -> pa.Array:
        return self.column.cast(pa.string())

    def problem(self, reason: str, mask: np.ndarray, explain: Explain) -> Problem:
        return Problem(reason, self.spec.source, mask, explain)


def convert(spec: Field, column: pa.Array, target: pa.DataType, lookups: Lookups) -> Converted:
    """The canonical column of one field and its problems (a missing required value is ``malformed``)."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    source = Source(spec, column, target, lookups, _missing(column))
    out = _CONVERTERS[spec.kind](source)
    if spec.required and source.missing.any():
        out.problems.insert(0, source.problem(R.MALFORMED, source.missing, _fixed("missing value")))
    return out


def _missing(column: pa.Array) -> np.ndarray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return _np_true(pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(column), 0)))
    return _np_true(pc.is_null(column))


def _np(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null counting as False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _np_true(mask: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, True).to_numpy(zero_copy_only=False), dtype=bool)


def _np_int(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _fixed(text: str) -> Explain:
    return lambda idx: [text] * len(idx)


def _quoting(column: pa.Array, template: str) -> Explain:
    """Explain failing rows by quoting their value into ``template`` (with ``{v}``)."""
    return lambda idx: [template.format(v=v) for v in column.take(pa.array(idx, pa.int64())).to_pylist()]


def _nulls_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _found(problem: Problem) -> list[Problem]:
    return [problem] if problem.mask.any() else []


# ---- text, codes and registries -------------------------------------------------------------------------
def _text(s: Source) -> Converted:
    return Converted(_nulls_where(s.text(), s.missing))


def _id(s: Source) -> Converted:
    """ID numbers (a typed lower-case ``x`` read as ``X``), checked once per distinct well-formed number."""
    text = s.text()
    if pc.any(pc.match_substring(text, "x")).as_py():
        text = pc.ascii_upper(text)
    ids = _nulls_where(text, s.missing)
    codes = idcard.int_codes(ids)  # distinct numbers are distinct integers: cheaper to encode than text
    indices = pc.dictionary_encode(pa.array(codes, pa.int64())).indices.to_numpy(zero_copy_only=False)
    first_rows = dedup.first_rows(indices)
    uniques = ids.take(pa.array(first_rows, pa.int64()))
    unique_codes = np.full(len(first_rows), -1, dtype=np.int8)
    unique_reasons = idcard.problems(uniques, s.lookups.provinces, s.lookups.today)
    for code, reason in enumerate(idcard.ID_REASONS):
        unique_codes[_np(pc.equal(unique_reasons, reason))] = code
    well_formed = codes[first_rows] >= 0
    unique_codes[~well_formed] = 0  # id_format (also for a missing value standing for the malformed ones)
    row_codes = unique_codes[indices]
    row_codes[s.missing] = -1
    problems: list[Problem] = []
    for code, reason in enumerate(idcard.ID_REASONS):
        problems += _found(s.problem(reason, row_codes == code, _id_details(ids, s.lookups)))
    distinct = pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), uniques)
    return Converted(ids, problems, distinct=distinct, distinct_valid=unique_codes < 0)


def _id_details(ids: pa.Array, lookups: Lookups) -> Explain:
    def explain(idx: np.ndarray) -> list[str]:
        values = ids.take(pa.array(idx, pa.int64())).to_pylist()
        found = (idcard.validate(v, lookups.provinces, lookups.today) for v in values)
        return [p.detail if p else "invalid ID number" for p in found]

    return explain


def _region(s: Source) -> Converted:
    codes = _nulls_where(s.text(), s.missing)
    unknown = ~_np(pc.is_in(codes, value_set=s.lookups.regions)) & ~s.missing
    explain = _quoting(codes, "'{v}' is no GB/T 2260 division code")
    return Converted(codes, _found(s.problem(R.UNKNOWN_REGION, unknown, explain)))


def _venue(s: Source) -> Converted:
    codes = _nulls_where(s.text(), s.missing)
    unknown = ~_np(pc.is_in(codes, value_set=s.lookups.venues())) & ~s.missing
    explain = _quoting(codes, "venue code '{v}' is not in the venue registry")
    return Converted(codes, _found(s.problem(R.UNKNOWN_VENUE, unknown, explain)))


def _enum(s: Source) -> Converted:
    assert s.spec.values is not None
    codes = s.text()
    mapped, unknown = _map_codes(codes, s.spec.values)
    unknown &= ~s.missing
    explain = _quoting(codes, "'{v}' is not one of " + ", ".join(s.spec.values))
    return Converted(
        _nulls_where(mapped, s.missing | unknown), _found(s.problem(R.BAD_VALUE, unknown, explain))
    )


def _map_codes(codes: pa.Array, values: Mapping[str, str]) -> tuple[pa.Array, np.ndarray]:
    index = pc.index_in(codes, value_set=pa.array(list(values.keys()), pa.string()))
    mapped = pa.array(list(values.values()), pa.string()).take(index)
    return mapped, _np(pc.is_null(index))


# ---- lists ------------------------------------------------------------------------------------------------
def _elements(s: Source) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """The list column as list<string>, its elements and the row of each element."""
    lists = s.column.cast(pa.list_(pa.string()))
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return lists, pc.list_flatten(lists), parents


def _rows_with(parents: np.ndarray, element_mask: np.ndarray, n: int) -> np.ndarray:
    rows = np.zeros(n, dtype=bool)
    rows[parents[element_mask]] = True
    return rows


def _rebuild(lists: pa.Array, elements: pa.Array, missing: np.ndarray) -> pa.Array:
    """The lists with their elements replaced (same lengths), null where missing."""
    lengths = _np_int(pc.list_value_length(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    return pa.ListArray.from_arrays(offsets, elements, mask=pa.array(missing))


def _unknown_elements(lists: pa.Array, known: pa.Array) -> Explain:
    def explain(idx: np.ndarray) -> list[str]:
        known_set = set(known.to_pylist())
        rows = lists.take(pa.array(idx, pa.int64())).to_pylist()
        return [f"{[v for v in (r or []) if v not in known_set]} not known" for r in rows]

    return explain


def _regions(s: Source) -> Converted:
    lists, elements, parents = _elements(s)
    unknown = ~_np(pc.is_in(elements, value_set=s.lookups.regions))
    rows = _rows_with(parents, unknown, len(lists)) & ~s.missing
    problems = _found(s.problem(R.UNKNOWN_REGION, rows, _unknown_elements(lists, s.lookups.regions)))
    return Converted(_rebuild(lists, elements, s.missing), problems)


def _enums(s: Source) -> Converted:
    assert s.spec.values is not None
    lists, elements, parents = _elements(s)
    mapped, unknown = _map_codes(elements, s.spec.values)
    rows = _rows_with(parents, unknown, len(lists)) & ~s.missing
    allowed = pa.array(list(s.spec.values), pa.string())
    problems = _found(s.problem(R.BAD_VALUE, rows, _unknown_elements(lists, allowed)))
    return Converted(_rebuild(lists, pc.fill_null(mapped, ""), s.missing), problems)


# ---- numbers ---------------------------------------------------------------------------------------------
def _number(s: Source) -> Converted:
    integer = s.spec.kind is Kind.INT
    values, not_number = _as_number(s.column, integer, s.missing)
    explain = _quoting(s.column, "'{v}' is not " + ("an integer" if integer else "a number"))
    problems = _found(s.problem(R.MALFORMED, not_number, explain))
    lo, hi = _bounds(s.spec, s.target)
    arr = values.to_numpy(zero_copy_only=False)
    outside = ((arr < lo) | (arr > hi)) & ~(s.missing | not_number)
    explain = _quoting(s.column, f"{{v}} is outside {lo:g}..{hi:g}")
    problems += _found(s.problem(R.BAD_VALUE, outside, explain))
    return Converted(_nulls_where(values, s.missing | not_number | outside).cast(s.target), problems)


def _as_number(column: pa.Array, integer: bool, missing: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Numbers as int64 / float64 (0 where not a number) and the mask of present values that are no number."""
    kind = pa.int64() if integer else pa.float64()
    if pa.types.is_integer(column.type) or (not integer and pa.types.is_floating(column.type)):
        return pc.fill_null(column.cast(kind), 0), np.zeros(len(column), dtype=bool)
    text = column.cast(pa.string())
    shaped = _np(pc.match_substring_regex(text, _INT if integer else _FLOAT))
    if integer:
        shaped &= _np(pc.less_equal(pc.utf8_length(text), 18))  # fits int64
    filled = pc.if_else(pa.array(shaped), text, pa.scalar("0"))
    return filled.cast(kind), ~shaped & ~missing


def _bounds(spec: Field, target: pa.DataType) -> tuple[float, float]:
    lo = -np.inf if spec.minimum is None else spec.minimum
    hi = np.inf if spec.maximum is None else spec.maximum
    if pa.types.is_integer(target):
        info = np.iinfo(target.to_pandas_dtype())
        lo, hi = max(lo, info.min), min(hi, info.max)
    return lo, hi


# ---- dates and times --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    """A fixed-width date/time pattern such as ``YYYY/MM/DD hh:mm``."""

    text: str

    @property
    def width(self) -> int:
        return len(self.text)

    def span(self, token: str) -> tuple[int, int] | None:
        at = self.text.find(token)
        return (at, at + len(token)) if at >= 0 else None

    @property
    def digit_positions(self) -> list[int]:
        return [i for i, c in enumerate(self.text) if c in "YMDhms"]

    @property
    def literal_positions(self) -> list[int]:
        return [i for i, c in enumerate(self.text) if c not in "YMDhms"]


def parse_times(text: pa.Array, pattern: Pattern) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds since 1970 (as written, no zone), and masks: has the value the pattern's shape; is it real."""
    m, fits = idcard.fixed_width_bytes(text, pattern.width)
    d = m - np.uint8(ord("0"))  # digits 0..9, anything else wraps above 9
    shaped = fits & (d[:, pattern.digit_positions] <= 9).all(axis=1)
    for i in pattern.literal_positions:
        shaped &= m[:, i] == ord(pattern.text[i])

    def part(token: str, default: int) -> np.ndarray:
        span = pattern.span(token)
        if span is None:
            return np.full(len(m), default, dtype=np.int64)
        value = np.zeros(len(m), dtype=np.int64)
        for i in range(*span):
            value = value * 10 + np.minimum(d[:, i], 9)
        return value

    year, month, day = part("YYYY", 1970), part("MM", 1), part("DD", 1)
    hour, minute, second = part("hh", 0), part("mm", 0), part("ss", 0)
    real = shaped & _real_date(year, month, day) & (hour <= 23) & (minute <= 59) & (second <= 59)
    days = _days_from_civil(np.where(real, year, 1970), np.where(real, month, 1), np.where(real, day, 1))
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return np.where(real, seconds, 0), shaped, real


def _real_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    last = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), vectorised."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _time_problems(s: Source, text: pa.Array, shaped: np.ndarray, real: np.ndarray) -> list[Problem]:
    form = s.spec.pattern or "YYYY-MM-DDThh:mm:ss+08:00"
    bad_shape = _quoting(text, "'{v}' is not a time of the form " + form)
    unreal = _quoting(text, "'{v}' does not exist")
    return _found(s.problem(R.BAD_DATE, ~shaped & ~s.missing, bad_shape)) + _found(
        s.problem(R.BAD_DATE, shaped & ~real & ~s.missing, unreal)
    )


def _datetime(s: Source) -> Converted:
    assert s.spec.pattern is not None
    text = s.text()
    seconds, shaped, real = parse_times(text, Pattern(s.spec.pattern))
    valid = real & ~s.missing
    if pa.types.is_date(s.target):
        values = pa.array(seconds // 86400, pa.int32(), mask=~valid).cast(pa.date32())
    else:
        values = pa.array(seconds, pa.int64(), mask=~valid).cast(s.target)
    return Converted(values, _time_problems(s, text, shaped, real))


def _iso_datetime(s: Source) -> Converted:
    """``YYYY-MM-DDThh:mm:ss`` followed by ``Z``, ``±hh:mm`` or nothing (already Beijing time)."""
    text = s.text()
    seconds, shaped, real = parse_times(pc.utf8_slice_codeunits(text, 0, 19), Pattern("YYYY-MM-DDThh:mm:ss"))
    offset, offset_ok = _utc_offsets(pc.utf8_slice_codeunits(text, 19, 64))
    shaped &= offset_ok
    real &= shaped
    beijing = seconds - offset + BEIJING_OFFSET_S
    values = pa.array(beijing, pa.int64(), mask=~(real & ~s.missing)).cast(s.target)
    return Converted(values, _time_problems(s, text, shaped, real))


def _utc_offsets(suffix: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Seconds east of UTC of suffixes ``±hh:mm``, ``Z`` or empty (Beijing time), and which are valid."""
    length = _np_int(pc.utf8_length(suffix))
    m, fits = idcard.fixed_width_bytes(suffix, 6)
    d = m.astype(np.int64) - ord("0")
    hh_mm = d[:, [1, 2, 4, 5]]
    signed = fits & np.isin(m[:, 0], [ord("+"), ord("-")]) & (m[:, 3] == ord(":"))
    signed &= ((hh_mm >= 0) & (hh_mm <= 9)).all(axis=1)
    hours, minutes = d[:, 1] * 10 + d[:, 2], d[:, 4] * 10 + d[:, 5]
    signed &= (hours <= 14) & (minutes <= 59)
    offset = np.where(m[:, 0] == ord("-"), -1, 1) * (hours * 3600 + minutes * 60)
    zulu = _np(pc.equal(suffix, "Z"))
    offset = np.where(length == 0, BEIJING_OFFSET_S, np.where(zulu, 0, np.where(signed, offset, 0)))
    return offset, signed | zulu | (length == 0)


def _epoch_ms(s: Source) -> Converted:
    """UTC epoch milliseconds → Beijing local time, whole seconds."""
    ms, not_number = _as_number(s.column, True, s.missing)
    problems = _found(s.problem(R.MALFORMED, not_number, _quoting(s.column, "'{v}' is not an integer")))
    local = np.floor_divide(_np_int(ms), 1000) + BEIJING_OFFSET_S
    lo, hi = (int((t - dt.datetime(1970, 1, 1)).total_seconds()) for t in (EARLIEST, LATEST))
    outside = ~(s.missing | not_number) & ((local < lo) | (local >= hi))
    explain = _quoting(s.column, f"{{v}} ms is not between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    problems += _found(s.problem(R.BAD_DATE, outside, explain))
    valid = ~(s.missing | not_number | outside)
    return Converted(pa.array(np.where(valid, local, 0), pa.int64(), mask=~valid).cast(s.target), problems)


_CONVERTERS = {
    Kind.TEXT: _text,
    Kind.ID: _id,
    Kind.REGION: _region,
    Kind.VENUE: _venue,
    Kind.DATE: _datetime,
    Kind.DATETIME: _datetime,
    Kind.ISO_DATETIME: _iso_datetime,
    Kind.EPOCH_MS: _epoch_ms,
    Kind.INT: _number,
    Kind.FLOAT: _number,
    Kind.ENUM: _enum,
    Kind.REGIONS: _regions,
    Kind.ENUMS: _enums,
}
