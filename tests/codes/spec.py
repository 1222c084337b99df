"""Spec tables as text, in the ehrQL style: inputs and expected outputs written as small tables in the test.

    residents = '''
    person_key | county_code
    1          | 330102
    '''

The header names the columns; a column left out is null. Cells are typed by the table's schema (the canonical
model, or :mod:`shuzhi.codes.inputs` for upstream tables): dates ``2020-01-23``, timestamps ``2020-01-23
19:00``, lists ``fever,cough`` (``[]`` for an empty list); an empty cell is null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyarrow as pa

from shuzhi.codes import codes
from shuzhi.codes.inputs import schema
from shuzhi.engine import Engine

INPUTS = (
    "residents",
    "diagnoses",
    "contacts",
    "area_risk",
    "telecom_stays",
    "trips",
    "declarations",
    "fever_visits",
    "home_observations",
    "tests",
)


def parse(text: str, target: pa.Schema) -> pa.Table:
    """A text table as an Arrow table of schema ``target`` (columns not in the text are null)."""
    target = pa.schema([field.with_nullable(True) for field in target])
    lines = [
        line.strip()
        for line in text.strip().splitlines()
        if line.strip() and not line.strip().startswith("-")
    ]
    header = _cells(lines[0])
    unknown = set(header) - set(target.names)
    if unknown:
        raise KeyError(f"columns {sorted(unknown)} are not in the schema ({', '.join(target.names)})")
    rows = [dict(zip(header, _cells(line), strict=True)) for line in lines[1:]]
    columns = {
        f.name: pa.array([_value(row.get(f.name, ""), f.type) for row in rows], f.type) for f in target
    }
    return pa.table(columns, schema=target)


def register(engine: Engine, **tables: str) -> None:
    """Register every input table codes read: the ones given as text, the others empty."""
    unknown = set(tables) - set(INPUTS)
    if unknown:
        raise KeyError(f"not an input of codes: {sorted(unknown)}")
    for name in INPUTS:
        target = schema(name)
        engine.register(name, parse(tables[name], target) if name in tables else target.empty_table())


def colours_on(engine: Engine, policy, days: Iterable[dt.date | str]) -> pa.Table:
    """Codes on each of ``days``, stacked."""
    return pa.concat_tables([codes(engine, policy, _date(day)) for day in days])


def expect(actual: pa.Table, text: str) -> None:
    """Assert that ``actual`` has exactly the rows of ``text`` in the columns ``text`` names (order aside)."""
    header = _cells(text.strip().splitlines()[0])
    expected = parse(text, pa.schema([actual.schema.field(name) for name in header]))
    got = actual.select(header)
    keys = [(name, "ascending") for name in header]
    got, expected = got.sort_by(keys), expected.sort_by(keys)
    assert got.to_pylist() == expected.to_pylist(), f"\nexpected:\n{_show(expected)}\ngot:\n{_show(got)}"


def _date(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")]


def _value(cell: str, kind: pa.DataType):
    if cell == "":
        return None
    if pa.types.is_list(kind):
        inner = cell.strip("[]")
        return [part.strip() for part in inner.split(",") if part.strip()]
    if pa.types.is_integer(kind):
        return int(cell)
    if pa.types.is_floating(kind):
        return float(cell)
    if pa.types.is_boolean(kind):
        return cell.lower() in ("true", "yes", "1")
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(cell)
    if pa.types.is_timestamp(kind):
        return dt.datetime.fromisoformat(cell)
    return cell


def _show(table: pa.Table) -> str:
    rows = [" | ".join(table.column_names)]
    rows += [" | ".join("" if v is None else str(v) for v in row.values()) for row in table.to_pylist()]
    return "\n".join(rows)
