"""The text envelope around a signed token: ``PREFIX`` + base45(zlib(COSE_Sign1)).

Owns the known prefixes (``SZ1:`` for shuzhi tokens, ``HC1:`` for EU Digital COVID Certificates), mandatory
zlib compression, and the cap on decompressed size that keeps a hostile QR code from exhausting memory.
"""

from __future__ import annotations

import zlib

from shuzhi.credentials import base45

SHUZHI_PREFIX = "SZ1:"
DCC_PREFIX = "HC1:"
PREFIXES = (SHUZHI_PREFIX, DCC_PREFIX)
MAX_DECOMPRESSED = 64 * 1024


class EnvelopeError(ValueError):
    """The text is not a well-formed envelope; ``stage`` says where it broke (prefix, base45, zlib)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage


def wrap(cose_bytes: bytes, prefix: str = SHUZHI_PREFIX) -> str:
    """The QR payload text of a COSE message."""
    return prefix + base45.encode(zlib.compress(cose_bytes, 9))


def split_prefix(text: str) -> tuple[str, str]:
    """``(prefix, base45 body)``; :class:`EnvelopeError` when no known prefix starts the text."""
    for prefix in PREFIXES:
        if text.startswith(prefix):
            return prefix, text[len(prefix) :]
    raise EnvelopeError("prefix", f"payload does not start with one of {', '.join(PREFIXES)}")


def decode_base45(body: str) -> bytes:
    try:
        return base45.decode(body)
    except base45.Base45Error as exc:
        raise EnvelopeError("base45", str(exc)) from None


def decompress(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Inflate a complete zlib stream of at most ``limit`` bytes, with nothing after it."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise EnvelopeError("zlib", f"not a valid zlib stream: {exc}") from None
    if inflater.unconsumed_tail or (len(out) >= limit and not inflater.eof):
        raise EnvelopeError("zlib", f"decompressed data exceeds {limit} bytes")
    if not inflater.eof:
        raise EnvelopeError("zlib", "zlib stream is truncated")
    if inflater.unused_data:
        raise EnvelopeError("zlib", "bytes after the end of the zlib stream")
    return out


def unwrap(text: str, limit: int = MAX_DECOMPRESSED) -> tuple[str, bytes]:
    """``(prefix, COSE bytes)`` of a QR payload."""
    prefix, body = split_prefix(text)
    return prefix, decompress(decode_base45(body), limit)
