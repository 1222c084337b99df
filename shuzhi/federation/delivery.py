"""Delivery: what this instance sent and nobody answered yet goes out again, in order, until answered.

A message is composed once (numbered and chained, :func:`~shuzhi.federation.exchange.compose`) and then
delivered at least once: :func:`deliver_pending` posts the unanswered messages to a region oldest first and
keeps each receipt; the receiver answers a repeat with ``duplicate`` and lands nothing, so resending is
safe. A message the receiver could not open (422: say, signed by a key it does not trust yet) is marked
rejected and leaves the chain, so the next one takes its number. A transport failure stops the round; the
messages stay pending for the next.

Where each region listens is remembered (:func:`remember`, ``<data>/federation/peers.json``, written by ``send
--url``), so a :class:`Courier` — the thread ``shuzhi serve --deliver-every`` runs, or ``shuzhi federation
deliver --every`` — can take every region's pending messages out again, round after round, until answered;
with ``--exchange-after-analysis`` it also runs :func:`exchange` when a new analysis lands.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from shuzhi.credentials.keys import NATIONAL
from shuzhi.federation.bodies import Receipt
from shuzhi.federation.exchange import FEDERATION_DIR, Member, accept, acknowledge, compose
from shuzhi.federation.messages import HANDOVER, STATISTICS, TRUST_LIST, MessageError
from shuzhi.settings import DataDir
from shuzhi.store import FederationMessage

Post = Callable[[bytes], tuple[int, bytes]]  # the signed message → (HTTP status, response body)
UNOPENED = 422
PEERS_FILE = "peers.json"  # region → the base URL it receives messages at
TIMEOUT_SECONDS = 300  # a large handover lands in seconds; its receipt comes after
log = logging.getLogger(__name__)


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


def peers(data: DataDir) -> dict[str, str]:
    """Every region this instance has sent to over HTTP, and its base URL."""
    path = data.root / FEDERATION_DIR / PEERS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def remember(data: DataDir, region: str, url: str) -> None:
    """Keep where ``region`` receives (replaced atomically: a reader never sees half a file)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"url: {url!r} is not an http(s) URL")
    known = peers(data) | {region: url.rstrip("/")}
    path = data.root / FEDERATION_DIR / PEERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def over_http(url: str) -> Post:
    """Post signed messages to the ``/federation/messages`` inbox of the instance at ``url``."""

    def post(message: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/cose"}
        inbox = url.rstrip("/") + "/federation/messages"
        response = httpx.post(inbox, content=message, headers=headers, timeout=TIMEOUT_SECONDS)
        return response.status_code, response.content

    return post


def in_process(inboxes: dict[str, Member], now: dt.datetime) -> Callable[[str], Post]:
    """A transport to members in this process, by the URL each is remembered at (trials, tests): it answers
    as the HTTP inbox does — the signed receipt, or 422 with the reason for a message that does not open."""

    def to(url: str) -> Post:
        def post(message: bytes) -> tuple[int, bytes]:
            try:
                return 200, accept(inboxes[url], message, now)
            except MessageError as exc:
                return UNOPENED, str(exc).encode()

        return post

    return to


def deliver_everywhere(
    member: Member, now: dt.datetime, transport: Callable[[str], Post] = over_http
) -> dict[str, list[Delivered] | Exception]:
    """One round: every known region's pending messages; a region that cannot be reached waits for the next
    round (its failure is returned, not raised, so the others still get theirs)."""
    results: dict[str, list[Delivered] | Exception] = {}
    for region, url in peers(member.data).items():
        if not pending(member, region):
            continue
        try:
            results[region] = deliver_pending(member, region, transport(url), now)
        except (ConnectionError, httpx.HTTPError) as exc:
            results[region] = exc
    return results


def exchange(
    member: Member, now: dt.datetime, transport: Callable[[str], Post] = over_http
) -> dict[str, list[Delivered] | Exception]:
    """After an analysis, everyone this instance sends to gets what concerns them, then every unanswered
    message goes out (:func:`deliver_everywhere`): the nation this region's open statistics, every other
    region a handover of its people's cases and contacts (empty if none: it replaces the last one); the
    nation sends its members the national trust list."""
    for region in peers(member.data):
        compose(member, region, _kind_for(member.region, region), now)
    return deliver_everywhere(member, now, transport)


def _kind_for(sender: str, recipient: str) -> str:
    if sender == NATIONAL:
        return TRUST_LIST
    return STATISTICS if recipient == NATIONAL else HANDOVER


def analysis_stamp(member: Member) -> int:
    """Changes when an analysis is done: the pipeline replaces its record of the run last (0: none yet)."""
    from shuzhi.pipeline import RUNS_FILE

    record = member.data.outputs / RUNS_FILE
    return record.stat().st_mtime_ns if record.exists() else 0


@dataclass
class Courier:
    """Rounds of :func:`deliver_everywhere` every ``every`` seconds in a daemon thread, until :meth:`stop`.

    With ``after_analysis``, a round that finds a new analysis (one landed since the courier started or since
    its last exchange) runs :func:`exchange` instead: what the analysis found goes out without anyone
    running ``shuzhi federation exchange``."""

    member: Member
    every: float
    transport: Callable[[str], Post] = over_http
    after_analysis: bool = False
    rounds: int = 0
    exchanges: int = 0
    last: dict[str, list[Delivered] | Exception] = field(default_factory=dict)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _analysed: int = 0

    def __post_init__(self) -> None:
        self._analysed = analysis_stamp(self.member)

    def start(self) -> Courier:
        threading.Thread(target=self._run, name="federation-courier", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.last = self._round(dt.datetime.now(dt.UTC))
            except Exception:  # a round that fails (say, the store is away) must not end the courier
                log.exception("federation: a delivery round failed; the next one comes in %s s", self.every)
                self.last = {}
            self.rounds += 1
            for region, result in self.last.items():
                if isinstance(result, Exception):
                    log.warning("federation: %s not reached, its messages wait: %s", region, result)
                else:
                    log.info("federation: %s answered messages %s", region, [d.seq for d in result])
            self._stopped.wait(self.every)

    def _round(self, now: dt.datetime) -> dict[str, list[Delivered] | Exception]:
        stamp = analysis_stamp(self.member) if self.after_analysis else self._analysed
        if stamp == self._analysed:
            return deliver_everywhere(self.member, now, self.transport)
        self._analysed = stamp
        self.exchanges += 1
        log.info("federation: a new analysis: exchange round %d", self.exchanges)
        return exchange(self.member, now, self.transport)
