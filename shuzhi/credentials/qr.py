"""QR codes of token payloads: render with segno, read photos and screenshots with zxing-cpp.

Payloads are uppercase base45 behind an alphanumeric prefix, so they always fit the QR alphanumeric mode.
Error correction defaults to M (15%), enough for a phone screen held up to a scanner; EU DCC issuers use Q.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError


class QrError(ValueError):
    """An image that holds no readable QR code."""


@dataclass(frozen=True)
class QrInfo:
    """The size of a rendered QR code."""

    version: int
    error: str
    modules: int  # symbol width in modules, without the quiet zone
    pixels: int  # PNG width including the quiet zone

    def describe(self) -> str:
        return (
            f"QR version {self.version}-{self.error}, {self.modules}×{self.modules} modules, {self.pixels} px"
        )


def render(payload: str, path: Path | None = None, error: str = "m", scale: int = 4) -> QrInfo:
    """Encode ``payload`` as a QR code, write it as PNG to ``path`` if given, and report its size."""
    code = segno.make_qr(payload, error=error, boost_error=False)
    if path is not None:
        code.save(path, kind="png", scale=scale, border=4)
    modules = code.symbol_size(scale=1, border=0)[0]
    return QrInfo(int(code.version), code.error, modules, code.symbol_size(scale=scale, border=4)[0])


def decode_image(image: bytes | Path | Image.Image) -> str:
    """The text of the first QR code in a PNG/JPEG image (bytes, file or PIL image)."""
    try:
        if isinstance(image, bytes):
            image = Image.open(io.BytesIO(image))
        elif isinstance(image, Path):
            image = Image.open(image)
        found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise QrError(f"not a readable image: {exc}") from None
    if not found:
        raise QrError("no QR code found in the image")
    return found[0].text
