"""`scanners decode` and `scanners list` through click's runner, on files made by the event writer."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from evdev import ecodes as e

from hardware.record import EventWriter
from tests.hardware.test_discovery import fake_system
from warehouse.cli.scanners import scanners_cli

BLOCK = "010460043993125621JgXJ5.T\x1d8005112000\x1d930001"


def recording(tmp_path: Path) -> Path:
    w = EventWriter()
    w.scan(BLOCK, gs="ctrl")
    w.scan("04600439931256JgXJ5.T1120AbC9", terminator="tab", shift="capslock")
    w.scan("00487012345678901235", terminator=None)
    path = tmp_path / "dock-2.events"
    path.write_bytes(w.data())
    return path


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


def test_decode_prints_one_json_object_per_scan(tmp_path: Path) -> None:
    result = CliRunner().invoke(scanners_cli, ["decode", "--evdev", str(recording(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert "\\u001d" in result.stdout  # GS travels as \u001d in JSON
    out = lines(result.stdout)
    assert [(o["text"], o["terminator"], o["complete"]) for o in out] == [
        (BLOCK, "enter", True),
        ("04600439931256JgXJ5.T1120AbC9", "tab", True),
        ("00487012345678901235", "timeout", True),
    ]
    assert all(isinstance(o["events"], int) and o["events"] > 0 for o in out)
    assert all(o["unknown_keys"] == 0 for o in out)


def test_decode_gs_key_and_timeout_options(tmp_path: Path) -> None:
    w = EventWriter(key_interval_ms=4)
    w.scan("01\x1d93", gs="key", gs_key=e.KEY_F8, terminator=None)
    w.pause(30)
    w.scan("77")
    path = tmp_path / "f8.events"
    path.write_bytes(w.data())
    runner = CliRunner()
    default = lines(runner.invoke(scanners_cli, ["decode", "--evdev", str(path)]).stdout)
    assert [o["text"] for o in default] == ["01\ufffd9377"]  # F8 unknown, 30 ms gap is no split
    tuned = runner.invoke(scanners_cli, ["decode", "--evdev", str(path), "--gs-key", "KEY_F8", "--timeout-ms", "20"])
    assert [(o["text"], o["terminator"]) for o in lines(tuned.stdout)] == [("01\x1d93", "timeout"), ("77", "enter")]


def test_a_truncated_trailing_record_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = recording(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x01" * 10)
    result = CliRunner().invoke(scanners_cli, ["decode", "--evdev", str(path)])
    assert result.exit_code == 0
    assert len(lines(result.stdout)) == 3
    assert "truncated record" in result.stderr and "10 bytes" in result.stderr
    strict = CliRunner().invoke(scanners_cli, ["decode", "--evdev", str(path), "--strict"])
    assert strict.exit_code == 1 and strict.stdout == ""
    assert "truncated record" in strict.stderr and len(strict.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_a_recording_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "act.json"
    path.write_text(json.dumps({"format": "transfer-act/1", "number": "TA-000123", "padding": "x" * 400}))
    result = CliRunner().invoke(scanners_cli, ["decode", "--evdev", str(path)])
    assert result.exit_code == 1
    assert "not a recording" in result.stderr


def test_missing_file_and_missing_option_fail_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(scanners_cli, ["decode", "--evdev", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    neither = runner.invoke(scanners_cli, ["decode"])
    assert neither.exit_code == 1 and "--evdev FILE" in neither.stderr


def test_decode_serial_recording(tmp_path: Path) -> None:
    path = tmp_path / "com.bin"
    path.write_bytes(BLOCK.encode() + b"\r\n0001\r0002")
    result = CliRunner().invoke(scanners_cli, ["decode", "--serial", str(path)])
    assert [(o["text"], o["terminator"], o["complete"]) for o in lines(result.stdout)] == [
        (BLOCK, "crlf", True),
        ("0001", "cr", True),
        ("0002", None, False),
    ]


def test_list_shows_scanners_and_with_all_the_rest(tmp_path: Path) -> None:
    config = fake_system(tmp_path)
    runner = CliRunner()
    result = runner.invoke(scanners_cli, ["list", "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "usb-Honeywell_Imaging___Mobility_1950-event-kbd" in result.stdout
    assert "Logitech" not in result.stdout
    everything = lines(runner.invoke(scanners_cli, ["list", "--all", "--json", "--config", str(config)]).stdout)
    by_name = {o["name"]: o for o in everything}
    assert by_name["Logitech USB Keyboard"]["allowed"] is False
    assert by_name["Honeywell Imaging & Mobility 1950"]["rule"] == "vendor 0c2e"


def test_list_refuses_a_bad_configuration(tmp_path: Path) -> None:
    path = tmp_path / "scanners.json"
    path.write_text(json.dumps({"evdev": {"allow": [{"vendr": "0c2e"}]}}))
    result = CliRunner().invoke(scanners_cli, ["list", "--config", str(path)])
    assert result.exit_code == 1 and "unknown setting 'vendr'" in result.stderr


def test_decode_images_prints_every_symbol_with_its_parse(tmp_path: Path) -> None:
    """`scanners decode --image FILE...`: one JSON object per symbol, the photos in order; a photo with no
    symbol and a file that is no image are said on stderr and make the exit code 1, the rest still printed."""
    from PIL import Image

    from tests.hardware.test_image import BRACKETED, photo, symbol

    block = photo((symbol(BRACKETED, gs1=True, scale=5), (100, 80)))
    block.save(tmp_path / "block.png")
    packs = ["04600439931256JgXJ5.T1120AbC9", "04600439931256JgXJ5.U1120AbC9"]
    photo(*((symbol(p, gs1=False, scale=5), (60 + 400 * k, 300)) for k, p in enumerate(packs))).save(
        tmp_path / "packs.jpg", quality=92
    )
    result = CliRunner().invoke(
        scanners_cli, ["decode", "--image", str(tmp_path / "block.png"), str(tmp_path / "packs.jpg")]
    )
    assert result.exit_code == 0, result.stderr
    out = lines(result.stdout)
    assert [(o["file"], o["text"], o["symbology"], o["kind"], o["error"]) for o in out] == [
        (str(tmp_path / "block.png"), BLOCK, "]d2", "block", None),
        (str(tmp_path / "packs.jpg"), packs[0], "]d1", "pack", None),
        (str(tmp_path / "packs.jpg"), packs[1], "]d1", "pack", None),
    ]
    assert out[0]["identity"] == "010460043993125621JgXJ5.T" and out[1]["identity"] == packs[0][:21]

    Image.new("L", (640, 480), 200).save(tmp_path / "empty.png")
    (tmp_path / "notes.png").write_text("not a picture")
    result = CliRunner().invoke(
        scanners_cli,
        ["decode", "--image", str(tmp_path / "empty.png"), str(tmp_path / "notes.png"), str(tmp_path / "block.png")],
    )
    assert result.exit_code == 1
    assert [o["text"] for o in lines(result.stdout)] == [BLOCK]
    assert "empty.png: no Data Matrix found" in result.stderr and "notes.png: not an image" in result.stderr


def test_decode_wants_one_kind_of_input(tmp_path: Path) -> None:
    assert CliRunner().invoke(scanners_cli, ["decode", "--image"]).exit_code != 0
    wrong = CliRunner().invoke(scanners_cli, ["decode", str(tmp_path / "a.png")])
    assert wrong.exit_code != 0 and "--image" in wrong.stderr
