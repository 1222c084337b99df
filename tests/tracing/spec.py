"""Spec tables: inputs and expected outputs written as text tables in the tests (after ehrQL's spec tests).

    | person_key | venue_code | time_in          | time_out         |
    | 1          | R1         | 2022-03-01 12:00 | 2022-03-01 13:00 |

:func:`table` parses such text into an Arrow table with the canonical schema of the named table (columns left
out are null; an empty cell is null); :func:`assert_rows` compares a result, on the columns the expected text
names, with the expected rows regardless of order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa

from shuzhi.model import TABLES
from shuzhi.tracing import ContactPolicy, TraceResult, load_policy, trace
from shuzhi.tracing.contacts import CONTACTS_SCHEMA
from shuzhi.tracing.proximity import PROXIMITY_SCHEMA
from shuzhi.tracing.proximity import TABLE as PROXIMITY
from shuzhi.tracing.trace import CASES_SCHEMA

SCHEMAS: dict[str, pa.Schema] = {name: t.schema for name, t in TABLES.items()}
SCHEMAS[PROXIMITY] = PROXIMITY_SCHEMA
SCHEMAS["contacts"] = CONTACTS_SCHEMA
SCHEMAS["cases"] = CASES_SCHEMA


def parse(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and cells of a ``| a | b |`` text table (blank lines, spaces and repeated headers ignored)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header = split[0]
    body = [cells for cells in split[1:] if cells != header]  # concatenated tables repeat their header
    for number, cells in enumerate(body, start=2):
        if len(cells) != len(header):
            raise ValueError(f"line {number}: {len(cells)} cells for {len(header)} columns: {cells}")
    return header, body


def value(cell: str, kind: pa.DataType):
    """A cell's text as a Python value of the Arrow type ``kind`` (empty → None)."""
    if cell == "":
        return None
    if pa.types.is_integer(kind):
        return int(cell)
    if pa.types.is_floating(kind):
        return float(cell)
    if pa.types.is_boolean(kind):
        return cell.lower() in ("true", "yes", "1")
    if pa.types.is_timestamp(kind):
        return dt.datetime.fromisoformat(cell)
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(cell)
    return cell


def table(name: str, text: str) -> pa.Table:
    """The text table as an Arrow table with the schema of table ``name``."""
    schema = SCHEMAS[name]
    header, body = parse(text)
    unknown = set(header) - set(schema.names)
    if unknown:
        raise ValueError(f"{name} has no columns {sorted(unknown)}")
    columns = {}
    for f in schema:
        cells = [row[header.index(f.name)] if f.name in header else "" for row in body]
        columns[f.name] = pa.array([value(c, f.type) for c in cells], f.type)
    return pa.table(columns, schema=schema)


def assert_rows(actual: pa.Table, expected: str, name: str = "contacts") -> None:
    """``actual`` has exactly the expected rows, compared on the expected text's columns."""
    header, _ = parse(expected)
    want = table_subset(table(name, expected), header)
    got = table_subset(actual, header)
    missing, extra = want - got, got - want
    assert not missing and not extra, f"\nmissing rows: {sorted(missing.elements(), key=str)}" + (
        f"\nunexpected rows: {sorted(extra.elements(), key=str)}"
    )


def table_subset(t: pa.Table, columns: list[str]) -> Counter:
    return Counter(tuple(row[c] for c in columns) for row in t.select(columns).to_pylist())


def trace_with(engine, policy: ContactPolicy | str | Path, **options) -> TraceResult:
    """Trace on ``engine`` by a policy, or by the edition it names (shipped, or a folder)."""
    return trace(engine, policy if isinstance(policy, ContactPolicy) else load_policy(policy), **options)


def evidence_of(result: TraceResult, contact_key: int, classification: str | None = None) -> str:
    """The evidence of the (first) row about ``contact_key``."""
    for row in result.contacts.to_pylist():
        if row["contact_key"] == contact_key and classification in (None, row["classification"]):
            return row["evidence"]
    raise AssertionError(f"no contact {contact_key} in the result")


def of_rule(result: TraceResult, *rules: str) -> pa.Table:
    """The contacts found by the named rules."""
    mask = [rule in rules for rule in result.contacts["rule"].to_pylist()]
    return result.contacts.filter(pa.array(mask, pa.bool_()))
