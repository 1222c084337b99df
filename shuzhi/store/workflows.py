"""The operational workflows over the store: deciding appeals and the four-eyes rule of manual colour changes.

A manual colour change is requested by one operator and takes effect only when a *different* operator approves
it (the store's ``four_eyes`` constraint says the same). The change in force for a person is the most recently
approved one. Functions take the acting account and the time, change rows inside the caller's transaction and
raise :class:`NotFound` or :class:`Conflict`; auditing is the caller's.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi.store.models import Account, Appeal, Base, ManualChange, ReturnToWorkApplication

Row = TypeVar("Row", bound=Base)


class NotFound(LookupError):
    """No row with that id."""


class Conflict(RuntimeError):
    """The row is not in a state that allows the action."""


def get_or_raise(session: Session, model: type[Row], row_id: int) -> Row:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{model.__tablename__} {row_id} does not exist")
    return row


def decide_appeal(
    session: Session, appeal_id: int, decider: Account, upheld: bool, decision: str, now: dt.datetime
) -> Appeal:
    """Uphold or reject a pending appeal with a written decision."""
    appeal = get_or_raise(session, Appeal, appeal_id)
    if appeal.status != "pending":
        raise Conflict(f"appeal {appeal_id} was already decided ({appeal.status})")
    appeal.status = "upheld" if upheld else "rejected"
    appeal.decided_by, appeal.decided_at, appeal.decision = decider.id, now, decision
    return appeal


def decide_application(
    session: Session,
    application_id: int,
    decider: Account,
    approve: bool,
    decision: str,
    approvable: list[str],
    now: dt.datetime,
) -> ReturnToWorkApplication:
    """Approve or reject a pending return-to-work application; a class outside ``approvable`` cannot be
    approved."""
    application = get_or_raise(session, ReturnToWorkApplication, application_id)
    if application.status != "pending":
        raise Conflict(f"application {application_id} was already decided ({application.status})")
    if approve and application.risk_class not in approvable:
        raise Conflict(f"a {application.risk_class}-risk application cannot be approved; it may be rejected")
    application.status = "approved" if approve else "rejected"
    application.decided_by, application.decided_at, application.decision = decider.id, now, decision
    return application


def request_change(
    session: Session, person_key: int, colour: str, reason: str, requester: Account, now: dt.datetime
) -> ManualChange:
    """File a manual colour change; it waits for a second operator."""
    change = ManualChange(
        person_key=person_key,
        colour=colour,
        reason=reason,
        requested_by=requester.id,
        requested_at=now,
        status="pending",
    )
    session.add(change)
    session.flush()
    return change


def decide_change(
    session: Session, change_id: int, decider: Account, approve: bool, now: dt.datetime
) -> ManualChange:
    """Approve (a different operator only) or reject a pending manual colour change."""
    change = get_or_raise(session, ManualChange, change_id)
    if change.status != "pending":
        raise Conflict(f"manual change {change_id} was already decided ({change.status})")
    if approve and change.requested_by == decider.id:
        raise Conflict("a manual change needs a second operator: the requester cannot approve it")
    change.status = "approved" if approve else "rejected"
    change.approved_by = decider.id if approve else None
    change.decided_at = now
    session.flush()
    session.expire(change, ["approver"])  # reload the relationship from the new foreign key
    return change


def changes_in_force(session: Session, person_key: int) -> list[ManualChange]:
    """A person's approved manual changes, the one in force first."""
    query = (
        select(ManualChange)
        .where(ManualChange.person_key == person_key, ManualChange.status == "approved")
        .order_by(ManualChange.decided_at.desc(), ManualChange.id.desc())
    )
    return list(session.scalars(query))
