"""Checkpoints and venues: scan a code or certificate, have it verified, log the passage.

The verdict comes from the verifier given to ``create_app`` (``shuzhi.api.verifier``: offline verification by
``shuzhi.credentials``). The passage row keeps the verdict, the holder when the credential names one of this
instance's persons and a SHA-256 of the payload, not the payload itself; it feeds tracing and occupancy.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, status

from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import AppServices, DbSession
from shuzhi.api.schemas import PassageOut, ScanIn
from shuzhi.api.verifier import holder
from shuzhi.store.models import Passage

router = APIRouter(prefix="/checkpoint", tags=["checkpoint"])
REASON_LENGTH = 255


@router.post("/passages", response_model=PassageOut, status_code=status.HTTP_201_CREATED)
def scan(
    body: ScanIn,
    caller: Annotated[Caller, requires(roles=[Role.CHECKPOINT], purpose=Purpose.PASSAGE_CONTROL)],
    session: DbSession,
    svc: AppServices,
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
    session.add(passage)
    session.flush()
    caller.record(session, "create:passages", passage.person_key, id=passage.id, valid=passage.valid)
    session.commit()
    svc.passages_committed([passage])
    return passage
