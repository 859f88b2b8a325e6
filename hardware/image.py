"""Read Data Matrix symbols from a photo or a webcam frame, GS separators intact, always within a deadline.

pylibdmtx's `decode()` silently drops FNC1, so a GS1 block code `01…21…<GS>8005…<GS>93…` would come back
glued together and unparseable. libdmtx itself maps FNC1 to a chosen byte when the decoder property
DmtxPropFnc1 is set; pylibdmtx 0.1.10 exposes no option for it, so this module drives libdmtx through
pylibdmtx's own ctypes wrapper (and its private context managers: pinned version, pinned by a test).

libdmtx stops looking for symbols at its deadline, so a noisy image cannot hang the station: a 640×480
noise frame takes ~0.9 s unbounded, `timeout_ms` here. Dark-on-light failing, the inverted image is tried
in the remaining time (inverse printing on packs).
"""

from __future__ import annotations

import io
import time
import warnings
from ctypes import cast
from datetime import UTC, datetime

from PIL import Image, ImageOps, UnidentifiedImageError

from hardware.scan import GS, Scan

with warnings.catch_warnings():  # pylibdmtx's wrapper still uses distutils' LooseVersion
    warnings.simplefilter("ignore", DeprecationWarning)
    from pylibdmtx import pylibdmtx as dmtx
    from pylibdmtx.wrapper import (
        DmtxProperty,
        DmtxUndefined,
        c_ubyte_p,
        dmtxDecodeSetProp,
        dmtxTimeAdd,
        dmtxTimeNow,
    )

_GS_BYTE = ord(GS)


class ImageDecodeError(ValueError):
    """The upload is not an image we can read (or too large); the message says which."""


def decode_image(
    image: Image.Image | bytes,
    *,
    timeout_ms: int = 300,
    max_count: int = 4,
    max_side: int = 2048,
    max_pixels: int = 40_000_000,
    device: str = "image:upload",
    invert: bool = True,
) -> list[Scan]:
    """Every Data Matrix found in `image` (a PIL image, or the bytes of a PNG/JPEG/... file), as scans.

    GS1 symbols come back as the element string a scanner sends: no leading FNC1, GS (U+001D) between
    fields. `raw` keeps libdmtx's bytes (a leading 0x1D marks a GS1 symbol). Returns [] when nothing is
    found within `timeout_ms`. Images larger than `max_side` are scaled down first (a symbol should still
    be a few pixels per module). Raises ImageDecodeError for an unreadable or oversized image.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    gray = _prepare(image, max_side=max_side, max_pixels=max_pixels)
    found = _decode_fnc1(gray, timeout_ms, max_count)
    remaining = int((deadline - time.monotonic()) * 1000)
    if not found and invert and remaining > 0:
        found = _decode_fnc1(ImageOps.invert(gray), remaining, max_count)
    now = datetime.now(UTC)
    return [
        Scan(text=_text(raw), device=device, source="image", terminator=None, raw=raw, events=0, received_at=now)
        for raw in found
    ]


def _text(raw: bytes) -> str:
    # A leading FNC1 (here GS) only says "this is GS1"; scanners do not send it, the stored code lacks it.
    body = raw[1:] if raw[:1] == bytes([_GS_BYTE]) else raw
    return body.decode("latin-1")


def _prepare(image: Image.Image | bytes, *, max_side: int, max_pixels: int) -> Image.Image:
    if isinstance(image, bytes | bytearray | memoryview):
        try:
            opened = Image.open(io.BytesIO(bytes(image)))
        except (UnidentifiedImageError, OSError) as exc:
            raise ImageDecodeError("not an image (PNG, JPEG, …) that can be read") from exc
        image = opened
    width, height = image.size
    if width * height > max_pixels:  # checked before the pixels are decoded: no decompression bomb
        raise ImageDecodeError(f"image too large: {width}×{height} pixels")
    try:
        gray = image.convert("L")  # 8 bits per pixel; libdmtx refuses 1-bit images
    except OSError as exc:
        raise ImageDecodeError("the image data is damaged") from exc
    if max(width, height) > max_side:
        gray.thumbnail((max_side, max_side))
    return gray


def _decode_fnc1(image: Image.Image, timeout_ms: int, max_count: int) -> list[bytes]:
    """libdmtx with DmtxPropFnc1 = GS: each FNC1 comes back as 0x1D (recipes §1)."""
    pixels, width, height, bpp = dmtx._pixel_data(image)
    out: list[bytes] = []
    with (
        dmtx._image(cast(pixels, c_ubyte_p), width, height, dmtx._PACK_ORDER[bpp]) as img,
        dmtx._decoder(img, 1) as decoder,
    ):
        dmtxDecodeSetProp(decoder, DmtxProperty.DmtxPropFnc1, _GS_BYTE)
        deadline = dmtxTimeAdd(dmtxTimeNow(), max(1, timeout_ms))
        while len(out) < max_count:
            with dmtx._region(decoder, deadline) as region:
                if not region:  # no more symbols, or the deadline passed
                    break
                decoded = dmtx._decode_region(decoder, region, DmtxUndefined, 1)
                if decoded:
                    out.append(bytes(decoded.data))
    return out
