"""COSE_Sign1 (RFC 9052) on top of cbor2 and cryptography: build, decode and check single-signer messages.

Owns the wire structure ``[protected bstr, unprotected map, payload bstr, signature bstr]``, its tags (18 for
COSE_Sign1, optionally inside 61 for CWT; untagged is accepted, as EU DCC verifiers must), the Sig_structure
that is signed, and the signature algorithms: ES256/ES384/ES512 with raw ``r‖s`` signatures (not DER) and
PS256/PS384/PS512 (RSASSA-PSS, MGF1 with the same hash, salt as long as the hash). shuzhi signs with ES256.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

HEADER_ALG = 1
HEADER_KID = 4
TAG_SIGN1 = 18
TAG_CWT = 61

ES256, ES384, ES512 = -7, -35, -36
PS256, PS384, PS512 = -37, -38, -39
_ECDSA = {
    ES256: (hashes.SHA256, ec.SECP256R1),
    ES384: (hashes.SHA384, ec.SECP384R1),
    ES512: (hashes.SHA512, ec.SECP521R1),
}
_PSS = {PS256: hashes.SHA256, PS384: hashes.SHA384, PS512: hashes.SHA512}
ECDSA_ALGS = frozenset(_ECDSA)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class CoseError(ValueError):
    """Bytes that are not a well-formed COSE_Sign1 message, or one with an unsupported algorithm."""


class Signer(Protocol):
    """Something that signs with a private key it keeps to itself (see :mod:`shuzhi.credentials.keys`)."""

    @property
    def kid(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes:
        """Raw ``r‖s`` ES256 signature of ``data``."""
        ...


def loads_exact(data: bytes) -> Any:
    """Decode one CBOR item that must span all of ``data`` (cbor2.loads ignores trailing bytes)."""
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CoseError(f"not valid CBOR: {exc}") from None
    if stream.tell() != len(data):
        raise CoseError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    return item


@dataclass(frozen=True)
class Sign1:
    """A decoded COSE_Sign1 message."""

    protected: bytes
    protected_header: dict
    unprotected: dict
    payload: bytes
    signature: bytes

    @property
    def alg(self) -> int | None:
        return self.protected_header.get(HEADER_ALG, self.unprotected.get(HEADER_ALG))

    @property
    def kid(self) -> bytes | None:
        """The key id: the protected header's wins over the unprotected one (EU DCC rule)."""
        kid = self.protected_header.get(HEADER_KID, self.unprotected.get(HEADER_KID))
        return kid if isinstance(kid, bytes) else None

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)

    def encode(self) -> bytes:
        body = [self.protected, self.unprotected, self.payload, self.signature]
        return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, body), canonical=True)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (no external AAD)."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign(payload: bytes, signer: Signer) -> bytes:
    """A tagged ES256 COSE_Sign1 message over ``payload`` with the signer's key id in the protected header."""
    protected = cbor2.dumps({HEADER_ALG: ES256, HEADER_KID: signer.kid}, canonical=True)
    signature = signer.sign(sig_structure(protected, payload))
    return Sign1(protected, {}, {}, payload, signature).encode()


def decode(data: bytes) -> Sign1:
    """Parse a COSE_Sign1 message: tagged 18, untagged, or wrapped in CWT tag 61."""
    item = loads_exact(data)
    if isinstance(item, cbor2.CBORTag) and item.tag == TAG_CWT:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != TAG_SIGN1:
            raise CoseError(f"CBOR tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:  # cbor2 decodes arrays inside tags as tuples
        raise CoseError("COSE_Sign1 must be an array of four items")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise CoseError("protected header, payload and signature must be byte strings")
    if not isinstance(unprotected, Mapping):
        raise CoseError("unprotected header must be a map")
    header = loads_exact(protected) if protected else {}
    if not isinstance(header, dict):
        raise CoseError("protected header must encode a map")
    return Sign1(protected, header, dict(unprotected), payload, signature)


def verify(message: Sign1, key: PublicKey) -> bool:
    """Whether ``message`` carries a valid signature by ``key``; :class:`CoseError` for unknown algorithms."""
    alg = message.alg
    try:
        if alg in _ECDSA:
            return _verify_ecdsa(message, key, *_ECDSA[alg])
        if alg in _PSS:
            return _verify_pss(message, key, _PSS[alg])
    except InvalidSignature:
        return False
    raise CoseError(f"unsupported COSE algorithm {alg!r}")


def _verify_ecdsa(message: Sign1, key: PublicKey, hash_type: type, curve: type) -> bool:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
        return False
    size = (key.curve.key_size + 7) // 8
    if len(message.signature) != 2 * size:
        return False
    r = int.from_bytes(message.signature[:size], "big")
    s = int.from_bytes(message.signature[size:], "big")
    key.verify(encode_dss_signature(r, s), message.to_be_signed(), ec.ECDSA(hash_type()))
    return True


def _verify_pss(message: Sign1, key: PublicKey, hash_type: type) -> bool:
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    pss = padding.PSS(mgf=padding.MGF1(hash_type()), salt_length=hash_type.digest_size)
    key.verify(message.signature, message.to_be_signed(), pss, hash_type())
    return True


def raw_ecdsa(der_signature: bytes, size: int = 32) -> bytes:
    """Convert a DER ECDSA signature (as cryptography returns it) to COSE's fixed-length ``r‖s``."""
    r, s = decode_dss_signature(der_signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")
