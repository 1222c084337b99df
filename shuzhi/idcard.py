"""GB 11643 citizen ID numbers: structure and the ISO 7064 MOD 11-2 check digit.

An ID number is 18 characters: six-digit region code (GB/T 2260) of first registration, birth date YYYYMMDD,
a three-digit sequence (odd for men, even for women) and a check character from "0123456789X". Scalar helpers
serve forms and tests; the vectorised ones serve the simulator and ingestion at millions of rows per second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

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
