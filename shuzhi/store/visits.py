"""Follow-up visits and declarations as the worklist reads them, live: whom a team visited last and how,
when people last declared, how many visits in a row failed to reach someone, and how many people were visited
since a list was made.

Each answer is one query whatever the number of visits (the latest visit is the one with the highest id: ids
grow with time), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shuzhi.store.models import VISIT_OUTCOMES, FollowupVisit, HealthDeclaration

REACHED = VISIT_OUTCOMES[0]


def last_visits(session: Session, keys: list[int]) -> dict[int, FollowupVisit]:
    """Each person's latest visit, among ``keys``."""
    if not keys:
        return {}
    chosen = FollowupVisit.person_key.in_(keys)
    latest = select(func.max(FollowupVisit.id)).where(chosen).group_by(FollowupVisit.person_key)
    return {
        v.person_key: v for v in session.scalars(select(FollowupVisit).where(FollowupVisit.id.in_(latest)))
    }


def last_declared(session: Session, keys: list[int]) -> dict[int, dt.datetime]:
    """Each person's latest health declaration (in the app or taken on a visit), among ``keys``."""
    if not keys:
        return {}
    latest = func.max(HealthDeclaration.declared_at)  # typed as the column: read back as aware UTC
    query = select(HealthDeclaration.person_key, latest).where(HealthDeclaration.person_key.in_(keys))
    return {key: at for key, at in session.execute(query.group_by(HealthDeclaration.person_key))}


def failing(session: Session, at_least: int) -> list[int]:
    """The people whose latest ``at_least`` visits all failed to reach them (whatever they declared since):
    the few who may be lost to follow-up, for :func:`failed_in_a_row` to judge."""
    latest = func.row_number().over(partition_by=FollowupVisit.person_key, order_by=FollowupVisit.id.desc())
    ranked = select(FollowupVisit.person_key, FollowupVisit.outcome, latest.label("n")).subquery()
    failed = func.sum(case((ranked.c.outcome == REACHED, 0), else_=1))
    query = (
        select(ranked.c.person_key)
        .where(ranked.c.n <= at_least)
        .group_by(ranked.c.person_key)
        .having(failed == at_least)
    )
    return list(session.scalars(query))


def failed_in_a_row(session: Session, keys: list[int], declared: dict[int, dt.datetime]) -> dict[int, int]:
    """Each person's latest visits in a row that did not reach them and came after their latest declaration
    (``declared``, see :func:`last_declared`), among ``keys``; people with none are left out."""
    if not keys:
        return {}
    query = (
        select(FollowupVisit.person_key, FollowupVisit.outcome, FollowupVisit.visited_at)
        .where(FollowupVisit.person_key.in_(keys))
        .order_by(FollowupVisit.person_key, FollowupVisit.id.desc())
    )
    failed = {}
    for key, visits in groupby(session.execute(query), key=lambda visit: visit.person_key):
        since = declared.get(key)
        n = 0
        for visit in visits:
            if visit.outcome == REACHED or (since is not None and visit.visited_at <= since):
                break
            n += 1
        if n:
            failed[key] = n
    return failed


def visited_since(session: Session, since: dt.datetime, county: str | None = None) -> dict[str, int]:
    """People visited since ``since`` (in ``county``, or everywhere), by the outcome of their last visit."""
    chosen = [FollowupVisit.visited_at >= since]
    if county is not None:
        chosen.append(FollowupVisit.county_code == county)
    latest = select(func.max(FollowupVisit.id).label("id")).where(*chosen).group_by(FollowupVisit.person_key)
    last = latest.subquery()
    query = select(FollowupVisit.outcome, func.count()).join(last, FollowupVisit.id == last.c.id)
    return {outcome: n for outcome, n in session.execute(query.group_by(FollowupVisit.outcome))}
