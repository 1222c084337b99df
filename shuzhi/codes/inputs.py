"""The tables health codes read, and how they are opened through the engine layer.

Codes read the canonical tables of :mod:`shuzhi.model` and two tables that other analytics publish, with the
schemas their owners declare: ``contacts`` (:data:`shuzhi.tracing.contacts.CONTACTS_SCHEMA`) and ``area_risk``
(:data:`shuzhi.risk.area.AREA_RISK_SCHEMA`). Spec tests build their Arrow tables from these schemas.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.model import TABLES, Table
from shuzhi.risk.area import AREA_RISK_SCHEMA
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

CONTACTS = Table(
    "contacts",
    CONTACTS_SCHEMA,
    ("case_key", "contact_key", "rule", "degree"),
    "last_contact_at",
    "Contacts found by tracing (shuzhi.tracing.contacts).",
)

AREA_RISK = Table(
    "area_risk",
    AREA_RISK_SCHEMA,
    ("county_code", "day"),
    "day",
    "Risk level of every county per day (shuzhi.risk.area).",
)

UPSTREAM: dict[str, Table] = {t.name: t for t in (CONTACTS, AREA_RISK)}

# what other regions sent (shuzhi.federation): their cases and contacts of this region's residents count as
# if found here; these tables have the columns of the own table plus ``from_region``
RECEIVED = {"diagnoses": "received_cases", "contacts": "received_contacts"}


def schema(name: str) -> pa.Schema:
    """The schema of an input table: canonical, or published upstream."""
    table = TABLES.get(name) or UPSTREAM.get(name)
    if table is None:
        raise KeyError(f"codes read no table called {name!r}")
    return table.schema


class Sources:
    """The input tables of one computation: from the engine, or empty where allowed and absent."""

    def __init__(self, engine: Engine, allow_missing: bool = False) -> None:
        self.engine = engine
        self.allow_missing = allow_missing
        self._shared: dict[str, ibis.Table] = {}

    def shared(self, name: str, build: Callable[[], ibis.Table]) -> ibis.Table:
        """The expression ``build()`` made once per computation: every rule reusing it reuses one expression,
        which the engine can then compute once (a common table expression)."""
        if name not in self._shared:
            self._shared[name] = build()
        return self._shared[name]

    def table(self, name: str) -> ibis.Table:
        """Table ``name`` with the columns of its schema (the lake adds a ``day`` partition column), and the
        rows other regions sent for it (:data:`RECEIVED`)."""
        names = schema(name).names
        found = [self.engine.table(t).select(*names) for t in (name, RECEIVED.get(name)) if self._has(t)]
        if not found and self.allow_missing:
            return ibis.memtable(schema(name).empty_table())
        return functools.reduce(ir.Table.union, found) if found else self.engine.table(name)

    def _has(self, name: str | None) -> bool:
        return name is not None and self.engine.has_table(name)
