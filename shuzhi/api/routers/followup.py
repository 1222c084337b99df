"""The follow-up worklist for field teams and CDC staff, and the visits they record against it (随访).

* ``GET /dashboard/followup`` — everyone under a management measure on the last analysed day (the
  ``followup`` table of :mod:`shuzhi.followup`): which day of it, the daily health checks and the tests
  taken, missed and next, a positive test or declared symptoms; counts by county, status and measure; most
  urgent first; each person's last visit, live from the store, and whether the visits since they last declared
  failed often enough in a row that the edition counts them lost to follow-up (失联);
* ``GET /dashboard/followup/csv`` — the same list as CSV (every column), for a team to print or open;
* ``POST /dashboard/followup/{person_key}/visits`` — a field team reached a person on the list, or did not
  (unavailable, uncooperative); a temperature and symptoms taken when reached are a health declaration made
  then, so they count as one of the day's health checks at the next analysis (and turn the code yellow at
  once on a fever, as the resident's own declaration does).

Every person listed is an audited read; every visit an audited write.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections import Counter
from typing import Annotated, Literal

import ibis
from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from shuzhi.api.deps import DbSession
from shuzhi.api.results import Found, NotComputed, Results
from shuzhi.api.routers.dashboard import PersonKey, Staff, wall_clock
from shuzhi.api.schemas import HealthDeclarationIn
from shuzhi.codes import load_policy
from shuzhi.followup import FOLLOWUP, to_csv
from shuzhi.followup import STATUSES as FOLLOWUP_STATUSES
from shuzhi.model import CHINA
from shuzhi.pipeline import DEFAULT_EDITION, RUNS_FILE
from shuzhi.store.models import FollowupVisit, HealthDeclaration
from shuzhi.store.visits import failed_in_a_row, failing, last_declared, last_visits, visited_since

router = APIRouter(prefix="/dashboard/followup", tags=["dashboard"])
# shuzhi.store.models.VISIT_OUTCOMES, spelled out for the OpenAPI schema (a test holds them equal)
VisitOutcome = Literal["reached", "unavailable", "uncooperative"]


class LastVisit(BaseModel):
    visited_at: dt.datetime
    outcome: VisitOutcome
    recorded_by: str = Field(description="the account that recorded it")


# shuzhi.followup.STATUSES, spelled out for the OpenAPI schema (a test holds them equal)
FollowupStatus = Literal["positive", "symptomatic", "silent", "missed", "due", "on_schedule"]
OnlyStatus = Annotated[FollowupStatus | None, Query(alias="status", description="only this status")]
OfCounty = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="only people registered in this county")
]
CSV = "text/csv; charset=utf-8"


WALL_CLOCK_COLUMNS = ("positive_at", "symptoms_at", "last_check_at")
UNREGISTERED = "unregistered"  # the county of someone on the list who is not registered here


class FollowupPerson(BaseModel):
    person_key: str
    county_code: str | None = Field(description="where the person is registered: whose team follows them up")
    rule: str = Field(description="the health-code rule whose phase sets the measure")
    measure: str
    since: dt.date = Field(description="the evidence day (day 0): last contact, stay in a risk area...")
    traced_on: dt.date = Field(
        description="the day tracing could find a contact (else the evidence day): tests, checks judged after"
    )
    observation_day: int
    measure_until: dt.date | None
    test_days: list[int] = Field(description="the rule's test days, counted from the evidence day")
    taken_days: list[int]
    missed_days: list[int]
    next_test_on: dt.date | None
    positive_at: str | None = Field(description="first positive sample; local wall-clock time (no offset)")
    symptoms_at: str | None = Field(
        description="first declaration of fever or symptoms; local wall-clock time"
    )
    checks_per_day: int | None = Field(description="health declarations the rule asks for a day")
    silent_days: list[int] = Field(description="days of the measure before this day with fewer declarations")
    last_check_at: str | None = Field(description="last declaration since the evidence day; wall-clock time")
    status: FollowupStatus
    reason: str
    last_visit: LastVisit | None = Field(
        description="the last visit a field team recorded (live, from the store)"
    )
    last_declared_at: dt.datetime | None = Field(
        description="the latest health declaration made in the app or by a team (live, from the store)"
    )
    failed_visits: int = Field(
        description="the last visits in a row that failed to reach the person since they declared (live)"
    )
    lost: bool = Field(
        description="失联, lost to follow-up: failed_visits reached the edition's lost_after_failed_visits"
    )


class Followup(BaseModel):
    """The follow-up worklist of the last analysed day: counts, and the people most urgent first."""

    day: dt.date
    by_county: dict[str, int] = Field(description=f"everyone on the list by county ({UNREGISTERED!r}: none)")
    by_status: dict[str, int] = Field(description="in the county asked for, or everywhere")
    by_measure: dict[str, int] = Field(description="in the county asked for, or everywhere")
    visits_since_listed: dict[str, int] = Field(
        description="people visited since the list was made, by the outcome of their last visit (live)"
    )
    lost: int = Field(description="people on the list lost to follow-up, in the county asked for (live)")
    persons: list[FollowupPerson]


@router.get("", response_model=Followup)
def followup_worklist(
    caller: Staff,
    session: DbSession,
    found: Found,
    only: OnlyStatus = None,
    county: OfCounty = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Followup:
    """Who is under a measure, which day of it, their health checks, and which tests are taken, missed and
    due; a county's team asks for its own people."""
    if not found.has("followup"):  # nobody under a measure (the step ran), or not computed (404)
        return Followup(
            day=_listed_on(found),
            by_county={},
            by_status={},
            by_measure={},
            visits_since_listed={},
            lost=0,
            persons=[],
        )
    grouped = ["day", "county_code", "status", "measure"]
    counts = found.rows("followup", lambda t: t.group_by(grouped).aggregate(n=t.count()))
    persons = found.rows("followup", lambda t: _most_urgent(t, only, county, limit))
    keys = [r["person_key"] for r in persons]
    caller.record_reads(session, "followup", keys)
    visits, declared = last_visits(session, keys), last_declared(session, keys)
    failed, lost_after = failed_in_a_row(session, keys, declared), _lost_after(found)
    by_county: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_measure: Counter[str] = Counter()
    for row in counts:
        by_county[row["county_code"] or UNREGISTERED] += row["n"]
        if county is None or row["county_code"] == county:
            by_status[row["status"]] += row["n"]
            by_measure[row["measure"]] += row["n"]
    return Followup(
        day=counts[0]["day"],
        by_county=dict(sorted(by_county.items())),
        by_status=dict(by_status),
        by_measure=dict(by_measure),
        visits_since_listed=visited_since(session, _listed_at(found, counts[0]["day"]), county),
        lost=_lost_on_list(session, found, county, lost_after),
        persons=[
            FollowupPerson(
                **{k: v for k, v in r.items() if k not in ("person_key", "day", *WALL_CLOCK_COLUMNS)},
                person_key=str(r["person_key"]),
                **{k: wall_clock(r[k]) for k in WALL_CLOCK_COLUMNS},
                last_visit=_last_visit(visits.get(r["person_key"])),
                last_declared_at=declared.get(r["person_key"]),
                failed_visits=failed.get(r["person_key"], 0),
                lost=lost_after is not None and failed.get(r["person_key"], 0) >= lost_after,
            )
            for r in persons
        ],
    )


@router.get(
    "/csv",
    response_class=Response,
    responses={200: {"content": {CSV: {}}, "description": "the worklist as CSV, a header row first"}},
)
def followup_csv(
    caller: Staff,
    session: DbSession,
    found: Found,
    only: OnlyStatus = None,
    county: OfCounty = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> Response:
    """The worklist as CSV, most urgent first, for a team to print or open: every column, lists as
    space-separated days (the same filters as the worklist)."""
    if found.has("followup"):
        table = found.query("followup", lambda t: _most_urgent(t, only, county, limit)).select(FOLLOWUP.names)
        day = table["day"][0].as_py() if table.num_rows else _listed_on(found)
    else:  # nobody under a measure (the step ran), or not computed (404)
        table, day = FOLLOWUP.empty_table(), _listed_on(found)
    caller.record_reads(session, "followup", table["person_key"].to_pylist())
    sink = io.BytesIO()
    to_csv(table, sink)
    name = f"followup-{day}{f'-{county}' if county else ''}.csv"
    return Response(
        sink.getvalue(), media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _last_visit(visit: FollowupVisit | None) -> LastVisit | None:
    if visit is None:
        return None
    return LastVisit(visited_at=visit.visited_at, outcome=visit.outcome, recorded_by=visit.recorder.username)


def _lost_on_list(session: Session, found: Results, county: str | None, lost_after: int | None) -> int:
    """How many people on the list (in ``county``) are lost to follow-up: among the few whose latest visits
    all failed, those with no declaration since."""
    candidates = failing(session, lost_after) if lost_after is not None else []
    if not candidates:
        return 0
    listed = found.rows("followup", lambda t: _of_county(t.filter(t.person_key.isin(candidates)), county))
    keys = [r["person_key"] for r in listed]
    failed = failed_in_a_row(session, keys, last_declared(session, keys))
    return sum(n >= lost_after for n in failed.values())


def _lost_after(found: Results) -> int | None:
    """Failed visits in a row that make someone lost to follow-up, in the edition that made the list."""
    try:
        step = _step(found)
    except NotComputed:  # a list without its step's record
        step = {}
    return _lost_after_in(step.get("edition", DEFAULT_EDITION), step.get("policy", {}).get("codes"))


@functools.lru_cache(maxsize=8)
def _lost_after_in(edition: str, policy_sha256: str | None) -> int | None:
    """The edition's number, read once per version of its file the step applied (``policy_sha256``, the
    cache key: reading and validating the file takes longer than the rest of a page of the list)."""
    rules = load_policy(edition).followup
    return None if rules is None else rules.lost_after_failed_visits


def _listed_on(found: Results) -> dt.date:
    """The day the last follow-up step listed (it wrote no table: nobody was under a measure)."""
    return dt.date.fromisoformat(_step(found)["period"][1])


def _listed_at(found: Results, day: dt.date) -> dt.datetime:
    """When the last follow-up step made the list of ``day`` (without its record: as ``day`` ended)."""
    try:
        ran_at = _step(found).get("ran_at")
    except NotComputed:
        ran_at = None
    if ran_at is None:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CHINA)
    return dt.datetime.fromisoformat(ran_at)


def _step(found: Results) -> dict:
    step = found.output(RUNS_FILE).get("steps", {}).get("followup")
    if step is None:
        raise NotComputed("no 'followup' results yet: run `shuzhi analyse`")
    return step


def _most_urgent(t: ibis.Table, only: str | None, county: str | None, limit: int) -> ibis.Table:
    chosen = _of_county(t if only is None else t.filter(t.status == only), county)
    urgency = chosen.status.cases(
        *[(s, i) for i, s in enumerate(FOLLOWUP_STATUSES)], else_=len(FOLLOWUP_STATUSES)
    )
    return chosen.order_by([urgency, chosen.since, chosen.person_key]).limit(limit)


def _of_county(t: ibis.Table, county: str | None) -> ibis.Table:
    return t if county is None else t.filter(t.county_code == county)


class VisitIn(BaseModel):
    """What a field team records: whether they reached the person, and the health check taken then."""

    outcome: VisitOutcome
    measured: HealthDeclarationIn | None = Field(
        default=None,
        description="the health check taken when reached (temperature, symptoms...): one of the day's checks",
    )
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _measured_only_when_reached(self) -> VisitIn:
        if self.measured is not None and self.outcome != "reached":
            raise ValueError(f"measured: a health check needs the person reached, not {self.outcome}")
        return self


class VisitOut(BaseModel):
    id: int
    person_key: str
    visited_at: dt.datetime
    outcome: VisitOutcome
    note: str | None
    recorded_by: str
    declaration_id: int | None = Field(description="the health declaration the check taken on it made")


@router.post("/{person_key}/visits", response_model=VisitOut, status_code=status.HTTP_201_CREATED)
def record_visit(
    person_key: PersonKey, body: VisitIn, caller: Staff, session: DbSession, found: Found
) -> VisitOut:
    """Record a follow-up visit or call to a person on the worklist: reached (with the health check taken),
    unavailable or uncooperative."""
    key = int(person_key)
    listed = (
        found.rows("followup", lambda t: t.filter(t.person_key == key).limit(1))
        if found.has("followup")
        else []
    )
    if not listed:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"person {person_key} is not on the follow-up worklist"
        )
    visit = FollowupVisit(
        person_key=key,
        county_code=listed[0]["county_code"],
        visited_at=caller.now,
        recorded_by=caller.logged_in.id,
        outcome=body.outcome,
        note=body.note,
    )
    session.add(visit)
    declaration = None
    if body.measured is not None:
        declaration = HealthDeclaration(person_key=key, declared_at=caller.now, **body.measured.model_dump())
        session.add(declaration)
    session.flush()
    caller.record(session, "create:followup_visits", key, id=visit.id, outcome=body.outcome)
    if declaration is not None:
        caller.record(session, "create:health_declarations", key, id=declaration.id)
    return VisitOut(
        id=visit.id,
        person_key=person_key,
        visited_at=visit.visited_at,
        outcome=body.outcome,
        note=body.note,
        recorded_by=caller.username,
        declaration_id=declaration.id if declaration else None,
    )
