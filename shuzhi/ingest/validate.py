"""Validation of one parsed file: every check of docs/feeds.md, in order, one reason per rejected row.

Each field is converted by its kind (``fields``), which yields the problems of that field; pairs of times are
checked for order; rows whose natural key was seen before are duplicates. Problems are applied in the order of
``reasons.CHECK_ORDER`` (and, within a check, in the order of the feed's fields): a row is quarantined for the
first problem it has, and later checks only see rows that passed the earlier ones.

Duplicates: a row is a duplicate when its natural key (``model.Table.key``) is already in the lake (committed
parts of earlier files; a redone file never compares against its own parts) or belongs to an earlier row of the
same file that passed the checks before this one. The lake is read only in the partitions that can hold the
key: when the day column is part of the key, only the days of the file's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import idcard, model
from shuzhi.ingest import fields
from shuzhi.ingest import reasons as R
from shuzhi.ingest.adapters import Feed, Kind
from shuzhi.ingest.fields import Problem
from shuzhi.ingest.parse import RawBatch
from shuzhi.ingest.reasons import Rejects
from shuzhi.privacy import Pseudonymiser

LakeParts = Callable[[model.Table, Iterable[dt.date] | None], list[Path]]


@dataclass
class Context:
    """What validation needs besides the file: reference data, the pseudonymiser, the lake's parts."""

    lookups: fields.Lookups
    pseudonymiser: Pseudonymiser
    lake_parts: LakeParts  # committed parts of a table (optionally of some days) to check duplicates against
    con: duckdb.DuckDBPyConnection


@dataclass
class Outcome:
    landed: pa.Table  # rows of the canonical table (``feed.table``)
    rejects: Rejects


def validate(feed: Feed, batch: RawBatch, ctx: Context) -> Outcome:
    """Check every row of ``batch``; the good rows become canonical rows, the others quarantine records."""
    schema = feed.table.schema
    if len(batch) == 0:
        return Outcome(schema.empty_table(), batch.rejects)
    values, problems, distinct_ids = _convert(feed, batch, ctx)
    ok = np.ones(len(batch), dtype=bool)
    dup_step = R.step(R.DUPLICATE)
    for problem in (p for step, _, p in problems if step < dup_step):
        _apply(problem, ok, batch)
    ids = values.pop("person_key", None)
    if distinct_ids is not None:
        values["person_key"] = _person_keys(distinct_ids, ok, ctx.pseudonymiser)
    _apply(_duplicates(feed, values, ok, batch.lines, ctx), ok, batch)
    for problem in (p for step, _, p in problems if step > dup_step):
        _apply(problem, ok, batch)
    return Outcome(_landed(feed, values, ids, ok), batch.rejects)


def _convert(
    feed: Feed, batch: RawBatch, ctx: Context
) -> tuple[dict[str, pa.Array], list, fields.Converted | None]:
    """Typed canonical columns, every problem sorted by (check, field), and the converted ID field."""
    schema = feed.table.schema
    values: dict[str, pa.Array] = {}
    problems: list[tuple[int, int, Problem]] = []
    distinct_ids = None
    for order, spec in enumerate(feed.fields):
        target = pa.string() if spec.kind is Kind.ID else schema.field(spec.target).type
        converted = fields.convert(spec, batch.columns[spec.source], target, ctx.lookups)
        values[spec.target] = converted.values
        problems += [(R.step(p.reason), order, p) for p in converted.problems]
        if spec.kind is Kind.ID:
            distinct_ids = converted
    for earlier, later in feed.time_order:
        order = next(i for i, f in enumerate(feed.fields) if f.target == later)
        problems.append((R.step(R.TIME_ORDER), order, _time_order(feed, values, earlier, later)))
    problems.sort(key=lambda item: (item[0], item[1]))
    return values, problems, distinct_ids


def _time_order(feed: Feed, values: dict[str, pa.Array], earlier: str, later: str) -> Problem:
    source = {f.target: f.source for f in feed.fields}
    before = values[earlier]
    after = values[later]
    mask = np.asarray(pc.fill_null(pc.less(after, before), False).to_numpy(zero_copy_only=False), dtype=bool)

    def explain(idx: np.ndarray) -> list[str]:
        take = pa.array(idx, pa.int64())
        pairs = zip(before.take(take).to_pylist(), after.take(take).to_pylist(), strict=True)
        return [f"{source[later]} {a} is before {source[earlier]} {b}" for b, a in pairs]

    return Problem(R.TIME_ORDER, source[later], mask, explain)


def _apply(problem: Problem, ok: np.ndarray, batch: RawBatch) -> None:
    """Quarantine the rows that have ``problem`` and passed every check before it."""
    new = problem.mask & ok
    if not new.any():
        return
    idx = np.flatnonzero(new)
    k = len(idx)
    batch.rejects.extend(
        batch.lines[idx], [problem.field] * k, [problem.reason] * k, problem.explain(idx), batch.raw(idx)
    )
    ok &= ~new


def _person_keys(converted: fields.Converted, ok: np.ndarray, pseudonymiser: Pseudonymiser) -> pa.Array:
    """Pseudonyms of rows still in the running (others null), hashing each distinct valid ID once."""
    encoded, valid = converted.distinct, converted.distinct_valid
    assert encoded is not None and valid is not None
    hashed = pseudonymiser.keys_of_distinct(encoded.dictionary.filter(pa.array(valid)))
    per_distinct = np.zeros(len(valid), dtype=np.int64)
    per_distinct[valid] = hashed.to_numpy(zero_copy_only=False)
    indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
    return pa.array(per_distinct[indices], pa.int64(), mask=~ok)


# ---- duplicates ------------------------------------------------------------------------------------------
def _duplicates(
    feed: Feed, values: dict[str, pa.Array], ok: np.ndarray, lines: np.ndarray, ctx: Context
) -> Problem:
    table = feed.table
    rows = np.flatnonzero(ok)
    take = pa.array(rows, pa.int64())
    candidates = pa.table({k: values[k].take(take) for k in table.key} | {"_row": pa.array(rows, pa.int64())})
    days = _days(candidates.column(table.day_column)) if table.day_column in table.key else None
    parts = ctx.lake_parts(table, days) if len(rows) else []
    earlier, in_lake = _find_duplicates(ctx.con, candidates, table.key, parts)
    mask = np.zeros(len(ok), dtype=bool)
    details: dict[int, str] = {}
    key = ", ".join(table.key)
    for row in in_lake:
        mask[row] = True
        details[row] = f"same ({key}) as a row already in the lake"
    for row, first in earlier.items():
        if row not in details:
            mask[row] = True
            details[row] = f"same ({key}) as line {lines[first]}"
    return Problem(R.DUPLICATE, _key_field(feed), mask, lambda idx: [details[int(i)] for i in idx])


def _key_field(feed: Feed) -> str:
    """The source field named for a duplicate: the feed's ID field, else the first key field."""
    id_field = feed.id_field
    if id_field is not None:
        return id_field.source
    first_key = feed.table.key[0]
    return next(f.source for f in feed.fields if f.target == first_key)


def _days(column: pa.ChunkedArray | pa.Array) -> list[dt.date]:
    return [d for d in pc.unique(column.cast(pa.date32())).to_pylist() if d is not None]


def _find_duplicates(
    con: duckdb.DuckDBPyConnection, candidates: pa.Table, key: tuple[str, ...], parts: list[Path]
) -> tuple[dict[int, int], set[int]]:
    """Rows repeating an earlier row's key (row → first row) and rows whose key is already in the lake."""
    if candidates.num_rows == 0:
        return {}, set()
    cols = ", ".join(f'"{k}"' for k in key)
    con.register("shuzhi_candidates", candidates)
    try:
        earlier = con.execute(
            f"""SELECT _row, first FROM (
                  SELECT _row, min(_row) OVER (PARTITION BY {cols}) AS first FROM shuzhi_candidates)
                WHERE _row <> first"""
        ).fetchall()
        in_lake: set[int] = set()
        if parts:
            match = " AND ".join(f'l."{k}" = c."{k}"' for k in key)
            found = con.execute(
                f"""SELECT c._row FROM shuzhi_candidates c
                    WHERE EXISTS (SELECT 1 FROM read_parquet($parts) l WHERE {match})""",
                {"parts": [str(p) for p in parts]},
            ).fetchall()
            in_lake = {r for (r,) in found}
    finally:
        con.unregister("shuzhi_candidates")
    return {int(r): int(f) for r, f in earlier}, in_lake


# ---- the landed table ------------------------------------------------------------------------------------
def _sex(ids: pa.Array) -> pa.Array:
    m, _ = idcard.fixed_width_bytes(ids, 18)
    odd = (m[:, 16].astype(np.int64) - ord("0")) % 2 == 1
    return pa.array(np.where(odd, "M", "F"), pa.string())


def _birth_year(ids: pa.Array) -> pa.Array:
    m, _ = idcard.fixed_width_bytes(ids, 18)
    d = m[:, 6:10].astype(np.int64) - ord("0")
    return pa.array(d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3], pa.int16())


DERIVED: dict[str, Callable[[pa.Array], pa.Array]] = {"sex": _sex, "birth_year": _birth_year}


def _landed(feed: Feed, values: dict[str, pa.Array], ids: pa.Array | None, ok: np.ndarray) -> pa.Table:
    keep = pa.array(ok)
    columns: dict[str, pa.Array] = {}
    for column in feed.table.schema:
        if column.name in feed.derived:
            assert ids is not None
            columns[column.name] = DERIVED[column.name](ids.filter(keep))
        else:
            columns[column.name] = values[column.name].filter(keep).cast(column.type)
    return pa.table(columns, schema=feed.table.schema)
