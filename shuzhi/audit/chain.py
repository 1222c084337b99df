"""The tamper-evident audit log: an append-only hash chain of records in the operational store.

Record ``n`` stores ``prev_hash`` (the hash of record ``n - 1``; 64 zeros for the first) and its own ``hash``,
SHA-256 over a canonical JSON of its fields and ``prev_hash``. Editing a record changes its hash; deleting one
leaves a gap in ``seq`` and a ``prev_hash`` that points at nothing; rewriting the whole tail after an edit is
caught by an anchor, a ``(seq, hash)`` pair taken earlier and kept outside the database (``head``). Appends
are serialised by the store's lock until the transaction ends; were two writers ever to race, the unique
``seq`` and ``prev_hash`` would refuse the second rather than fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shuzhi.store.db import lock
from shuzhi.store.models import AuditRecord

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    """What one audit record says: who (actor, role), did what, to whose data, for which purpose."""

    actor: str
    role: str | None
    action: str
    purpose: str
    person_key: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainHead:
    """The last record's sequence number and hash: an anchor to keep outside the database."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    records: int
    head: ChainHead | None
    problem: str | None = None
    bad_seq: int | None = None


def record_hash(record: AuditRecord) -> str:
    """SHA-256 (hex) over the record's canonical JSON, ``prev_hash`` included."""
    return _hash({key: getattr(record, key) for key in _HASHED})


_HASHED = ("seq", "at", "actor", "role", "action", "person_key", "purpose", "detail", "prev_hash")


def _hash(row: Mapping[str, Any]) -> str:
    fields = {key: row[key] for key in _HASHED}
    fields["at"] = row["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def head(session: Session) -> ChainHead | None:
    """The newest record's anchor, or None for an empty log."""
    row = session.execute(select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1))
    last = row.first()
    return ChainHead(last.seq, last.hash) if last else None


def append(session: Session, entry: Entry, at: dt.datetime) -> AuditRecord:
    """Chain ``entry`` onto the log at time ``at``, inside the session's transaction."""
    [record] = append_all(session, [entry], at)
    return record


def append_all(session: Session, entries: Iterable[Entry], at: dt.datetime) -> list[AuditRecord]:
    """Chain ``entries`` in order onto the log, all at time ``at``, inside the session's transaction."""
    return [AuditRecord(**row) for row in _append_rows(session, [(entry, at) for entry in entries])]


def append_timed(session: Session, entries: Iterable[tuple[Entry, dt.datetime]]) -> ChainHead | None:
    """Chain ``(entry, at)`` pairs in order onto the log (one lock, one read of the head, one INSERT);
    the new head."""
    rows = _append_rows(session, entries)
    return ChainHead(rows[-1]["seq"], rows[-1]["hash"]) if rows else head(session)


def _append_rows(session: Session, entries: Iterable[tuple[Entry, dt.datetime]]) -> list[dict[str, Any]]:
    lock(session, AuditRecord.__tablename__)
    last = head(session)
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    rows = []
    for entry, at in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": at,
            "actor": entry.actor,
            "role": entry.role,
            "action": entry.action,
            "person_key": entry.person_key,
            "purpose": entry.purpose,
            "detail": dict(entry.detail),
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = _hash(row)
        rows.append(row)
    if rows:  # one multi-row INSERT (executemany) of plain rows
        session.connection().execute(insert(AuditRecord.__table__), rows)
    return rows


def records(
    session: Session, after_seq: int = 0, limit: int = 100, person_key: int | None = None
) -> list[AuditRecord]:
    """Records after ``after_seq`` in chain order, optionally only those about one person."""
    query = select(AuditRecord).where(AuditRecord.seq > after_seq).order_by(AuditRecord.seq).limit(limit)
    if person_key is not None:
        query = query.where(AuditRecord.person_key == person_key)
    return list(session.scalars(query))


def verify_chain(session: Session, anchor: ChainHead | None = None, batch: int = 5_000) -> ChainReport:
    """Walk the whole chain; report the first edited, deleted or reordered record, or a broken anchor."""
    expected_seq, prev_hash, count, anchored = 1, GENESIS, 0, anchor is None
    stream = session.scalars(select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch))
    for record in stream:
        problem = _problem(record, expected_seq, prev_hash)
        if problem:
            return ChainReport(False, count, ChainHead(expected_seq - 1, prev_hash), problem, record.seq)
        if anchor is not None and record.seq == anchor.seq:
            anchored = record.hash == anchor.hash
        expected_seq, prev_hash, count = record.seq + 1, record.hash, count + 1
    last = ChainHead(expected_seq - 1, prev_hash) if count else None
    if not anchored:
        return ChainReport(False, count, last, f"anchor seq {anchor.seq} is missing or altered", anchor.seq)
    return ChainReport(True, count, last)


def _problem(record: AuditRecord, expected_seq: int, prev_hash: str) -> str | None:
    if record.seq != expected_seq:
        return f"records {expected_seq}..{record.seq - 1} are missing"
    if record.prev_hash != prev_hash:
        return f"record {record.seq} does not chain onto record {record.seq - 1}"
    if record.hash != record_hash(record):
        return f"record {record.seq} was altered after it was written"
    return None
