"""Delivery: what this instance sent and nobody answered yet goes out again, in order, until answered.

A message is composed once (numbered and chained, :func:`~shuzhi.federation.exchange.compose`) and then
delivered at least once: :func:`deliver_pending` posts the unanswered messages to a region oldest first and
keeps each receipt; the receiver answers a repeat with ``duplicate`` and lands nothing, so resending is
safe. A message the receiver could not open (422: say, signed by a key it does not trust yet) is marked
rejected and leaves the chain, so the next one takes its number. A transport failure stops the round; the
messages stay pending for the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from shuzhi.federation.bodies import Receipt
from shuzhi.federation.exchange import Member, acknowledge
from shuzhi.store import FederationMessage

Post = Callable[[bytes], tuple[int, bytes]]  # the signed message → (HTTP status, response body)
UNOPENED = 422


@dataclass(frozen=True)
class Delivered:
    seq: int
    receipt: Receipt | None  # None: the receiver could not open it
    refusal: str = ""


def pending(member: Member, recipient: str) -> list[FederationMessage]:
    """The messages sent to ``recipient`` and not answered yet, oldest first."""
    with member.store.session() as session:
        query = (
            select(FederationMessage)
            .where(
                FederationMessage.direction == "out",
                FederationMessage.peer == recipient,
                FederationMessage.status == "sent",
            )
            .order_by(FederationMessage.seq)
        )
        return list(session.scalars(query))


def deliver_pending(member: Member, recipient: str, post: Post, now: dt.datetime) -> list[Delivered]:
    """Post every unanswered message to ``recipient`` in order; keep each receipt (see the module)."""
    delivered = []
    for message in pending(member, recipient):
        status, answer = post(message.sealed)
        if status == UNOPENED:
            _refused(member, message.id, answer.decode("utf-8", "replace"))
            delivered.append(Delivered(message.seq, None, answer.decode("utf-8", "replace")))
            continue
        if status != 200:
            raise ConnectionError(f"{recipient} answered {status}: {answer[:200]!r}")
        delivered.append(Delivered(message.seq, acknowledge(member, answer, now)))
    return delivered


def _refused(member: Member, row_id: int, reason: str) -> None:
    with member.store.session() as session:
        row = session.get(FederationMessage, row_id)
        row.status, row.reason = "rejected", reason[:2000]
        session.commit()
