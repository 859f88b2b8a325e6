"""Scanner readers: every source emits the same `Scan` through one `ScanSink`.

Drivers only: nothing here imports `warehouse` (tests/hardware/test_layers.py). What a scan means —
its station, its act, its journal row — is the application's (`warehouse.station`).

- `scan`: `Scan`, `ScanSink`, `Reader`, `ReaderState`
- `keymap`, `decoder`: the one decoder from Linux key events to text (live, replay, tests)
- `evdev_reader`: USB HID keyboard-mode scanners, grabbed; `serial_reader` (+ `serial_decoder`): serial/CDC
- `config`, `discovery`, `manager`: which devices are scanners; readers for all of them, with hot-plug
- `replay`, `record`: recordings of raw events (the `warehouse scanners` commands are warehouse/cli/scanners.py)
- `image`: Data Matrix from a photo, FNC1 kept (imports PIL and libdmtx: import it where needed)

See docs/scanners.md.
"""

from hardware.scan import GS, UNKNOWN, Reader, ReaderState, Scan, ScanSink

__all__ = ["GS", "UNKNOWN", "Reader", "ReaderState", "Scan", "ScanSink"]
