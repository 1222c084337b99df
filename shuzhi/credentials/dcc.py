"""EU Digital COVID Certificate specifics: the hcert claim, its type, key usage and JSON form.

An ``HC1:`` payload carries CWT claims whose claim -260 holds ``{1: <DCC payload>}`` — the person (``nam``,
``dob``) and exactly one of ``v`` (vaccination), ``t`` (test) or ``r`` (recovery), a list of entries (one
since schema 1.3; early issuers wrote two vaccination entries, and some write ``null`` for absent types). A
Document Signer Certificate whose ExtendedKeyUsage names DCC types may sign only those types.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import cbor2

from shuzhi.credentials.tokens import ClaimError

CLAIM_HCERT = -260
HCERT_V1 = 1
KINDS = ("v", "t", "r")


def to_json(value: Any) -> Any:
    """A CBOR-decoded value as JSON-compatible data (dates and times as ISO text, bytes as base64)."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, cbor2.CBORTag):
        return to_json(value.value)
    return value


def payload(claims: dict) -> dict:
    """The DCC payload (JSON form) inside CWT claims; :class:`ClaimError` if it is absent or malformed."""
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, dict) or not isinstance(hcert.get(HCERT_V1), dict):
        raise ClaimError("CWT claims carry no hcert (-260) map with a version 1 DCC payload")
    dcc = to_json(hcert[HCERT_V1])
    problems = structure_problems(dcc)
    if problems:
        raise ClaimError("; ".join(problems))
    return dcc


def structure_problems(dcc: Any) -> list[str]:
    """What keeps ``dcc`` from being a DCC payload with one certificate (empty when it is one)."""
    if not isinstance(dcc, dict):
        return ["DCC payload is not a map"]
    problems = [f"{field} must be text" for field in ("ver", "dob") if not isinstance(dcc.get(field), str)]
    if not isinstance(dcc.get("nam"), dict):
        problems.append("nam must be a map")
    kinds = [k for k in KINDS if dcc.get(k) is not None]  # some issuers write "t": null next to "v"
    if len(kinds) != 1:
        problems.append(f"exactly one of v, t, r must be present, found {kinds or 'none'}")
    elif not (
        isinstance(dcc[kinds[0]], list) and dcc[kinds[0]] and all(isinstance(e, dict) for e in dcc[kinds[0]])
    ):
        problems.append(f"{kinds[0]} must be a non-empty list of entries")
    return problems


def kind(dcc: dict) -> str:
    """``v``, ``t`` or ``r``."""
    return next(k for k in KINDS if dcc.get(k) is not None)


def key_usage_allows(usages: frozenset[str], dcc: dict) -> bool:
    """Whether a DSC with DCC key usages ``usages`` (empty: any) may sign ``dcc``."""
    return not usages or kind(dcc) in usages


def uci_hashes(dcc: dict) -> frozenset[bytes]:
    """First 16 bytes of SHA-256 of each certificate identifier (UVCI), for revocation lists."""
    return frozenset(
        hashlib.sha256(str(entry.get("ci", "")).encode("utf-8")).digest()[:16] for entry in dcc[kind(dcc)]
    )
