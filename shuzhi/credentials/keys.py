"""Issuers' signing keys: key ids, the on-disk key store, rotation, and a signer that never shows its key.

A region (GB/T 2260 code; ``100000`` is the national authority) owns ECDSA P-256 keys kept in a key store
directory, one folder per region::

    <store>/<region>/<kid>.key.pem    private key, PKCS#8, file mode 0600, encrypted given a passphrase
    <store>/<region>/<kid>.pub.pem    public key (SubjectPublicKeyInfo)
    <store>/<region>/<kid>.json       metadata: validity, signing window, longest token lifetime
    <store>/<region>/revocations.json key ids and token ids/hashes the region has revoked

A key signs from ``not_before`` to ``signing_until``; tokens it signed stay verifiable until ``not_after`` =
``signing_until`` + the longest token lifetime, so rotation (a new key becomes active and the old one stops
signing) never invalidates a token in circulation. Private keys leave the store only inside a :class:`Signer`,
which signs and has no way to export or print them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shuzhi.credentials.cose import PublicKey, raw_ecdsa
from shuzhi.regions import divisions

NATIONAL = "100000"
DEFAULT_VALIDITY = timedelta(days=365)
DEFAULT_MAX_TOKEN_LIFETIME = timedelta(days=30)
_REGION = re.compile(r"^\d{6}$")


class KeyStoreError(ValueError):
    """A key store operation that cannot be done (unknown region, no active key, wrong passphrase...)."""


def key_id(public_key: PublicKey) -> bytes:
    """First 8 bytes of SHA-256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def check_region(code: str) -> str:
    """``code`` if it is a GB/T 2260 division (or the national ``100000``), else :class:`KeyStoreError`."""
    if not _REGION.match(code) or (code != NATIONAL and code not in divisions()):
        raise KeyStoreError(f"{code!r} is not a GB/T 2260 division code (or {NATIONAL} for the nation)")
    return code


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one signing key."""

    kid: bytes
    region: str
    not_before: datetime
    signing_until: datetime
    not_after: datetime
    max_token_lifetime: timedelta
    public_key: PublicKey

    def can_sign(self, at: datetime) -> bool:
        return self.not_before <= at < self.signing_until

    def to_json(self) -> dict:
        return {
            "kid": self.kid.hex(),
            "region": self.region,
            "algorithm": "ES256",
            "not_before": self.not_before.isoformat(),
            "signing_until": self.signing_until.isoformat(),
            "not_after": self.not_after.isoformat(),
            "max_token_lifetime_s": int(self.max_token_lifetime.total_seconds()),
        }


class Signer:
    """Signs with one region's private key; its repr, str and pickling never reveal the key."""

    __slots__ = ("_key", "info")

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, info: KeyInfo) -> None:
        self._key = private_key
        self.info = info

    @property
    def kid(self) -> bytes:
        return self.info.kid

    @property
    def region(self) -> str:
        return self.info.region

    def sign(self, data: bytes) -> bytes:
        """Raw ``r‖s`` ES256 signature of ``data``."""
        return raw_ecdsa(self._key.sign(data, ec.ECDSA(hashes.SHA256())))

    def __repr__(self) -> str:
        return f"Signer(region={self.region!r}, kid={self.kid.hex()!r})"

    def __reduce__(self) -> tuple:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied out of the store")


class KeyStore:
    """A directory of regions' signing keys."""

    def __init__(self, root: Path | str, passphrase: bytes | None = None) -> None:
        self.root = Path(root)
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"KeyStore({str(self.root)!r}, encrypted={self._passphrase is not None})"

    def keys(self, region: str) -> list[KeyInfo]:
        """All keys of ``region``, oldest first."""
        folder = self.root / check_region(region)
        if not folder.is_dir():
            return []
        return sorted(
            (self._read_info(p) for p in folder.glob("*.json") if p.stem != "revocations"),
            key=lambda k: (k.not_before, k.kid),
        )

    def active(self, region: str, now: datetime | None = None) -> KeyInfo:
        """The newest key of ``region`` that may sign at ``now``."""
        at = now or datetime.now(UTC)
        usable = [k for k in self.keys(region) if k.can_sign(at)]
        if not usable:
            raise KeyStoreError(f"region {region} has no key that may sign at {at.isoformat()}; run keygen")
        return usable[-1]

    def generate(
        self,
        region: str,
        now: datetime | None = None,
        validity: timedelta = DEFAULT_VALIDITY,
        max_token_lifetime: timedelta = DEFAULT_MAX_TOKEN_LIFETIME,
    ) -> KeyInfo:
        """Create a key for ``region`` signing from ``now``; the key it replaces stops signing at ``now``."""
        check_region(region)
        # whole seconds, as token times are: a token issued later in the same second may be signed
        at = (now or datetime.now(UTC)).replace(microsecond=0)
        for old in self.keys(region):
            if old.signing_until > at:
                self._write_info(_retire(old, at))
        private_key = ec.generate_private_key(ec.SECP256R1())
        public_key = private_key.public_key()
        until = at + validity
        info = KeyInfo(
            key_id(public_key), region, at, until, until + max_token_lifetime, max_token_lifetime, public_key
        )
        folder = self.root / region
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_private(folder / f"{info.kid.hex()}.key.pem", private_key)
        (folder / f"{info.kid.hex()}.pub.pem").write_bytes(public_pem(public_key))
        self._write_info(info)
        return info

    def signer(self, region: str, now: datetime | None = None, kid: bytes | None = None) -> Signer:
        """A signer for the active key of ``region``, or for key ``kid`` if it is still trusted at ``now``."""
        at = now or datetime.now(UTC)
        if kid is None:
            info = self.active(region, at)
        else:
            found = [k for k in self.keys(region) if k.kid == kid and k.not_before <= at < k.not_after]
            if not found:
                raise KeyStoreError(f"region {region} has no key {kid.hex()} trusted at {at.isoformat()}")
            info = found[0]
        return Signer(self._load_private(info), info)

    def publisher(self, region: str, now: datetime | None = None) -> Signer:
        """The signer of ``region``'s trust list: its oldest key still trusted, vouching for newer ones."""
        at = now or datetime.now(UTC)
        trusted = [k for k in self.keys(region) if k.not_before <= at < k.not_after]
        if not trusted:
            raise KeyStoreError(f"region {region} has no key trusted at {at.isoformat()}; run keygen")
        return self.signer(region, at, trusted[0].kid)

    def _load_private(self, info: KeyInfo) -> ec.EllipticCurvePrivateKey:
        path = self.root / info.region / f"{info.kid.hex()}.key.pem"
        try:
            private_key = serialization.load_pem_private_key(path.read_bytes(), password=self._passphrase)
        except (TypeError, ValueError):
            raise KeyStoreError(
                f"cannot open the private key of {info.region}/{info.kid.hex()}: "
                "wrong or missing passphrase, or a damaged file"
            ) from None
        if (
            not isinstance(private_key, ec.EllipticCurvePrivateKey)
            or key_id(private_key.public_key()) != info.kid
        ):
            raise KeyStoreError(
                f"private key file of {info.region}/{info.kid.hex()} does not match its key id"
            )
        return private_key

    def revoke(self, region: str, *, keys: tuple[bytes, ...] = (), tokens: tuple[bytes, ...] = ()) -> None:
        """Record revoked key ids and token ids/hashes of ``region`` (published with its trust list)."""
        revoked_keys, revoked_tokens = self.revocations(region)
        path = self.root / check_region(region) / "revocations.json"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {
            "keys": sorted({k.hex() for k in (*revoked_keys, *keys)}),
            "tokens": sorted({t.hex() for t in (*revoked_tokens, *tokens)}),
        }
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def revocations(self, region: str) -> tuple[frozenset[bytes], frozenset[bytes]]:
        """Revoked key ids and revoked token ids/hashes of ``region``."""
        path = self.root / check_region(region) / "revocations.json"
        if not path.exists():
            return frozenset(), frozenset()
        document = json.loads(path.read_text(encoding="utf-8"))
        return (
            frozenset(bytes.fromhex(k) for k in document["keys"]),
            frozenset(bytes.fromhex(t) for t in document["tokens"]),
        )

    def _write_private(self, path: Path, private_key: ec.EllipticCurvePrivateKey) -> None:
        encryption = (
            serialization.BestAvailableEncryption(self._passphrase)
            if self._passphrase
            else serialization.NoEncryption()
        )
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)

    def _write_info(self, info: KeyInfo) -> None:
        path = self.root / info.region / f"{info.kid.hex()}.json"
        path.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")

    def _read_info(self, path: Path) -> KeyInfo:
        meta = json.loads(path.read_text(encoding="utf-8"))
        pem = path.with_name(f"{meta['kid']}.pub.pem").read_bytes()
        public_key = serialization.load_pem_public_key(pem)
        if key_id(public_key).hex() != meta["kid"]:
            raise KeyStoreError(f"{path}: public key does not match key id {meta['kid']}")
        return KeyInfo(
            bytes.fromhex(meta["kid"]),
            meta["region"],
            datetime.fromisoformat(meta["not_before"]),
            datetime.fromisoformat(meta["signing_until"]),
            datetime.fromisoformat(meta["not_after"]),
            timedelta(seconds=meta["max_token_lifetime_s"]),
            public_key,
        )


def _retire(info: KeyInfo, at: datetime) -> KeyInfo:
    return replace(info, signing_until=at, not_after=at + info.max_token_lifetime)


def public_pem(public_key: PublicKey) -> bytes:
    """PEM SubjectPublicKeyInfo of ``public_key``."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo), e.g. the national trust anchor."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyStoreError("trust anchors are ECDSA public keys")
    return key
