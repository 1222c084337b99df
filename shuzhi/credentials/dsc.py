"""EU DCC Document Signer Certificates (DSCs): the facts a verifier needs, read tolerantly from X.509 DER.

Some member states' DSCs carry extensions that strict X.509 parsers refuse (an empty ExtendedKeyUsage, for
one), so this module walks the DER of the TBSCertificate itself and takes only what verification needs: the
public key (handed to cryptography as SubjectPublicKeyInfo), the validity period, the subject country, and the
ExtendedKeyUsage OIDs that limit which certificate types (test, vaccination, recovery) a DSC may sign. The key
id is the first 8 bytes of SHA-256 of the whole certificate, as the DCC specification defines it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization

from shuzhi.credentials.cose import PublicKey

OID_EXTENDED_KEY_USAGE = "2.5.29.37"
OID_COUNTRY = "2.5.4.6"
# The DCC key-usage OIDs, in the specified form and the form several states issued by mistake (extra ".0").
USAGE_OIDS = {
    "t": ("1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"),
    "v": ("1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"),
    "r": ("1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"),
}
_SEQUENCE, _OID, _UTC_TIME, _GENERALIZED_TIME = 0x30, 0x06, 0x17, 0x18
_EXTENSIONS = 0xA3


class DscError(ValueError):
    """Bytes that are not a usable X.509 certificate."""


@dataclass(frozen=True)
class Dsc:
    """What a verifier needs from a Document Signer Certificate."""

    kid: bytes
    public_key: PublicKey
    not_before: datetime
    not_after: datetime
    country: str
    usages: frozenset[str]  # subset of {"t", "v", "r"}; empty means the DSC may sign every type


def der_from_file_bytes(data: bytes) -> bytes:
    """The DER bytes of a certificate file in PEM or DER form (PEM decoded without strict X.509 parsing)."""
    if not data.lstrip().startswith(b"-----BEGIN"):
        return data
    body = b"".join(
        line.strip() for line in data.splitlines() if line.strip() and not line.startswith(b"-----")
    )
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise DscError(f"PEM certificate with invalid base64: {exc}") from None


def parse(der: bytes) -> Dsc:
    """Read a DSC from DER; :class:`DscError` if the structure cannot be walked or the key is unusable."""
    try:
        return _parse(der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise DscError(f"not a usable X.509 certificate: {exc}") from None


def _parse(der: bytes) -> Dsc:
    _, cert_start, _ = _tlv(der, 0, _SEQUENCE)
    _, tbs_start, tbs_end = _tlv(der, cert_start, _SEQUENCE)
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    validity, subject, spki = fields[3], fields[4], fields[5]
    extensions = [f for f in fields[6:] if f[0] == _EXTENSIONS]
    not_before, not_after = (_time(der, t) for t in _children(der, validity[1], validity[2]))
    try:
        public_key = serialization.load_der_public_key(der[spki[3] : spki[2]])
    except Exception as exc:  # cryptography raises several types for unsupported or broken keys
        raise DscError(f"unusable public key: {exc}") from None
    return Dsc(
        kid=hashlib.sha256(der).digest()[:8],
        public_key=public_key,
        not_before=not_before,
        not_after=not_after,
        country=_country(der, subject),
        usages=_usages(der, extensions[0]) if extensions else frozenset(),
    )


def _tlv(data: bytes, offset: int, expect: int | None = None) -> tuple[int, int, int]:
    """``(tag, value start, value end)`` of the DER element at ``offset``."""
    tag = data[offset]
    if expect is not None and tag != expect:
        raise ValueError(f"expected DER tag {expect:#x} at {offset}, found {tag:#x}")
    length, start = data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(data[start : start + count], "big"), start + count
    if start + length > len(data):
        raise ValueError(f"DER element at {offset} runs past the end")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """``(tag, value start, value end, element start)`` of each element in ``data[start:end]``."""
    out = []
    while start < end:
        tag, value_start, value_end = _tlv(data, start)
        out.append((tag, value_start, value_end, start))
        start = value_end
    return out


def _oid(data: bytes) -> str:
    values, value = [], 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(value)
            value = 0
    arc = min(values[0] // 40, 2)
    return ".".join(str(v) for v in (arc, values[0] - 40 * arc, *values[1:]))


def _time(data: bytes, element: tuple[int, int, int, int]) -> datetime:
    tag, start, end, _ = element
    text = data[start:end].decode("ascii")
    if tag == _UTC_TIME:
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != _GENERALIZED_TIME:
        raise ValueError(f"validity time has DER tag {tag:#x}")
    return datetime.strptime(text.rstrip("Z")[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _country(data: bytes, subject: tuple[int, int, int, int]) -> str:
    for _, set_start, set_end, _ in _children(data, subject[1], subject[2]):
        for _, attr_start, attr_end, _ in _children(data, set_start, set_end):
            (_, oid_start, oid_end, _), (_, value_start, value_end, _) = _children(
                data, attr_start, attr_end
            )[:2]
            if _oid(data[oid_start:oid_end]) == OID_COUNTRY:
                return data[value_start:value_end].decode("utf-8")
    return ""


def _usages(data: bytes, extensions: tuple[int, int, int, int]) -> frozenset[str]:
    _, seq_start, seq_end = _tlv(data, extensions[1], _SEQUENCE)
    for _, ext_start, ext_end, _ in _children(data, seq_start, seq_end):
        parts = _children(data, ext_start, ext_end)
        if _oid(data[parts[0][1] : parts[0][2]]) != OID_EXTENDED_KEY_USAGE:
            continue
        octets = parts[-1]
        _, eku_start, eku_end = _tlv(data, octets[1], _SEQUENCE)
        oids = {_oid(data[s:e]) for tag, s, e, _ in _children(data, eku_start, eku_end) if tag == _OID}
        return frozenset(kind for kind, names in USAGE_OIDS.items() if oids & set(names))
    return frozenset()
