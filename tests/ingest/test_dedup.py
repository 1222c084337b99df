"""Duplicate natural keys, exactly: hashing finds candidates, every repeat is checked column by column."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from shuzhi.ingest import dedup

SCHEMA = pa.schema([("person_key", pa.int64()), ("venue_code", pa.string()), ("day", pa.date32())])


def table(rows: list[tuple]) -> pa.Table:
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(SCHEMA.names)}, schema=SCHEMA)


D1, D2 = dt.date(2020, 1, 20), dt.date(2020, 1, 21)


def test_repeats_in_the_file_and_in_the_lake() -> None:
    landed = table([(1, "A", D1), (2, "B", D1)])
    candidates = table([(1, "A", D2), (2, "B", D1), (1, "A", D2), (3, "C", D1), (1, "A", D2)])
    found = dedup.find(candidates, landed)
    assert found.earlier.tolist() == [-1, -1, 0, -1, 0]
    assert found.in_lake.tolist() == [False, True, False, False, False]
    assert found.any.tolist() == [False, True, True, False, True]


def test_exact_even_when_every_hash_collides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedup, "_hashes", lambda keys: np.zeros(keys.num_rows, dtype=np.uint64))
    landed = table([(9, "Z", D1)])
    candidates = table([(1, "A", D1), (2, "A", D1), (1, "A", D1), (9, "Z", D1)])
    found = dedup.find(candidates, landed)
    assert found.earlier.tolist() == [-1, -1, 0, -1]
    assert found.in_lake.tolist() == [False, False, False, True]


def test_empty() -> None:
    found = dedup.find(table([]), table([(1, "A", D1)]))
    assert len(found.earlier) == 0
