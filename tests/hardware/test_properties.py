"""Properties: whatever a scanner types, in whatever style, decodes back to exactly the same text."""

from __future__ import annotations

from evdev import ecodes as e
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.decoder import DecoderConfig, decode_events
from hardware.record import EventWriter
from hardware.replay import iter_events
from hardware.serial_decoder import SerialDecoder

SET82 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"
codes = st.text(alphabet=SET82 + "\x1d", min_size=1, max_size=80)
gs_styles = st.sampled_from(["ctrl", "alt", "alt_short", "key"])
shift_styles = st.sampled_from(["left", "right", "capslock"])
terminators = st.sampled_from(["enter", "kp_enter", "tab", None])
CONFIG = DecoderConfig(gs_key=e.KEY_F8)


@settings(max_examples=300, deadline=None)
@given(
    text=codes,
    gs=gs_styles,
    shift=shift_styles,
    terminator=terminators,
    interval=st.floats(min_value=0.2, max_value=40.0),
)
def test_any_code_round_trips(text: str, gs: str, shift: str, terminator: str | None, interval: float) -> None:
    w = EventWriter(key_interval_ms=interval)  # key events 0.1–20 ms apart: below the 50 ms timeout
    w.scan(text, terminator=terminator, gs=gs, shift=shift)  # type: ignore[arg-type]
    [scan] = decode_events(iter_events(w.data()), CONFIG)
    assert scan.text == text
    assert scan.terminator == (terminator or "timeout")
    assert scan.complete and scan.unknown_keys == 0
    [again] = decode_events(iter_events(scan.raw), CONFIG)  # the evidence replays to the same text
    assert again.text == text


@settings(max_examples=150, deadline=None)
@given(scans=st.lists(st.tuples(codes, gs_styles, shift_styles, terminators), min_size=1, max_size=6))
def test_consecutive_scans_stay_apart(scans: list[tuple[str, str, str, str | None]]) -> None:
    w = EventWriter(key_interval_ms=3)
    for text, gs, shift, terminator in scans:
        w.scan(text, terminator=terminator, gs=gs, shift=shift)  # type: ignore[arg-type]
        if terminator is None:
            w.pause(60)  # a scanner without suffix: the gap before the next scan ends this one
    decoded = decode_events(iter_events(w.data()), CONFIG)
    assert [d.text for d in decoded] == [text for text, *_ in scans]


@st.composite
def serial_streams(draw: st.DrawFn) -> tuple[tuple[bytes, ...], list[tuple[str, bytes]]]:
    terminators = draw(st.sampled_from([(b"\r\n", b"\r", b"\n"), (b"\r\n", b"\r")]))
    scans = draw(st.lists(st.tuples(codes, st.sampled_from(terminators)), min_size=1, max_size=6))
    return terminators, scans


@settings(max_examples=300, deadline=None)
@given(stream=serial_streams(), cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=10))
def test_serial_scans_survive_any_chunking(
    stream: tuple[tuple[bytes, ...], list[tuple[str, bytes]]], cuts: list[int]
) -> None:
    terminators, scans = stream
    data = b"".join(text.encode() + term for text, term in scans)
    points = sorted({c for c in cuts if 0 < c < len(data)})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    decoder = SerialDecoder(terminators, timeout_ms=None)
    out = [d for i, chunk in enumerate(chunks) for d in decoder.feed(chunk, i)]
    # GS intact; a CRLF cut between CR and LF neither makes an empty scan nor leaks LF into the next one
    assert [d.text for d in out] == [text for text, _ in scans]
    assert not decoder.pending
