"""Real time: live venue occupancy, crowd alerts (history and a server-sent-events stream), venue check-ins.

* ``GET /realtime/occupancy`` — every registered venue's headcount, limit, forecast and state, and the
  per-county totals (operators and CDC staff);
* ``GET /realtime/venues/{venue_code}`` — one venue's occupancy, for the staff at its door;
* ``GET /realtime/status`` — the answering worker's hub: what it took in and wrote, whether it holds the
  writer lease (several workers: see :mod:`shuzhi.realtime.follow`);
* ``GET /realtime/alerts`` — the alert history, newest first, or those after an id;
* ``GET /realtime/alerts/stream`` — alerts as server-sent events (``text/event-stream``). The stream first
  sends the alerts after ``after`` (or the ``Last-Event-ID`` header), then waits up to ``seconds`` for new
  ones and ends; ``seconds=0`` (the default) answers at once with what is there, so a plain request never
  hangs. The dashboard asks for 300 s and reconnects; the ``retry`` field tells ``EventSource`` clients to
  reconnect after a second, resuming from the last id;
* ``POST /realtime/check-ins`` — a resident scans a venue's code (场所码) on entering or leaving: the
  passage is logged like a checkpoint scan and feeds occupancy and stays.

Occupancy and alerts are aggregates about venues: no personal data leaves these endpoints.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import AppServices, DbSession
from shuzhi.realtime.live import Realtime
from shuzhi.realtime.occupancy import Alert
from shuzhi.store.models import Passage

router = APIRouter(prefix="/realtime", tags=["realtime"])
Staff = Annotated[
    Caller, requires(roles=[Role.OPERATOR, Role.EPIDEMIOLOGIST], purpose=Purpose.EPIDEMIC_CONTROL)
]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
MAX_ID = 2**63 - 1
KEEP_ALIVE_SECONDS = 15.0
BATCH = 100
State = Literal["normal", "warning", "limit"]
Level = Literal["low", "medium", "high"]


def realtime(request: Request) -> Realtime:
    """The app's real-time hub (a FastAPI dependency)."""
    return request.app.state.realtime


Live = Annotated[Realtime, Depends(realtime)]


class VenueOccupancy(BaseModel):
    venue_code: str
    name: str
    category: str
    county_code: str
    capacity: int | None
    risk_level: Level = Field(description="the county's risk level the limit is set for")
    share: float = Field(description="share of capacity allowed inside")
    limit: int | None = Field(description="people allowed inside (null: no capacity registered)")
    rule: str = Field(description="the crowd rule and its version")
    occupancy: int = Field(description="people inside now")
    source: Literal["counters", "scans"] = Field(description="where the headcount comes from")
    scanned_inside: int = Field(description="people inside by scans (open stays and unnamed entries)")
    counter_headcount: int | None = Field(description="people inside by the venue's counters")
    forecast: int = Field(description="forecast headcount at the end of the horizon")
    horizon_minutes: float
    arrivals_per_minute: float
    departures_per_minute: float
    state: State
    limit_share: float | None = Field(description="occupancy as a share of the limit")


class CountyOccupancy(BaseModel):
    county_code: str
    risk_level: Level
    venues: int
    occupancy: int
    capacity: int
    limit: int
    warning: int = Field(description="venues in warning")
    at_limit: int = Field(description="venues at their limit")


class Occupancy(BaseModel):
    at: dt.datetime
    policy_version: str
    venues: list[VenueOccupancy]
    counties: list[CountyOccupancy]


class AlertOut(BaseModel):
    id: int
    kind: Literal["warning", "limit", "clear"]
    at: dt.datetime
    venue_code: str
    venue_name: str
    category: str
    county_code: str
    occupancy: int
    limit: int
    capacity: int
    share: float
    risk_level: Level
    rule: str
    policy_version: str
    forecast: int = Field(description="forecast headcount at the horizon when the alert was raised")
    horizon_minutes: float
    arrivals_per_minute: float
    departures_per_minute: float
    source: Literal["counters", "scans"]
    reasons: list[str]


class Alerts(BaseModel):
    last_id: int = Field(description="the newest alert's id (0: none yet)")
    alerts: list[AlertOut]


class CheckInIn(BaseModel):
    venue_code: str = Field(pattern=CODE_PATTERN, description="the venue code (场所码) scanned")
    direction: Literal["in", "out"] = "in"


class CheckInOut(BaseModel):
    venue_code: str
    venue_name: str
    direction: Literal["in", "out"]
    at: dt.datetime


class HubStatus(BaseModel):
    """One worker's real-time hub: what it took in, what it wrote, whether it is the writer."""

    worker: int = Field(description="the answering worker's process id")
    writer: bool = Field(description="this worker writes the stays and numbers the alerts (holds the lease)")
    policy_version: str
    venues: int = Field(description="venues in the registry")
    scans: int = Field(description="passages taken in since the start (its own and those it followed)")
    followed: int = Field(
        description="of those, passages taken from the store's log: the other workers', and its own when the "
        "log got there before its own commit did"
    )
    readings: int = Field(description="people-counter readings")
    unregistered: int = Field(description="events at codes not in the venue registry (road checkpoints)")
    refused: int
    repeated: int
    unmatched_exits: int
    timeouts: int = Field(description="stays closed by their category's timeout")
    alerts: dict[str, int] = Field(description="alerts raised by kind")
    stays_pending: int = Field(description="closed stays not yet written to the lake")
    stays_written: int
    subscribers: int = Field(description="dashboards on this worker's alert stream")


def _alert_out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(alert.to_json())


@router.get("/status", response_model=HubStatus)
def hub_status(caller: Staff, live: Live) -> HubStatus:
    """The answering worker's hub: counts taken in, stays written, alert subscribers, the writer lease."""
    return HubStatus(worker=os.getpid(), **live.status())


@router.get("/occupancy", response_model=Occupancy)
def occupancy(
    caller: Staff,
    live: Live,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$", description="one county's venues")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000, description="the fullest this many venues")] = 500,
) -> Occupancy:
    """The fullest venues' live headcount against their limit, with forecast and state; totals per county."""
    return Occupancy(
        at=caller.now,
        policy_version=live.occupancy.policy.version,
        venues=live.venues(county)[:limit],
        counties=live.counties(),
    )


@router.get("/venues/{venue_code}", response_model=VenueOccupancy)
def venue(
    caller: Annotated[Caller, requires(roles=[Role.CHECKPOINT], purpose=Purpose.PASSAGE_CONTROL)],
    live: Live,
    venue_code: Annotated[str, Path(pattern=CODE_PATTERN)],
) -> VenueOccupancy:
    """One venue's live headcount, limit and forecast, for the staff at its door."""
    found = live.venue(venue_code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no venue {venue_code!r} in the registry")
    return VenueOccupancy.model_validate(found)


@router.get("/alerts", response_model=Alerts)
def alerts(
    caller: Staff,
    live: Live,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="only alerts after this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Alerts:
    """The crowd alerts with their reasons: the newest ``limit`` (newest first), or those after ``after``."""
    found = live.alerts.latest(limit) if after is None else live.alerts.since(after, limit)
    return Alerts(last_id=live.alerts.last_id, alerts=[_alert_out(a) for a in found])


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `event: alert`, `id: <alert id>`, `data: <AlertOut>`.",
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/AlertOut"}}},
        }
    },
)
async def alert_stream(
    caller: Staff,
    live: Live,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="send the alerts after this id first")] = 0,
    seconds: Annotated[
        float, Query(ge=0, le=3600, description="how long to wait for new alerts before the stream ends")
    ] = 0,
    last_event_id: Annotated[str | None, Header(description="resume after this id (EventSource)")] = None,
) -> StreamingResponse:
    """Crowd alerts as server-sent events: those after ``after``, then new ones for ``seconds``."""
    if last_event_id is not None and last_event_id.isdigit() and len(last_event_id) < 19:
        after = max(after, int(last_event_id))
    return StreamingResponse(
        _events(live, after, seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(live: Live, after: int, seconds: float) -> AsyncIterator[str]:
    log = live.alerts
    subscriber = log.subscribe()
    loop, wake = subscriber
    deadline = loop.time() + seconds
    try:
        yield "retry: 1000\n\n"
        while True:
            wake.clear()
            batch = log.since(after, BATCH)
            for alert in batch:
                data = json.dumps(_alert_out(alert).model_dump(mode="json"), ensure_ascii=False)
                yield f"id: {alert.id}\nevent: alert\ndata: {data}\n\n"
                after = alert.id
            if len(batch) == BATCH:
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout=min(remaining, KEEP_ALIVE_SECONDS))
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        log.unsubscribe(subscriber)


@router.post("/check-ins", response_model=CheckInOut, status_code=status.HTTP_201_CREATED)
def check_in(
    body: CheckInIn,
    caller: Annotated[Caller, requires(roles=[Role.RESIDENT], purpose=Purpose.SELF_SERVICE)],
    session: DbSession,
    svc: AppServices,
    live: Live,
) -> CheckInOut:
    """A resident's venue-code check-in (场所码) on entering or leaving: logged as a passage of the venue."""
    found = live.venue(body.venue_code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no venue {body.venue_code!r} in the registry")
    passage = Passage(
        checkpoint_code=body.venue_code,
        person_key=caller.person_key,
        passed_at=caller.now,
        direction=body.direction,
        valid=True,
        reason="venue code check-in",
        payload_sha256=hashlib.sha256(body.venue_code.encode("utf-8")).hexdigest(),
        recorded_by=caller.logged_in.id,
    )
    session.add(passage)
    session.flush()
    caller.record(session, "create:check_ins", passage.person_key, id=passage.id, venue=body.venue_code)
    session.commit()
    svc.passages_committed([passage])
    return CheckInOut(
        venue_code=body.venue_code, venue_name=str(found["name"]), direction=body.direction, at=caller.now
    )
