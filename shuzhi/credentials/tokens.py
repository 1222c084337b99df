"""shuzhi tokens: health codes and test, vaccination and recovery certificates as signed CWTs.

A token is a COSE_Sign1 (ES256) over CWT claims (RFC 8392)::

    {1 iss: "<issuing region>", 2 sub: "<subject pseudonym>", 6 iat: <epoch s>, 4 exp: <epoch s>,
     7 cti: h'<8-byte token id>', -65537: {"ver": "1.0", <kind>: <body>}}

Claim key -65537 is the first private-use CWT claim key. ``<kind>`` discriminates the type, exactly one of
``hc`` (health code: ``{"col": colour, "pv": policy version, "rc": reason code}``) or, as in an EU DCC, ``t``,
``v`` or ``r`` holding a one-entry list of test, vaccination or recovery entries with the DCC field names and
code systems (``tt`` LOINC test type, ``tr`` SNOMED result...), so one CertLogic rule set reads both kinds of
certificate. ``co`` holds the issuing GB/T 2260 region where a DCC holds a country. The text form is
``SZ1:`` + base45(zlib(COSE)).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import cbor2

from shuzhi.credentials import cose, envelope
from shuzhi.credentials.keys import Signer

CLAIM_ISS, CLAIM_SUB, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CTI = 1, 2, 4, 5, 6, 7
CLAIM_SHUZHI = -65537
CLAIMS_VERSION = "1.0"
COVID_19 = "840539006"
TEST_TYPES = {"pcr": "LP6464-4", "rat": "LP217198-3"}
TEST_RESULTS = {"negative": "260415000", "positive": "260373001"}
COLOURS = ("green", "yellow", "red")


class Kind(StrEnum):
    HEALTH_CODE = "hc"
    TEST = "t"
    VACCINATION = "v"
    RECOVERY = "r"


_KINDS = {kind.value: kind for kind in Kind}
DEFAULT_LIFETIME = {
    Kind.HEALTH_CODE: timedelta(minutes=5),
    Kind.TEST: timedelta(hours=72),
    Kind.VACCINATION: timedelta(days=30),
    Kind.RECOVERY: timedelta(days=30),
}
_FIELDS: dict[Kind, dict[str, type]] = {
    Kind.HEALTH_CODE: {"col": str, "pv": str, "rc": str},
    Kind.TEST: {"tg": str, "tt": str, "sc": str, "tr": str, "tc": str, "co": str},
    Kind.VACCINATION: {"tg": str, "mp": str, "dn": int, "sd": int, "dt": str, "co": str},
    Kind.RECOVERY: {"tg": str, "fr": str, "df": str, "du": str, "co": str},
}


class ClaimError(ValueError):
    """CWT claims that do not form a shuzhi token."""


class IssueError(ValueError):
    """A token that the signer may not issue."""


@dataclass(frozen=True)
class Credential:
    """What a token asserts: a kind and its body (field names as in ``_FIELDS``)."""

    kind: Kind
    body: dict

    def claim_map(self) -> dict:
        entry = self.body if self.kind is Kind.HEALTH_CODE else [self.body]
        return {"ver": CLAIMS_VERSION, self.kind.value: entry}

    @classmethod
    def from_claim_map(cls, claim: object) -> Credential:
        if not isinstance(claim, dict) or claim.get("ver") != CLAIMS_VERSION:
            raise ClaimError(f"credential claim must be a map with ver {CLAIMS_VERSION!r}")
        kinds = [key for key in claim if key in _KINDS]
        if len(kinds) != 1 or len(claim) != 2:
            raise ClaimError("credential claim must hold exactly one of hc, t, v, r")
        kind = _KINDS[kinds[0]]
        body = claim[kinds[0]]
        if kind is not Kind.HEALTH_CODE:
            if not isinstance(body, list) or len(body) != 1:
                raise ClaimError(f"{kind.value} must be a list with exactly one entry")
            body = body[0]
        _check_fields(kind, body)
        return cls(kind, body)


def _check_fields(kind: Kind, body: object) -> None:
    fields = _FIELDS[kind]
    if not isinstance(body, dict) or set(body) != set(fields):
        raise ClaimError(f"{kind.value} entry must have exactly the fields {', '.join(sorted(fields))}")
    for name, expected in fields.items():
        if type(body[name]) is not expected:
            raise ClaimError(f"{kind.value}.{name} must be of type {expected.__name__}")
    if kind is Kind.HEALTH_CODE and body["col"] not in COLOURS:
        raise ClaimError(f"colour {body['col']!r} is not one of {', '.join(COLOURS)}")


def health_code(colour: str, policy_version: str, reason: str) -> Credential:
    """A health code of ``colour`` set by rule ``reason`` of ``policy_version``."""
    body = {"col": colour, "pv": policy_version, "rc": reason}
    _check_fields(Kind.HEALTH_CODE, body)
    return Credential(Kind.HEALTH_CODE, body)


def covid_test(test_type: str, result: str, sampled_at: datetime, centre: str, region: str) -> Credential:
    """A test certificate; ``test_type`` is ``pcr`` or ``rat``, ``result`` ``negative`` or ``positive``."""
    if test_type not in TEST_TYPES or result not in TEST_RESULTS:
        raise IssueError(
            f"test type must be one of {', '.join(TEST_TYPES)}, result one of {', '.join(TEST_RESULTS)}"
        )
    body = {
        "tg": COVID_19,
        "tt": TEST_TYPES[test_type],
        "sc": _iso(sampled_at),
        "tr": TEST_RESULTS[result],
        "tc": centre,
        "co": region,
    }
    return Credential(Kind.TEST, body)


def vaccination(product: str, dose: int, doses: int, given: date, region: str) -> Credential:
    """A vaccination certificate for dose ``dose`` of ``doses`` of medicinal product ``product``."""
    body = {"tg": COVID_19, "mp": product, "dn": dose, "sd": doses, "dt": given.isoformat(), "co": region}
    _check_fields(Kind.VACCINATION, body)
    return Credential(Kind.VACCINATION, body)


def recovery(first_positive: date, valid_from: date, valid_until: date, region: str) -> Credential:
    """A recovery certificate valid from ``valid_from`` to ``valid_until``."""
    body = {
        "tg": COVID_19,
        "fr": first_positive.isoformat(),
        "df": valid_from.isoformat(),
        "du": valid_until.isoformat(),
        "co": region,
    }
    return Credential(Kind.RECOVERY, body)


@dataclass(frozen=True)
class Claims:
    """The decoded CWT claims of a shuzhi token."""

    issuer: str
    subject: str
    issued_at: datetime
    expires_at: datetime
    token_id: bytes
    credential: Credential
    not_before: datetime | None = None

    def to_cwt(self) -> dict:
        return {
            CLAIM_ISS: self.issuer,
            CLAIM_SUB: self.subject,
            CLAIM_IAT: int(self.issued_at.timestamp()),
            CLAIM_EXP: int(self.expires_at.timestamp()),
            CLAIM_CTI: self.token_id,
            CLAIM_SHUZHI: self.credential.claim_map(),
        }

    @classmethod
    def from_cwt(cls, claims: object) -> Claims:
        if not isinstance(claims, dict):
            raise ClaimError("CWT claims must be a map")
        issuer, subject, token_id = claims.get(CLAIM_ISS), claims.get(CLAIM_SUB), claims.get(CLAIM_CTI)
        if not (isinstance(issuer, str) and isinstance(subject, str) and isinstance(token_id, bytes)):
            raise ClaimError("iss and sub must be text and cti bytes")
        nbf = claims.get(CLAIM_NBF)
        return cls(
            issuer,
            subject,
            epoch_claim(claims, CLAIM_IAT),
            epoch_claim(claims, CLAIM_EXP),
            token_id,
            Credential.from_claim_map(claims.get(CLAIM_SHUZHI)),
            None if nbf is None else epoch_claim(claims, CLAIM_NBF),
        )


def epoch_claim(claims: dict, key: int) -> datetime:
    """A NumericDate claim (integer or float seconds) as an aware UTC datetime."""
    value = claims.get(key)
    if type(value) not in (int, float):
        raise ClaimError(f"claim {key} must be a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ClaimError(f"claim {key} is out of range") from None


def issue(
    credential: Credential,
    subject: str,
    signer: Signer,
    now: datetime | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """The ``SZ1:`` payload of a new token signed by ``signer``, valid from ``now`` for ``lifetime``."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    expires = issued + (lifetime or DEFAULT_LIFETIME[credential.kind])
    if not signer.info.can_sign(issued):
        raise IssueError(f"key {signer.kid.hex()} may not sign at {issued.isoformat()}")
    if expires > signer.info.not_after:
        raise IssueError(
            f"token would outlive key {signer.kid.hex()} (trusted until {signer.info.not_after})"
        )
    claims = Claims(signer.region, subject, issued, expires, os.urandom(8), credential)
    payload = cbor2.dumps(claims.to_cwt(), canonical=True)
    return envelope.wrap(cose.sign(payload, signer), envelope.SHUZHI_PREFIX)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
