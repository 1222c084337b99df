"""Trust lists: which keys may sign credentials, for which region and when, and what has been revoked.

Each region publishes a list of its own keys (plus the key ids and token ids/hashes it revoked), signed as a
COSE_Sign1 by its oldest key still in trust, so a key introduced by rotation is vouched for by its
predecessor.
The national authority (``100000``) checks each regional list against keys it already trusts, checks that a
region lists keys only for itself and its subdivisions, merges them with the EU DCC Document Signer
Certificates it accepts, and signs the national list, which verifiers load with the national public key as
their anchor.

Wire format (CBOR map, the COSE payload)::

    {"ver": 1, "iss": "<region>", "iat": <epoch s>,
     "keys": [{"kid": h'..', "reg": "330100", "spki": h'<DER SubjectPublicKeyInfo>',
               "nbf": <epoch>, "sut": <signs until>, "exp": <trusted until>}
              | {"x5c": h'<DER X.509 DSC>'}, ...],
     "rk": [h'<revoked kid>', ...], "rt": [h'<revoked token id or hash>', ...]}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cbor2
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from shuzhi.credentials import cose, dsc
from shuzhi.credentials.keys import NATIONAL, KeyInfo, KeyStore, Signer, key_id

FORMAT_VERSION = 1


class TrustListError(ValueError):
    """A trust list that is malformed, wrongly signed, or lists keys its issuer may not vouch for."""


@dataclass(frozen=True)
class TrustedKey:
    """A key trusted to sign credentials of ``region`` (a GB/T 2260 code, or a country for DCC DSCs)."""

    kid: bytes
    region: str
    public_key: cose.PublicKey
    not_before: datetime
    signing_until: datetime
    not_after: datetime
    certificate: bytes | None = None
    usages: frozenset[str] = frozenset()

    @classmethod
    def from_key_info(cls, info: KeyInfo) -> TrustedKey:
        return cls(
            info.kid, info.region, info.public_key, info.not_before, info.signing_until, info.not_after
        )

    @classmethod
    def from_certificate(cls, der: bytes) -> TrustedKey:
        """A DCC Document Signer Certificate: valid and signing for its whole validity, limited by its EKU."""
        cert = dsc.parse(der)
        return cls(
            cert.kid,
            cert.country,
            cert.public_key,
            cert.not_before,
            cert.not_after,
            cert.not_after,
            der,
            cert.usages,
        )

    def to_cbor_map(self) -> dict:
        if self.certificate is not None:
            return {"x5c": self.certificate}
        return {
            "kid": self.kid,
            "reg": self.region,
            "spki": _spki(self),
            "nbf": _epoch(self.not_before),
            "sut": _epoch(self.signing_until),
            "exp": _epoch(self.not_after),
        }

    @classmethod
    def from_cbor_map(cls, entry: dict) -> TrustedKey:
        if "x5c" in entry:
            return cls.from_certificate(entry["x5c"])
        public_key = serialization.load_der_public_key(entry["spki"])
        if key_id(public_key) != entry["kid"]:
            raise TrustListError(f"key id {entry['kid'].hex()} does not match its public key")
        return cls(
            entry["kid"],
            entry["reg"],
            public_key,
            _time(entry["nbf"]),
            _time(entry["sut"]),
            _time(entry["exp"]),
        )

    def to_json(self) -> dict:
        view = {
            "kid": self.kid.hex(),
            "region": self.region,
            "not_before": self.not_before.isoformat(),
            "signing_until": self.signing_until.isoformat(),
            "not_after": self.not_after.isoformat(),
        }
        if self.certificate is not None:
            view["certificate"] = "X.509 DSC"
            view["usages"] = sorted(self.usages) or "all"
        return view


@dataclass(frozen=True)
class TrustList:
    """Trusted keys by key id, with revoked key ids and revoked token ids/hashes."""

    issuer: str
    issued_at: datetime
    keys: tuple[TrustedKey, ...]
    revoked_keys: frozenset[bytes] = frozenset()
    revoked_tokens: frozenset[bytes] = frozenset()
    _index: dict[bytes, TrustedKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[bytes, TrustedKey] = {}
        for key in self.keys:
            if key.kid in index and _spki(index[key.kid]) != _spki(key):
                raise TrustListError(f"key id {key.kid.hex()} names two different keys")
            index[key.kid] = key
        object.__setattr__(self, "_index", index)

    def get(self, kid: bytes | None) -> TrustedKey | None:
        return self._index.get(kid) if kid is not None else None

    def to_cbor(self) -> bytes:
        return cbor2.dumps(
            {
                "ver": FORMAT_VERSION,
                "iss": self.issuer,
                "iat": _epoch(self.issued_at),
                "keys": [k.to_cbor_map() for k in self.keys],
                "rk": sorted(self.revoked_keys),
                "rt": sorted(self.revoked_tokens),
            },
            canonical=True,
        )

    @classmethod
    def from_cbor(cls, data: bytes) -> TrustList:
        try:
            doc = cose.loads_exact(data)
            if doc["ver"] != FORMAT_VERSION:
                raise TrustListError(f"trust list format {doc['ver']} is not {FORMAT_VERSION}")
            keys = tuple(TrustedKey.from_cbor_map(entry) for entry in doc["keys"])
            return cls(doc["iss"], _time(doc["iat"]), keys, frozenset(doc["rk"]), frozenset(doc["rt"]))
        except TrustListError:
            raise
        except (cose.CoseError, dsc.DscError, KeyError, TypeError, ValueError, UnsupportedAlgorithm) as exc:
            raise TrustListError(f"malformed trust list: {exc!r}") from None

    def to_json(self) -> dict:
        return {
            "issuer": self.issuer,
            "issued_at": self.issued_at.isoformat(),
            "keys": [k.to_json() for k in self.keys],
            "revoked_keys": sorted(k.hex() for k in self.revoked_keys),
            "revoked_tokens": sorted(t.hex() for t in self.revoked_tokens),
        }


def from_certificates(
    certificates: Iterable[bytes], issuer: str = NATIONAL, now: datetime | None = None
) -> TrustList:
    """An unsigned, in-memory list of EU DCC Document Signer Certificates (DER)."""
    keys = tuple(TrustedKey.from_certificate(der) for der in certificates)
    return TrustList(issuer, now or datetime.now(UTC), keys)


def regional(store: KeyStore, region: str, now: datetime | None = None) -> TrustList:
    """The list ``region`` publishes: its keys still trusted at ``now`` and its revocations."""
    at = now or datetime.now(UTC)
    keys = tuple(TrustedKey.from_key_info(k) for k in store.keys(region) if k.not_after > at)
    revoked_keys, revoked_tokens = store.revocations(region)
    return TrustList(region, at, keys, revoked_keys, revoked_tokens)


def sign(trust_list: TrustList, signer: Signer) -> bytes:
    """The COSE_Sign1 bytes of ``trust_list`` signed by ``signer``."""
    if signer.region != trust_list.issuer:
        raise TrustListError(f"a key of {signer.region} cannot sign the list of {trust_list.issuer}")
    return cose.sign(trust_list.to_cbor(), signer)


def open_signed(data: bytes, anchors: Iterable[cose.PublicKey | TrustedKey]) -> TrustList:
    """Check the signature of a signed trust list against the anchors and return the list.

    An anchor given as a :class:`TrustedKey` (from an earlier list) may sign only the list of its own region.
    """
    try:
        message = cose.decode(data)
    except cose.CoseError as exc:
        raise TrustListError(f"not a signed trust list: {exc}") from None
    by_kid = {a.kid if isinstance(a, TrustedKey) else key_id(a): a for a in anchors}
    anchor = by_kid.get(message.kid)
    if anchor is None:
        raise TrustListError(f"trust list signed by key {(message.kid or b'').hex()}, which is not an anchor")
    public_key = anchor.public_key if isinstance(anchor, TrustedKey) else anchor
    if not cose.verify(message, public_key):
        raise TrustListError("trust list signature does not verify")
    trust_list = TrustList.from_cbor(message.payload)
    if isinstance(anchor, TrustedKey) and anchor.region != trust_list.issuer:
        raise TrustListError(
            f"key {anchor.kid.hex()} of {anchor.region} cannot sign the list of {trust_list.issuer}"
        )
    return trust_list


def within(region: str, jurisdiction: str) -> bool:
    """Whether ``jurisdiction`` (a GB/T 2260 code, or the nation) may vouch for keys of ``region``."""
    if jurisdiction == NATIONAL:
        return True
    if jurisdiction.endswith("0000"):
        return region[:2] == jurisdiction[:2]
    if jurisdiction.endswith("00"):
        return region[:4] == jurisdiction[:4]
    return region == jurisdiction


def merge(lists: Iterable[TrustList], issuer: str = NATIONAL, now: datetime | None = None) -> TrustList:
    """One list with every key and revocation of ``lists``; newer lists win for a key listed twice."""
    keys: dict[bytes, TrustedKey] = {}
    revoked_keys: set[bytes] = set()
    revoked_tokens: set[bytes] = set()
    for trust_list in sorted(lists, key=lambda t: t.issued_at):
        for key in trust_list.keys:
            if not within(key.region, trust_list.issuer):
                raise TrustListError(
                    f"{trust_list.issuer} lists key {key.kid.hex()} of {key.region}, outside its jurisdiction"
                )
            if key.kid in keys and _spki(keys[key.kid]) != _spki(key):
                raise TrustListError(f"key id {key.kid.hex()} names two different keys")
            keys[key.kid] = key
        revoked_keys |= trust_list.revoked_keys
        revoked_tokens |= trust_list.revoked_tokens
    return TrustList(
        issuer,
        now or datetime.now(UTC),
        tuple(keys.values()),
        frozenset(revoked_keys),
        frozenset(revoked_tokens),
    )


def _spki(key: TrustedKey) -> bytes:
    return key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
