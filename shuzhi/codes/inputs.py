"""The tables health codes read, and how they are opened through the engine layer.

Codes read the canonical tables of :mod:`shuzhi.model` and two tables that other analytics publish:
``contacts`` (from tracing) and ``area_risk`` (from risk). Their schemas are declared here, as those analytics
write them, until the model module carries them; spec tests build their Arrow tables from these schemas."""

from __future__ import annotations

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.model import PERSON, REGION, TABLES, TS, Table

CONTACTS = Table(
    "contacts",
    pa.schema(
        [
            ("case_key", PERSON),
            ("contact_key", PERSON),
            ("degree", pa.int8()),  # 1: contact of a case; 2: contact of a contact
            ("via_key", PERSON),  # the close contact a degree-2 contact met; null for degree 1
            ("classification", pa.string()),  # close | secondary | companion
            ("rule", pa.string()),  # the tracing rule that found the contact
            ("setting", pa.string()),  # household | workplace | meal | venue | flight | train | ...
            ("place", pa.string()),
            ("first_contact_at", TS),
            ("last_contact_at", TS),
            ("overlap_seconds", pa.int64()),
            ("evidence", pa.string()),
        ]
    ),
    ("case_key", "contact_key", "rule", "first_contact_at"),
    "last_contact_at",
    "Contacts found by tracing (shuzhi.tracing).",
)

AREA_RISK = Table(
    "area_risk",
    pa.schema(
        [("county_code", REGION), ("day", pa.date32()), ("level", pa.string()), ("reason", pa.string())]
    ),
    ("county_code", "day"),
    "day",
    "Risk level of every county per day (shuzhi.risk).",
)

UPSTREAM: dict[str, Table] = {t.name: t for t in (CONTACTS, AREA_RISK)}


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

    def table(self, name: str) -> ibis.Table:
        """Table ``name`` restricted to its schema's columns (the lake adds a ``day`` partition column)."""
        columns = schema(name).names
        if self.allow_missing and not self.engine.has_table(name):
            return ibis.memtable(schema(name).empty_table())
        return self.engine.table(name).select(*columns)
