"""Other regions and the nation: the inbox of signed messages, the exchange log, the national view.

* ``POST /federation/messages`` — another instance delivers a signed message (``application/cose``); no login:
  the signature, checked against the national trust list, says who sent it. The answer is this instance's
  signed receipt; a message that cannot be opened gets 422 with the reason (and is logged as rejected).
* ``GET /federation/log`` — administrators: every message sent and received, with what became of it.
* ``GET /federation/national`` — anyone: the national view over the statistics regions sent (aggregates).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from shuzhi import regions
from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.credentials.cli import PASSPHRASE_ENV
from shuzhi.credentials.keys import NATIONAL
from shuzhi.engine import connect
from shuzhi.federation import exchange
from shuzhi.federation.messages import MessageError
from shuzhi.federation.national import national_view


class LogEntry(BaseModel):
    """One message of the exchange log (its signed bytes stay in the store)."""

    direction: str  # in | out
    message_id: str
    peer: str  # the other region
    kind: str  # handover | statistics | trust_list
    seq: int
    digest: str  # SHA-256 of the signed message
    prev: str  # the digest it chains to
    sent_at: str
    logged_at: str
    status: str  # sent | acknowledged | accepted | rejected
    reason: str
    outcome: dict[str, Any]  # rows landed per table, rows refused with their reasons
    receipt: bool  # the receiver's signed receipt is kept (sent messages)


class NationalRow(BaseModel):
    """A region's own figures for a day (or the nation's, region 100000); null: withheld."""

    region: str
    name: str  # the division's name; 全国 for the nation
    day: dt.date
    new_cases: int | None
    new_14d: int | None
    cumulative: int | None
    counties_high: int | None
    counties_medium: int | None
    counties_low: int | None
    regions: int
    withheld: int


router = APIRouter(prefix="/federation", tags=["federation"])
Peer = Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.FEDERATION)]
Admin = Annotated[Caller, requires(roles=[Role.ADMIN], purpose=Purpose.FEDERATION)]
Public = Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.PUBLIC_INFORMATION)]
COSE = "application/cose"
MAX_MESSAGE = 64 * 1024 * 1024
NATION_NAME = "全国"


def _member(request: Request) -> exchange.Member:
    services, credentials = request.app.state.services, getattr(request.app.state, "credentials", None)
    if credentials is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this instance has no region key")
    try:
        passphrase = os.environ.get(PASSPHRASE_ENV, "").encode() or None
        return exchange.Member.of(
            services.settings.data, services.store, credentials.region, passphrase, credentials.keys
        )
    except exchange.FederationError as exc:  # not a member: there is no inbox here
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.post(
    "/messages",
    response_class=Response,
    responses={
        200: {
            "content": {COSE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "Receipt",
        },
        422: {"description": "The message cannot be opened: the reason names the field"},
        404: {"description": "This instance has not joined a federation"},
        503: {"description": "This instance has no region key"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {COSE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def deliver(caller: Peer, request: Request) -> Response:
    """Deliver a signed message from another region; the answer is the signed receipt."""
    sealed = await request.body()
    if not sealed or len(sealed) > MAX_MESSAGE:
        raise MessageError("body", "a signed message of 1 byte to 64 MiB")
    # the store and the lake are written in a worker thread: the event loop keeps serving
    receipt = await run_in_threadpool(exchange.accept, _member(request), sealed, caller.now)
    return Response(receipt, media_type=COSE)


@router.get("/log", response_model=list[LogEntry])
def federation_log(caller: Admin, session: DbSession, limit: int = 100) -> list[dict[str, Any]]:
    """The newest messages sent and received (without their bodies), with status, reason and outcome."""
    return exchange.messages(session, max(1, min(limit, 1000)))


@router.get("/national", response_model=list[NationalRow])
def national(caller: Public, request: Request) -> list[dict[str, Any]]:
    """Per region and day the region's own totals and counties by level; region 100000 is the nation's sum."""
    engine = connect(lake=request.app.state.services.settings.data.lake)
    rows = national_view(engine).to_pylist()
    return [
        {**r, "name": NATION_NAME if r["region"] == NATIONAL else regions.name_of(r["region"])} for r in rows
    ]
