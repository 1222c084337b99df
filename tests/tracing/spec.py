"""Spec tables: inputs and expected outputs written as text tables in the tests (after ehrQL's spec tests).

    | person_key | venue_code | time_in          | time_out         |
    | 1          | R1         | 2022-03-01 12:00 | 2022-03-01 13:00 |

:func:`table` parses such text into an Arrow table with the canonical schema of the named table (columns left
out are null; an empty cell is null); :func:`assert_rows` compares a result, on the columns the expected text
names, with the expected rows regardless of order. Both build on :mod:`spec_tables`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import spec_tables

from shuzhi.model import TABLES
from shuzhi.tracing import ContactPolicy, TraceResult, load_policy, trace
from shuzhi.tracing.contacts import CONTACTS_SCHEMA
from shuzhi.tracing.trace import CASES_SCHEMA

SCHEMAS: dict[str, pa.Schema] = {name: t.schema for name, t in TABLES.items()}
SCHEMAS["contacts"] = CONTACTS_SCHEMA
SCHEMAS["cases"] = CASES_SCHEMA


def table(name: str, text: str) -> pa.Table:
    """The text table as an Arrow table with the schema of table ``name``."""
    return spec_tables.table(text, SCHEMAS[name])


def assert_rows(actual: pa.Table, expected: str, name: str = "contacts") -> None:
    """``actual`` has exactly the expected rows, compared on the expected text's columns."""
    spec_tables.assert_rows(actual, expected, SCHEMAS[name])


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
