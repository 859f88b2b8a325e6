"""Data Matrix from images: symbols written by zxing-cpp, read back by zxing-cpp (the decoder) and by our
libdmtx FNC1 path (the fallback), in photo-like frames: rotated, inverse, mirrored, tiny, several at once."""

from __future__ import annotations

import io
import random
import time

import pytest
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from hardware.image import ImageDecodeError, _read_libdmtx, decode_image, libdmtx, read_symbols

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
    assert scan.raw == b"\x1d" + BLOCK.encode()  # the evidence: a leading GS is the GS1 flag
    assert (scan.source, scan.device, scan.terminator, scan.complete) == ("image", "image:webcam", None, True)
    assert scan.symbology == "]d2"


def test_the_fallback_reads_gs1_too() -> None:
    """libdmtx, for a photo zxing-cpp found nothing in, keeps the separators and tells GS1 from plain."""
    [gs1] = _read_libdmtx(symbol(BRACKETED, gs1=True), 1000, 4)
    [plain] = _read_libdmtx(symbol("00487012345678901235", gs1=False), 1000, 4)
    assert (gs1.text, gs1.symbology, gs1.reader) == (BLOCK, "]d2", "libdmtx")
    assert (plain.text, plain.symbology) == ("00487012345678901235", "]d1")


def test_plain_pylibdmtx_would_lose_the_separators() -> None:
    # Why image.py drives libdmtx itself: pylibdmtx 0.1.10's decode() drops FNC1. If this starts
    # failing, pylibdmtx changed and the private-API path in image.py must be re-checked.
    pylibdmtx, _ = libdmtx()  # imported there with its distutils warning silenced
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
        read_symbols(Image.new("L", (8000, 6000)), max_pixels=40_000_000)


def photo(*symbols: tuple[Image.Image, tuple[int, int]], size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A 1 MP grey frame, slightly blurred, with the symbols pasted where given."""
    frame = Image.new("L", size, 175)
    for img, at in symbols:
        frame.paste(img, at)
    return frame.filter(ImageFilter.GaussianBlur(0.7))


@pytest.mark.parametrize(
    "name",
    ["plain", "rotated", "inverse", "mirrored", "tiny"],
)
def test_a_block_in_a_photo_however_it_is_taken(name: str) -> None:
    sym = symbol(BRACKETED, gs1=True, scale=2 if name == "tiny" else 6)
    if name == "rotated":
        sym = sym.rotate(23, expand=True, fillcolor=255)
    frame = photo((sym, (420, 260)))
    if name == "inverse":
        frame = ImageOps.invert(frame)  # light modules on a dark pack
    if name == "mirrored":
        frame = ImageOps.mirror(frame)
    started = time.monotonic()
    [found] = read_symbols(frame, fallback=False)
    assert (found.text, found.symbology, found.reader) == (BLOCK, "]d2", "zxing-cpp")
    assert time.monotonic() - started < 0.3


def test_the_packs_of_an_open_block_in_one_photo() -> None:
    packs = [f"0487000001001{k % 10}Ab{k:05d}AbC1xY=9" for k in range(10)]
    frame = photo(
        *((symbol(p, gs1=False, scale=5), (40 + (k % 5) * 230, 100 + (k // 5) * 350)) for k, p in enumerate(packs))
    )
    found = read_symbols(frame)
    assert [s.text for s in found] == packs  # each once, top to bottom and left to right
    assert {s.symbology for s in found} == {"]d1"}


def test_a_png_from_a_phone_stands_as_taken() -> None:
    """A phone stores its photo sideways with an EXIF orientation; the symbol is read either way."""
    frame = photo((symbol(BRACKETED, gs1=True, scale=4), (300, 200))).rotate(90, expand=True)
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    frame.save(buf, format="JPEG", exif=exif, quality=90)
    [found] = read_symbols(buf.getvalue())
    assert found.text == BLOCK
