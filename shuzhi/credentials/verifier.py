"""Offline verification of shuzhi tokens (``SZ1:``) and EU DCCs (``HC1:``) against a trust list.

:func:`verify` takes a QR payload or an image of the QR code and returns a :class:`Verification`: valid, or
invalid with exactly one :class:`Reason`. The checks run in a fixed order, each a small function that raises
:class:`Rejected`: envelope and COSE structure (``malformed``), key id in the trust list (``unknown_issuer``),
signature (``bad_signature``), revoked key (``revoked``), claims (``malformed``), issuer and DCC key usage
(``unknown_issuer``), token validity with clock-skew tolerance (``not_yet_valid``, ``expired``), the key's
signing window at issue time (``unknown_issuer``) and its trust period (``expired``), revoked token
(``revoked``), and last the verifier's acceptance policy (``policy_not_accepted``). Nothing here touches the
network or a private key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from PIL import Image

from shuzhi.credentials import cose, dcc, envelope, qr
from shuzhi.credentials.acceptance import AcceptancePolicy
from shuzhi.credentials.tokens import CLAIM_EXP, CLAIM_IAT, CLAIM_ISS, ClaimError, Claims, epoch_claim
from shuzhi.credentials.trustlist import TrustedKey, TrustList

DEFAULT_SKEW = timedelta(seconds=60)
SCHEMES = {envelope.SHUZHI_PREFIX: "shuzhi", envelope.DCC_PREFIX: "eu-dcc"}


class Reason(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    POLICY_NOT_ACCEPTED = "policy_not_accepted"


class Rejected(Exception):
    """A check that failed, with the reason a verifier reports."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one credential, with what could be learnt about it."""

    valid: bool
    reason: Reason | None = None
    detail: str = ""
    scheme: str | None = None
    kind: str | None = None
    issuer: str | None = None
    kid: bytes | None = None
    subject: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    payload: dict | None = None
    counts_as: str | None = None
    token_id: bytes | None = None
    token_hash: bytes | None = None

    def to_json(self) -> dict:
        return {
            "valid": self.valid,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "scheme": self.scheme,
            "kind": self.kind,
            "issuer": self.issuer,
            "kid": self.kid.hex() if self.kid else None,
            "subject": self.subject,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "counts_as": self.counts_as,
            "token_id": self.token_id.hex() if self.token_id else None,
            "token_hash": self.token_hash.hex() if self.token_hash else None,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class Authenticated:
    """A COSE message whose signature verified with a trusted key, and its CWT claims map."""

    message: cose.Sign1
    key: TrustedKey
    claims: dict


@dataclass(frozen=True)
class Token:
    """The scheme-independent view of an authenticated token."""

    kind: str
    issuer: str | None
    subject: str | None
    issued_at: datetime
    expires_at: datetime
    not_before: datetime | None
    payload: dict
    token_id: bytes | None  # the CWT cti of a shuzhi token
    token_hash: bytes  # see signature_hash
    revocation_ids: frozenset[bytes]

    def facts(self) -> dict:
        return {
            "kind": self.kind,
            "issuer": self.issuer,
            "subject": self.subject,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "payload": self.payload,
            "token_id": self.token_id,
            "token_hash": self.token_hash,
        }


def verify(
    credential: str | bytes | Path | Image.Image,
    trust_list: TrustList,
    now: datetime | None = None,
    acceptance: AcceptancePolicy | None = None,
    skew: timedelta = DEFAULT_SKEW,
) -> Verification:
    """Verify a QR payload string, or a PNG/JPEG image (bytes, path or PIL image) of its QR code."""
    at = now or datetime.now(UTC)
    try:
        text = read_payload(credential)
        prefix, cose_bytes = envelope.unwrap(text)
    except (qr.QrError, envelope.EnvelopeError) as exc:
        return Verification(False, Reason.MALFORMED, str(exc))
    return verify_cose(
        cose_bytes, trust_list, scheme=SCHEMES[prefix], now=at, acceptance=acceptance, skew=skew
    )


def read_payload(credential: str | bytes | Path | Image.Image) -> str:
    """The payload text: the string itself, or the content of the QR code in an image."""
    return credential if isinstance(credential, str) else qr.decode_image(credential)


def verify_cose(
    cose_bytes: bytes,
    trust_list: TrustList,
    *,
    scheme: str,
    now: datetime,
    acceptance: AcceptancePolicy | None = None,
    skew: timedelta = DEFAULT_SKEW,
) -> Verification:
    """Verify the COSE_Sign1 bytes of a token of ``scheme`` (``shuzhi`` or ``eu-dcc``)."""
    facts: dict = {"scheme": scheme}
    try:
        authenticated = authenticate(cose_bytes, trust_list)
        facts["kid"] = authenticated.key.kid
        token = read_token(authenticated, scheme)
        facts.update(token.facts())
        check_authorised(authenticated.key, token, scheme)
        check_validity(token, now, skew)
        check_key_window(authenticated.key, token, now, skew)
        check_not_revoked(token, trust_list)
        counts_as = check_acceptance(acceptance, token, now)
    except Rejected as rejected:
        return Verification(False, rejected.reason, rejected.detail, **facts)
    return Verification(True, counts_as=counts_as, **facts)


def authenticate(cose_bytes: bytes, trust_list: TrustList) -> Authenticated:
    """Decode the COSE message, find its key in the trust list, check the signature and decode the claims."""
    try:
        message = cose.decode(cose_bytes)
    except cose.CoseError as exc:
        raise Rejected(Reason.MALFORMED, str(exc)) from None
    key = trust_list.get(message.kid)
    if key is None:
        kid = message.kid.hex() if message.kid else "none"
        raise Rejected(Reason.UNKNOWN_ISSUER, f"key id {kid} is not in the trust list")
    try:
        signed = cose.verify(message, key.public_key)
    except cose.CoseError as exc:
        raise Rejected(Reason.MALFORMED, str(exc)) from None
    if not signed:
        raise Rejected(Reason.BAD_SIGNATURE, f"signature does not verify with key {key.kid.hex()}")
    if key.kid in trust_list.revoked_keys:
        raise Rejected(Reason.REVOKED, f"signing key {key.kid.hex()} of {key.region} has been revoked")
    try:
        claims = cose.loads_exact(message.payload)
    except cose.CoseError as exc:
        raise Rejected(Reason.MALFORMED, f"CWT claims: {exc}") from None
    if not isinstance(claims, dict):
        raise Rejected(Reason.MALFORMED, "CWT claims are not a map")
    return Authenticated(message, key, claims)


def read_token(authenticated: Authenticated, scheme: str) -> Token:
    """The claims of an authenticated message as a :class:`Token` of ``scheme``."""
    token_hash = signature_hash(authenticated.message)
    try:
        if scheme == "shuzhi":
            return _shuzhi_token(Claims.from_cwt(authenticated.claims), token_hash)
        return _dcc_token(authenticated.claims, token_hash)
    except ClaimError as exc:
        raise Rejected(Reason.MALFORMED, str(exc)) from None


def _shuzhi_token(claims: Claims, token_hash: bytes) -> Token:
    credential = claims.credential
    return Token(
        credential.kind.value,
        claims.issuer,
        claims.subject,
        claims.issued_at,
        claims.expires_at,
        claims.not_before,
        credential.claim_map(),
        claims.token_id,
        token_hash,
        frozenset({claims.token_id, token_hash}),
    )


def _dcc_token(claims: dict, token_hash: bytes) -> Token:
    payload = dcc.payload(claims)
    issuer = claims.get(CLAIM_ISS)
    return Token(
        dcc.kind(payload),
        issuer if isinstance(issuer, str) else None,
        None,
        epoch_claim(claims, CLAIM_IAT),
        epoch_claim(claims, CLAIM_EXP),
        None,
        payload,
        None,
        token_hash,
        frozenset({token_hash, *dcc.uci_hashes(payload)}),
    )


def signature_hash(message: cose.Sign1) -> bytes:
    """First 16 bytes of SHA-256 of the signature — of ``r`` only for ECDSA, whose ``s`` is malleable."""
    signed = (
        message.signature[: len(message.signature) // 2]
        if message.alg in cose.ECDSA_ALGS
        else message.signature
    )
    return hashlib.sha256(signed).digest()[:16]


def check_authorised(key: TrustedKey, token: Token, scheme: str) -> None:
    """The key may sign for the token's issuer (shuzhi) or type (DCC key usage)."""
    if scheme == "shuzhi" and token.issuer != key.region:
        raise Rejected(
            Reason.UNKNOWN_ISSUER, f"key {key.kid.hex()} of {key.region} cannot issue for {token.issuer}"
        )
    if scheme == "eu-dcc" and not dcc.key_usage_allows(key.usages, token.payload):
        raise Rejected(
            Reason.UNKNOWN_ISSUER,
            f"signer certificate {key.kid.hex()} may sign only "
            f"{', '.join(sorted(key.usages))} certificates, not {token.kind}",
        )


def check_validity(token: Token, now: datetime, skew: timedelta) -> None:
    """The token is valid at ``now``, give or take ``skew``."""
    starts = max(token.issued_at, token.not_before or token.issued_at)
    if now + skew < starts:
        raise Rejected(Reason.NOT_YET_VALID, f"valid from {starts.isoformat()}, checked at {now.isoformat()}")
    if now - skew > token.expires_at:
        raise Rejected(
            Reason.EXPIRED, f"expired at {token.expires_at.isoformat()}, checked at {now.isoformat()}"
        )


def check_key_window(key: TrustedKey, token: Token, now: datetime, skew: timedelta) -> None:
    """The key was in its signing window when the token was issued, and is still trusted at ``now``."""
    if not key.not_before - skew <= token.issued_at <= key.signing_until + skew:
        raise Rejected(
            Reason.UNKNOWN_ISSUER,
            f"key {key.kid.hex()} could not sign at {token.issued_at.isoformat()}"
            f" (signing window {key.not_before.isoformat()} to "
            f"{key.signing_until.isoformat()})",
        )
    if now - skew > key.not_after:
        raise Rejected(
            Reason.EXPIRED, f"signing key {key.kid.hex()} trusted until {key.not_after.isoformat()}"
        )


def check_not_revoked(token: Token, trust_list: TrustList) -> None:
    if token.revocation_ids & trust_list.revoked_tokens:
        raise Rejected(Reason.REVOKED, "token is on the revocation list")


def check_acceptance(acceptance: AcceptancePolicy | None, token: Token, now: datetime) -> str | None:
    """The colour the credential counts as under ``acceptance`` (``None`` when there is no policy)."""
    if acceptance is None:
        return token.payload["hc"]["col"] if token.kind == "hc" else None
    external = {
        "validationClock": _iso(now),
        "iat": _iso(token.issued_at),
        "exp": _iso(token.expires_at),
        "issuer": token.issuer,
        "kind": token.kind,
    }
    outcome = acceptance.evaluate(token.kind, token.payload, external, now)
    if not outcome.accepted:
        raise Rejected(Reason.POLICY_NOT_ACCEPTED, "; ".join(outcome.reasons))
    return outcome.counts_as


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
