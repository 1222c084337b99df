"""Spec tables (after ehrQL's spec tests): a small input table written as text, the expected output too.

Bordered or not, one line is one row and ``|`` separates cells; the first line is the header::

    | person_key | venue_code | time_in          |        person_key | county_code
    | 1          | R1         | 2022-03-01 12:00 |        1          | 330102

Separator lines (``|---|---|``) and repeats of the header are skipped. A cell is typed by the Arrow type of
its column: integers, floats, booleans (``true``/``yes``/``1``), dates ``2020-01-23``, timestamps
``2020-01-23 19:00``, lists ``fever,cough`` (``[]`` for an empty list); an empty cell is null, and so is a
column the header leaves out.

The capability helpers (``tests/<capability>/spec.py``) build on this module: it parses, types, builds Arrow
tables, registers them with an engine and compares a result with an expected table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa

from shuzhi.engine import Engine

Row = dict[str, str]


def cells(line: str) -> list[str]:
    """The stripped cells of one line; a bordered line (``| a | b |``) loses its outer pipes."""
    line = line.strip()
    if line.startswith("|"):
        line = line.strip("|")
    return [cell.strip() for cell in line.split("|")]


def _separator(line: str) -> bool:
    return "-" in line and not set(line) - set("|-: ")


def parse(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of cells of a text table (blank, separator and repeated header lines skipped)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not _separator(line)]
    header = cells(lines[0])
    body = [row for row in map(cells, lines[1:]) if row != header]  # concatenated tables repeat their header
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"row {number}: {len(row)} cells for {len(header)} columns: {row}")
    return header, body


def records(text: str) -> list[Row]:
    """The rows of a text table as dicts of strings, keyed by the header."""
    header, body = parse(text)
    return [dict(zip(header, row, strict=True)) for row in body]


def value(cell: str, kind: pa.DataType) -> Any:
    """A cell's text as a Python value of the Arrow type ``kind`` (empty → None)."""
    if cell == "":
        return None
    if pa.types.is_list(kind):
        parts = [part.strip() for part in cell.strip("[]").split(",") if part.strip()]
        return [value(part, kind.value_type) for part in parts]
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


def typed(row: Row, schema: pa.Schema) -> dict[str, Any]:
    """A row of strings as a row of values of ``schema`` (columns the row leaves out are null)."""
    unknown = set(row) - set(schema.names)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not in the schema ({', '.join(schema.names)})")
    return {f.name: value(row.get(f.name, ""), f.type) for f in schema}


def rows(text: str, schema: pa.Schema, expand: Callable[[Row], Iterable[Row]] | None = None) -> list[dict]:
    """The typed rows of a text table; ``expand`` may turn one text row into several."""
    texts = records(text)
    if expand is not None:
        texts = [out for row in texts for out in expand(row)]
    return [typed(row, schema) for row in texts]


def table(text: str, schema: pa.Schema, expand: Callable[[Row], Iterable[Row]] | None = None) -> pa.Table:
    """The text table as an Arrow table of ``schema`` (see :func:`rows`)."""
    return pa.Table.from_pylist(rows(text, schema, expand), schema=schema)


def register(
    engine: Engine,
    texts: Mapping[str, str],
    schema_of: Callable[[str], pa.Schema],
    names: Iterable[str] | None = None,
    expand: Callable[[Row], Iterable[Row]] | None = None,
) -> None:
    """Register each named text table on ``engine``, typed by ``schema_of(name)``.

    With ``names``, register each of those instead: the text given for it, else an empty table.
    """
    for name in texts if names is None else names:
        schema = schema_of(name)
        engine.register(name, table(texts[name], schema, expand) if name in texts else schema.empty_table())


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _counted(t: pa.Table, columns: list[str]) -> Counter:
    return Counter(tuple(_hashable(row[c]) for c in columns) for row in t.select(columns).to_pylist())


def assert_rows(actual: pa.Table, expected: str, schema: pa.Schema | None = None) -> None:
    """``actual`` has exactly the expected rows, order aside, on the columns the expected text names.

    The expected cells are typed by ``schema`` (by default, ``actual``'s).
    """
    header, _ = parse(expected)
    schema = actual.schema if schema is None else schema
    want = _counted(table(expected, pa.schema([schema.field(name) for name in header])), header)
    got = _counted(actual, header)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"\nmissing rows: {sorted(missing.elements(), key=str)}"
        f"\nunexpected rows: {sorted(extra.elements(), key=str)}"
    )
