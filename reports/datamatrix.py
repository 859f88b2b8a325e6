"""Data Matrix symbols for stored codes: GS1 (``]d2``) for element strings, plain (``]d1``) otherwise.

A symbol must read back as exactly the stored bytes, GS separators included. Two encoders do that:

- zxing-cpp's writer, given the bracketed AI form ``[01]…[21]…[8005]…[93]…`` with ``gs1=True``: it
  places FNC1 itself. Square brackets, not parentheses, delimit the AIs because a serial may contain
  ``(`` or ``)``; a code whose data contains ``[`` or ``]`` (outside GS1's character set, but stored
  codes are not ours to judge) cannot be written in that form and goes to libdmtx.
- libdmtx through pylibdmtx's ctypes wrapper with ``DmtxPropFnc1 = 0x1D``: every GS byte becomes an
  FNC1 codeword and a leading GS makes the symbol GS1. It encodes the raw bytes, so it needs no AI
  table and has no bracket problem; it is the fallback, and the only encoder when zxing-cpp is absent.

A 29-character pack code has no AIs: it gets a plain Data Matrix (what the producer prints on packs is
not ours to reproduce, see docs/reports.md). Custom aggregation codes are plain too.

The symbol is a module matrix; ``DataMatrixFlowable`` draws it in a PDF as vector rectangles and
``png()`` makes an image for the web UI.
"""

from __future__ import annotations

import ctypes
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from PIL import Image
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from reports.codes_text import GS, split_ai, visible_gs
from reports.errors import ReportError

try:  # zxing-cpp is the preferred writer; without it libdmtx does everything
    import zxingcpp

    HAVE_ZXING = True
except ImportError:  # pragma: no cover - an installation without zxing-cpp
    HAVE_ZXING = False

Encoder = Literal["zxing", "libdmtx"]
Matrix = tuple[tuple[bool, ...], ...]


@dataclass(frozen=True, slots=True)
class Symbol:
    """A Data Matrix as rows of modules (True = dark), without the quiet zone."""

    modules: Matrix
    gs1: bool
    encoder: Encoder

    @property
    def rows(self) -> int:
        return len(self.modules)

    @property
    def cols(self) -> int:
        return len(self.modules[0])


def encode(code: str, level: str | None = None, *, encoder: Encoder | None = None) -> Symbol:
    """The symbol for a stored code: GS1 when ``code`` is a GS1 element string, plain otherwise.

    ``level`` = "pack" forces a plain symbol whatever the digits look like. ``encoder`` forces one
    writer (tests use it to cover both); by default zxing-cpp is tried first for GS1 data.
    Raises ReportError when no encoder can carry the code (empty, or too long for Data Matrix).
    """
    if not code:
        raise ReportError("empty_code")
    return _encode(code, level == "pack", encoder)


@lru_cache(maxsize=256)  # a label sheet shows each symbol once; the web UI asks again for the same code
def _encode(code: str, plain: bool, encoder: Encoder | None) -> Symbol:
    pairs = None if plain else split_ai(code)
    if pairs is None:
        if encoder != "libdmtx" and HAVE_ZXING:
            try:
                return Symbol(_zxing_matrix(code, gs1=False), gs1=False, encoder="zxing")
            except ValueError as exc:
                if encoder == "zxing":
                    raise ReportError("encoder_refused", f"zxing-cpp: {exc}", code=_shown(code)) from exc
        return Symbol(_dmtx_matrix(code, fnc1=False), gs1=False, encoder="libdmtx")
    bracketable = "[" not in code and "]" not in code
    if encoder != "libdmtx" and HAVE_ZXING and bracketable:
        content = "".join(f"[{ai}]{value}" for ai, value in pairs)
        try:
            return Symbol(_zxing_matrix(content, gs1=True), gs1=True, encoder="zxing")
        except ValueError as exc:
            if encoder == "zxing":
                raise ReportError("encoder_refused", f"zxing-cpp: {exc}", code=_shown(code)) from exc
            # zxing's GS1 checks refused the data: libdmtx encodes the bytes as they are.
    elif encoder == "zxing":
        raise ReportError("encoder_refused", "zxing-cpp: no bracketed GS1 form", code=_shown(code))
    return Symbol(_dmtx_matrix(code, fnc1=True), gs1=True, encoder="libdmtx")


def _shown(code: str) -> str:
    """The code as a message shows it: GS visible, a runaway input cut short."""
    shown = visible_gs(code)
    return shown if len(shown) <= 60 else shown[:57] + "…"


def module_matrix(code: str, level: str | None = None) -> list[list[bool]]:
    """The modules of the code's symbol, row by row from the top, True = dark, no quiet zone."""
    return [list(row) for row in encode(code, level).modules]


def _zxing_matrix(content: str, *, gs1: bool) -> Matrix:
    # Raises ValueError for data it refuses (GS1 syntax, too long): the caller falls back to libdmtx.
    barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix, gs1=gs1, forceSquare=True)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape
    data = bytes(memoryview(image))  # type: ignore[arg-type]  # the Image supports the buffer protocol
    return tuple(tuple(data[r * width + c] < 128 for c in range(width)) for r in range(height))


def _dmtx_matrix(code: str, *, fnc1: bool) -> Matrix:
    # pylibdmtx 0.1.10 has no FNC1 option: drive libdmtx through its own ctypes wrapper (recipes §1).
    with warnings.catch_warnings():  # its wrapper still uses distutils' LooseVersion
        warnings.simplefilter("ignore", DeprecationWarning)
        from pylibdmtx import pylibdmtx as dmtx
        from pylibdmtx.wrapper import (
            DmtxProperty,
            DmtxScheme,
            DmtxSymbolSize,
            c_ubyte_p,
            dmtxEncodeDataMatrix,
            dmtxEncodeSetProp,
            dmtxImageGetProp,
        )

    try:
        data = code.encode("ascii")
    except UnicodeEncodeError:
        data = code.encode("utf-8")  # plain symbols only: GS1 data is ASCII by definition
    if fnc1:
        data = GS.encode() + data  # a leading FNC1 is what makes the symbol GS1
    with dmtx._encoder() as enc:
        dmtxEncodeSetProp(enc, DmtxProperty.DmtxPropScheme, DmtxScheme.DmtxSchemeAscii)
        dmtxEncodeSetProp(enc, DmtxProperty.DmtxPropSizeRequest, DmtxSymbolSize.DmtxSymbolSquareAuto)
        dmtxEncodeSetProp(enc, DmtxProperty.DmtxPropModuleSize, 1)
        dmtxEncodeSetProp(enc, DmtxProperty.DmtxPropMarginSize, 0)
        if fnc1:
            dmtxEncodeSetProp(enc, DmtxProperty.DmtxPropFnc1, ord(GS))
        if dmtxEncodeDataMatrix(enc, len(data), ctypes.cast(ctypes.c_char_p(data), c_ubyte_p)) == 0:
            raise ReportError("no_symbol", code=_shown(code))
        image = enc[0].image
        width = dmtxImageGetProp(image, DmtxProperty.DmtxPropWidth)
        height = dmtxImageGetProp(image, DmtxProperty.DmtxPropHeight)
        bpp = dmtxImageGetProp(image, DmtxProperty.DmtxPropBitsPerPixel)
        pixels = ctypes.string_at(image[0].pxl, width * height * bpp // 8)
    step = bpp // 8
    return tuple(tuple(pixels[(r * width + c) * step] < 128 for c in range(width)) for r in range(height))


def dark_runs(modules: Sequence[Sequence[bool]]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length): one rectangle per run."""
    runs: list[tuple[int, int, int]] = []
    for r, row in enumerate(modules):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return runs


def png(code: str, scale: int = 8, *, level: str | None = None, quiet: int = 2) -> bytes:
    """A PNG of the symbol, ``scale`` pixels per module, with a ``quiet``-module white margin."""
    symbol = encode(code, level)
    width, height = symbol.cols + 2 * quiet, symbol.rows + 2 * quiet
    pixels = bytearray(b"\xff" * (width * height))
    for r, row in enumerate(symbol.modules):
        base = (r + quiet) * width + quiet
        for c, dark in enumerate(row):
            if dark:
                pixels[base + c] = 0
    image = Image.frombytes("L", (width, height), bytes(pixels))
    if scale > 1:
        image = image.resize((width * scale, height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class DataMatrixFlowable(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """A Data Matrix drawn as vector rectangles, crisp at any print resolution.

    ``module`` is the module size in points; ``max_size`` shrinks it for long codes so the symbol
    never outgrows its place. One path is filled for the whole symbol, so rasterisers do not leave
    hairline seams between neighbouring rows.
    """

    def __init__(
        self,
        code: str,
        level: str | None = None,
        *,
        module: float = 0.8 * mm,
        max_size: float | None = None,
        quiet: int = 1,
    ) -> None:
        super().__init__()
        self.symbol = encode(code, level)
        self.quiet = quiet
        span = max(self.symbol.cols, self.symbol.rows) + 2 * quiet
        self.module = min(module, max_size / span) if max_size else module
        self.width = (self.symbol.cols + 2 * quiet) * self.module
        self.height = (self.symbol.rows + 2 * quiet) * self.module

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        draw_symbol(self.canv, self.symbol, 0, 0, self.module, self.quiet)


def draw_symbol(canv: Canvas, symbol: Symbol, x: float, y: float, module: float, quiet: int = 1) -> None:
    """Draw ``symbol`` with its lower-left quiet-zone corner at (x, y)."""
    top = y + (symbol.rows + quiet) * module
    path: Any = canv.beginPath()
    for r, c, n in dark_runs(symbol.modules):
        path.rect(x + (c + quiet) * module, top - (r + 1) * module, n * module, module)
    canv.saveState()
    canv.setFillColorRGB(0, 0, 0)
    canv.drawPath(path, stroke=0, fill=1)
    canv.restoreState()
