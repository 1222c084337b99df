"""Base45 (RFC 9285): the QR-alphanumeric text encoding of bytes used by EU DCC and shuzhi tokens.

Two bytes become three characters of the QR alphanumeric set (a final odd byte becomes two), so the encoded
payload fits the QR alphanumeric mode at 5.5 bits per character. Decoding is strict: unknown characters, a
dangling single character and groups above 65535 (or above 255 for a final pair) are errors.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


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
        values = [_VALUE[char] for char in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not in the base45 alphabet") from None
    if len(values) % 3 == 1:
        raise Base45Error("dangling single character at the end")
    out = bytearray()
    whole = len(values) - len(values) % 3
    for i in range(0, whole, 3):
        n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
        if n > 0xFFFF:
            raise Base45Error(f"group at {i} encodes {n}, above 65535")
        out += n.to_bytes(2, "big")
    if whole < len(values):
        n = values[whole] + values[whole + 1] * 45
        if n > 0xFF:
            raise Base45Error(f"final pair encodes {n}, above 255")
        out.append(n)
    return bytes(out)
