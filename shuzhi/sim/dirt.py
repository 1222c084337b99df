"""Fault injection: the dirt real department feeds carry (docs/feeds.md, "Faults real feeds contain").

This module owns which row of which file gets which fault, how each fault is made and how many were made. For
one file (``inject``) it

1. picks the affected rows: each row with probability ``rate``, then one class drawn uniformly among the
   feed's classes (``classes``) that can apply to that row — a ``time_order`` needs a start strictly before
   its end, a ``mixed_encoding`` a line with Chinese in it, a ``late`` row a next file;
2. corrupts the rows of rejected classes so that each fails exactly its documented check and passes the
   earlier ones (a ``bad_date`` row keeps a valid ID and valid codes; an ``unknown_region`` code is absent
   from GB/T 2260; an ``unknown_venue`` code is absent from the venue registry);
3. arranges the file: late rows and half of the duplicates go to the next file of the feed, the chosen
   out-of-order rows are rotated among their places, the other duplicates are inserted somewhere after their
   source, rows carried from the previous file are inserted at random places, and some files (probability
   ``TRUNCATE_FACTOR * rate``) end with a clean row cut short, without newline;
4. says which rows land (clean rows, late, out-of-order and mixed-encoding rows, duplicate sources) and
   counts.

One fault per affected row; a duplicate's source, a late or truncated row is otherwise clean. Registry rows
that other feeds refer to (``protected``) only ever get the classes in ``REFERENCE_SAFE``. Parquet carries
only the per-row classes it can represent (``PARQUET_CLASSES``). Every file draws from its own generator,
seeded by (seed, feed, day), so the same seed writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import idcard, regions
from shuzhi.sim.feeds import Feed, Kind, column, encode, lines

FAULTS = (
    "truncated",
    "malformed",
    "bad_date",
    "id_check_digit",
    "unknown_region",
    "unknown_venue",
    "time_order",
    "duplicate",
)
TOLERATED = ("late", "out_of_order", "mixed_encoding")
PARQUET_CLASSES = ("id_check_digit", "unknown_region", "time_order", "duplicate", "late")
REFERENCE_SAFE = ("duplicate", "out_of_order")
ROW_CLASSES = tuple(c for c in FAULTS + TOLERATED if c != "truncated")  # classes given to single rows
CORRUPTED = ("malformed", "bad_date", "id_check_digit", "unknown_region", "unknown_venue", "time_order")
CLEAN = -1
CODE = {c: i for i, c in enumerate(ROW_CLASSES)} | {"truncated": len(ROW_CLASSES)}
LANDING = (CLEAN, CODE["duplicate"], CODE["late"], CODE["out_of_order"], CODE["mixed_encoding"])
TRUNCATE_FACTOR = 10  # a text file is truncated with probability min(1, TRUNCATE_FACTOR * rate)
NUMBER_AS_TEXT = "unknown"

Rows = pa.Array | pa.Table  # the lines of a text file, or the table of a Parquet file


def classes(feed: Feed) -> tuple[str, ...]:
    """The fault and tolerated classes injected into ``feed``: those its format and fields allow."""
    allowed = FAULTS + TOLERATED if feed.dialect.text else PARQUET_CLASSES
    return tuple(c for c in allowed if _APPLIES[c](feed))


_APPLIES: dict[str, Callable[[Feed], bool]] = {
    "truncated": lambda f: f.dialect.text,
    "malformed": lambda f: f.dialect.text,
    "bad_date": lambda f: bool(f.of_kind(Kind.DATE, Kind.TIME)),
    "id_check_digit": lambda f: f.id_field is not None,
    "unknown_region": lambda f: bool(f.of_kind(Kind.REGION, Kind.INT_REGION)),
    "unknown_venue": lambda f: bool(f.of_kind(Kind.VENUE)),
    "time_order": lambda f: f.order is not None,
    "duplicate": lambda f: True,
    "late": lambda f: f.daily,
    "out_of_order": lambda f: True,
    "mixed_encoding": lambda f: f.dialect.encoding != "utf-8",
}


@dataclass(frozen=True)
class Dirt:
    """The dirt of one simulation: the share of affected rows and the seed of every file's generator."""

    rate: float = 0.0
    seed: int = 0

    def rng(self, feed: Feed, day: dt.date | None) -> np.random.Generator:
        return np.random.default_rng(
            [self.seed, zlib.crc32(feed.name.encode()), day.toordinal() if day else 0]
        )


@dataclass
class Injected:
    """One file after injection: what to write, what moves on, what lands and what was injected."""

    rows: Rows  # in file order
    utf8_rows: np.ndarray  # positions of lines written in UTF-8 (mixed encoding)
    truncated: bool  # the last line is cut and has no newline
    carry: Rows | None  # rows for the next file of the feed: late rows, duplicates
    lands: np.ndarray  # per clean input row: does it land in the lake
    faults: dict[str, int]
    tolerated: dict[str, int]


def inject(
    feed: Feed,
    clean: pa.Table,
    raw: pa.Table,
    rows: Rows,
    dirt: Dirt,
    day: dt.date | None = None,
    *,
    carried: Rows | None = None,
    last: bool = True,
    protected: np.ndarray | None = None,
    venues: frozenset[str] = frozenset(),
) -> Injected:
    """Inject faults into one file of ``feed``.

    ``clean`` are the normalised canonical rows, ``raw`` their rendered field values and ``rows`` the lines
    (text feeds) or table (Parquet) they make; ``carried`` the rows the previous file passed on; ``last`` says
    there is no next file; ``protected`` marks rows other feeds refer to; ``venues`` are the registry's venue
    codes.
    """
    rng = dirt.rng(feed, day)
    truncate = (
        "truncated" in classes(feed)
        and dirt.rate > 0
        and rng.random() < min(1.0, TRUNCATE_FACTOR * dirt.rate)
    )
    roles = assign(feed, clean, rows, dirt.rate, rng, last=last, protected=protected)
    rows = corrupt(feed, raw, rows, roles, rng, venues)
    sources = np.flatnonzero(roles == CODE["duplicate"])
    to_next = np.zeros(len(roles), dtype=bool)
    if not last:
        to_next[sources[rng.random(len(sources)) < 0.5]] = True
    return arrange(rows, roles, to_next, carried, truncate, protected, rng)


# ------------------------------------------------------------------------------------------------------------
# 1. which rows get which class


def assign(
    feed: Feed,
    clean: pa.Table,
    rows: Rows,
    rate: float,
    rng: np.random.Generator,
    *,
    last: bool = True,
    protected: np.ndarray | None = None,
) -> np.ndarray:
    """The role of every row: ``CLEAN`` or the code (``CODE``) of the one class it was given."""
    n = clean.num_rows
    roles = np.full(n, CLEAN, dtype=np.int8)
    row_classes = [c for c in classes(feed) if c != "truncated"]
    if rate <= 0 or not n or not row_classes:
        return roles
    picked = np.flatnonzero(rng.random(n) < rate)
    sub_clean, sub_rows = clean.take(picked), rows.take(pa.array(picked, pa.int64()))
    ok = np.column_stack([_ELIGIBLE.get(c, _always)(feed, sub_clean, sub_rows, last) for c in row_classes])
    if protected is not None:
        ok[protected[picked]] &= np.isin(row_classes, REFERENCE_SAFE)
    choice = (rng.random(ok.shape) * ok).argmax(axis=1)
    given = ok.any(axis=1)
    codes = np.array([CODE[c] for c in row_classes], dtype=np.int8)
    roles[picked[given]] = codes[choice[given]]
    return roles


def _always(feed: Feed, clean: pa.Table, rows: Rows, last: bool) -> np.ndarray:
    return np.ones(clean.num_rows, dtype=bool)


def _valid_any(clean: pa.Table, feed: Feed, *kinds: Kind) -> np.ndarray:
    valid = np.zeros(clean.num_rows, dtype=bool)
    for f in feed.of_kind(*kinds):
        valid |= pc.is_valid(column(clean, f.column)).to_numpy(zero_copy_only=False)
    return valid


def _strictly_ordered(feed: Feed, clean: pa.Table, rows: Rows, last: bool) -> np.ndarray:
    start, end = (column(clean, feed.field(name).column) for name in feed.order or ())
    return pc.fill_null(pc.less(start, end), False).to_numpy(zero_copy_only=False)


_ELIGIBLE: dict[str, Callable[[Feed, pa.Table, Rows, bool], np.ndarray]] = {
    "bad_date": lambda feed, clean, rows, last: _valid_any(clean, feed, Kind.DATE, Kind.TIME),
    "id_check_digit": lambda feed, clean, rows, last: _valid_any(clean, feed, Kind.ID),
    "unknown_region": lambda feed, clean, rows, last: _valid_any(clean, feed, Kind.REGION, Kind.INT_REGION),
    "unknown_venue": lambda feed, clean, rows, last: _valid_any(clean, feed, Kind.VENUE),
    "time_order": _strictly_ordered,
    "late": lambda feed, clean, rows, last: np.full(clean.num_rows, not last),
    "mixed_encoding": lambda feed, clean, rows, last: (
        ~pc.string_is_ascii(rows).to_numpy(zero_copy_only=False)
    ),
}


# ------------------------------------------------------------------------------------------------------------
# 2. corrupting rows


def corrupt(
    feed: Feed,
    raw: pa.Table,
    rows: Rows,
    roles: np.ndarray,
    rng: np.random.Generator,
    venues: frozenset[str] = frozenset(),
) -> Rows:
    """``rows`` with every row of a rejected class replaced by its corrupted version."""
    chosen = np.flatnonzero(has_role(roles, [CODE[c] for c in CORRUPTED]))
    if not len(chosen):
        return rows
    records = raw.take(chosen).to_pylist()
    variants = [
        _CELL_FAULTS[ROW_CLASSES[role]](feed, rec, rng, venues)
        for rec, role in zip(records, roles[chosen], strict=True)
    ]
    corrupted = pa.Table.from_pylist(records, schema=raw.schema)
    if feed.dialect.text:
        corrupted = pa.array(_malformed_lines(feed, corrupted, variants, rng), pa.string())
    return splice(rows, chosen, corrupted)


def _bad_date(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> None:
    """Month 13, 30 February, or hour 25 (times); every pattern has %Y at 0, %m at 5, %d at 8 and %H at 11."""
    f = _pick(rng, [f for f in feed.of_kind(Kind.DATE, Kind.TIME) if rec[f.name] is not None])
    v = rec[f.name]
    impossible = [v[:5] + "13" + v[7:], v[:5] + "02" + v[7] + "30" + v[10:]]
    if f.kind is Kind.TIME:
        impossible.append(v[:11] + "25" + v[13:])
    rec[f.name] = _pick(rng, impossible)


def _id_check_digit(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> None:
    """A wrong check character, in one of the row's ID numbers (a proximity record has two)."""
    ids = feed.of_kind(Kind.ID)
    name = (ids[0] if len(ids) == 1 else _pick(rng, list(ids))).name
    rec[name] = rec[name][:17] + _pick(rng, [c for c in idcard.CHECK_CHARS if c != rec[name][17]])


def _unknown_region(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> None:
    f = _pick(rng, [f for f in feed.of_kind(Kind.REGION, Kind.INT_REGION) if rec[f.name] is not None])
    if f.kind is Kind.INT_REGION:
        rec[f.name] = int(_pick(rng, unknown_regions("city")))
    else:
        rec[f.name] = _pick(rng, unknown_regions("county"))


def _unknown_venue(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> None:
    """The code with its last four characters redrawn until it names no venue of the registry."""
    name = feed.of_kind(Kind.VENUE)[0].name
    original = rec[name]
    stem, code = original[:-4], original
    while code == original or code in venues:
        code = stem + "".join(_pick(rng, _CODE_CHARS) for _ in range(4))
    rec[name] = code


_CODE_CHARS = list("0123456789ABCDEFGHJKLMNPQRTUWXY")


def _time_order(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> None:
    start, end = feed.order or ("", "")
    rec[start], rec[end] = rec[end], rec[start]


def _malformed(feed: Feed, rec: dict, rng: np.random.Generator, venues: frozenset[str]) -> str:
    """How the line breaks: a field dropped or added, a number made text (CSV); broken JSON (JSON Lines)."""
    if not feed.dialect.csv:
        return _pick(rng, ["unclosed", "cut"])
    numbers = [f for f in feed.of_kind(Kind.NUMBER) if rec[f.name] is not None]
    variant = _pick(rng, ["drop", "extra"] + (["number"] if numbers else []))
    if variant == "number":
        rec[_pick(rng, numbers).name] = NUMBER_AS_TEXT
    return variant


_CELL_FAULTS: dict[str, Callable[[Feed, dict, np.random.Generator, frozenset[str]], str | None]] = {
    "malformed": _malformed,
    "bad_date": _bad_date,
    "id_check_digit": _id_check_digit,
    "unknown_region": _unknown_region,
    "unknown_venue": _unknown_venue,
    "time_order": _time_order,
}


def _malformed_lines(
    feed: Feed, corrupted: pa.Table, variants: list[str | None], rng: np.random.Generator
) -> list[str]:
    out = lines(feed, corrupted).to_pylist()
    cells = [c.to_pylist() for c in encode(feed, corrupted)] if "drop" in variants else []
    delimiter = feed.dialect.delimiter
    for i, variant in enumerate(variants):
        if variant == "drop":
            kept = [col[i] or "" for col in cells]
            del kept[int(rng.integers(len(kept)))]
            out[i] = delimiter.join(kept)
        elif variant == "extra":
            out[i] += delimiter + "1"
        elif variant == "unclosed":
            out[i] = out[i][:-1]
        elif variant == "cut":
            out[i] = out[i][: len(out[i]) // 2]
    return out


@cache
def unknown_regions(level: str) -> tuple[str, ...]:
    """Six-digit codes shaped like Zhejiang's (``city``: 33xx00, else 33xxyy) that GB/T 2260 does not have."""
    known = regions.divisions()
    if level == "city":
        candidates = [f"33{c:02d}00" for c in range(12, 100)]
    else:
        candidates = [f"33{c:02d}{k:02d}" for c in range(1, 12) for k in range(85, 100)]
    return tuple(code for code in candidates if code not in known)


def _pick(rng: np.random.Generator, options: list):
    return options[int(rng.integers(len(options)))]


# ------------------------------------------------------------------------------------------------------------
# 3. arranging the file


def arrange(
    rows: Rows,
    roles: np.ndarray,
    to_next: np.ndarray,
    carried: Rows | None,
    truncate: bool,
    protected: np.ndarray | None,
    rng: np.random.Generator,
) -> Injected:
    """Order the file, carry rows to the next one, cut the last row; ``roles`` is updated to what was done."""
    own = np.flatnonzero(roles != CODE["late"])
    _rotate_out_of_order(own, roles, rng)
    keys = np.arange(len(own), dtype=np.float64)
    if truncate:
        _choose_victim(own, keys, roles, protected, rng)
    copies = np.flatnonzero((roles[own] == CODE["duplicate"]) & ~to_next[own])
    copy_keys = rng.integers(copies + 1, len(own) + 1) - 0.25 if len(copies) else np.zeros(0)
    carried_keys = rng.integers(0, len(own) + 1, size=_length(carried)) - 0.5
    order = np.argsort(np.concatenate([keys, copy_keys, carried_keys]), kind="stable")
    index = np.concatenate([own, own[copies], len(roles) + np.arange(len(carried_keys))])[order]
    pool = rows if carried is None else concat([rows, carried], rows)
    final = pool if np.array_equal(index, np.arange(len(pool))) else take(pool, index)
    mixed = np.concatenate([roles == CODE["mixed_encoding"], np.zeros(len(carried_keys), bool)])[index]
    if truncate and (roles == CODE["truncated"]).any():
        final = _cut_last(final, rng)
    moved = np.flatnonzero((roles == CODE["late"]) | to_next)
    return Injected(
        rows=final,
        utf8_rows=np.flatnonzero(mixed),
        truncated=bool((roles == CODE["truncated"]).any()),
        carry=take(rows, moved) if len(moved) else None,
        lands=has_role(roles, LANDING),
        faults=_counts(roles, FAULTS),
        tolerated=_counts(roles, TOLERATED),
    )


def _rotate_out_of_order(own: np.ndarray, roles: np.ndarray, rng: np.random.Generator) -> None:
    places = np.flatnonzero(roles[own] == CODE["out_of_order"])
    if len(places) == 1:
        roles[own[places]] = CLEAN  # a single row cannot be out of order
    elif len(places) > 1:
        own[places] = np.roll(own[places], int(rng.integers(1, len(places))))


def _choose_victim(
    own: np.ndarray,
    keys: np.ndarray,
    roles: np.ndarray,
    protected: np.ndarray | None,
    rng: np.random.Generator,
) -> None:
    eligible = roles[own] == CLEAN
    if protected is not None:
        eligible &= ~protected[own]
    places = np.flatnonzero(eligible)
    if len(places):
        place = places[int(rng.integers(len(places)))]
        keys[place] = len(own) + 1
        roles[own[place]] = CODE["truncated"]


def _cut_last(final: pa.Array, rng: np.random.Generator) -> pa.Array:
    last = final[len(final) - 1].as_py()
    cut = last[: int(rng.integers(1, len(last)))]
    return splice(final, np.array([len(final) - 1]), pa.array([cut], final.type))


def _counts(roles: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
    counts = {c: int((roles == CODE[c]).sum()) for c in names}
    return {c: n for c, n in counts.items() if n}


# ------------------------------------------------------------------------------------------------------------
# rows: lines (Arrow string array) or a Parquet table, handled alike


def has_role(roles: np.ndarray, codes: list[int] | tuple[int, ...]) -> np.ndarray:
    """``roles`` in ``codes``, by table lookup (``np.isin`` hashes the whole array)."""
    table = np.zeros(len(CODE) + 1, dtype=bool)
    table[np.asarray(codes, dtype=np.int64) + 1] = True
    return table[roles.astype(np.int64) + 1]


def take(rows: Rows, index: np.ndarray) -> Rows:
    return rows.take(pa.array(index, pa.int64()))


def concat(parts: list[Rows | None], like: Rows) -> Rows:
    present = [p for p in parts if p is not None]
    if isinstance(like, pa.Table):
        return pa.concat_tables(present)
    return pa.concat_arrays([p.cast(like.type) for p in present])


def splice(rows: Rows, index: np.ndarray, replacement: Rows) -> Rows:
    """``rows`` with the rows at ``index`` (ascending) replaced by ``replacement``."""
    mask = np.zeros(len(rows), dtype=bool)
    mask[index] = True
    if isinstance(rows, pa.Table):
        return pa.table(
            {
                name: pc.replace_with_mask(
                    column(rows, name),
                    pa.array(mask),
                    column(replacement, name).cast(rows.schema.field(name).type),
                )
                for name in rows.column_names
            }
        )
    return pc.replace_with_mask(rows, pa.array(mask), replacement.cast(rows.type))


def _length(rows: Rows | None) -> int:
    return 0 if rows is None else len(rows)
