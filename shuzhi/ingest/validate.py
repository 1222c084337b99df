"""Validation of one parsed file: every check of docs/feeds.md, in order, one reason per rejected row.

Each field is converted by its kind (``fields``), which yields the problems of that field; pairs of times are
checked for order; rows whose natural key was seen before are duplicates. Problems are applied in the order of
``reasons.CHECK_ORDER`` (and, within a check, in the order of the feed's fields): a row is quarantined for the
first problem it has, and later checks only see rows that passed the earlier ones.

Duplicates: a row is a duplicate when its natural key (``model.Table.key``) is already in the lake (committed
parts of earlier files; a redone file never compares against its own parts) or belongs to an earlier row of
the same file that passed the checks before this one. The lake is read only in the partitions that can hold
the key: when the day column is part of the key, only the days of the file's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shuzhi import idcard, model
from shuzhi.ingest import dedup, fields
from shuzhi.ingest import reasons as R
from shuzhi.ingest.adapters import Feed, Kind
from shuzhi.ingest.fields import Problem
from shuzhi.ingest.parse import RawBatch
from shuzhi.ingest.reasons import Rejects
from shuzhi.privacy import Pseudonymiser

EPOCH = dt.date(1970, 1, 1)
LandedKeys = Callable[[model.Table, list[dt.date] | None, pc.Expression | None], pa.Table]


@dataclass
class Context:
    """What validation needs besides the file: reference data, the pseudonymiser, the lake's keys."""

    lookups: fields.Lookups
    pseudonymiser: Pseudonymiser
    landed_keys: LandedKeys  # natural keys already in the lake (optionally of some days only)
    landed_days: Callable[[model.Table], list[dt.date]]  # the days the lake has a partition of


@dataclass
class Outcome:
    landed: pa.Table  # rows of the canonical table (``feed.table``)
    rejects: Rejects
    home_regions: pa.Table | None = None  # (person_key, home_region) of the landed rows' persons, distinct


def validate(feed: Feed, batch: RawBatch, ctx: Context) -> Outcome:
    """Check every row of ``batch``; the good rows become canonical rows, the others quarantine records."""
    schema = feed.table.schema
    if len(batch) == 0:
        return Outcome(schema.empty_table(), batch.rejects)
    values, problems, ids = _convert(feed, batch, ctx)
    ok = np.ones(len(batch), dtype=bool)
    dup_step = R.step(R.DUPLICATE)
    for problem in (p for step, _, p in problems if step < dup_step):
        _apply(problem, ok, batch)
    raw_ids = [values.pop(target) for target in ids]
    keys = {target: _keys_of_distinct(converted, ctx.pseudonymiser) for target, converted in ids.items()}
    for target, converted in ids.items():
        values[target] = _person_keys(converted, keys[target], ok)
    _apply(_duplicates(feed, values, ok, batch.lines, ctx), ok, batch)
    for problem in (p for step, _, p in problems if step > dup_step):
        _apply(problem, ok, batch)
    regions = [_home_regions(converted, keys[target], ok) for target, converted in ids.items()]
    first_ids = raw_ids[0] if raw_ids else None
    return Outcome(_landed(feed, values, first_ids, ok), batch.rejects, _distinct_rows(regions))


Found = list[tuple[int, int, Problem]]  # (check step, field order, problem)


def _convert(
    feed: Feed, batch: RawBatch, ctx: Context
) -> tuple[dict[str, pa.Array], Found, dict[str, fields.Converted]]:
    """Typed canonical columns, every problem sorted by (check, field), the converted ID fields by target."""
    schema = feed.table.schema
    values: dict[str, pa.Array] = {}
    problems: Found = []
    ids: dict[str, fields.Converted] = {}
    for order, spec in enumerate(feed.fields):
        target = pa.string() if spec.kind is Kind.ID else schema.field(spec.target).type
        converted = fields.convert(spec, batch.columns[spec.source], target, ctx.lookups)
        values[spec.target] = converted.values
        problems += [(R.step(p.reason), order, p) for p in converted.problems]
        if spec.kind is Kind.ID:
            ids[spec.target] = converted
    for earlier, later in feed.time_order:
        order = next(i for i, f in enumerate(feed.fields) if f.target == later)
        problems.append((R.step(R.TIME_ORDER), order, _time_order(feed, values, earlier, later)))
    if feed.pair is not None:
        problems.append((R.step(R.BAD_VALUE), len(feed.fields), _same_person(feed, values)))
    problems.sort(key=lambda item: (item[0], item[1]))
    return values, problems, ids


def _same_person(feed: Feed, values: dict[str, pa.Array]) -> Problem:
    """A pair naming one person twice (the same ID number on both sides) is no encounter."""
    assert feed.pair is not None
    one, other = feed.pair
    source = {f.target: f.source for f in feed.fields}
    same = pc.fill_null(pc.equal(values[one], values[other]), False).to_numpy(zero_copy_only=False)

    def explain(idx: np.ndarray) -> list[str]:
        return [f"{source[other]} names the same person as {source[one]}"] * len(idx)

    return Problem(R.BAD_VALUE, source[other], np.asarray(same, dtype=bool), explain)


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


def _keys_of_distinct(converted: fields.Converted, pseudonymiser: Pseudonymiser) -> np.ndarray:
    """The pseudonym of each distinct ID of the batch (0 for an invalid one), hashing each valid ID once."""
    encoded, valid = converted.distinct, converted.distinct_valid
    assert encoded is not None and valid is not None
    hashed = pseudonymiser.keys_of_distinct(encoded.dictionary.filter(pa.array(valid)))
    per_distinct = np.zeros(len(valid), dtype=np.int64)
    per_distinct[valid] = hashed.to_numpy(zero_copy_only=False)
    return per_distinct


def _person_keys(converted: fields.Converted, keys_of_distinct: np.ndarray, ok: np.ndarray) -> pa.Array:
    """Pseudonyms of rows still in the running (others null)."""
    return pa.array(keys_of_distinct[_distinct_index(converted)], pa.int64(), mask=~ok)


def _home_regions(converted: fields.Converted, keys_of_distinct: np.ndarray, ok: np.ndarray) -> pa.Table:
    """Each landed person's home region: the first six digits of their ID (the ID itself goes no further),
    taken once per distinct ID."""
    landed = np.zeros(len(keys_of_distinct), dtype=bool)
    landed[_distinct_index(converted)[ok]] = True  # a mask, not a sort: linear in the rows
    used = np.flatnonzero(landed)
    ids = converted.distinct.dictionary.take(pa.array(used))
    return pa.table(
        {
            "person_key": pa.array(keys_of_distinct[used], pa.int64()),
            "home_region": pc.utf8_slice_codeunits(ids, 0, 6),
        }
    )


def _distinct_rows(tables: list[pa.Table]) -> pa.Table | None:
    """The rows of ``tables`` together, each once (a person named in two ID columns is one person)."""
    if not tables:
        return None
    if len(tables) == 1:
        return tables[0]
    together = pa.concat_tables(tables)
    return together.group_by(together.column_names, use_threads=False).aggregate([])


def _distinct_index(converted: fields.Converted) -> np.ndarray:
    """For each row, the index of its ID among the batch's distinct IDs."""
    return pc.fill_null(converted.distinct.indices, 0).to_numpy(zero_copy_only=False)


# ---- duplicates ------------------------------------------------------------------------------------------
def _duplicates(
    feed: Feed, values: dict[str, pa.Array], ok: np.ndarray, lines: np.ndarray, ctx: Context
) -> Problem:
    table = feed.table
    rows = np.flatnonzero(ok)
    take = pa.array(rows, pa.int64())
    schema = pa.schema([table.schema.field(k) for k in table.key])
    candidates = pa.table(
        {k: values[k].take(take).cast(schema.field(k).type) for k in table.key}, schema=schema
    )
    found = dedup.find(candidates, _landed_keys(table, candidates, ctx))
    key = ", ".join(table.key)
    details: dict[int, str] = {}
    for i in np.flatnonzero(found.in_lake):
        details[int(rows[i])] = f"same ({key}) as a row already in the lake"
    for i in np.flatnonzero(~found.in_lake & (found.earlier >= 0)):
        details[int(rows[i])] = f"same ({key}) as line {lines[rows[found.earlier[i]]]}"
    mask = np.zeros(len(ok), dtype=bool)
    mask[rows[found.any]] = True
    return Problem(R.DUPLICATE, _key_field(feed), mask, lambda idx: [details[int(i)] for i in idx])


def _key_field(feed: Feed) -> str:
    """The source field named for a duplicate: the feed's (first) ID field, else the first key field."""
    id_field = feed.id_field
    if id_field is not None:
        return id_field.source
    first_key = feed.table.key[0]
    return next(f.source for f in feed.fields if f.target == first_key)


def _landed_keys(table: model.Table, candidates: pa.Table, ctx: Context) -> pa.Table:
    """The lake's keys that may equal a candidate's: of the candidates' days and sharing the first key column.

    When the day column is part of the key (events), only the partitions of the candidates' days are read, and
    of each only the rows whose first key column (the person) has a candidate that day: late rows of a
    previous day then cost a look at a few of that day's rows, not all of them.
    """
    if candidates.num_rows == 0:
        return candidates.schema.empty_table()
    if table.day_column not in table.key:
        return ctx.landed_keys(table, None, None)
    first = table.key[0]
    days = pc.cast(candidates.column(table.day_column).combine_chunks().cast(pa.date32()), pa.int32())
    in_lake = {(d - EPOCH).days for d in ctx.landed_days(table)}
    pieces = [candidates.schema.empty_table()]
    for day in (d for d in pc.unique(days).to_pylist() if d in in_lake):
        of_day = candidates.filter(pc.equal(days, day))
        where = ds.field(first).isin(pc.unique(of_day.column(first).combine_chunks()))
        pieces.append(ctx.landed_keys(table, [EPOCH + dt.timedelta(days=day)], where))
    return pa.concat_tables(pieces)


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
