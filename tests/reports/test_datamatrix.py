"""Data Matrix symbols read back as the exact stored code: GS1 (]d2) for element strings, plain for packs."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from reports import datamatrix
from reports.datamatrix import Encoder, dark_runs, encode, module_matrix, png
from reports.errors import ReportError
from tests.factories import SET82, block, gtin, pack, serial, sscc_code

ENCODERS: tuple[Encoder, ...] = ("zxing", "libdmtx")


def read_png(data: bytes) -> list[zxingcpp.Barcode]:
    with Image.open(io.BytesIO(data)) as image:
        return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix))


def symbol_png(code: str, encoder: Encoder, level: str | None = None, scale: int = 6) -> bytes:
    """The PNG of one encoder's symbol, made from the module matrix like the PDF flowable is."""
    symbol = encode(code, level, encoder=encoder)
    width = symbol.cols + 4
    image = Image.new("L", (width, symbol.rows + 4), 255)
    for r, c, n in dark_runs(symbol.modules):
        for k in range(n):
            image.putpixel((c + k + 2, r + 2), 0)
    out = io.BytesIO()
    image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    datamatrix._encode.cache_clear()
    yield
    datamatrix._encode.cache_clear()


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize(
    "code",
    [
        block(gtin(1001), "JgXJ5.T"),
        block(gtin(1001), "(a)<&>\"'"),
        block(gtin(1002), "%*+,-./", check=":;=?"),
        sscc_code(42),
    ],
)
def test_gs1_codes_read_back_as_gs1_with_separators_intact(code: str, encoder: Encoder) -> None:
    symbol = encode(code, encoder=encoder)
    assert (symbol.gs1, symbol.encoder) == (True, encoder)
    [result] = read_png(symbol_png(code, encoder))
    assert result.symbology_identifier == "]d2"
    assert result.content_type == zxingcpp.ContentType.GS1
    assert result.bytes == code.encode()


@pytest.mark.parametrize("encoder", ENCODERS)
def test_a_pack_code_gets_a_plain_symbol(encoder: Encoder) -> None:
    code = pack(gtin(1001), serial(3))
    assert len(code) == 29
    [result] = read_png(symbol_png(code, encoder, "pack"))
    assert result.symbology_identifier == "]d1"
    assert result.bytes == code.encode()


def test_custom_aggregation_code_is_plain_and_exact() -> None:
    code = "AGG/2026-11(20)<&>\"'X" * 3
    [result] = read_png(png(code))
    assert (result.symbology_identifier, result.bytes) == ("]d1", code.encode())


def test_brackets_in_the_data_go_to_libdmtx() -> None:
    # '[' is outside GS1's character set, but a stored code is printed as it is, not judged here.
    code = block(gtin(1001), "A[b]C")
    symbol = encode(code)
    assert (symbol.gs1, symbol.encoder) == (True, "libdmtx")
    with pytest.raises(ReportError):
        encode(code, encoder="zxing")
    [result] = read_png(symbol_png(code, "libdmtx"))
    assert (result.symbology_identifier, result.bytes) == ("]d2", code.encode())


def test_zxing_writes_gs1_by_default() -> None:
    assert encode(sscc_code(1)).encoder == "zxing"
    assert encode(block(gtin(1), "ABC()")).encoder == "zxing"


def test_without_zxing_libdmtx_does_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datamatrix, "HAVE_ZXING", False)
    for code, level, identifier in ((sscc_code(9), "box", "]d2"), (pack(gtin(1), serial(1)), "pack", "]d1")):
        symbol = encode(code, level)
        assert symbol.encoder == "libdmtx"
        [result] = read_png(png(code, 5, level=level))
        assert (result.symbology_identifier, result.bytes) == (identifier, code.encode())


def test_module_matrix_is_square_rows_of_booleans() -> None:
    matrix = module_matrix(sscc_code(7))
    assert len(matrix) == len(matrix[0]) >= 10
    assert {v for row in matrix for v in row} == {True, False}
    # the finder pattern: the left column and the bottom row are solid
    assert all(row[0] for row in matrix) and all(matrix[-1])


def test_png_has_a_quiet_zone_and_scales() -> None:
    with Image.open(io.BytesIO(png(sscc_code(7), scale=4, quiet=2))) as image:
        rows = len(module_matrix(sscc_code(7)))
        assert image.size == ((rows + 4) * 4, (rows + 4) * 4)
        assert image.getpixel((0, 0)) == 255


def test_codes_no_symbol_can_hold_are_refused() -> None:
    with pytest.raises(ReportError):
        encode("")
    with pytest.raises(ReportError):
        encode("x" * 5000)


@settings(max_examples=25, deadline=None)
@given(
    ser=st.text(alphabet=SET82, min_size=1, max_size=20),
    check=st.text(alphabet=SET82, min_size=4, max_size=4),
    encoder=st.sampled_from(ENCODERS),
)
def test_any_set82_serial_round_trips(ser: str, check: str, encoder: Encoder) -> None:
    code = block(gtin(1001), ser, check=check)
    [result] = read_png(symbol_png(code, encoder, scale=4))
    assert result.symbology_identifier == "]d2"
    assert result.bytes == code.encode()
