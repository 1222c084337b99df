"""Operators, CDC staff, auditors: decide appeals, approve manual colour changes, read the audit log.

A manual change takes effect only when a second, different operator approves it (409 for the requester). Lists
of cases are reads of each listed person's data and are audited per person; reading the audit log is audited
as one record.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from shuzhi import audit
from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.schemas import (
    AppealCase,
    AppealDecisionIn,
    AuditRecordOut,
    ChainReportOut,
    ManualChangeIn,
    ManualChangeOut,
    PersonKeyQuery,
    RowId,
    Seq,
)
from shuzhi.store.models import Appeal, AuditRecord, ManualChange
from shuzhi.store.workflows import decide_appeal, decide_change, request_change

router = APIRouter(prefix="/operator", tags=["operator"])
Reviewer = Annotated[
    Caller, requires(roles=[Role.OPERATOR, Role.EPIDEMIOLOGIST], purpose=Purpose.APPEAL_REVIEW)
]
Corrector = Annotated[Caller, requires(roles=[Role.OPERATOR], purpose=Purpose.CODE_CORRECTION)]
Auditor = Annotated[Caller, requires(roles=[Role.AUDITOR], purpose=Purpose.AUDIT)]
Limit = Annotated[int, Query(ge=1, le=500)]


def change_out(change: ManualChange) -> ManualChangeOut:
    return ManualChangeOut(
        id=change.id,
        person_key=change.person_key,
        colour=change.colour,  # type: ignore[arg-type]
        reason=change.reason,
        status=change.status,  # type: ignore[arg-type]
        requested_by=change.requester.username,
        requested_at=change.requested_at,
        approved_by=change.approver.username if change.approver else None,
        decided_at=change.decided_at,
    )


@router.get("/appeals", response_model=list[AppealCase])
def appeals(
    caller: Reviewer,
    session: DbSession,
    appeal_status: Annotated[Literal["pending", "upheld", "rejected"], Query(alias="status")] = "pending",
    limit: Limit = 100,
) -> list[Appeal]:
    """Appeals in a status (default: pending, to decide), oldest first."""
    query = select(Appeal).where(Appeal.status == appeal_status).order_by(Appeal.created_at).limit(limit)
    rows = list(session.scalars(query))
    caller.record_reads(session, "appeals", [r.person_key for r in rows])
    return rows


@router.post("/appeals/{appeal_id}/decision", response_model=AppealCase)
def decide(appeal_id: RowId, body: AppealDecisionIn, caller: Reviewer, session: DbSession) -> Appeal:
    """Uphold or reject a pending appeal; the decision text is shown to the resident."""
    appeal = decide_appeal(session, appeal_id, caller.logged_in, body.upheld, body.decision, caller.now)
    caller.record(session, "decide:appeals", appeal.person_key, id=appeal.id, status=appeal.status)
    return appeal


@router.post("/manual-changes", response_model=ManualChangeOut, status_code=status.HTTP_201_CREATED)
def request_manual_change(body: ManualChangeIn, caller: Corrector, session: DbSession) -> ManualChangeOut:
    """Request a manual colour change for a person; it waits for a second operator's approval."""
    change = request_change(session, body.person_key, body.colour, body.reason, caller.logged_in, caller.now)
    caller.record(session, "request:manual_changes", change.person_key, id=change.id, colour=change.colour)
    return change_out(change)


@router.get("/manual-changes", response_model=list[ManualChangeOut])
def manual_changes(
    caller: Corrector,
    session: DbSession,
    change_status: Annotated[Literal["pending", "approved", "rejected"], Query(alias="status")] = "pending",
    limit: Limit = 100,
) -> list[ManualChangeOut]:
    """Manual changes in a status (default: pending, to approve or reject), oldest first."""
    query = select(ManualChange).where(ManualChange.status == change_status)
    rows = list(session.scalars(query.order_by(ManualChange.requested_at).limit(limit)))
    caller.record_reads(session, "manual_changes", [r.person_key for r in rows])
    return [change_out(r) for r in rows]


@router.post("/manual-changes/{change_id}/approve", response_model=ManualChangeOut)
def approve_manual_change(change_id: RowId, caller: Corrector, session: DbSession) -> ManualChangeOut:
    """Approve another operator's request: the change takes effect, the resident sees it and why."""
    return _decide(change_id, True, caller, session)


@router.post("/manual-changes/{change_id}/reject", response_model=ManualChangeOut)
def reject_manual_change(change_id: RowId, caller: Corrector, session: DbSession) -> ManualChangeOut:
    """Reject (or, for the requester, withdraw) a pending manual change."""
    return _decide(change_id, False, caller, session)


def _decide(change_id: int, approve: bool, caller: Caller, session: DbSession) -> ManualChangeOut:
    change = decide_change(session, change_id, caller.logged_in, approve, caller.now)
    caller.record(
        session, f"{'approve' if approve else 'reject'}:manual_changes", change.person_key, id=change.id
    )
    return change_out(change)


@router.get("/audit", response_model=list[AuditRecordOut])
def audit_log(
    caller: Auditor,
    session: DbSession,
    after_seq: Seq = 0,
    limit: Limit = 100,
    person_key: PersonKeyQuery = None,
) -> list[AuditRecord]:
    """Audit records after ``after_seq`` in chain order, optionally only those about one person."""
    rows = audit.records(session, after_seq=after_seq, limit=limit, person_key=person_key)
    caller.record(session, "read:audit_log", person_key, after_seq=after_seq, count=len(rows))
    return rows


@router.get("/audit/verify", response_model=ChainReportOut)
def verify_audit_chain(
    caller: Auditor,
    session: DbSession,
    anchor_seq: Annotated[int | None, Query(ge=1)] = None,
    anchor_hash: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> ChainReportOut:
    """Walk the whole chain; with an anchor kept from earlier, also detect a rewritten or truncated tail."""
    anchor = audit.ChainHead(anchor_seq, anchor_hash) if anchor_seq and anchor_hash else None
    report = audit.verify_chain(session, anchor)
    caller.record(session, "verify:audit_log", ok=report.ok, records=report.records)
    head = report.head
    return ChainReportOut(
        ok=report.ok,
        records=report.records,
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
        problem=report.problem,
        bad_seq=report.bad_seq,
    )
