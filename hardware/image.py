"""Read Data Matrix symbols from a photo or a camera frame, GS separators intact, always within a deadline.

zxing-cpp is the decoder. On the public samples (zxing-cpp's test/samples/datamatrix-*, 97 images) it read
93 against pylibdmtx's 47, at a p95 of ~6 ms against pylibdmtx's 300 ms timeout: it finds rectangular GS1
symbols, several in one photo (a block's packs), inverse printing (light on dark, common on packs),
mirrored and tiny ones, and returns the symbology identifier (`]d2` for GS1) and the bytes with GS. libdmtx
(through pylibdmtx's ctypes wrapper) is kept as a fallback for a photo zxing-cpp found nothing in, in what
is left of the deadline: it is a second, independent reader, and bench_images counts what it adds.

pylibdmtx's `decode()` silently drops FNC1, so a GS1 block code `01…21…<GS>8005…<GS>93…` would come back
glued together and unparseable. libdmtx itself maps FNC1 to a chosen byte when the decoder property
DmtxPropFnc1 is set; pylibdmtx 0.1.10 exposes no option for it, so this module drives libdmtx through
pylibdmtx's own ctypes wrapper (and its private context managers: pinned version, pinned by a test).
libdmtx stops looking at its deadline, so a noisy image cannot hang the station.
"""

from __future__ import annotations

import functools
import io
import time
import warnings
from ctypes import cast
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from hardware.scan import GS, Scan


@functools.cache
def libdmtx() -> tuple[Any, Any]:
    """pylibdmtx and its ctypes wrapper, loaded on the first photo that needs them: loading libdmtx (ctypes'
    find_library runs ldconfig) and distutils took 0.3 s of the start of every process that imports this."""
    with warnings.catch_warnings():  # pylibdmtx's wrapper still uses distutils' LooseVersion
        warnings.simplefilter("ignore", DeprecationWarning)
        from pylibdmtx import pylibdmtx, wrapper
    return pylibdmtx, wrapper


_GS_BYTE = ord(GS)
MAX_SYMBOLS = 64  # a photo of an open block shows 10 packs; a shelf more
GS1_DATAMATRIX = "]d2"
_DATAMATRIX = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix)


class ImageDecodeError(ValueError):
    """The upload is not an image we can read (or too large); the message says which."""


@dataclass(frozen=True, slots=True)
class Symbol:
    """One symbol read: its text as a scanner sends it, its symbology identifier, and which reader read it."""

    text: str
    symbology: str  # "]d2" GS1 Data Matrix, "]d1" plain ECC 200, ...
    raw: bytes
    reader: str  # "zxing-cpp" | "libdmtx"


def read_symbols(
    image: Image.Image | bytes,
    *,
    timeout_ms: int = 300,
    max_count: int = MAX_SYMBOLS,
    max_side: int = 4096,
    max_pixels: int = 40_000_000,
    fallback: bool = True,
) -> list[Symbol]:
    """Every Data Matrix found in `image` (a PIL image, or the bytes of a PNG/JPEG/WebP/... file), top to
    bottom and left to right, each once.

    GS1 symbols come back as the element string a scanner sends: no leading FNC1, GS (U+001D) between fields.
    Returns [] when nothing is found; libdmtx, the fallback, looks only in what is left of `timeout_ms`.
    Raises ImageDecodeError for an unreadable or oversized image (checked before its pixels are decoded).
    """
    deadline = time.monotonic() + timeout_ms / 1000
    gray = _prepare(image, max_side=max_side, max_pixels=max_pixels)
    found = _read_zxing(gray, max_count)
    remaining = int((deadline - time.monotonic()) * 1000)
    if not found and fallback and remaining > 0:
        found = _read_libdmtx(gray, remaining, max_count)
    return found


def decode_image(
    image: Image.Image | bytes,
    *,
    timeout_ms: int = 300,
    max_count: int = MAX_SYMBOLS,
    device: str = "image:upload",
    fallback: bool = True,
) -> list[Scan]:
    """`read_symbols` as scans of the source "image" (what the scanner readers emit); `raw` is the symbol's
    bytes with a leading GS for a GS1 symbol, as libdmtx gives them, so the evidence keeps the GS1 flag."""
    now = datetime.now(UTC)
    return [
        Scan(
            text=s.text,
            device=device,
            source="image",
            terminator=None,
            raw=s.raw,
            events=0,
            received_at=now,
            symbology=s.symbology,
        )
        for s in read_symbols(image, timeout_ms=timeout_ms, max_count=max_count, fallback=fallback)
    ]


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
        image = ImageOps.exif_transpose(image)  # a phone's photo stands as it was taken
        gray = image.convert("L")  # 8 bits per pixel; libdmtx refuses 1-bit images
    except (OSError, ValueError, SyntaxError) as exc:  # PIL's errors for damaged data
        raise ImageDecodeError("the image data is damaged") from exc
    if max(gray.size) > max_side:
        gray.thumbnail((max_side, max_side))
    return gray


def _read_zxing(gray: Image.Image, max_count: int) -> list[Symbol]:
    found = zxingcpp.read_barcodes(gray, formats=_DATAMATRIX, text_mode=zxingcpp.TextMode.Plain, try_invert=True)
    if not found:  # a mirrored symbol (a photo through film, a selfie camera): zxing-cpp reads it flipped
        found = zxingcpp.read_barcodes(ImageOps.mirror(gray), formats=_DATAMATRIX, text_mode=zxingcpp.TextMode.Plain)
    symbols: dict[bytes, tuple[tuple[int, int], Symbol]] = {}
    for barcode in found:
        data = bytes(barcode.bytes)  # with TextMode.Plain, FNC1 separators come back as GS, no leading FNC1
        gs1 = barcode.symbology_identifier == GS1_DATAMATRIX
        raw = bytes([_GS_BYTE]) + data if gs1 else data
        corner = barcode.position.top_left
        if raw not in symbols:
            symbols[raw] = (
                (corner.y, corner.x),
                Symbol(data.decode("latin-1"), barcode.symbology_identifier, raw, "zxing-cpp"),
            )
    return [symbol for _, symbol in sorted(symbols.values(), key=lambda item: item[0])][:max_count]


def _read_libdmtx(gray: Image.Image, timeout_ms: int, max_count: int) -> list[Symbol]:
    deadline = time.monotonic() + timeout_ms / 1000
    found = _decode_fnc1(gray, timeout_ms, max_count)
    remaining = int((deadline - time.monotonic()) * 1000)
    if not found and remaining > 0:  # inverse printing: libdmtx reads dark on light only
        found = _decode_fnc1(ImageOps.invert(gray), remaining, max_count)
    out: list[Symbol] = []
    for raw in dict.fromkeys(found):
        gs1 = raw[:1] == bytes([_GS_BYTE])  # a leading FNC1 (here GS) only says "this is GS1"
        out.append(Symbol((raw[1:] if gs1 else raw).decode("latin-1"), "]d2" if gs1 else "]d1", raw, "libdmtx"))
    return out


def _decode_fnc1(image: Image.Image, timeout_ms: int, max_count: int) -> list[bytes]:
    """libdmtx with DmtxPropFnc1 = GS: each FNC1 comes back as 0x1D (recipes §1)."""
    dmtx, w = libdmtx()
    pixels, width, height, bpp = dmtx._pixel_data(image)
    out: list[bytes] = []
    with (
        dmtx._image(cast(pixels, w.c_ubyte_p), width, height, dmtx._PACK_ORDER[bpp]) as img,
        dmtx._decoder(img, 1) as decoder,
    ):
        w.dmtxDecodeSetProp(decoder, w.DmtxProperty.DmtxPropFnc1, _GS_BYTE)
        deadline = w.dmtxTimeAdd(w.dmtxTimeNow(), max(1, timeout_ms))
        while len(out) < max_count:
            with dmtx._region(decoder, deadline) as region:
                if not region:  # no more symbols, or the deadline passed
                    break
                decoded = dmtx._decode_region(decoder, region, w.DmtxUndefined, 1)
                if decoded:
                    out.append(bytes(decoded.data))
    return out
