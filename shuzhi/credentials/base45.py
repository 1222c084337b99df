"""Base45 (RFC 9285): the QR-alphanumeric text encoding of bytes used by EU DCC and shuzhi tokens.

Two bytes become three characters of the QR alphanumeric set (a final odd byte becomes two), so the encoded
payload fits the QR alphanumeric mode at 5.5 bits per character. Decoding is strict: unknown characters, a
dangling single character and groups above 65535 (or above 255 for a final pair) are errors.
"""

from __future__ import annotations

import struct

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
# bytes.translate table: an ASCII character's base45 value, or _INVALID
_TABLE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))


class Base45Error(ValueError):
    """The text is not valid base45."""


def encode(data: bytes) -> str:
    """Base45 text of ``data``."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out.append(ALPHABET[c] + ALPHABET[d] + ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(ALPHABET[c] + ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """The bytes that ``text`` encodes; :class:`Base45Error` if it is not valid base45."""
    try:
        values = text.encode("ascii").translate(_TABLE)
    except UnicodeEncodeError:
        raise Base45Error("non-ASCII character in base45 text") from None
    if _INVALID in values:
        raise Base45Error(f"character {text[values.index(_INVALID)]!r} is not in the base45 alphabet")
    if len(values) % 3 == 1:
        raise Base45Error("dangling single character at the end")
    whole = len(values) - len(values) % 3
    groups = [
        c + d * 45 + e * 2025
        for c, d, e in zip(values[0:whole:3], values[1:whole:3], values[2:whole:3], strict=True)
    ]
    if groups and max(groups) > 0xFFFF:
        raise Base45Error(f"a group encodes {max(groups)}, above 65535")
    out = struct.pack(f">{len(groups)}H", *groups)
    if whole == len(values):
        return out
    last = values[whole] + values[whole + 1] * 45
    if last > 0xFF:
        raise Base45Error(f"final pair encodes {last}, above 255")
    return out + bytes([last])
