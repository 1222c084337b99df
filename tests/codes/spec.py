"""Spec tables as text, in the ehrQL style: inputs and expected outputs written as small tables in the test.

    residents = '''
    person_key | county_code
    1          | 330102
    '''

The header names the columns; a column left out is null. Cells are typed by the table's schema (the canonical
model, or :mod:`shuzhi.codes.inputs` for upstream tables): dates ``2020-01-23``, timestamps ``2020-01-23
19:00``, lists ``fever,cough`` (``[]`` for an empty list); an empty cell is null (see :mod:`spec_tables`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyarrow as pa
import spec_tables

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


def _nullable(target: pa.Schema) -> pa.Schema:
    return pa.schema([field.with_nullable(True) for field in target])


def parse(text: str, target: pa.Schema) -> pa.Table:
    """A text table as an Arrow table of schema ``target`` (columns not in the text are null)."""
    return spec_tables.table(text, _nullable(target))


def register(engine: Engine, **tables: str) -> None:
    """Register every input table codes read: the ones given as text, the others empty."""
    unknown = set(tables) - set(INPUTS)
    if unknown:
        raise KeyError(f"not an input of codes: {sorted(unknown)}")
    spec_tables.register(engine, tables, lambda name: _nullable(schema(name)), names=INPUTS)


def colours_on(engine: Engine, policy, days: Iterable[dt.date | str]) -> pa.Table:
    """Codes on each of ``days``, stacked."""
    return pa.concat_tables([codes(engine, policy, _date(day)) for day in days])


def expect(actual: pa.Table, text: str) -> None:
    """Assert that ``actual`` has exactly the rows of ``text`` in the columns ``text`` names (order aside)."""
    spec_tables.assert_rows(actual, text)


def _date(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
