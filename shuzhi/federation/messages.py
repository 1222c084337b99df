"""Federation messages: one signed, addressed, numbered envelope around a body (pure; no I/O).

Wire format: a COSE_Sign1 (ES256, the sender's key id in the protected header) whose payload is the CBOR map
``{"ver": 1, "id": "<32 hex>", "from": "<region>", "to": "<region>", "kind": "<kind>", "seq": <n>,
"prev": h'<SHA-256 of the sender's previous message to the same region, or empty>', "iat": <epoch s>,
"body": {...}}``. A message is identified by ``id`` and fingerprinted by the SHA-256 of its signed bytes
(:func:`digest`), which the next message's ``prev`` repeats: a receiver notices a lost, replayed or
reordered message by the chain, as well as a forged one by the signature.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2

from shuzhi.credentials import cose
from shuzhi.credentials.keys import Signer
from shuzhi.credentials.trustlist import TrustList, within

FORMAT_VERSION = 1
HANDOVER, STATISTICS, TRUST_LIST, RECEIPT = "handover", "statistics", "trust_list", "receipt"
KINDS = (HANDOVER, STATISTICS, TRUST_LIST, RECEIPT)
_REGION = re.compile(r"^\d{6}$")
_ID = re.compile(r"^[0-9a-f]{32}$")


class MessageError(ValueError):
    """A message that cannot be accepted; ``field`` names the part of it at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Message:
    """An opened (or to be sealed) message."""

    sender: str
    recipient: str
    kind: str
    seq: int
    prev: bytes
    sent_at: datetime
    body: dict[str, Any]
    id: str = ""

    def to_cbor(self) -> bytes:
        return cbor2.dumps(
            {
                "ver": FORMAT_VERSION,
                "id": self.id,
                "from": self.sender,
                "to": self.recipient,
                "kind": self.kind,
                "seq": self.seq,
                "prev": self.prev,
                "iat": int(self.sent_at.timestamp()),
                "body": self.body,
            },
            canonical=True,
        )


def new_id() -> str:
    return uuid.uuid4().hex


def digest(sealed: bytes) -> bytes:
    """The SHA-256 of a sealed message: its fingerprint in logs, receipts and the next message's ``prev``."""
    return hashlib.sha256(sealed).digest()


def seal(message: Message, signer: Signer) -> bytes:
    """The signed bytes of ``message``; the signer's region must be the sender or within it."""
    if not within(signer.region, message.sender):
        raise MessageError("from", f"a key of {signer.region} cannot sign for {message.sender}")
    if message.kind not in KINDS:
        raise MessageError("kind", f"{message.kind!r} is not one of {', '.join(KINDS)}")
    return cose.sign(message.to_cbor(), signer)


def open_sealed(sealed: bytes, trust: TrustList, recipient: str) -> Message:
    """Check the signature against ``trust`` and the address against ``recipient``; return the message.

    :class:`MessageError` names what is wrong: the COSE structure, an unknown or revoked key, a bad
    signature, a key used outside its region or signing period, a field missing or of the wrong type, or a
    message addressed to another region.
    """
    try:
        signed = cose.decode(sealed)
    except cose.CoseError as exc:
        raise MessageError("cose", str(exc)) from None
    key = trust.get(signed.kid)
    if key is None:
        raise MessageError("kid", f"key {(signed.kid or b'').hex()} is not in the trust list")
    if key.kid in trust.revoked_keys:
        raise MessageError("kid", f"key {key.kid.hex()} of {key.region} is revoked")
    if not cose.verify(signed, key.public_key):
        raise MessageError("signature", "does not verify with the sender's key")
    message = _parse(signed.payload)
    if not within(key.region, message.sender):
        raise MessageError(
            "from", f"signed by a key of {key.region}, which cannot speak for {message.sender}"
        )
    if not key.not_before <= message.sent_at <= key.signing_until:
        raise MessageError("iat", f"{message.sent_at:%Y-%m-%d %H:%M:%S} is outside the key's signing period")
    if message.recipient != recipient:
        raise MessageError("to", f"addressed to {message.recipient}, this is {recipient}")
    return message


def _parse(payload: bytes) -> Message:
    try:
        doc = cose.loads_exact(payload)
    except cose.CoseError as exc:
        raise MessageError("payload", str(exc)) from None
    if not isinstance(doc, dict):
        raise MessageError("payload", "must be a CBOR map")
    if doc.get("ver") != FORMAT_VERSION:
        raise MessageError("ver", f"format {doc.get('ver')!r} is not {FORMAT_VERSION}")
    fields = {
        "id": (str, _ID.match),
        "from": (str, _REGION.match),
        "to": (str, _REGION.match),
        "kind": (str, lambda k: k in KINDS),
        "seq": (int, lambda n: n >= 0),
        "prev": (bytes, lambda p: len(p) in (0, 32)),
        "iat": (int, lambda t: t > 0),
        "body": (dict, lambda b: True),
    }
    for name, (kind, valid) in fields.items():
        value = doc.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or not valid(value):
            raise MessageError(name, f"missing or not a valid {kind.__name__}: {value!r}"[:200])
    return Message(
        sender=doc["from"],
        recipient=doc["to"],
        kind=doc["kind"],
        seq=doc["seq"],
        prev=doc["prev"],
        sent_at=datetime.fromtimestamp(doc["iat"], UTC),
        body=doc["body"],
        id=doc["id"],
    )
