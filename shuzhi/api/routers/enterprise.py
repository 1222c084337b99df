"""Enterprise return to work (复工复产): an enterprise applies, operators review.

* ``POST /enterprise/applications`` — an enterprise account files an application for its own enterprise
  (the account is bound to it): the planned date, the staff planned, the prevention measures. The class and
  its reasons come at once from the published rules (``shuzhi.enterprises``) on the newest results;
* ``GET /enterprise/applications`` — the enterprise's own applications and decisions; ``GET
  /enterprise/measures`` — the prevention measures the policy requires;
* ``GET /enterprise/review`` and ``POST /enterprise/review/{id}/decision`` — operators see applications in a
  status and approve (classes the policy allows) or reject them with a written decision.

Applications name firms, not persons; filing and deciding are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.routers.dashboard import Found
from shuzhi.api.schemas import RowId
from shuzhi.enterprises import applications_policy, classify
from shuzhi.store.models import ReturnToWorkApplication
from shuzhi.store.workflows import decide_application

router = APIRouter(prefix="/enterprise", tags=["enterprise"])
Applicant = Annotated[Caller, requires(roles=[Role.ENTERPRISE], purpose=Purpose.RETURN_TO_WORK)]
Reviewer = Annotated[Caller, requires(roles=[Role.OPERATOR], purpose=Purpose.RETURN_TO_WORK)]
EDITION = "2020-5th"  # the edition whose applications section classes applications


class ApplicationIn(BaseModel):
    planned_date: dt.date
    staff_planned: int = Field(ge=0, le=1_000_000)
    measures: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=32)


class ApplicationOut(BaseModel):
    id: int
    enterprise_code: str
    submitted_at: dt.datetime
    planned_date: dt.date
    staff_planned: int
    measures: list[str]
    risk_class: Literal["low", "medium", "high"]
    risk_reasons: list[str]
    status: Literal["pending", "approved", "rejected"]
    decided_at: dt.datetime | None
    decision: str | None

    model_config = {"from_attributes": True}


class DecisionIn(BaseModel):
    approve: bool
    decision: str = Field(min_length=1, max_length=2000)


@router.post("/applications", response_model=ApplicationOut, status_code=status.HTTP_201_CREATED)
def apply(
    body: ApplicationIn, caller: Applicant, session: DbSession, found: Found
) -> ReturnToWorkApplication:
    """File an application for the caller's enterprise; its class and reasons follow the published rules."""
    code = caller.logged_in.enterprise_code
    if code is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this enterprise account is not bound to an enterprise"
        )
    policy = applications_policy(EDITION)
    judged = found.compute(lambda engine: classify(engine, policy, code, body.measures), after="codes")
    application = ReturnToWorkApplication(
        enterprise_code=code,
        submitted_by=caller.logged_in.id,
        submitted_at=caller.now,
        planned_date=body.planned_date,
        staff_planned=body.staff_planned,
        measures=sorted(set(body.measures)),
        risk_class=judged.risk_class,
        risk_reasons=judged.reasons,
        status="pending",
    )
    session.add(application)
    session.flush()
    caller.record(session, "create:applications", None, id=application.id, risk_class=application.risk_class)
    return application


class RulesOut(BaseModel):
    required_measures: list[str] = Field(description="an application lacking one is at least medium risk")
    approvable: list[str] = Field(description="the classes an operator may approve")


@router.get("/measures", response_model=RulesOut)
def required_measures(caller: Applicant) -> RulesOut:
    """The prevention measures the policy requires, and the classes that may be approved."""
    policy = applications_policy(EDITION)
    return RulesOut(required_measures=policy.required_measures, approvable=policy.approvable)


@router.get("/applications", response_model=list[ApplicationOut])
def own_applications(caller: Applicant, session: DbSession) -> list[ReturnToWorkApplication]:
    """The caller's enterprise's applications, newest first."""
    code = caller.logged_in.enterprise_code
    query = select(ReturnToWorkApplication).where(ReturnToWorkApplication.enterprise_code == code)
    return list(session.scalars(query.order_by(ReturnToWorkApplication.id.desc())))


@router.get("/review", response_model=list[ApplicationOut])
def review(
    caller: Reviewer,
    session: DbSession,
    application_status: Annotated[
        Literal["pending", "approved", "rejected"], Query(alias="status")
    ] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReturnToWorkApplication]:
    """Applications in a status (default: pending), oldest first."""
    query = select(ReturnToWorkApplication).where(ReturnToWorkApplication.status == application_status)
    return list(session.scalars(query.order_by(ReturnToWorkApplication.id).limit(limit)))


@router.post("/review/{application_id}/decision", response_model=ApplicationOut)
def decide(
    application_id: RowId, body: DecisionIn, caller: Reviewer, session: DbSession
) -> ReturnToWorkApplication:
    """Approve or reject a pending application with a written decision (never approve a high-risk one)."""
    approvable = applications_policy(EDITION).approvable
    application = decide_application(
        session, application_id, caller.logged_in, body.approve, body.decision, approvable, caller.now
    )
    caller.record(session, "decide:applications", None, id=application.id, status=application.status)
    return application
