"""Duplicate natural keys: which rows repeat a key that an earlier row of the file, or the lake, already has.

Each row's key (``model.Table.key``, several columns) is folded into one 64-bit hash — strings by their index
in a dictionary shared by the lake's keys and the file's, numbers and times by their value — and the hashes
are dictionary-encoded in order (the lake's rows first, then the file's): a row whose hash was met before
repeats the row where it was first met. Every repeat is then checked column by column against that first row,
so the result is exact; should two different keys ever share a hash, the few rows involved are resolved
exactly in Python instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_SEED = np.uint64(0xCBF29CE484222325)


@dataclass(frozen=True)
class Duplicates:
    """Per candidate row: the candidate row it repeats (-1 if none) and whether its key is in the lake."""

    earlier: np.ndarray  # int64
    in_lake: np.ndarray  # bool

    @property
    def any(self) -> np.ndarray:
        return self.in_lake | (self.earlier >= 0)


def find(candidates: pa.Table, landed: pa.Table) -> Duplicates:
    """Duplicates among ``candidates`` (key columns, file order) and against ``landed`` (the lake's keys)."""
    n_landed, n = landed.num_rows, candidates.num_rows
    if n == 0:
        return Duplicates(np.zeros(0, np.int64), np.zeros(0, bool))
    keys = pa.concat_tables([landed.cast(candidates.schema), candidates]).combine_chunks()
    first = _first_occurrence(_hashes(keys))
    repeats = np.flatnonzero(first[n_landed:] >= 0) + n_landed
    if len(repeats) and not _same_keys(keys, repeats, first[repeats]):
        first = _first_occurrence_exact(keys)
        repeats = np.flatnonzero(first[n_landed:] >= 0) + n_landed
    earlier = np.full(n, -1, dtype=np.int64)
    in_lake = np.zeros(n, dtype=bool)
    origin = first[repeats]
    in_lake[repeats[origin < n_landed] - n_landed] = True
    from_file = origin >= n_landed
    earlier[repeats[from_file] - n_landed] = origin[from_file] - n_landed
    return Duplicates(earlier, in_lake)


def _hashes(keys: pa.Table) -> np.ndarray:
    h = np.full(keys.num_rows, _SEED, dtype=np.uint64)
    for column in keys.columns:
        h ^= _codes(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        h *= _MULTIPLIER
        h ^= h >> np.uint64(31)
    return h


def _codes(column: pa.Array) -> np.ndarray:
    """Integers that are equal exactly when the values are (within this column)."""
    t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        values = pc.dictionary_encode(column).indices.cast(pa.int64())
    elif pa.types.is_floating(t):
        values = pc.fill_null(column.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False).view(np.int64)
        return values.astype(np.uint64)
    elif pa.types.is_date32(t):
        values = column.cast(pa.int32()).cast(pa.int64())
    else:
        values = column.cast(pa.int64())
    return np.asarray(pc.fill_null(values, -1).to_numpy(zero_copy_only=False)).astype(np.uint64)


def first_rows(indices: np.ndarray) -> np.ndarray:
    """The row where each value of a dictionary encoding first occurs (``indices`` of ``dictionary_encode``).

    Arrow hands out dictionary indices in order of first appearance, so a row whose index exceeds every index
    before it is a first occurrence; should that order ever not hold, the rows are found by sorting instead.
    """
    if not len(indices):
        return np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero(indices > np.r_[-1, np.maximum.accumulate(indices)[:-1]])
    if len(rows) == int(indices.max()) + 1 and np.array_equal(indices[rows], np.arange(len(rows))):
        return rows
    return np.unique(indices, return_index=True)[1]


def _first_occurrence(hashes: np.ndarray) -> np.ndarray:
    """For each row, the earlier row where its hash first occurred, or -1 for a first occurrence."""
    indices = pc.dictionary_encode(pa.array(hashes, pa.uint64())).indices.to_numpy(zero_copy_only=False)
    where_first = first_rows(indices)
    first = where_first[indices]
    return np.where(first == np.arange(len(indices)), -1, first)


def _same_keys(keys: pa.Table, rows: np.ndarray, firsts: np.ndarray) -> bool:
    a, b = pa.array(rows, pa.int64()), pa.array(firsts, pa.int64())
    for column in keys.columns:
        equal = pc.equal(column.take(a), column.take(b))
        if not pc.all(pc.fill_null(equal, False)).as_py():
            return False
    return True


def _first_occurrence_exact(keys: pa.Table) -> np.ndarray:
    seen: dict[tuple, int] = {}
    first = np.full(keys.num_rows, -1, dtype=np.int64)
    for i, row in enumerate(zip(*(c.to_pylist() for c in keys.columns), strict=True)):
        at = seen.setdefault(row, i)
        if at != i:
            first[i] = at
    return first
