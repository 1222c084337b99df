"""GB 11643 citizen ID numbers: structure and the ISO 7064 MOD 11-2 check digit.

An ID number is 18 characters: six-digit region code (GB/T 2260) of first registration, birth date YYYYMMDD,
a three-digit sequence (odd for men, even for women) and a check character from "0123456789X". Scalar helpers
serve forms and tests; the vectorised ones serve the simulator and ingestion at millions of rows per second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_CHARS = "10X98765432"  # check character for (sum of weighted digits) mod 11
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    total = sum(int(c) * int(w) for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdProblem:
    """Why an ID number is not valid: the reason class and a human explanation."""

    reason: str  # id_format | id_check_digit | id_birth_date | id_region
    detail: str


def validate(id_number: str, known_provinces: frozenset[str], today: dt.date) -> IdProblem | None:
    """Validate one ID number; None when valid."""
    if len(id_number) != 18 or not id_number[:17].isascii() or not id_number[:17].isdigit():
        return IdProblem("id_format", "must be 17 digits followed by a digit or X")
    if id_number[17] not in CHECK_CHARS:
        return IdProblem("id_format", "check character must be a digit or X")
    try:
        born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return IdProblem("id_birth_date", f"birth date {id_number[6:14]} does not exist")
    if not EARLIEST_BIRTH <= born <= today:
        return IdProblem("id_birth_date", f"birth date {born} is outside {EARLIEST_BIRTH}..{today}")
    if id_number[:2] not in known_provinces:
        return IdProblem("id_region", f"region prefix {id_number[:2]} is no province of GB/T 2260")
    expected = check_char(id_number[:17])
    if id_number[17] != expected:
        return IdProblem("id_check_digit", f"check character is {id_number[17]}, MOD 11-2 gives {expected}")
    return None


def check_chars(first17: np.ndarray) -> np.ndarray:
    """Vectorised check characters: ``first17`` is an (n, 17) uint8 array of digit values 0..9."""
    totals = (first17.astype(np.int64) * WEIGHTS).sum(axis=1) % 11
    return _CHECK_BYTES[totals]


def compose(region: np.ndarray, birth: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Vectorised ID numbers from region codes (int), birth dates (datetime64[D]) and sequences (0..999)."""
    ymd = birth.astype("datetime64[D]").astype(object)
    births = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    digits = np.zeros((len(region), 17), dtype=np.uint8)
    for value, start, width in ((np.asarray(region, np.int64), 0, 6), (births, 6, 8), (sequence, 14, 3)):
        v = np.asarray(value, dtype=np.int64).copy()
        for pos in range(start + width - 1, start - 1, -1):
            digits[:, pos] = v % 10
            v //= 10
    text = np.empty((len(region), 18), dtype=np.uint8)
    text[:, :17] = digits + ord("0")
    text[:, 17] = check_chars(digits)
    return text.view("S18").ravel().astype(str)


ID_REASONS = ("id_format", "id_birth_date", "id_region", "id_check_digit")  # in the order ``validate`` checks


def fixed_width_bytes(values: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of strings as an (n, width) uint8 matrix, and a mask of those exactly ``width`` long.

    Strings of another length (and nulls) become rows of ``"0"`` bytes and are False in the mask. Used to
    parse fixed-width text (ID numbers, dates and times) with numpy at memory speed.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    fits = pc.fill_null(pc.equal(pc.binary_length(values), width), False)
    fits_np = np.asarray(fits.to_numpy(zero_copy_only=False), dtype=bool)
    n = len(values)
    if n == 0 or width == 0:
        return np.zeros((n, width), dtype=np.uint8), fits_np
    if not fits_np.all():
        values = pc.if_else(fits, values, pa.scalar("0" * width, values.type))
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    first = np.frombuffer(
        values.buffers()[1], dtype=offset_type, count=1, offset=values.offset * offset_type().itemsize
    )
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8, count=n * width, offset=int(first[0]))
    return data.reshape(n, width), fits_np


def int_codes(ids: pa.Array) -> np.ndarray:
    """An int64 naming each well-formed ID number exactly (17 digits and a check character), -1 for others.

    Well-formed is the format check of :func:`validate` only; the code (first 17 digits × 11 + the check
    character's value, X = 10) lets numbers be compared, deduplicated and looked up as integers.
    """
    m, fits = fixed_width_bytes(ids, 18)
    d = m - np.uint8(ord("0"))
    check = np.where(m[:, 17] == ord("X"), np.uint8(10), d[:, 17])
    well_formed = fits & (d[:, :17] <= 9).all(axis=1) & (check <= 10)
    digits = np.minimum(d[:, :17], 9)
    high = digits[:, :8].astype(np.int32) @ (10 ** np.arange(7, -1, -1, dtype=np.int32))  # < 10**8
    low = digits[:, 8:].astype(np.int32) @ (10 ** np.arange(8, -1, -1, dtype=np.int32))  # < 10**9
    number = high.astype(np.int64) * 10**9 + low
    return np.where(well_formed, number * 11 + check, -1)


def problems(ids: pa.Array, known_provinces: frozenset[str], today: dt.date) -> pa.Array:
    """Vectorised :func:`validate`: the reason class of each ID number, null where it is valid (or null).

    Same checks in the same order as :func:`validate` (format, birth date, province, check character), with
    numpy over the bytes; call :func:`validate` on the failures for a human explanation.
    """
    ids = pa.array(ids, pa.string()) if not isinstance(ids, pa.Array | pa.ChunkedArray) else ids
    m, fits = fixed_width_bytes(ids, 18)
    d = m - np.uint8(ord("0"))  # digits 0..9; anything else wraps above 9
    fmt_ok = fits & (d[:, :17] <= 9).all(axis=1) & ((d[:, 17] <= 9) | (m[:, 17] == ord("X")))
    birth_ok = _real_birth_date(d[:, 6:14], today)
    province_table = np.zeros(100, dtype=bool)
    province_table[[int(p) for p in known_provinces if len(p) == 2 and p.isdigit()]] = True
    region_ok = province_table[np.minimum(d[:, 0].astype(np.int32) * 10 + d[:, 1], 99)]
    totals = (np.minimum(d[:, :17], 9).astype(np.int32) @ WEIGHTS.astype(np.int32)) % 11
    check_ok = _CHECK_BYTES[totals] == m[:, 17]
    reason = np.full(len(m), -1, dtype=np.int8)
    for code, ok in reversed(list(enumerate([fmt_ok, birth_ok, region_ok, check_ok]))):
        reason[~ok] = code
    no_problem = pc.is_null(ids).to_numpy(zero_copy_only=False) | (reason < 0)
    names = pa.array(ID_REASONS, pa.string())
    return names.take(pa.array(np.where(no_problem, 0, reason).astype(np.int8), mask=no_problem))


def _real_birth_date(ymd: np.ndarray, today: dt.date) -> np.ndarray:
    """Rows of eight digits (YYYYMMDD, uint8) that form a real date between EARLIEST_BIRTH and ``today``."""
    v = np.minimum(ymd, 9).astype(np.int32)
    year = v[:, 0] * 1000 + v[:, 1] * 100 + v[:, 2] * 10 + v[:, 3]
    month = v[:, 4] * 10 + v[:, 5]
    day = v[:, 6] * 10 + v[:, 7]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0], dtype=np.int32)
    last = month_days[np.minimum(month, 15)] + ((month == 2) & leap)
    real = (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
    stamp = year * 10000 + month * 100 + day
    lo = EARLIEST_BIRTH.year * 10000 + EARLIEST_BIRTH.month * 100 + EARLIEST_BIRTH.day
    return real & (stamp >= lo) & (stamp <= today.year * 10000 + today.month * 100 + today.day)
