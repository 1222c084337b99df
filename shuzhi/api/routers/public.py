"""Anyone, without logging in: service health and aggregate statistics that carry no personal data.

The statistics are city-wide totals of the operational store; the open statistics with small-count
suppression and the risk map come with the public-transparency capability.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuzhi import __version__
from shuzhi.accounts import Purpose
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.schemas import HealthOut, StatisticsOut
from shuzhi.store import revision_of
from shuzhi.store.models import Appeal, HealthDeclaration, ManualChange, Passage, TripDeclaration

router = APIRouter(prefix="/public", tags=["public"])
Public = Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.PUBLIC_INFORMATION)]


@router.get("/health", response_model=HealthOut)
def health(caller: Public, session: DbSession) -> HealthOut:
    """The service is up and its store answers; the schema revision it runs on."""
    return HealthOut(status="ok", version=__version__, schema_revision=revision_of(session.connection()))


@router.get("/statistics", response_model=StatisticsOut)
def statistics(caller: Public, session: DbSession) -> StatisticsOut:
    """City-wide totals: declarations, appeals, approved manual changes and passages."""
    return StatisticsOut(
        as_of=caller.now,
        health_declarations=_count(session, HealthDeclaration),
        trip_declarations=_count(session, TripDeclaration),
        appeals_pending=_count(session, Appeal, Appeal.status == "pending"),
        appeals_decided=_count(session, Appeal, Appeal.status != "pending"),
        manual_changes_approved=_count(session, ManualChange, ManualChange.status == "approved"),
        passages=_count(session, Passage),
    )


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
