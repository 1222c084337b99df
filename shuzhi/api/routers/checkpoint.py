"""Checkpoints and venues: scan a code or certificate, have it verified, log the passage.

The verdict comes from the verifier given to ``create_app`` (``shuzhi.api.verifier``: offline verification by
``shuzhi.credentials``). The passage row keeps the verdict, the holder when the credential names one of this
instance's persons and a SHA-256 of the payload, not the payload itself; it feeds tracing and occupancy.

Scans are the hot path (thousands a second at rush hour), so the endpoint is ``async`` and takes no store
session of its own: the caller's account comes from the access cache, the verification runs inline (tens of
microseconds) and the passage goes to the process's group-commit writer (:func:`passage_writer`, started by
the app's lifespan), which commits the passages of all scans waiting at that moment together with their
audit records in one transaction and only then answers each of them: a 201 means the passage and its audit
record are committed. A batch that fails to commit is refused as a whole (503) and leaves nothing behind.
Each committed batch goes to the ``Services.passage_listeners`` (live occupancy, venue stays).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Request, status
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shuzhi import audit
from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import AppServices, Services
from shuzhi.api.schemas import PassageOut, ScanIn
from shuzhi.api.verifier import holder
from shuzhi.store.group import GroupCommit, GroupCommitError
from shuzhi.store.models import Passage

router = APIRouter(prefix="/checkpoint", tags=["checkpoint"])
REASON_LENGTH = 255
WRITER_STATE = "passage_writer"
_CHECKPOINT = requires(roles=[Role.CHECKPOINT], purpose=Purpose.PASSAGE_CONTROL, cached=True)


@dataclass(frozen=True)
class Scan:
    """A verified scan waiting to be committed: its passage row and who scanned it."""

    passage: Passage
    caller: Caller


@router.post("/passages", response_model=PassageOut, status_code=status.HTTP_201_CREATED)
async def scan(
    body: ScanIn,
    caller: Annotated[Caller, _CHECKPOINT],
    svc: AppServices,
    request: Request,
) -> Passage:
    """Verify a scanned QR payload and log the passage with the verdict (valid or not, and why)."""
    if svc.verifier is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this instance has no credential verifier")
    verdict = svc.verifier(body.payload, caller.now)
    passage = Passage(
        checkpoint_code=body.checkpoint_code,
        person_key=holder(verdict),
        passed_at=caller.now,
        direction=body.direction,
        valid=bool(verdict.valid),
        reason=str(verdict.reason)[:REASON_LENGTH],
        payload_sha256=hashlib.sha256(body.payload.encode("utf-8")).hexdigest(),
        recorded_by=caller.logged_in.id,
    )
    writer: GroupCommit[Scan, Passage] | None = getattr(request.app.state, WRITER_STATE, None)
    try:
        if writer is not None and writer.running:
            return await writer.submit(Scan(passage, caller))
        return await run_in_threadpool(_commit_alone, svc, Scan(passage, caller))  # no lifespan (tests)
    except GroupCommitError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the passage was not recorded, scan again ({exc})"
        ) from exc


_PASSAGE_COLUMNS = [c.key for c in Passage.__table__.columns if c.key != "id"]


def record_passages(session: Session, scans: list[Scan]) -> list[Passage]:
    """Insert the scans' passages (one multi-row INSERT) and, in the same order, one audit record each
    (``create:passages``). The passages are returned detached with every attribute set."""
    passages = [s.passage for s in scans]
    rows = [{key: getattr(p, key) for key in _PASSAGE_COLUMNS} for p in passages]
    for passage, passage_id in zip(passages, _insert_passages(session, rows), strict=True):
        passage.id = passage_id
    entries = [
        (s.caller.entry("create:passages", p.person_key, id=p.id, valid=p.valid), s.caller.now)
        for s, p in zip(scans, passages, strict=True)
    ]
    audit.append_timed(session, entries)
    return passages


def _insert_passages(session: Session, rows: list[dict]) -> list[int]:
    """The new rows' ids, in order. SQLite: the transaction holds the database's write lock from its
    ``BEGIN IMMEDIATE``, so the ids SQLite would pick (after the largest) are taken explicitly and the rows go
    in one ``executemany``; elsewhere ``INSERT ... RETURNING`` in parameter order."""
    if session.get_bind().dialect.name == "sqlite":
        first = (session.scalar(select(func.max(Passage.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
        session.connection().execute(
            insert(Passage.__table__), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        )
        return ids
    returning = insert(Passage).returning(Passage.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows))


def _commit_alone(svc: Services, scan: Scan) -> Passage:
    try:
        with svc.store.session() as session:
            [passage] = record_passages(session, [scan])
    except Exception as exc:
        raise GroupCommitError(f"not committed: {type(exc).__name__}") from exc
    svc.passages_committed([passage])
    return passage


@asynccontextmanager
async def passage_writer(app: FastAPI, services: Services) -> AsyncIterator[GroupCommit[Scan, Passage]]:
    """Run the app's group-commit writer of passages while the block runs (the app's lifespan)."""
    writer: GroupCommit[Scan, Passage] = GroupCommit(
        services.store, record_passages, services.passages_committed, turn=services.gate.writing
    )
    await writer.start()
    setattr(app.state, WRITER_STATE, writer)
    try:
        yield writer
    finally:
        setattr(app.state, WRITER_STATE, None)
        await writer.stop()
