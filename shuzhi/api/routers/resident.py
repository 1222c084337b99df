"""The resident's own data: declare health and trips once, appeal, see manual colour changes, who read what.

Every row a resident creates is bound to the ``person_key`` of their account, never to one in the request;
every read of their data, by themselves too, is audited. ``POST /resident/code/token`` signs the code they
show (``shuzhi.api.healthcode``: the rules' colour from the lake, or from what they declared since the last
analysis where that is more severe (``shuzhi.api.declared``), a manual change in force, the QR).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi import audit
from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.declared import declared_code, declared_rules, unseen_declarations
from shuzhi.api.deps import DbSession
from shuzhi.api.healthcode import declarations_today, health_code
from shuzhi.api.issuer import InstanceCredentials, instance_credentials
from shuzhi.api.results import Found
from shuzhi.api.schemas import (
    AccessLogEntry,
    AppealIn,
    AppealOut,
    CodeView,
    HealthCodeOut,
    HealthDeclarationIn,
    HealthDeclarationOut,
    ManualColourOut,
    Seq,
    TripDeclarationIn,
    TripDeclarationOut,
)
from shuzhi.store.models import Appeal, AuditRecord, HealthDeclaration, TripDeclaration
from shuzhi.store.workflows import changes_in_force

router = APIRouter(prefix="/resident", tags=["resident"])
Resident = Annotated[Caller, requires(roles=[Role.RESIDENT], purpose=Purpose.SELF_SERVICE)]
Owned = TypeVar("Owned", HealthDeclaration, TripDeclaration, Appeal)


def _create(session: Session, caller: Caller, model: type[Owned], body: BaseModel, **fields: Any) -> Owned:
    row = model(person_key=caller.person_key, **fields, **body.model_dump())
    session.add(row)
    session.flush()
    caller.record(session, f"create:{model.__tablename__}", caller.person_key, id=row.id)
    return row


def _own(session: Session, caller: Caller, model: type[Owned], newest_first: Any) -> list[Owned]:
    rows = list(
        session.scalars(select(model).where(model.person_key == caller.person_key).order_by(newest_first))
    )
    caller.record_reads(session, model.__tablename__, [caller.person_key])
    return rows


@router.post("/declarations/health", response_model=HealthDeclarationOut, status_code=status.HTTP_201_CREATED)
def declare_health(body: HealthDeclarationIn, caller: Resident, session: DbSession) -> HealthDeclaration:
    """健康申报: declare temperature, symptoms, contact and travel history (GB/T 38963)."""
    return _create(session, caller, HealthDeclaration, body, declared_at=caller.now)


@router.get("/declarations/health", response_model=list[HealthDeclarationOut])
def my_health_declarations(caller: Resident, session: DbSession) -> list[HealthDeclaration]:
    """My health declarations, newest first."""
    return _own(session, caller, HealthDeclaration, HealthDeclaration.declared_at.desc())


@router.post("/declarations/trip", response_model=TripDeclarationOut, status_code=status.HTTP_201_CREATED)
def declare_trip(body: TripDeclarationIn, caller: Resident, session: DbSession) -> TripDeclaration:
    """行程申报: declare a journey by public transport with trip number and seat (GB/T 38963)."""
    return _create(session, caller, TripDeclaration, body, declared_at=caller.now)


@router.get("/declarations/trip", response_model=list[TripDeclarationOut])
def my_trip_declarations(caller: Resident, session: DbSession) -> list[TripDeclaration]:
    """My trip declarations, newest first."""
    return _own(session, caller, TripDeclaration, TripDeclaration.declared_at.desc())


@router.post("/appeals", response_model=AppealOut, status_code=status.HTTP_201_CREATED)
def appeal(body: AppealIn, caller: Resident, session: DbSession) -> Appeal:
    """Appeal against my code's colour or the rule that set it."""
    return _create(session, caller, Appeal, body, created_at=caller.now, status="pending")


@router.get("/appeals", response_model=list[AppealOut])
def my_appeals(caller: Resident, session: DbSession) -> list[Appeal]:
    """My appeals and their decisions, newest first."""
    return _own(session, caller, Appeal, Appeal.created_at.desc())


@router.get("/code", response_model=CodeView)
def my_code(caller: Resident, session: DbSession) -> CodeView:
    """My code as far as manual changes go: the colour set by two operators, why, and the earlier ones."""
    changes = changes_in_force(session, caller.person_key)
    caller.record_reads(session, "manual_changes", [caller.person_key])
    history = [ManualColourOut.model_validate(c) for c in changes]
    return CodeView(manual_colour=history[0] if history else None, history=history)


@router.post("/code/token", response_model=HealthCodeOut)
def my_signed_code(
    caller: Resident,
    session: DbSession,
    found: Found,
    credentials: Annotated[InstanceCredentials, Depends(instance_credentials)],
) -> HealthCodeOut:
    """健康码生成: my code, freshly signed (QR): colour, rule, reasons, valid-until, what turns it green."""
    manual = changes_in_force(session, caller.person_key)
    today = declarations_today(session, caller.person_key, caller.now)
    rules = declared_rules(found)
    unseen = unseen_declarations(session, caller.person_key, rules, caller.now)
    declared = declared_code(found, rules, unseen, caller.now)
    code = health_code(found, credentials, caller.person_key, manual, caller.now, today, declared)
    caller.record(session, "issue:health_codes", caller.person_key, colour=code.colour, rule=code.rule)
    return code


@router.get("/access-log", response_model=list[AccessLogEntry])
def my_access_log(
    caller: Resident,
    session: DbSession,
    after_seq: Seq = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditRecord]:
    """Who (by role) read or changed my data, for which purpose, in the order it happened."""
    rows = audit.records(session, after_seq=after_seq, limit=limit, person_key=caller.person_key)
    caller.record_reads(session, "audit_log", [caller.person_key])
    return rows
