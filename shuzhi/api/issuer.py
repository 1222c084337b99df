"""This instance's credentials: the region key that signs residents' codes, and the trust list it checks.

``InstanceCredentials`` bundles what the resident and checkpoint views need from ``shuzhi.credentials``: a
key store and the instance's region (GB/T 2260) to sign a fresh ``SZ1:`` health code on request, the trust
list (with its signed bytes, when it came signed) that checkpoints verify against, online on the server and
offline in the browser, and the acceptance policy. ``local_credentials(data_dir, region)`` sets up a
standalone instance: a key store under ``<data>/secrets/credentials`` (a key is generated for the region the
first time; encrypted when ``$SHUZHI_KEY_PASSPHRASE`` is set) and the region's own signed list as trust list;
give a national list instead to accept every region's codes.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request, status

from shuzhi.api.verifier import Verifier, credentials_verifier
from shuzhi.credentials import tokens, trustlist
from shuzhi.credentials.acceptance import AcceptancePolicy
from shuzhi.credentials.cli import PASSPHRASE_ENV
from shuzhi.credentials.keys import KeyStore, KeyStoreError, Signer, check_region
from shuzhi.credentials.trustlist import TrustList
from shuzhi.settings import DataDir

KEY_STORE_DIR = "credentials"
DEFAULT_REGION = "330100"  # 杭州市
DEFAULT_POLICY_VERSION = "2020-5th"  # the edition the pipeline colours codes under by default
CODE_LIFETIME = tokens.DEFAULT_LIFETIME[tokens.Kind.HEALTH_CODE]


@dataclass(frozen=True)
class SignedCode:
    payload: str
    issued_at: dt.datetime
    expires_at: dt.datetime


@dataclass
class InstanceCredentials:
    """Signs this instance's health codes and carries the trust list its checkpoints verify against."""

    keys: KeyStore
    region: str
    trust_list: TrustList
    signed_trust_list: bytes | None = None
    policy_version: str = DEFAULT_POLICY_VERSION
    acceptance: AcceptancePolicy | None = None
    _signer: Signer | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def issue_code(self, person_key: int, colour: str, rule: str, now: dt.datetime) -> SignedCode:
        """A fresh ``SZ1:`` health code of ``colour`` set by ``rule`` for the person, valid for 5 minutes."""
        credential = tokens.health_code(colour, self.policy_version, rule)
        issued = now.replace(microsecond=0)
        payload = tokens.issue(credential, str(person_key), self._signer_at(issued), issued, CODE_LIFETIME)
        return SignedCode(payload, issued, issued + CODE_LIFETIME)

    def verifier(self) -> Verifier:
        """Offline verification against the trust list; the holder is named for this region's codes."""
        return credentials_verifier(self.trust_list, self.region, self.acceptance)

    def _signer_at(self, now: dt.datetime) -> Signer:
        """The active key's signer, loaded once and again only after rotation or retirement."""
        with self._lock:
            signer = self._signer
            if signer is None or not signer.info.can_sign(now) or now + CODE_LIFETIME > signer.info.not_after:
                signer = self._signer = self.keys.signer(self.region, now)
            return signer


def local_credentials(
    data_dir: Path,
    region: str = DEFAULT_REGION,
    now: dt.datetime | None = None,
    policy_version: str = DEFAULT_POLICY_VERSION,
) -> InstanceCredentials:
    """A standalone instance's credentials: its own key (created if none can sign) and its own signed list."""
    at = now or dt.datetime.now(dt.UTC)
    passphrase = os.environ.get(PASSPHRASE_ENV, "").encode() or None
    keys = KeyStore(DataDir(Path(data_dir)).secrets / KEY_STORE_DIR, passphrase)
    try:
        keys.active(check_region(region), at)
    except KeyStoreError:
        keys.generate(region, at)
    own = trustlist.regional(keys, region, at)
    signed = trustlist.sign(own, keys.publisher(region, at))
    return InstanceCredentials(keys, region, own, signed, policy_version)


def instance_credentials(request: Request) -> InstanceCredentials:
    """The app's credentials (a FastAPI dependency); 503 when the instance was started without any."""
    found = getattr(request.app.state, "credentials", None)
    if found is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this instance has no signing key")
    return found
