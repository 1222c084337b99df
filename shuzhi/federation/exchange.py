"""Exchange between this instance and the other regions: compose messages from the lake, accept them into it.

The sender numbers its messages to each region (``seq`` 1, 2, ...) and chains each to the digest of the one
before; the receiver accepts a message only as the next of that chain, so a lost message is noticed and a
replayed one answers ``duplicate`` without landing twice. Both sides log every message whole in the store's
``federation_messages``; the receiver answers with a receipt it signs, which the sender checks and keeps.

What lands where (one part per sender, replaced by the sender's next message of the kind, so each is the
sender's current picture and a re-run never duplicates):

* a *handover* — ``received_cases`` and ``received_contacts`` (the schemas of ``diagnoses`` and ``contacts``
  plus ``from_region``), which health codes read beside this instance's own;
* *statistics* — ``regional_statistics`` (the sender's ``open_statistics`` plus ``from_region``), which the
  national view aggregates;
* a *trust list* — ``<data>/federation/trust_lists/<sender>.cose``, checked against the keys already trusted
  for the sender; the national authority's list becomes this instance's trust list.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuzhi.codes.inputs import RECEIVED
from shuzhi.credentials import cose, trustlist
from shuzhi.credentials.keys import NATIONAL, KeyStore, load_public_key, public_pem
from shuzhi.credentials.trustlist import TrustList, TrustListError, within
from shuzhi.engine import connect
from shuzhi.federation import bodies
from shuzhi.federation.messages import (
    HANDOVER,
    RECEIPT,
    STATISTICS,
    TRUST_LIST,
    Message,
    MessageError,
    digest,
    new_id,
    open_sealed,
    seal,
)
from shuzhi.lake import Lake
from shuzhi.model import PERSON, TABLES
from shuzhi.privacy import Pseudonymiser
from shuzhi.privacy.pseudonym import KEY_FILE_NAME
from shuzhi.public.statistics import OPEN_STATISTICS_SCHEMA
from shuzhi.settings import DataDir
from shuzhi.store import FederationMessage, Store
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

log = logging.getLogger(__name__)

KEY_STORE_DIR = "credentials"  # under <data>/secrets, as the API's issuer keeps it
FEDERATION_DIR = "federation"
NATIONAL_LIST, NATIONAL_ANCHOR = "national.cose", "national.pub.pem"
FROM = pa.field("from_region", pa.string())
RECEIVED_CASES, RECEIVED_CONTACTS = RECEIVED["diagnoses"], RECEIVED["contacts"]
REGIONAL_STATISTICS = "regional_statistics"
LANDED = {
    RECEIVED_CASES: "Cases of this region's people diagnosed in other regions, as their senders handed them.",
    RECEIVED_CONTACTS: "Contacts of this region's people traced elsewhere, as their senders handed them.",
    REGIONAL_STATISTICS: "The open statistics the regions sent (the national view sums them), by sender.",
}  # the tables messages land, and what they hold
RECEIVED_SCHEMAS = {
    RECEIVED_CASES: TABLES["diagnoses"].schema.append(FROM),
    RECEIVED_CONTACTS: CONTACTS_SCHEMA.append(FROM),
    REGIONAL_STATISTICS: OPEN_STATISTICS_SCHEMA.append(FROM),
}


class FederationError(ValueError):
    """This instance cannot take part as asked (not joined, no key, nothing to send...)."""


@dataclass
class Member:
    """This instance as a member of the federation: its region, keys, trust list, pseudonyms, lake and log."""

    data: DataDir
    store: Store
    region: str
    keys: KeyStore
    trust: TrustList
    pseudonyms: str  # the fingerprint of the pseudonym key

    @classmethod
    def of(
        cls,
        data: DataDir,
        store: Store,
        region: str,
        passphrase: bytes | None = None,
        keys: KeyStore | None = None,
    ) -> Member:
        """The member kept in ``data``: joined (see :func:`join`) and with a key for ``region``."""
        folder = data.root / FEDERATION_DIR
        if not (folder / NATIONAL_LIST).exists():
            raise FederationError(f"{data.root} has not joined a federation: no {folder / NATIONAL_LIST}")
        anchor = load_public_key((folder / NATIONAL_ANCHOR).read_bytes())
        trust = trustlist.open_signed((folder / NATIONAL_LIST).read_bytes(), [anchor])
        keys = keys or KeyStore(data.secrets / KEY_STORE_DIR, passphrase)
        fingerprint = Pseudonymiser.from_file(data.secrets / KEY_FILE_NAME).fingerprint
        return cls(data, store, region, keys, trust, fingerprint)

    @property
    def lake(self) -> Lake:
        return Lake(self.data.lake)

    def sign(self, message: Message) -> bytes:
        """Sealed by the active key; a trust list by the oldest key still trusted, which receivers already
        know when the list brings a rotated key."""
        keys, at = self.keys, message.sent_at
        signer = (
            keys.publisher(self.region, at) if message.kind == TRUST_LIST else keys.signer(self.region, at)
        )
        return seal(message, signer)


def join(
    data: DataDir, national_list: bytes, anchor_pem: bytes, pseudonym_key: bytes | None = None
) -> TrustList:
    """Install the federation's signed national trust list (checked against the anchor) and, if given, its
    shared pseudonym key — before anything is ingested, so this lake's person keys match the other members'.
    """
    trust = trustlist.open_signed(national_list, [load_public_key(anchor_pem)])
    if pseudonym_key is not None:
        key_file = data.secrets / KEY_FILE_NAME
        other = key_file.exists() and key_file.read_text().strip() != pseudonym_key.decode().strip()
        if other and any(Lake(data.lake).tables()):
            raise FederationError(
                f"{data.lake} was pseudonymised under another key: join before ingesting, or re-ingest"
            )
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            out.write(pseudonym_key)
    folder = data.root / FEDERATION_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / NATIONAL_LIST).write_bytes(national_list)
    (folder / NATIONAL_ANCHOR).write_bytes(anchor_pem)
    return trust


# ---- sending ---------------------------------------------------------------------------------------------


def compose(member: Member, recipient: str, kind: str, now: dt.datetime) -> bytes:
    """The next message of ``kind`` to ``recipient``, signed and logged as sent."""
    if kind not in BUILDERS:
        raise FederationError(f"cannot send a {kind!r}; one of {', '.join(BUILDERS)}")
    body = BUILDERS[kind](member, recipient, now)
    with member.store.session() as session:
        last = _last(session, "out", recipient, ("sent", "acknowledged"))
        message = Message(
            sender=member.region,
            recipient=recipient,
            kind=kind,
            seq=last.seq + 1 if last else 1,
            prev=bytes.fromhex(last.digest) if last else b"",
            sent_at=now.replace(microsecond=0),
            body=body,
            id=new_id(),
        )
        sealed = member.sign(message)
        session.add(_row("out", message, sealed, now, "sent"))
        session.commit()
    return sealed


def acknowledge(member: Member, receipt: bytes, now: dt.datetime) -> bodies.Receipt:
    """Check the receiver's signed receipt for a message this instance sent, and keep it with the message."""
    opened = open_sealed(receipt, member.trust, member.region)
    if opened.kind != RECEIPT:
        raise MessageError("kind", f"expected a receipt, got a {opened.kind}")
    answer = bodies.parse(RECEIPT, opened.body)
    with member.store.session() as session:
        sent = session.scalar(
            select(FederationMessage).where(
                FederationMessage.direction == "out", FederationMessage.message_id == answer.message
            )
        )
        if sent is None or sent.peer != opened.sender or bytes.fromhex(sent.digest) != answer.digest:
            raise MessageError("body.message", f"{answer.message} is not a message sent to {opened.sender}")
        if sent.status == "acknowledged" and answer.status == "duplicate":
            return answer  # two deliveries crossed (courier and send): the first receipt says what landed
        # a refused message leaves the chain: the next one takes its number (see compose)
        sent.status = "rejected" if answer.status == "rejected" else "acknowledged"
        sent.receipt = receipt
        sent.outcome = {
            "status": answer.status,
            "landed": answer.landed,
            "rejected_rows": answer.rejected_rows,
        }
        sent.reason = answer.reason
        session.commit()
    return answer


def _handover(member: Member, recipient: str, now: dt.datetime) -> dict[str, Any]:
    """Cases and contacts of persons whose home lies in the recipient's jurisdiction (not in this one's)."""
    cases = member.lake.read("diagnoses")
    contacts = _derived(member, "contacts", CONTACTS_SCHEMA)
    persons = pc.unique(pa.chunked_array([cases["person_key"], contacts["contact_key"]], PERSON))
    homes = _homes(member, persons)
    regions = homes["region"]
    theirs = homes.filter(pc.and_(_within(regions, recipient), pc.invert(_within(regions, member.region))))
    theirs = theirs["person_key"]
    return {
        "pseudonyms": member.pseudonyms,
        "cases": [bodies.to_wire(r) for r in cases.filter(pc.is_in(cases["person_key"], theirs)).to_pylist()],
        "contacts": [
            bodies.to_wire(r) for r in contacts.filter(pc.is_in(contacts["contact_key"], theirs)).to_pylist()
        ],
    }


def _homes(member: Member, persons: pa.Array) -> pa.Table:
    """(person_key, region) of ``persons``: the county of residence registered here; else the county of
    current residence their latest declaration names; else the home region of their ID number."""
    where = pc.field("person_key").isin(persons)
    residents = member.lake.read("residents", ["person_key", "county_code"], where=where)
    declared = member.lake.read("declarations", ["person_key", "declared_at", "county_code"], where=where)
    latest = declared.sort_by([("declared_at", "descending")]).group_by("person_key", use_threads=False)
    latest = latest.aggregate([("county_code", "first")]).rename_columns(["person_key", "county_code"])
    seen = member.lake.read("person_regions", ["person_key", "home_region"], where=where)
    homes = [
        residents.select(["person_key", "county_code"]),
        latest.select(["person_key", "county_code"]),
        seen.select(["person_key", "home_region"]),
    ]
    found, known = [], pa.array([], PERSON)
    for table in homes:  # in order of precedence: a person takes the first home found
        table = table.rename_columns(["person_key", "region"])
        table = table.filter(pc.invert(pc.is_in(table["person_key"], known)))
        table = table.group_by(["person_key", "region"]).aggregate([])
        found.append(table)
        known = pa.concat_arrays([known, table["person_key"].combine_chunks()])
    return pa.concat_tables(found)


def _within(counties: pa.ChunkedArray, jurisdiction: str) -> pa.ChunkedArray:
    """:func:`~shuzhi.credentials.trustlist.within` over a column of county codes."""
    if jurisdiction == NATIONAL:
        return pc.not_equal(counties, "")
    if jurisdiction.endswith("0000"):
        return pc.starts_with(counties, jurisdiction[:2])
    return pc.starts_with(counties, jurisdiction[:4] if jurisdiction.endswith("00") else jurisdiction)


def _statistics(member: Member, recipient: str, now: dt.datetime) -> dict[str, Any]:
    """This region's open statistics of its own areas: rows of other areas (a lake fed for a wider area)
    stay here, as the receiver would refuse them."""
    rows = _derived(member, "open_statistics", OPEN_STATISTICS_SCHEMA)
    own = rows.filter(_within(rows["area_code"], member.region))
    if own.num_rows == 0:
        raise FederationError(
            f"no open statistics of {member.region}'s areas to send: run `shuzhi analyse` first"
        )
    if own.num_rows < rows.num_rows:
        log.info(
            "federation: %d statistics rows of areas outside %s not sent",
            rows.num_rows - own.num_rows,
            member.region,
        )
    return {"rows": [bodies.to_wire(r) for r in own.to_pylist()]}


def _trust_list(member: Member, recipient: str, now: dt.datetime) -> dict[str, Any]:
    """This region's own signed list (the national authority sends its merged list instead)."""
    path = member.data.root / FEDERATION_DIR / NATIONAL_LIST
    if member.region == NATIONAL:
        return {"signed": path.read_bytes()}
    own = trustlist.regional(member.keys, member.region, now)
    return {"signed": trustlist.sign(own, member.keys.publisher(member.region, now))}


BUILDERS: dict[str, Callable[[Member, str, dt.datetime], dict[str, Any]]] = {
    HANDOVER: _handover,
    STATISTICS: _statistics,
    TRUST_LIST: _trust_list,
}


def _derived(member: Member, name: str, schema: pa.Schema) -> pa.Table:
    engine = connect(lake=member.data.lake)
    if not engine.has_table(name):
        return schema.empty_table()
    return engine.to_arrow(engine.table(name).select(*schema.names)).cast(schema)


def publish_national_list(member: Member, now: dt.datetime) -> TrustList:
    """The national authority's new list: the keys it trusts, its own, and those the regions' lists vouch for.

    Each region's list (received as a ``trust_list`` message) is checked again against the keys trusted for
    that region, so a rotated key enters only when an older key of the same region vouched for it. The
    signed list replaces this node's ``national.cose``; sending it (``trust_list`` to each member) spreads it.
    """
    if member.region != NATIONAL:
        raise FederationError(f"only the national authority ({NATIONAL}) publishes the national list")
    folder = member.data.root / FEDERATION_DIR
    lists = [member.trust, trustlist.regional(member.keys, NATIONAL, now)]
    for path in sorted((folder / "trust_lists").glob("*.cose")):
        anchors = [k for k in member.trust.keys if k.region == path.stem]
        lists.append(trustlist.open_signed(path.read_bytes(), anchors))
    merged = trustlist.merge(lists, issuer=NATIONAL, now=now)
    (folder / NATIONAL_LIST).write_bytes(trustlist.sign(merged, member.keys.publisher(NATIONAL, now)))
    member.trust = merged
    return merged


# ---- receiving -------------------------------------------------------------------------------------------


def accept(member: Member, sealed: bytes, now: dt.datetime) -> bytes:
    """Open, check and land one message; log it; return the signed receipt for its sender.

    A message that cannot be opened (bad signature, unknown key, not for this region...) raises
    :class:`MessageError` and is logged as rejected: there is nobody known to sign a receipt for.
    """
    try:
        message = open_sealed(sealed, member.trust, member.region)
    except MessageError as exc:
        _log_unopened(member, sealed, now, str(exc))
        raise
    with member.store.session() as session:
        if _already(session, message, sealed):
            status, reason, outcome = "duplicate", "already accepted", {}
        else:
            status, reason, outcome = _land(member, session, message)
            row = _row("in", message, sealed, now, "accepted" if status == "accepted" else "rejected")
            row.reason, row.outcome = reason, outcome
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # the same number accepted meanwhile: a delivery racing this one
                session.rollback()
                status, reason, outcome = "duplicate", "accepted meanwhile by another delivery", {}
    said = reason or f"landed {outcome.get('landed', {})}"
    log.info(
        "federation: %s %s from %s (seq %d): %s", status, message.kind, message.sender, message.seq, said
    )
    receipt = bodies.Receipt(
        message=message.id, digest=digest(sealed), status=status, reason=reason, **outcome
    )
    answer = Message(
        sender=member.region,
        recipient=message.sender,
        kind=RECEIPT,
        seq=0,
        prev=digest(sealed),
        sent_at=now.replace(microsecond=0),
        body=receipt.model_dump(),
        id=new_id(),
    )
    return member.sign(answer)


def _land(member: Member, session, message: Message) -> tuple[str, str, dict]:
    """(status, reason, outcome) of a message that opened: its place in the chain, then its body."""
    last = _last(session, "in", message.sender, ("accepted",), lock=True)
    expected_seq = last.seq + 1 if last else 1
    expected_prev = last.digest if last else ""
    if message.seq != expected_seq or message.prev.hex() != expected_prev:
        return (
            "rejected",
            (
                f"seq: expected message {expected_seq} chained to {expected_prev[:16] or 'nothing'}, got "
                f"{message.seq} chained to {message.prev.hex()[:16] or 'nothing'}: one is missing or repeated"
            ),
            {},
        )
    if message.kind == RECEIPT:
        return "rejected", "kind: a receipt answers a message; it is not sent on its own", {}
    try:
        body = bodies.parse(message.kind, message.body)
        landed, rejected = LANDERS[message.kind](member, message, body)
    except (bodies.BodyError, TrustListError, FederationError) as exc:
        return "rejected", str(exc), {}
    return "accepted", "", {"landed": landed, "rejected_rows": rejected}


def _land_handover(member: Member, message: Message, body: bodies.Handover) -> tuple[dict, list]:
    own = Pseudonymiser.from_file(member.data.secrets / KEY_FILE_NAME).fingerprint
    if body.pseudonyms != own:
        raise FederationError(
            f"body.pseudonyms: keyed by {body.pseudonyms}, this instance by {own}: persons would not match"
        )
    cases, bad_cases = bodies.rows(bodies.CaseRow, body.cases, "cases")
    contacts, bad_contacts = bodies.rows(bodies.ContactRow, body.contacts, "contacts")
    landed = {
        RECEIVED_CASES: _replace_part(member, message.sender, RECEIVED_CASES, cases, "diagnosed_at"),
        RECEIVED_CONTACTS: _replace_part(
            member,
            message.sender,
            RECEIVED_CONTACTS,
            [_reported(c, message.sender) for c in contacts],
            "first_contact_at",
        ),
    }
    return landed, bad_cases + bad_contacts


def _reported(contact: bodies.ContactRow, region: str) -> dict:
    """The contact as this region shows it: the place and the evidence name the region that reported it."""
    row = contact.model_dump()
    row["place"] = f"{region}:{row['place'] or '?'}"
    row["evidence"] = f"reported by {region}: {row['evidence']}"
    return row


def _land_statistics(member: Member, message: Message, body: bodies.Statistics) -> tuple[dict, list]:
    """The sender's statistics of its own areas; a row of another region's area is refused."""

    def outside(row: bodies.StatisticsRow) -> tuple[str, str] | None:
        return None if within(row.area_code, message.sender) else ("area_code", f"outside {message.sender}")

    rows, bad = bodies.rows(bodies.StatisticsRow, body.rows, "rows", refuse=outside)
    return {REGIONAL_STATISTICS: _replace_part(member, message.sender, REGIONAL_STATISTICS, rows, "day")}, bad


def _land_trust_list(member: Member, message: Message, body: bodies.TrustListBody) -> tuple[dict, list]:
    """A region's list, vouched for by a key already trusted for it; the national list replaces this one's,
    and its signer becomes the anchor."""
    anchors = [k for k in member.trust.keys if k.region == message.sender]
    received = trustlist.open_signed(body.signed, anchors)
    if received.issuer != message.sender:
        raise FederationError(f"body.signed: a list of {received.issuer}, sent by {message.sender}")
    folder = member.data.root / FEDERATION_DIR
    name = NATIONAL_LIST if message.sender == NATIONAL else f"trust_lists/{message.sender}.cose"
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body.signed)
    if message.sender == NATIONAL:
        # the anchor rolls forward to the key that signed this list, which the list before vouched for: a
        # rotated national key takes over without anyone handing members a new anchor
        signer = next(k for k in anchors if k.kid == cose.decode(body.signed).kid)
        (folder / NATIONAL_ANCHOR).write_bytes(public_pem(signer.public_key))
        member.trust = received
    return {"trust_list_keys": len(received.keys)}, []


LANDERS: dict[str, Callable[[Member, Message, Any], tuple[dict, list]]] = {
    HANDOVER: _land_handover,
    STATISTICS: _land_statistics,
    TRUST_LIST: _land_trust_list,
}


def _replace_part(member: Member, sender: str, table: str, rows: list, day_column: str) -> int:
    """Swap the sender's part of ``table`` for ``rows`` (one part per day); the number of rows landed."""
    schema = RECEIVED_SCHEMAS[table]
    records = [{**(r.model_dump() if hasattr(r, "model_dump") else r), "from_region": sender} for r in rows]
    data = pa.Table.from_pylist(records, schema=schema) if records else schema.empty_table()
    name = f"part-{sender}.parquet"
    for old in (member.data.lake / table).glob(f"day=*/{name}"):
        old.unlink()
    member.lake.write_days(table, name, data, day_column)
    return data.num_rows


# ---- the log ---------------------------------------------------------------------------------------------


def _row(direction: str, message: Message, sealed: bytes, now: dt.datetime, status: str) -> FederationMessage:
    return FederationMessage(
        direction=direction,
        message_id=message.id,
        peer=message.recipient if direction == "out" else message.sender,
        kind=message.kind,
        seq=message.seq,
        digest=digest(sealed).hex(),
        prev=message.prev.hex(),
        sent_at=message.sent_at,
        logged_at=now,
        status=status,
        reason="",
        outcome={},
        sealed=sealed,
    )


def _last(
    session, direction: str, peer: str, statuses: tuple[str, ...], lock: bool = False
) -> FederationMessage | None:
    """The newest message of the chain with ``peer``; ``lock``: held until commit (PostgreSQL; SQLite
    serialises writers anyway), so a racing delivery of the next message waits for this one."""
    query = (
        select(FederationMessage)
        .where(
            FederationMessage.direction == direction,
            FederationMessage.peer == peer,
            FederationMessage.status.in_(statuses),
            FederationMessage.kind != RECEIPT,
        )
        .order_by(FederationMessage.seq.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def _already(session, message: Message, sealed: bytes) -> bool:
    query = select(FederationMessage.id).where(
        FederationMessage.direction == "in",
        FederationMessage.message_id == message.id,
        FederationMessage.digest == digest(sealed).hex(),
        FederationMessage.status == "accepted",
    )
    return session.scalar(query) is not None


UNOPENED_KEPT = 1024  # bytes kept of a message nobody could be shown to have sent: enough to look into


def _log_unopened(member: Member, sealed: bytes, now: dt.datetime, reason: str) -> None:
    """Log a message that did not open; only its digest and first bytes, as anyone can post such bytes."""
    with member.store.session() as session:
        session.add(
            FederationMessage(
                direction="in",
                message_id="",
                peer="",
                kind="",
                seq=0,
                digest=digest(sealed).hex(),
                prev="",
                sent_at=now,
                logged_at=now,
                status="rejected",
                reason=reason,
                outcome={},
                sealed=sealed[:UNOPENED_KEPT],
            )
        )
        session.commit()


def messages(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries of the federation log, without the signed bytes."""
    query = select(FederationMessage).order_by(FederationMessage.id.desc()).limit(limit)
    return [
        {
            "direction": m.direction,
            "message_id": m.message_id,
            "peer": m.peer,
            "kind": m.kind,
            "seq": m.seq,
            "digest": m.digest,
            "prev": m.prev,
            "sent_at": m.sent_at.isoformat(),
            "logged_at": m.logged_at.isoformat(),
            "status": m.status,
            "reason": m.reason,
            "outcome": m.outcome,
            "receipt": m.receipt is not None,
        }
        for m in session.scalars(query)
    ]
