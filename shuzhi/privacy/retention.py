"""Retention limits and the sunset: personal data is kept only as long as the emergency needs it.

**Retention** (:func:`apply_retention`, run daily): the ``retention`` policy section names, per lake table and
per operational table, how many days of personal records are kept; older day partitions of the lake and
older rows of the store are deleted, and an audit record says how many of each.

**Sunset** (:func:`sunset`, once, when the emergency is declared over): everything that can name a person
goes — the raw department feeds (they carry ID numbers), every lake table with a person column (and the
quarantine, which keeps raw lines), the transmission graph, the store's declarations, appeals, manual
changes, passages, resident accounts and the federation's handover messages, and the pseudonym key, so that
no person key left anywhere (the audit chain keeps its pseudonyms, unbroken) can be linked to anyone again.
Aggregates stay for the record: risk levels, the index, curves, code counts, the open statistics. The last
audit record says what was deleted.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq
from pydantic import Field, PositiveInt
from sqlalchemy import delete, func, select, true

from shuzhi.accounts import Purpose
from shuzhi.audit.chain import Entry, append
from shuzhi.pipeline import GRAPH_FILE
from shuzhi.policy import Strict, load_section
from shuzhi.privacy.pseudonym import KEY_FILE_NAME
from shuzhi.settings import DataDir
from shuzhi.store import (
    Account,
    Appeal,
    FederationMessage,
    FollowupVisit,
    HealthDeclaration,
    LoginFailure,
    ManualChange,
    Passage,
    Store,
    TripDeclaration,
)

SECTION = "retention"
PERSON_COLUMNS = frozenset(
    {"person_key", "person_key_a", "person_key_b", "case_key", "contact_key", "via_key"}
)
QUARANTINE = "quarantine"  # raw lines of rejected rows: personal however masked
SUNSET_PHRASE = "the emergency is over"
HANDOVERS = FederationMessage.kind == "handover"  # messages that carry cases and contacts
STORE_TABLES = {  # operational tables with personal rows: the model, the column dating a row, which rows
    "health_declarations": (HealthDeclaration, HealthDeclaration.declared_at, true()),
    "trip_declarations": (TripDeclaration, TripDeclaration.declared_at, true()),
    "passages": (Passage, Passage.passed_at, true()),
    "federation_handovers": (FederationMessage, FederationMessage.logged_at, HANDOVERS),
    "login_failures": (LoginFailure, LoginFailure.last_failed_at, true()),  # usernames typed: maybe personal
    "followup_visits": (FollowupVisit, FollowupVisit.visited_at, true()),
}
SYSTEM = "shuzhi-retention"


StoreTable = Literal[
    "health_declarations",
    "trip_declarations",
    "passages",
    "federation_handovers",
    "login_failures",
    "followup_visits",
]


class RetentionPolicy(Strict):
    """The ``retention`` section: days of personal records kept, per lake table and per store table."""

    edition: str
    source: str = Field(min_length=1)
    lake_days: dict[str, PositiveInt] = Field(min_length=1)
    store_days: dict[StoreTable, PositiveInt] = Field(min_length=1)


def retention_policy(edition: str | Path) -> RetentionPolicy:
    """The ``retention`` section of a shipped edition (by name) or of an edition folder (by path)."""
    return load_section(edition, SECTION, RetentionPolicy)


@dataclass
class Deleted:
    """What a retention run or the sunset deleted (or, in a dry run, would delete)."""

    partitions: dict[str, int] = field(default_factory=dict)  # lake table → day partitions
    lake_rows: dict[str, int] = field(default_factory=dict)
    store_rows: dict[str, int] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "partitions": self.partitions,
            "lake_rows": self.lake_rows,
            "store_rows": self.store_rows,
            "other": self.other,
        }


def apply_retention(
    data: DataDir, store: Store, policy: RetentionPolicy, today: dt.date, dry_run: bool = False
) -> Deleted:
    """Delete lake partitions and store rows older than their limits before ``today``; audit it."""
    deleted = Deleted()
    for table, days in policy.lake_days.items():
        cutoff = today - dt.timedelta(days=days)
        old = [p for p in _partitions(data.lake / table) if _day_of(p) is not None and _day_of(p) < cutoff]
        _drop(table, old, deleted, dry_run)
    with store.session() as session:
        for name, days in policy.store_days.items():
            model, dated, which = STORE_TABLES[name]
            cutoff = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), dt.UTC)
            old = (dated < cutoff) & which
            count = session.scalar(select(func.count()).select_from(model).where(old)) or 0
            if count and not dry_run:
                session.execute(delete(model).where(old))
            if count:
                deleted.store_rows[name] = count
        if not dry_run:
            _audit(
                session,
                "retention",
                {"as_of": today.isoformat(), "edition": policy.edition, **deleted.as_dict()},
            )
    return deleted


def sunset(data: DataDir, store: Store, confirm: str, now: dt.datetime | None = None) -> Deleted:
    """Delete everything that can name a person (see the module); ``confirm``: :data:`SUNSET_PHRASE`."""
    if confirm.strip().lower() != SUNSET_PHRASE:
        raise ValueError(f"the sunset deletes every personal record: confirm with {SUNSET_PHRASE!r}")
    deleted = Deleted()
    for folder in sorted(p for p in data.lake.iterdir() if p.is_dir()) if data.lake.is_dir() else []:
        if folder.name == QUARANTINE or _has_person_column(folder):
            _drop(folder.name, _partitions(folder), deleted, dry_run=False)
            shutil.rmtree(folder, ignore_errors=True)
    personal = (
        (data.feeds, "department feeds"),
        (data.outputs / GRAPH_FILE, "transmission graph"),
        (data.secrets / KEY_FILE_NAME, "pseudonym key"),
    )
    for path, what in personal:
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            deleted.other.append(f"{what} ({path})")
    with store.session() as session:
        for name, model in (
            ("health_declarations", HealthDeclaration),
            ("trip_declarations", TripDeclaration),
            ("appeals", Appeal),
            ("manual_changes", ManualChange),
            ("passages", Passage),
            ("login_failures", LoginFailure),
            ("followup_visits", FollowupVisit),
        ):
            deleted.store_rows[name] = session.execute(delete(model)).rowcount or 0
        handovers = delete(FederationMessage).where(HANDOVERS)
        deleted.store_rows["federation_handovers"] = session.execute(handovers).rowcount or 0
        residents = delete(Account).where(Account.person_key.is_not(None))
        deleted.store_rows["resident_accounts"] = session.execute(residents).rowcount or 0
        _audit(session, "sunset", deleted.as_dict(), now)
    return deleted


def _partitions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*=*") if p.is_dir()) if folder.is_dir() else []


def _day_of(partition: Path) -> dt.date | None:
    try:
        return dt.date.fromisoformat(partition.name.split("=", 1)[1][:10])
    except ValueError:
        return None


def _has_person_column(folder: Path) -> bool:
    part = next(folder.glob("*=*/*.parquet"), None)
    return part is not None and bool(PERSON_COLUMNS & set(pq.read_schema(part).names))


def _drop(table: str, partitions: list[Path], deleted: Deleted, dry_run: bool) -> None:
    """Remove ``partitions`` of ``table``: each renamed aside first, so a reader never sees half of one."""
    if not partitions:
        return
    deleted.partitions[table] = len(partitions)
    deleted.lake_rows[table] = sum(
        pq.read_metadata(f).num_rows for p in partitions for f in p.glob("*.parquet")
    )
    if dry_run:
        return
    for partition in partitions:
        aside = partition.with_name(f".deleting-{uuid.uuid4().hex}")
        partition.rename(aside)
        shutil.rmtree(aside)


def _audit(session, action: str, detail: dict[str, Any], now: dt.datetime | None = None) -> None:
    entry = Entry(
        actor=SYSTEM, role=None, action=action, purpose=Purpose.DATA_PROTECTION.value, detail=detail
    )
    append(session, entry, now or dt.datetime.now(dt.UTC))
