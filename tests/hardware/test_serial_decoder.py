"""The serial decoder, case by case."""

from __future__ import annotations

import pytest

from hardware.serial_decoder import SerialDecoder, parse_terminator, terminator_name

GS = "\x1d"


def feed(decoder: SerialDecoder, *chunks: bytes, gap_us: int = 1000) -> list[tuple[str, str | None]]:
    out = []
    for i, chunk in enumerate(chunks):
        out += [(d.text, d.terminator) for d in decoder.feed(chunk, i * gap_us)]
    return out


def test_crlf_cut_between_cr_and_lf_when_lf_is_not_a_terminator() -> None:
    decoder = SerialDecoder((b"\r\n", b"\r"), timeout_ms=None)
    assert feed(decoder, b"01" + GS.encode() + b"93\r", b"\n0002\r\n") == [(f"01{GS}93", "cr"), ("0002", "crlf")]


def test_a_cut_inside_a_longer_custom_terminator() -> None:
    decoder = SerialDecoder((b"\x03\x04", b"\x03"), timeout_ms=None)
    assert feed(decoder, b"AB\x03", b"\x04CD\x03\x04") == [("AB", "etx"), ("CD", "0x0304")]


def test_what_follows_a_short_terminator_is_kept_when_it_is_not_the_long_ones_rest() -> None:
    decoder = SerialDecoder((b"\r\n", b"\r"), timeout_ms=None)
    assert feed(decoder, b"A\r", b"B\r") == [("A", "cr"), ("B", "cr")]


def test_raw_keeps_every_byte_of_the_scan() -> None:
    decoder = SerialDecoder(timeout_ms=None)
    [scan] = decoder.feed(b"]d2010460043993125621A" + GS.encode() + b"93\r\n", 5)
    assert scan.raw == b"]d2010460043993125621A\x1d93\r\n" and scan.events == len(scan.raw)
    assert scan.text == "]d2010460043993125621A\x1d93"  # the AIM prefix is the parser's business


def test_gap_longer_than_the_timeout_splits_and_expire_ends_the_tail() -> None:
    decoder = SerialDecoder((), timeout_ms=50)
    assert decoder.feed(b"0001", 0) == []
    assert [(d.text, d.terminator) for d in decoder.feed(b"0002", 60_000)] == [("0001", "timeout")]
    tail = decoder.expire()
    assert tail is not None and (tail.text, tail.terminator, tail.complete) == ("0002", "timeout", True)


def test_finish_returns_the_cut_scan_incomplete() -> None:
    decoder = SerialDecoder()
    decoder.feed(b"01046", 0)
    cut = decoder.finish()
    assert cut is not None and (cut.text, cut.complete, cut.terminator) == ("01046", False, None)
    assert decoder.finish() is None


def test_non_ascii_bytes_pass_through_one_to_one() -> None:
    [scan] = SerialDecoder().feed(b"\xd0\xb9\xff\r", 0)
    assert scan.text == "\xd0\xb9\xff"  # Latin-1: nothing dropped; the parser refuses it


@pytest.mark.parametrize(("text", "value"), [("CR", b"\r"), ("lf", b"\n"), ("CRLF", b"\r\n"), ("0x1e", b"\x1e")])
def test_terminator_names(text: str, value: bytes) -> None:
    assert parse_terminator(text) == value
    assert terminator_name(value) in {"cr", "lf", "crlf", "0x1e"}


def test_bad_terminator_name() -> None:
    with pytest.raises(ValueError, match="unknown serial terminator"):
        parse_terminator("NEWLINE")
