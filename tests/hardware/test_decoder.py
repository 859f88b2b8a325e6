"""The key decoder, case by case: each row is a way a keyboard-mode scanner types."""

from __future__ import annotations

import struct

import pytest
from evdev import ecodes as e

from hardware.decoder import EVENT, Decoded, DecoderConfig, KeyDecoder, decode_events
from hardware.record import EventWriter, events_for_text
from hardware.replay import iter_events
from hardware.scan import GS, UNKNOWN

BLOCK = "010460043993125621JgXJ5.T\x1d8005112000\x1d930001"
PACK = "04600439931256JgXJ5.T1120AbC9"
F8 = DecoderConfig(gs_key=e.KEY_F8)


def decode(data: bytes, config: DecoderConfig | None = None) -> list[Decoded]:
    return decode_events(iter_events(data), config)


def texts(data: bytes, config: DecoderConfig | None = None) -> list[str]:
    return [d.text for d in decode(data, config)]


def keys(*codes: int) -> bytes:
    w = EventWriter()
    for code in codes:
        w.tap(code)
    return w.data()


@pytest.mark.parametrize(
    ("text", "kwargs", "config"),
    [
        (PACK, {}, None),
        (PACK, {"shift": "right"}, None),
        (PACK, {"shift": "capslock"}, None),
        (BLOCK, {"gs": "ctrl"}, None),
        (BLOCK, {"gs": "alt"}, None),  # Alt+0029
        (BLOCK, {"gs": "alt_short"}, None),  # Alt+29
        (BLOCK, {"gs": "key"}, F8),  # F8 configured as the GS substitute
        (BLOCK, {"gs": "ctrl", "terminator": "kp_enter"}, None),
        (BLOCK, {"gs": "ctrl", "terminator": "tab"}, None),
        ("00487012345678901235", {}, None),
        ("!\"%&'()*+,-./:;<=>?_", {}, None),  # every symbol of GS1 set 82
    ],
)
def test_what_the_scanner_typed_comes_back(text: str, kwargs: dict[str, str], config: DecoderConfig | None) -> None:
    [scan] = decode(events_for_text(text, **kwargs), config)  # type: ignore[arg-type]
    assert scan.text == text
    assert scan.terminator == kwargs.get("terminator", "enter")
    assert scan.complete and scan.unknown_keys == 0


def test_shift_left_and_right_and_held_across_keys() -> None:
    w = EventWriter()
    w.press(e.KEY_RIGHTSHIFT)
    w.tap(e.KEY_A)
    w.tap(e.KEY_1)
    w.press(e.KEY_LEFTSHIFT)
    w.release(e.KEY_RIGHTSHIFT)
    w.tap(e.KEY_B)  # still shifted: left Shift is down
    w.release(e.KEY_LEFTSHIFT)
    w.tap(e.KEY_C)
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == ["A!Bc"]


def test_capslock_affects_letters_only_and_shift_inverts_it() -> None:
    w = EventWriter()
    w.tap(e.KEY_CAPSLOCK)
    w.type("a1")  # -> "A1": digits are not capitalised
    w.press(e.KEY_LEFTSHIFT)
    w.tap(e.KEY_A)  # Shift with CapsLock: lower case
    w.tap(e.KEY_1)  # Shift on a digit: "!"
    w.release(e.KEY_LEFTSHIFT)
    w.tap(e.KEY_CAPSLOCK)
    w.type("a")
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == ["A1a!a"]


def test_ctrl_right_bracket_is_gs_and_other_ctrl_keys_are_control_characters() -> None:
    w = EventWriter()
    w.type("01")
    w.press(e.KEY_RIGHTCTRL)
    w.tap(e.KEY_RIGHTBRACE)
    w.tap(e.KEY_M)
    w.release(e.KEY_RIGHTCTRL)
    w.type("93")
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == ["01" + GS + "\r93"]


@pytest.mark.parametrize(
    ("digits", "char"),
    [
        ("0029", GS),
        ("29", GS),
        ("029", GS),
        ("0065", "A"),
        ("65", "A"),
        ("0126", "~"),
        ("0233", "é"),  # Alt+0nnn is the code point nnn
        ("321", "A"),  # Windows takes the number mod 256
    ],
)
def test_alt_keypad_codes(digits: str, char: str) -> None:
    w = EventWriter()
    w.type("x")
    w.alt_code(digits)
    w.type("y")
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == [f"x{char}y"]


def test_alt_with_a_non_keypad_key_is_unknown_not_text() -> None:
    w = EventWriter()
    w.type("1")
    w.press(e.KEY_LEFTALT)
    w.tap(e.KEY_F)
    w.release(e.KEY_LEFTALT)
    w.tap(e.KEY_ENTER)
    [scan] = decode(w.data())
    assert scan.text == "1" + UNKNOWN and scan.unknown_keys == 1


def test_gs_substitute_key_only_when_configured() -> None:
    data = events_for_text("01\x1d93", gs="key", gs_key=e.KEY_F8)
    assert texts(data, F8) == ["01\x1d93"]
    [unconfigured] = decode(data)
    assert unconfigured.text == "01" + UNKNOWN + "93"  # never silently "0193"
    assert unconfigured.unknown_keys == 1


def test_custom_terminators() -> None:
    config = DecoderConfig.from_names(terminators=["KEY_F12", "enter"])
    assert dict(config.terminators) == {e.KEY_F12: "f12", e.KEY_ENTER: "enter"}
    [scan] = decode(events_for_text("123", terminator=e.KEY_F12), config)
    assert (scan.text, scan.terminator) == ("123", "f12")
    # Tab is no longer a terminator: it is a key the map does not know, so it is marked
    w = EventWriter()
    w.scan("123", terminator="tab")
    w.scan("4", terminator=e.KEY_F12)
    [tabbed] = decode(w.data(), config)
    assert (tabbed.text, tabbed.terminator) == ("123" + UNKNOWN + "4", "f12")


def test_inter_key_timeout_splits_scans_by_event_time() -> None:
    w = EventWriter(key_interval_ms=4)
    w.type("AAA")
    w.pause(60)  # > 50 ms: a new scan
    w.type("BBB")
    w.tap(e.KEY_ENTER)
    first, second = decode(w.data())
    assert (first.text, first.terminator, first.complete) == ("AAA", "timeout", True)
    assert (second.text, second.terminator) == ("BBB", "enter")
    # the second scan's evidence starts with the frame of its first key press
    assert next(iter_events(second.raw))[2:] == (e.EV_MSC, e.MSC_SCAN, 0x70000 | e.KEY_LEFTSHIFT)


def test_gap_below_the_timeout_does_not_split_and_timeout_is_configurable() -> None:
    w = EventWriter(key_interval_ms=4)
    w.type("AAA")
    w.pause(40)
    w.type("BBB")
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == ["AAABBB"]
    assert texts(w.data(), DecoderConfig(timeout_ms=30)) == ["AAA", "BBB"]
    assert texts(w.data(), DecoderConfig(timeout_ms=None)) == ["AAABBB"]


def test_timeout_split_without_syn_frames() -> None:
    # A recording of bare EV_KEY events (no MSC, no SYN): the split falls right after the previous key.
    events = []
    t = 1_700_000_000_000_000
    for code, gap in [(e.KEY_1, 0), (e.KEY_2, 0), (e.KEY_3, 100_000), (e.KEY_ENTER, 0)]:
        t += gap + 2000
        events += [(t // 10**6, t % 10**6, e.EV_KEY, code, 1), (t // 10**6, t % 10**6 + 1, e.EV_KEY, code, 0)]
    first, second = decode_events(events)
    assert (first.text, first.terminator, first.events) == ("12", "timeout", 4)
    assert (second.text, second.terminator, second.events) == ("3", "enter", 3)


def test_scanner_without_suffix_ends_on_timeout_at_end_of_recording() -> None:
    [scan] = decode(events_for_text(PACK, terminator=None))
    assert (scan.text, scan.terminator, scan.complete) == (PACK, "timeout", True)


def test_without_timeout_an_unterminated_tail_is_incomplete() -> None:
    [scan] = decode(events_for_text(PACK, terminator=None), DecoderConfig(timeout_ms=None))
    assert (scan.text, scan.terminator, scan.complete) == (PACK, None, False)


def test_two_scans_back_to_back_each_with_its_own_evidence() -> None:
    w = EventWriter(key_interval_ms=2)
    w.scan(BLOCK)
    w.scan(PACK, terminator="tab")
    scans = decode(w.data())
    assert [(s.text, s.terminator) for s in scans] == [(BLOCK, "enter"), (PACK, "tab")]
    assert sum(s.events for s in scans) < len(w.data()) // 24  # the terminators' release frames are in no scan
    for s in scans:
        assert s.events * 24 == len(s.raw)
        [again] = decode(s.raw)  # evidence replays to the same scan
        assert (again.text, again.terminator) == (s.text, s.terminator)
        last = list(iter_events(s.raw))[-1]
        assert last[2:4] == (e.EV_KEY, e.KEY_ENTER if s.terminator == "enter" else e.KEY_TAB) and last[4] == 1


def test_key_repeat_is_ignored() -> None:
    w = EventWriter()
    w.press(e.KEY_A)
    for _ in range(3):
        w.key(e.KEY_A, 2)
    w.release(e.KEY_A)
    w.tap(e.KEY_ENTER)
    [scan] = decode(w.data())
    assert scan.text == "a"
    # repeats are kept in the evidence; it ends at the Enter press (its SYN and release are in no scan)
    assert scan.events == len(w.data()) // 24 - 4


def test_unknown_keys_are_marked_in_place_and_counted() -> None:
    w = EventWriter()
    w.type("01")
    w.tap(e.KEY_F1)
    w.tap(e.KEY_LEFT)
    w.type("2")
    w.tap(e.KEY_ENTER)
    [scan] = decode(w.data())
    assert scan.text == "01" + UNKNOWN * 2 + "2"
    assert scan.unknown_keys == 2


def test_modifiers_and_lock_keys_alone_are_not_unknown() -> None:
    assert texts(keys(e.KEY_NUMLOCK, e.KEY_LEFTMETA, e.KEY_1, e.KEY_ENTER)) == ["1"]


def test_a_lone_terminator_is_not_a_scan() -> None:
    w = EventWriter()
    w.tap(e.KEY_ENTER)
    w.press(e.KEY_LEFTSHIFT)
    w.tap(e.KEY_ENTER)
    w.release(e.KEY_LEFTSHIFT)
    w.type("7")
    w.tap(e.KEY_ENTER)
    assert texts(w.data()) == ["7"]


def test_finish_mid_scan_gives_an_incomplete_scan_and_resets_state() -> None:
    decoder = KeyDecoder()
    w = EventWriter()
    w.press(e.KEY_LEFTSHIFT)
    w.tap(e.KEY_A)
    for ev in iter_events(w.data()):
        assert decoder.feed(*ev) is None
    assert decoder.pending
    scan = decoder.finish()
    assert scan is not None and (scan.text, scan.complete, scan.terminator) == ("A", False, None)
    assert not decoder.pending and decoder.finish() is None
    # Shift was reset: a new device session starts clean
    out = [d for ev in iter_events(keys(e.KEY_B, e.KEY_ENTER)) if (d := decoder.feed(*ev))]
    assert [d.text for d in out] == ["b"]


def test_syn_dropped_marks_the_scan() -> None:
    w = EventWriter()
    w.type("012")
    w.event(e.EV_SYN, e.SYN_DROPPED, 0)
    w.type("3")
    w.tap(e.KEY_ENTER)
    [scan] = decode(w.data())
    assert scan.text == "012" + UNKNOWN + "3" and scan.unknown_keys == 1


def test_syn_dropped_between_scans_marks_the_next_one() -> None:
    w = EventWriter()
    w.event(e.EV_SYN, e.SYN_DROPPED, 0)
    w.type("45")
    w.tap(e.KEY_ENTER)
    [scan] = decode(w.data())
    assert scan.text == UNKNOWN + "45"


def test_times_come_from_the_events() -> None:
    data = events_for_text("1", start_time=1_800_000_000.5, key_interval_ms=10)
    [scan] = decode(data)
    assert scan.first_us == 1_800_000_000_500_000
    assert scan.last_us == 1_800_000_000_510_000  # the Enter press, one interval later
    assert scan.ended_at.isoformat() == "2027-01-15T08:00:00.510000+00:00"


def test_event_record_is_the_kernel_struct() -> None:
    assert EVENT.size == 24 == struct.calcsize("llHHi")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"gs_key": e.KEY_ENTER}, "also a terminator"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecoderConfig(**kwargs)  # type: ignore[arg-type]


def test_unknown_key_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown key name"):
        DecoderConfig.from_names(gs_key="KEY_NOPE")
    assert DecoderConfig.from_names(gs_key="f8").gs_key == e.KEY_F8
