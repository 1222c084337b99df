"""The checkpoint's verifier seam: a callable that judges a scanned QR payload.

``create_app(settings, verifier=...)`` takes any callable ``verifier(payload, now) -> verdict`` whose verdict
has ``.valid`` and ``.reason`` and, when the credential names its holder, ``.person_key``. The real one is
``shuzhi.credentials.verify`` bound to the instance's trust list; an instance created without a verifier
answers scans with 503 rather than guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol


class Verdict(Protocol):
    @property
    def valid(self) -> bool: ...

    @property
    def reason(self) -> str: ...


Verifier = Callable[[str, dt.datetime], Verdict]


def holder(verdict: Verdict) -> int | None:
    """The ``person_key`` of the credential's holder, when the verdict names one."""
    key = getattr(verdict, "person_key", None)
    return int(key) if key is not None else None
