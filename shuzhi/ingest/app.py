"""What residents declare in the app, into the lake beside the departments' feeds.

A resident's health declaration (``POST /resident/declarations/health``) is kept in the store, where the
resident reads it back. The analytics read the lake: the health code's fever and check-in rules and the
follow-up's daily health checks all count ``declarations``. :func:`land_app_declarations` copies the store's
declarations there — the same one form (GB/T 38962 fields), the residence as ``county_code``, times in the
lake's local time — so a declaration made once, in the app, counts everywhere, and nobody reports twice.

Each day's app declarations are one part, ``declarations/day=D/part-app.parquet``, rewritten whole: landing
again replaces the parts from the last day landed on (that day may have grown since) and never duplicates a
row. Earlier days are final (a declaration is dated when it is made), so the store's retention can delete
them there while the lake keeps its own. A landing takes what was declared before its ``until``; the
analysis records that instant, and what is declared after it is the resident's code's concern until the
next one (:mod:`shuzhi.api.declared`).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

import pyarrow as pa
from sqlalchemy import select

from shuzhi.lake import Lake
from shuzhi.model import CHINA, DECLARATIONS
from shuzhi.store import Store
from shuzhi.store.models import HealthDeclaration

TABLE = DECLARATIONS.name
PART = "part-app.parquet"


def land_app_declarations(store: Store, lake: Lake, until: dt.datetime | None = None) -> int:
    """Land the store's health declarations from the last day landed on and before ``until`` (aware; default:
    all); the number of rows written."""
    since = last_landed(lake)
    query = select(HealthDeclaration).order_by(HealthDeclaration.declared_at, HealthDeclaration.id)
    if until is not None:
        query = query.where(HealthDeclaration.declared_at < until)
    if since is not None:
        query = query.where(HealthDeclaration.declared_at >= _utc_start_of(since))
    with store.session(write=False) as session:
        rows = [lake_row(d) for d in session.scalars(query)]
    for day, declared in groupby(rows, key=lambda row: row["declared_at"].date()):
        lake.write_part(TABLE, day, PART, pa.Table.from_pylist(list(declared), schema=DECLARATIONS.schema))
    lake.sync()
    return len(rows)


def last_landed(lake: Lake) -> dt.date | None:
    """The last day with an app part in the lake, or None."""
    days = [
        dt.date.fromisoformat(p.parent.name.removeprefix("day=")) for p in lake.root.glob(f"{TABLE}/*/{PART}")
    ]
    return max(days, default=None)


def lake_row(declaration: HealthDeclaration) -> dict:
    """A store declaration as a row of the lake's ``declarations``."""
    return {
        "person_key": declaration.person_key,
        "declared_at": _local(declaration.declared_at),
        "county_code": declaration.region_code,
        "temperature": declaration.temperature,
        "symptoms": declaration.symptoms,
        "visited_regions": declaration.visited_regions,
    }


def _local(at: dt.datetime) -> dt.datetime:
    """A store time (aware UTC) as the lake's naive local time, to the second."""
    return at.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def _utc_start_of(day: dt.date) -> dt.datetime:
    """The first instant of a local day, in UTC (as the store compares times)."""
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)
