"""Data Matrix from images: symbols written by zxing-cpp, read back by our libdmtx FNC1 path."""

from __future__ import annotations

import io
import random
import time

import pytest
import zxingcpp
from PIL import Image, ImageOps

from hardware.image import ImageDecodeError, decode_image
from hardware.image import dmtx as pylibdmtx  # imported there with its distutils warning silenced

BLOCK = "010460043993125621JgXJ5.T\x1d8005112000\x1d930001"
BRACKETED = "[01]04600439931256[21]JgXJ5.T[8005]112000[93]0001"


def symbol(content: str, *, gs1: bool, scale: int = 6, quiet: bool = True) -> Image.Image:
    barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix, gs1=gs1)
    img = barcode.to_image(scale=scale, add_quiet_zones=quiet)
    view = memoryview(img)
    height, width = view.shape[:2]
    return Image.frombytes("L", (width, height), view.tobytes())


def test_gs1_symbol_keeps_its_separators() -> None:
    [scan] = decode_image(symbol(BRACKETED, gs1=True), device="image:webcam")
    assert scan.text == BLOCK  # GS between fields, no leading FNC1
    assert scan.raw == b"\x1d" + BLOCK.encode()  # libdmtx's bytes: the leading GS is the GS1 flag
    assert (scan.source, scan.device, scan.terminator, scan.complete) == ("image", "image:webcam", None, True)


def test_plain_pylibdmtx_would_lose_the_separators() -> None:
    # Why image.py drives libdmtx itself: pylibdmtx 0.1.10's decode() drops FNC1. If this starts
    # failing, pylibdmtx changed and the private-API path in image.py must be re-checked.
    [plain] = pylibdmtx.decode(symbol(BRACKETED, gs1=True), timeout=1000)
    assert plain.data == BLOCK.replace("\x1d", "").encode()


def test_plain_symbol_pack_code() -> None:
    pack = "04600439931256JgXJ5.T1120AbC9"
    [scan] = decode_image(symbol(pack, gs1=False))
    assert scan.text == pack


def test_png_bytes_and_inverse_printing() -> None:
    buf = io.BytesIO()
    ImageOps.invert(symbol(BRACKETED, gs1=True)).save(buf, format="PNG")  # light modules on dark
    [scan] = decode_image(buf.getvalue(), timeout_ms=1000)
    assert scan.text == BLOCK


def test_noise_returns_nothing_within_the_timeout() -> None:
    rng = random.Random(5)
    noise = Image.frombytes("L", (640, 480), bytes(rng.getrandbits(8) for _ in range(640 * 480)))
    started = time.monotonic()
    assert decode_image(noise, timeout_ms=100) == []
    assert time.monotonic() - started < 0.5  # unbounded, libdmtx spends ~0.9 s on such a frame


def test_several_symbols_in_one_photo() -> None:
    a, b = symbol(BRACKETED, gs1=True), symbol("00487012345678901235", gs1=False)
    photo = Image.new("L", (a.width + b.width + 40, max(a.height, b.height) + 20), 255)
    photo.paste(a, (10, 10))
    photo.paste(b, (a.width + 30, 10))
    texts = sorted(s.text for s in decode_image(photo, timeout_ms=2000))
    assert texts == sorted([BLOCK, "00487012345678901235"])


def test_not_an_image_and_too_large() -> None:
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(b"%PDF-1.7 nope")
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(Image.new("L", (8000, 6000)), max_pixels=40_000_000)
