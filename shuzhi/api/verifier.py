"""The checkpoint's verifier seam: a callable that judges a scanned QR payload, and the real one.

``create_app(settings, verifier=...)`` takes any callable ``verifier(payload, now) -> verdict`` whose verdict
has ``.valid`` and ``.reason`` and, when the credential names a holder of this instance, ``.person_key``. The
real one is :func:`credentials_verifier`: ``shuzhi.credentials.verify`` bound to a trust list (EU DCCs too),
an optional acceptance policy and the instance's home region. An instance created without a verifier answers
scans with 503 rather than guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shuzhi.credentials import Verification, verify
from shuzhi.credentials.acceptance import AcceptancePolicy
from shuzhi.credentials.keys import load_public_key
from shuzhi.credentials.trustlist import TrustList, open_signed, within


class Verdict(Protocol):
    @property
    def valid(self) -> bool: ...

    @property
    def reason(self) -> str: ...


Verifier = Callable[[str, dt.datetime], Verdict]


@dataclass(frozen=True)
class CheckpointVerdict:
    valid: bool
    reason: str
    person_key: int | None = None


def holder(verdict: Verdict) -> int | None:
    """The ``person_key`` of the credential's holder, when the verdict names one."""
    key = getattr(verdict, "person_key", None)
    return int(key) if key is not None else None


def credentials_verifier(
    trust_list: TrustList, home_region: str, acceptance: AcceptancePolicy | None = None
) -> Verifier:
    """Offline verification by ``shuzhi.credentials`` against ``trust_list``.

    The holder is named only for a valid shuzhi token issued within ``home_region``: its subject is then this
    instance's own pseudonym. Another region's subject is that region's pseudonym and means nothing here.
    """

    def check(payload: str, now: dt.datetime) -> CheckpointVerdict:
        result = verify(payload, trust_list, now=now, acceptance=acceptance)
        return CheckpointVerdict(result.valid, describe(result), _local_holder(result, home_region))

    return check


def describe(result: Verification) -> str:
    """``valid: green`` (what the credential counts as), or ``expired: <detail>``."""
    if result.valid:
        return f"valid: {result.counts_as or result.kind}"
    reason = result.reason.value if result.reason else "invalid"
    return f"{reason}: {result.detail}" if result.detail else reason


def _local_holder(result: Verification, home_region: str) -> int | None:
    issued_here = result.issuer is not None and within(result.issuer, home_region)
    if not (result.valid and result.scheme == "shuzhi" and issued_here and result.subject):
        return None
    try:
        return int(result.subject)
    except ValueError:
        return None


def signed_trust_list(path: Path, anchors: Iterable[Path]) -> TrustList:
    """A signed trust list file, checked against the anchor public keys (PEM files)."""
    return open_signed(path.read_bytes(), [load_public_key(a.read_bytes()) for a in anchors])
